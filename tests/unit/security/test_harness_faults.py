"""Issue #17 (d): the harness never loses a finished stage and never crashes on what a server sends.

Runs `benchmark run` in-process against tests/support/fault_server.py: malformed events and replies, a trickling
/metrics, negative gauges, a server that goes away between stages, SIGINT after the first of three stages,
credentials in the URL, a second run into the same directory."""

from __future__ import annotations

import csv
import json
import os
import signal
import stat

import pytest

from profiles.store.read import read_file
from tests.support.cli import run_cli
from tests.support.fault_server import SSE_FAULTS, FaultServer

THREE_STAGES = ("--request-rates", "200,200,200", "--num-prompts", "4", "--warmup", "0", "--no-plot")


def bench(url: str, out, *flags: str):
    return run_cli("benchmark", "run", "--endpoint", url, "--model", "m", "--output", str(out), *THREE_STAGES, *flags)


def stages_in(out, name: str = "profile.csv") -> list[str]:
    with (out / name).open(encoding="utf-8") as handle:
        return [row["Source Id"] for row in csv.DictReader(handle)]


def jsonl(out, name: str = "requests.jsonl") -> list[dict]:
    return [json.loads(line) for line in (out / name).read_text(encoding="utf-8").splitlines()]


def one_error_line(run) -> bool:
    lines = run.stderr.strip().splitlines()
    return "Traceback" not in run.stderr and lines[-1].startswith("ERROR: ")


def test_a_clean_run_writes_every_stage_0644(tmp_path):
    with FaultServer() as server:
        run = bench(server.url, tmp_path / "out")
    assert run.returncode == 0, run.stderr
    assert stages_in(tmp_path / "out") == ["stage1", "stage2", "stage3"]
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["status"] == "complete"
    for name in ("profile.csv", "requests.jsonl", "summary.json"):
        assert stat.S_IMODE((tmp_path / "out" / name).stat().st_mode) == 0o644 & ~_umask()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_sigint_after_the_first_of_three_stages_keeps_it_and_exits_130(tmp_path):
    def interrupt(stage: int, index: int) -> None:
        if stage == 2 and index == 0:
            os.kill(os.getpid(), signal.SIGINT)

    with FaultServer(on_request=interrupt) as server:
        run = bench(server.url, tmp_path / "out")
    assert run.returncode == 130, run.stderr
    assert one_error_line(run) and "interrupted by SIGINT" in run.stderr
    out = tmp_path / "out"
    assert stages_in(out) == ["stage1"]
    assert len(read_file(out / "profile.csv")) == 1  # the store's own reader accepts it
    records = jsonl(out)
    assert {r["stage"] for r in records} >= {1} and all(r["stage"] in (1, 2) for r in records)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "interrupted" and [s["stage"] for s in summary["stages"]] == [1]
    assert summary["interrupted_stage"]["stage"] == 2 and [s["stage"] for s in summary["failed_stages"]] == [3]


def test_server_gone_between_stages_fails_the_rest_and_keeps_the_first(tmp_path):
    with FaultServer({"gone_after_first_stage"}) as server:
        run = bench(server.url, tmp_path / "out")
    assert run.returncode == 1 and one_error_line(run), run.stderr
    assert "stage 2 could not run" in run.stderr
    assert stages_in(tmp_path / "out") == ["stage1"]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["status"] == "incomplete" and [s["stage"] for s in summary["failed_stages"]] == [2, 3]


@pytest.mark.parametrize("fault", sorted(SSE_FAULTS))
def test_malformed_events_fail_their_request_not_the_run(tmp_path, fault):
    with FaultServer({fault}) as server:
        run = bench(server.url, tmp_path / "out")
    assert run.returncode == 2 and one_error_line(run), run.stderr  # every request failed: nothing measured
    assert "no stage completed a request" in run.stderr and not (tmp_path / "out").exists()


@pytest.mark.parametrize("fault, code", [("models_list", 2), ("models_text", 2), ("tokenize_text", 2), ("version_list", 0)])
def test_malformed_replies_are_one_line_errors(tmp_path, fault, code):
    with FaultServer({fault}) as server:
        run = bench(server.url, tmp_path / "out")
    assert run.returncode == code, run.stderr
    assert "Traceback" not in run.stderr and (code == 0 or one_error_line(run))


def test_trickling_metrics_cannot_hold_the_run_and_bad_gauges_are_dropped(tmp_path):
    with FaultServer({"metrics_trickle"}) as server:
        run = run_cli("benchmark", "run", "--endpoint", server.url, "--model", "m", "--output", str(tmp_path / "a"),
                      "--request-rates", "200", "--num-prompts", "4", "--warmup", "0", "--no-plot",
                      "--metrics-url", server.url + "/metrics")
    assert run.returncode == 0, run.stderr
    with FaultServer({"metrics_negative"}) as server:
        run = bench(server.url, tmp_path / "b", "--metrics-url", server.url + "/metrics")
    assert run.returncode == 0, run.stderr
    assert "WARNING" in run.stderr and "negative or not finite" in run.stderr
    frame = read_file(tmp_path / "b" / "profile.csv")
    assert (frame["num_requests_waiting"].isna()).all()


def test_credentials_never_reach_an_output(tmp_path):
    with FaultServer() as server:
        url = server.url.replace("http://", "http://alice:hunter2pw@")
        run = bench(url, tmp_path / "out")
    assert run.returncode == 0, run.stderr
    assert "hunter2pw" not in run.stdout + run.stderr
    for path in (tmp_path / "out").iterdir():
        assert "hunter2pw" not in path.read_text(encoding="utf-8"), path.name


def test_a_second_run_never_replaces_the_first(tmp_path):
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    flags = ("--profiles-dir", str(profiles), "--accelerator-type", "nvidia-l4")
    with FaultServer() as server:
        first = bench(server.url, tmp_path / "out", *flags)
        before = (tmp_path / "out" / "profile.csv").read_bytes()
        second = bench(server.url, tmp_path / "out", *flags)
    assert first.returncode == second.returncode == 0
    assert (tmp_path / "out" / "profile.csv").read_bytes() == before
    assert stages_in(tmp_path / "out", "profile-2.csv") == ["stage1", "stage2", "stage3"]
    assert len(list(profiles.glob("measured-*.csv"))) == 2


@pytest.mark.parametrize("flags", [["--model", "m\nkind: x"], ["--model", "../../etc/x"], ["--endpoint", "http://[::1"],
                                   ["--endpoint", "http://127.0.0.1:99999"], ["--request-rates", "nan"],
                                   ["--hpa-buffer", "inf"], ["--duration", "1e308"]])
def test_bad_benchmark_flags_exit_2_before_sending(tmp_path, flags):
    with FaultServer() as server:
        argv = ["benchmark", "run", "--model", "m", "--endpoint", server.url, "--request-rates", "1", "--output", str(tmp_path / "o")]
        run = run_cli(*argv, *flags)
        assert run.returncode == 2 and one_error_line(run) and run.stderr.count("\n") == 1, run.stderr
        assert not server.stage_requests and not (tmp_path / "o").exists()
