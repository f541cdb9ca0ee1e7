"""Benchmark harness pieces that need no vLLM: workload, metrics parsing, statistics, load generator, outputs, CLI errors."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path

import pytest

from profiles.catalog.workload import fixed
from profiles.harness.client import Clock, Endpoint, Stage, client, poisson_arrivals, run_stage
from profiles.harness.prometheus import GaugeSeries, parse_gauges
from profiles.harness.records import RequestRecord, summarize
from profiles.harness.report import Hardware, analyse, write_outputs
from profiles.harness.run import RunConfig, RunResult, StageResult, still_growing, sweep_rates
from profiles.selection.ranking import Targets
from profiles.store.read import load_file
from tests.support import fake_sse_server
from tests.support.cli import run_cli


def test_prometheus_gauges_sum_engines_and_average_cache():
    text = """# HELP vllm:num_requests_waiting x
vllm:num_requests_waiting{engine="0",model_name="m"} 3.0
vllm:num_requests_waiting{engine="1",model_name="m"} 2.0
vllm:num_requests_waiting_by_reason{engine="0",reason="capacity"} 9.0
vllm:kv_cache_usage_perc{engine="0"} 0.2
vllm:kv_cache_usage_perc{engine="1"} 0.4
vllm:num_requests_running{engine="0"} NaN
"""
    assert parse_gauges(text) == pytest.approx({"vllm:num_requests_waiting": 5.0, "vllm:kv_cache_usage_perc": 0.3})


def test_gauge_mean_is_time_weighted():
    series = GaugeSeries()
    series.add(0.0, {"vllm:num_requests_waiting": 0.0})
    series.add(1.0, {"vllm:num_requests_waiting": 10.0})
    series.add(4.0, {"vllm:num_requests_waiting": 4.0})
    # [0,1) at 0, [1,4) at 10, [4,5] at 4 -> (0 + 30 + 4) / 5
    assert series.time_mean("vllm:num_requests_waiting", 0.0, 5.0) == pytest.approx(6.8)
    assert series.time_mean("vllm:kv_cache_usage_perc", 0.0, 5.0) is None


def _record(index, send, ttft, gaps, tokens, status="ok", warmup=False):
    first = send + ttft
    chunks = [first]
    for gap in gaps:
        chunks.append(chunks[-1] + gap)
    return RequestRecord(stage=1, index=index, send=send, input_length=10, output_length=tokens, warmup=warmup,
                         first_token=first if status == "ok" else None, chunk_times=chunks if status == "ok" else [],
                         end=chunks[-1] if status == "ok" else send + 5, prompt_tokens=10 if status == "ok" else None,
                         completion_tokens=tokens if status == "ok" else None, status=status)


def test_summary_definitions():
    records = [_record(0, 0.0, 0.1, [0.02, 0.02, 0.02], 4), _record(1, 1.0, 0.3, [0.04, 0.04, 0.04], 4),
               _record(2, 2.0, 0, [], 0, status="error"), _record(3, 3.0, 0, [], 0, status="timeout"),
               _record(9, -1.0, 0.1, [0.01], 2, warmup=True)]
    s = summarize(1, "request_rate", 1.0, records, {})
    assert (s.requests, s.completed, s.failed, s.timed_out) == (4, 2, 1, 1)
    assert s.duration_s == pytest.approx(8.0)  # first measured send 0.0 -> the timed-out request's end 8.0
    assert s.output_tps == pytest.approx(8 / 8.0) and s.input_tps == pytest.approx(20 / 8.0)
    assert s.p("ttft") == pytest.approx(200.0)  # median of 100 and 300 ms
    assert s.latency_ms["ntpot"]["mean"] == pytest.approx((160 / 4 + 420 / 4) / 2)  # e2e / output tokens
    assert s.latency_ms["tpot"]["mean"] == pytest.approx((60 / 3 + 120 / 3) / 2)  # (e2e - ttft) / (n - 1)
    assert s.p("itl") == pytest.approx(30.0)  # three 20 ms and three 40 ms gaps


def test_poisson_arrivals():
    rng = random.Random(0)
    times = poisson_arrivals(5.0, 200.0, rng)
    assert all(0 < t < 200 for t in times) and abs(len(times) / 200 - 5) < 0.5
    fixed_count = poisson_arrivals(4.0, float("inf"), random.Random(1), cap=40)
    assert len(fixed_count) == 40 and fixed_count[-1] == pytest.approx(10.0)  # rescaled: N / rate
    assert fixed_count == sorted(fixed_count)


def test_sweep_spreads_past_saturation():
    rates = sweep_rates(10.0, 8)
    assert rates[0] == 1.5 and rates[-1] == 15.0 and rates == sorted(rates)


def test_load_generator_counts_failures_and_timeouts():
    async def go():
        server, url = await fake_sse_server.start()
        try:
            endpoint = Endpoint(url, "m", request_timeout_s=1.0)
            stage = Stage(1, "request_rate", float("inf"), duration_s=0.0, max_requests=6)
            async with client() as http:
                return await run_stage(http, endpoint, stage, [(7, 3)], ["ok", "FAIL", "HANG"], Clock(), random.Random(0))
        finally:
            server.close()
            handlers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in handlers:  # the HANG handlers still sleep: end them inside the loop
                task.cancel()
            await asyncio.gather(*handlers, return_exceptions=True)
            await server.wait_closed()

    loop = asyncio.new_event_loop()  # not asyncio.run: it unsets the main thread's loop the Pulumi mock tests use
    try:
        result = loop.run_until_complete(go())
    finally:
        loop.close()
    statuses = sorted(r.status for r in result.records)
    assert statuses == ["error", "error", "ok", "ok", "timeout", "timeout"]
    ok = [r for r in result.records if r.ok]
    assert all(r.completion_tokens == 3 and len(r.chunk_times) == 3 and r.first_token > r.send for r in ok)
    assert all("HTTP 500" in r.error for r in result.records if r.status == "error")
    summary = summarize(1, "request_rate", 6, result.records, {})
    assert (summary.completed, summary.failed, summary.timed_out) == (2, 2, 2)


def _run_result(tps_by_rate: list[tuple[float, float, float]]) -> tuple[RunResult, RunConfig]:
    """A RunResult whose stages have the given (rate, output tok/s, ntpot ms)."""
    cfg = RunConfig(Endpoint("http://127.0.0.1:9", "test/model"), fixed(100, 50), request_rates=tuple(r for r, _, _ in tps_by_rate))
    result = RunResult(server_version="0.32.0", probe=None)
    for i, (rate, tps, ntpot) in enumerate(tps_by_rate, 1):
        recs = [_record(k, k / rate, ntpot / 1000, [ntpot / 1000] * 49, 50) for k in range(4)]  # NTPOT = ntpot
        s = summarize(i, "request_rate", rate, recs, {"vllm:num_requests_waiting": float(i), "vllm:num_requests_running": 2.0,
                                                       "vllm:kv_cache_usage_perc": 0.1 * i})
        s = type(s)(**{**s.__dict__, "output_tps": tps, "input_tps": tps * 2, "qps": tps / 50})
        result.stages.append((StageResult(Stage(i, "request_rate", rate, 10), recs), s))
    return result, cfg


def test_outputs_load_into_the_store_and_plot(tmp_path):
    result, cfg = _run_result([(1, 50, 20), (2, 100, 21), (4, 190, 30), (8, 200, 80)])
    analysis = analyse(result, cfg, Hardware("g2-standard-12", "nvidia-l4", 1), "vllm", Targets(ntpot_ms=40), date="2026-11-27")
    assert analysis.inflection.load_value == 4 and analysis.operating.load_value == 4
    assert analysis.hpa["vllm:num_requests_waiting"].average_value == pytest.approx(3 * 0.8)
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    files = write_outputs(tmp_path / "out", result, cfg, analysis, Targets(ntpot_ms=40), profiles)
    points = load_file(Path(files["profile"]))
    assert [p.output_tps for p in points] == [50, 100, 190, 200]
    assert {p.provenance for p in points} == {"measured"} and points[2].num_requests_waiting == 3
    assert Path(files["plot"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads(Path(files["summary"]).read_text())
    assert summary["inflection_point"]["stage"] == "stage3" and len(summary["stages"]) == 4
    assert len(Path(files["requests"]).read_text().splitlines()) == 16


def test_still_growing():
    result, _ = _run_result([(1, 50, 20), (2, 100, 20)])
    assert still_growing([s for _, s in result.stages])
    result, _ = _run_result([(1, 100, 20), (2, 104, 40)])
    assert not still_growing([s for _, s in result.stages])


BAD_FLAGS = [
    ([], "give --request-rates"),
    (["--request-rates", "1", "--endpoint", "localhost:8000"], "--endpoint: value 'localhost:8000' is not an http(s) URL"),
    (["--request-rates", "0,1"], "must list numbers greater than 0"),
    (["--request-rates", "1", "--duration", "soon"], "is not a duration"),
    (["--request-rates", "1", "--input-length", "5"], "--input-length and --output-length"),
    (["--request-rates", "1", "--profiles-dir", "."], "--profiles-dir: a profile must say what it ran on"),
    (["--request-rates", "1", "--accelerator-type", "nvidia-l5"], "--accelerator-type: unknown value 'nvidia-l5'"),
    (["--request-rates", "1", "--accelerator-type", "nvidia-l4", "--accelerator-count", "3"], "no GKE shape with 3 x nvidia-l4"),
    (["--sweep", "auto", "--concurrency", "2"], "cannot be combined with --concurrency"),
    (["--request-rates", "1", "--dataset", "missing.jsonl"], "--dataset: cannot read 'missing.jsonl'"),
    (["--request-rates", "1", "--dataset", "sharegpt-like", "--input-length", "100", "--output-length", "10"],
     "--dataset: value 'sharegpt-like' cannot be combined with fixed --input-length/--output-length"),
    (["--request-rates", "1"], "--endpoint: cannot reach 'http://127.0.0.1:9'"),  # nothing listens on port 9
]


@pytest.mark.parametrize(("flags", "message"), BAD_FLAGS)
def test_bad_input_exits_2_and_writes_nothing(tmp_path, flags, message):
    argv = ["benchmark", "run", "--model", "m", "--output", str(tmp_path / "out")]
    if "--endpoint" not in flags:
        argv += ["--endpoint", "http://127.0.0.1:9"]
    proc = run_cli(*argv, *flags)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_concurrency_mode_keeps_that_many_in_flight():
    async def go():
        server, url = await fake_sse_server.start()
        try:
            stage = Stage(1, "concurrency", 3, duration_s=0.5)
            async with client() as http:
                return await run_stage(http, Endpoint(url, "m"), stage, [(7, 3)], ["ok"], Clock(), random.Random(0))
        finally:
            server.close()
            await server.wait_closed()

    loop = asyncio.new_event_loop()
    try:
        result = loop.run_until_complete(go())
    finally:
        loop.close()
    records = result.records
    assert len(records) >= 9 and all(r.ok for r in records)
    events = sorted([(r.send, 1) for r in records] + [(r.end, -1) for r in records])
    in_flight, peak = 0, 0
    for _, delta in events:
        in_flight += delta
        peak = max(peak, in_flight)
    assert peak == 3
    assert max(r.send for r in records) < 0.5 + 0.1  # no new request after the stage's time is up
