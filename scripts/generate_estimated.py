"""`make profiles`: regenerate the shipped estimated profiles (profiles/data/profiles/estimated.csv + fingerprint)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from profiles.catalog.catalog import default_catalog  # noqa: E402
from profiles.estimator.curves import OUTPUT, generate  # noqa: E402


def main() -> int:
    start = time.perf_counter()
    points, fitted, skipped, failed = generate(default_catalog())
    print(f"{points} points, {fitted} configurations ({skipped} do not fit or load) in {time.perf_counter() - start:.0f} s "
          f"-> {OUTPUT}", file=sys.stderr)
    for check in failed:
        print(f"NOT SATURATED: {check.key}: top point {check.top_output_tps:,.0f} tok/s vs capacity "
              f"{check.capacity_tps:,.0f}, queue {check.top_waiting:.2f}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
