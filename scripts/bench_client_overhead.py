"""`make bench-client`: client time inside a TTFT, our httpx load generator next to vllm bench serve's aiohttp client."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from profiles.errors import UsageError  # noqa: E402
from profiles.harness import overhead  # noqa: E402


def main() -> int:
    try:
        p50 = overhead.measure()
    except UsageError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    for name, value in p50.items():
        print(f"{name:<30} p50 TTFT {value:6.2f} ms  (server waits {overhead.FIRST_CHUNK_S * 1000:.0f} ms; {overhead.REQUESTS} requests)")
    print(f"client overhead, ours minus theirs: {p50[overhead.OURS] - p50[overhead.THEIRS]:+.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
