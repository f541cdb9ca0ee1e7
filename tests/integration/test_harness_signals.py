"""Issue #17 (d): `python -m profiles benchmark run` as a process: SIGINT/SIGTERM after the first of three stages
exits 130/143 with one line, no traceback, and leaves valid files holding that stage."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys

import pytest

from tests.support.cli import ROOT
from tests.support.fault_server import FaultServer


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_after_first_stage(tmp_path, sig, code):
    holder: dict = {}

    def hit(stage: int, index: int) -> None:
        if stage == 2 and index == 0:
            holder["proc"].send_signal(sig)

    out = tmp_path / "out"
    with FaultServer(on_request=hit) as server:
        holder["proc"] = proc = subprocess.Popen(
            [sys.executable, "-m", "profiles", "benchmark", "run", "--endpoint", server.url, "--model", "m",
             "--request-rates", "200,200,200", "--num-prompts", "4", "--warmup", "0", "--no-plot", "--output", str(out)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr and stderr.strip().splitlines()[-1].startswith(f"ERROR: interrupted by {sig.name}")
    with (out / "profile.csv").open() as handle:
        assert [r["Source Id"] for r in csv.DictReader(handle)] == ["stage1"]
    assert all(json.loads(line)["stage"] in (1, 2) for line in (out / "requests.jsonl").read_text().splitlines())
    assert json.loads((out / "summary.json").read_text())["status"] == "interrupted"
    assert "stage1" in stdout
