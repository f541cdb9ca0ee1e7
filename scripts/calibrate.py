"""`make calibrate` / `make accuracy`: fit the estimator's efficiencies on ../shared/data, or score them (--report)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from profiles.errors import UsageError  # noqa: E402
from profiles.estimator import calibrate  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=calibrate.__doc__)
    parser.add_argument("--report", action="store_true", help="recompute residuals with the checked-in coefficients; print the table")
    args = parser.parse_args()
    try:
        print(calibrate.run(report=args.report))
    except UsageError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
