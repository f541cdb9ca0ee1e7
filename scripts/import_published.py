"""`make import` / `make check-import`: rebuild or check profiles/data/profiles/published.csv from ../shared/data."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from profiles.catalog.csvdata import SHARED_DIR  # noqa: E402
from profiles.errors import UsageError  # noqa: E402
from profiles.store import giq_public  # noqa: E402
from profiles.store.published import OUT, render  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=SHARED_DIR)
    parser.add_argument("--check", action="store_true", help="exit 1 if the checked-in file is stale")
    args = parser.parse_args()
    try:
        text, report = render(args.shared)
        files = {OUT: text, giq_public.OUT: giq_public.render()}
    except (OSError, UsageError) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    if args.check:
        stale = [path for path, body in files.items() if not path.exists() or path.read_text() != body]
        for path in files:
            print(f"{path.relative_to(ROOT)} is {'STALE: run make import' if path in stale else 'up to date'}")
        return 1 if stale else 0
    print("\n".join(report))
    for path, body in files.items():
        path.write_text(body)
        print(f"wrote {path.relative_to(ROOT)} ({body.count(chr(10)) - 1} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
