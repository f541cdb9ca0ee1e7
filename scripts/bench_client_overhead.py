"""`make bench-client`: client time inside a TTFT, then client capacity, our load generator next to vllm bench serve's."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from profiles.errors import UsageError  # noqa: E402
from profiles.harness import capacity, overhead  # noqa: E402


def main() -> int:
    try:
        p50 = overhead.measure()
        for name, value in p50.items():
            print(f"{name:<30} p50 TTFT {value:6.2f} ms  (server waits {overhead.FIRST_CHUNK_S * 1000:.0f} ms; "
                  f"{overhead.REQUESTS} requests)")
        print(f"client overhead, ours minus theirs: {p50[overhead.OURS] - p50[overhead.THEIRS]:+.2f} ms\n")
        print(f"capacity: highest offered rate sustained (served >= {capacity.SERVED_SHARE:.0%} of offered, p50 TTFT "
              f"< {capacity.ADDED_TTFT_MS:g} ms above the lowest rate's) against a fast loopback server, "
              f"{capacity.OUTPUT}-token answers, {capacity.STEP_S:g} s per rate")
        best = capacity.measure(report=lambda line: print(line, flush=True))
    except UsageError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    for name, rate in best.items():
        print(f"{name:<22} sustains {rate:6g} req/s ({rate * capacity.OUTPUT:7.0f} streamed tok/s)")
    verdict = "OK" if best[capacity.OURS] >= best[capacity.PEER] else "BELOW THE PEER"
    print(f"ours / peer: {best[capacity.OURS] / max(best[capacity.PEER], 1e-9):.2f}  {verdict}")
    return 0 if verdict == "OK" else 1


if __name__ == "__main__":
    sys.exit(main())
