"""`make import` / `make check-import`: rebuild or check profiles/data/profiles/published.csv from ../shared/data."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from profiles.catalog.csvdata import SHARED_DIR  # noqa: E402
from profiles.errors import UsageError  # noqa: E402
from profiles.store.published import OUT, render  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=SHARED_DIR)
    parser.add_argument("--check", action="store_true", help="exit 1 if the checked-in file is stale")
    args = parser.parse_args()
    try:
        text, report = render(args.shared)
    except (OSError, UsageError) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    if args.check:
        stale = not OUT.exists() or OUT.read_text() != text
        print(f"{OUT.relative_to(ROOT)} is {'STALE: run make import' if stale else 'up to date'}")
        return 1 if stale else 0
    OUT.write_text(text)
    print("\n".join(report))
    print(f"wrote {OUT.relative_to(ROOT)} ({text.count(chr(10)) - 1} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
