"""`python -m profiles`: gcloud container ai profiles …, offline. Bad input: one line on stderr, exit 2."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from profiles.cli import benchmark, estimate, listing, manifests, models
from profiles.cli.args import Parser
from profiles.errors import UsageError


def build_parser() -> Parser:
    root = Parser(prog="profiles", description="Offline GKE Inference Quickstart profiles (gcloud container ai profiles).")
    groups = root.add_subparsers(dest="group", required=True, metavar="COMMAND", parser_class=Parser)
    models.add_parsers(groups)
    listing.add_list_parser(groups)
    manifests.add_parser(groups)
    listing.add_benchmarks_parser(groups)
    benchmark.add_parser(groups)
    estimate.add_parser(groups)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        out = args.run(args)
    except UsageError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `| head` closed the pipe: not an error
        return 0
    sys.stdout.write(out.text)
    if out.note:
        print(out.note, file=sys.stderr)
    return 0
