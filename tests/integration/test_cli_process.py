"""`python -m profiles` as a process: exit codes, one-line errors, and which commands pay for pandas."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.cli import ROOT, run_process

PROBE = "import sys; from profiles.cli.main import main; code = main(sys.argv[1:]); print('pandas' in sys.modules, code, file=sys.stderr)"


@pytest.mark.parametrize(("args", "pandas"), [
    (["estimate", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--accelerator-type", "nvidia-l4", "--accelerator-count", "1",
      "--input-length", "100", "--output-length", "10", "--offline", "--format", "json"], False),
    (["models", "describe", "--model", "meta-llama/Llama-3.1-8B-Instruct"], False),
    (["list", "--model", "meta-llama/Llama-3.1-8B-Instruct"], True),
])
def test_only_commands_that_read_profiles_import_pandas(args, pandas):
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.stderr.strip().splitlines()[-1] == f"{pandas} 0", proc.stderr


def test_a_process_prints_results_and_exits_0():
    r = run_process("list", "--model", "meta-llama/Llama-3.3-70B-Instruct", "--format", "csv")
    assert r.returncode == 0 and r.stdout.startswith("Instance Type,Accelerator Type,Model Name,")


@pytest.mark.parametrize("args", [["frobnicate"], ["list", "--format", "xml"], ["benchmark", "run", "--model", "m"]])
def test_a_process_refuses_bad_input_in_one_line_with_exit_2(args):
    r = run_process(*args)
    assert r.returncode == 2 and r.stdout == "" and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
