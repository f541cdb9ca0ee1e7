"""`python -m profiles`: gcloud container ai profiles …, offline. Bad input: one line on stderr, exit 2.

Only the module of the command being run is imported (and with it, say, pandas for the profile store or the
estimator), so `models describe` or `estimate` never pay for what `list` needs; the other commands are
registered by name and help line, so usage errors and `--help` still list every command.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

from profiles.checks import one_line
from profiles.cli.args import Parser
from profiles.errors import Stopped, UsageError

COMMANDS = {  # name: (module under profiles.cli, help), in gcloud's order
    "models": ("models", "models with profiles"),
    "model-servers": ("models", "model servers"),
    "model-server-versions": ("models", "model server versions"),
    "list": ("listing", "profiles at their operating point, cheapest first"),
    "manifests": ("manifests", "Kubernetes manifests"),
    "benchmarks": ("listing", "benchmark points"),
    "use-case": ("models", "use cases and their average lengths"),
    "use-cases": ("models", "alias of use-case"),
    "benchmark": ("benchmark", "measure an endpoint"),
    "estimate": ("estimate", "estimated throughput and latency of one load point (estimator)"),
}


def build_parser(command: str | None = None) -> Parser:
    """The parser with every command named; `command` (None: all) gets its flags and verbs."""
    root = Parser(prog="profiles", description="Offline GKE Inference Quickstart profiles (gcloud container ai profiles).")
    groups = root.add_subparsers(dest="group", required=True, metavar="COMMAND", parser_class=Parser)
    for name, (module, help_text) in COMMANDS.items():
        parser = groups.add_parser(name, help=help_text)
        if command is None or name == command:
            importlib.import_module(f"profiles.cli.{module}").ADDERS[name](parser)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    try:
        args = build_parser(command if command in COMMANDS else None).parse_args(argv)
        out = args.run(args)
    except UsageError as exc:
        print(f"ERROR: {one_line(exc)}", file=sys.stderr)  # one line whatever the input held
        return 2
    except Stopped as exc:  # ended early, having written what it measured
        sys.stdout.write(exc.text)
        print(f"ERROR: {one_line(exc)}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:  # Ctrl-C outside a benchmark run's own handler: no traceback
        print("ERROR: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `| head` closed the pipe: not an error
        return 0
    sys.stdout.write(out.text)
    if out.note:
        print(out.note, file=sys.stderr)
    return 0
