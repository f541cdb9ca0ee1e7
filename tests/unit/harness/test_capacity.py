"""Issue #19: the lean streaming client (framing, keep-alive), client-limited stages, the capacity ladder."""

from __future__ import annotations

import asyncio
import json
import random
import time
from pathlib import Path

import pytest

from profiles.harness import capacity, fast_server
from profiles.harness.client import Clock, Endpoint, Stage, client, run_stage
from profiles.harness.records import summarize
from profiles.harness.report import Hardware, analyse, client_limited, write_outputs
from profiles.harness.run import still_growing
from profiles.selection.ranking import Targets
from profiles.store.read import load_file
from tests.support import fake_sse_server


async def _shutdown(server) -> None:
    """Close a test server and end its connection handlers inside the loop (no task outlives it)."""
    server.close()
    handlers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in handlers:
        task.cancel()
    await asyncio.gather(*handlers, return_exceptions=True)
    await server.wait_closed()


def _loop(coro):
    loop = asyncio.new_event_loop()  # not asyncio.run: it unsets the main thread's loop the Pulumi mock tests use
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


async def _raw_server(reply: bytes):
    """Answers every request on a connection with `reply`, written a few bytes at a time (split framing)."""
    async def handle(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length"))
                await reader.readexactly(length)
                for i in range(0, len(reply), 7):
                    writer.write(reply[i:i + 7])
                    await writer.drain()
                    await asyncio.sleep(0)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"


def _sse(*texts: str) -> bytes:
    events = "".join(f'data: {{"choices": [{{"text": "{t}"}}]}}\r\n\r\n' for t in texts)
    usage = json.dumps({"choices": [], "usage": {"prompt_tokens": 4, "completion_tokens": len(texts)}})
    return (events + f"data: {usage}\n\ndata: [DONE]\n\n").encode()


def _chunked(body: bytes, size: int = 40) -> bytes:
    out = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
    for i in range(0, len(body), size):
        piece = body[i:i + size]
        out += b"%x\r\n%s\r\n" % (len(piece), piece)
    return out + b"0\r\nx-trailer: 1\r\n\r\n"


def _stage(url: str, n: int, rate: float = float("inf"), prompts=("ok",), tokens: int = 3, on_done=lambda r: None):
    async def go():
        async with client() as http:
            stage = Stage(1, "request_rate", rate, float("inf"), max_requests=n)
            return await run_stage(http, Endpoint(url, "m", request_timeout_s=5.0), stage, [(4, tokens)], list(prompts),
                                   Clock(), random.Random(0), on_done)
    return go()


@pytest.mark.parametrize("reply", [
    _chunked(_sse("a", "b", "c")),
    _chunked(_sse("a", "b", "c"), size=5),
    b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(_sse("a", "b", "c")), _sse("a", "b", "c")),
], ids=["chunked", "tiny-chunks+trailer", "content-length"])
def test_framings_split_across_reads_keep_alive(reply):
    async def go():
        server, url = await _raw_server(reply)
        try:
            return await _stage(url, 6, rate=200.0)
        finally:
            await _shutdown(server)

    result = _loop(go())
    assert [r.status for r in result.records] == ["ok"] * 6, [r.error for r in result.records]
    assert all(r.completion_tokens == 3 and len(r.chunk_times) == 3 and r.prompt_tokens == 4 for r in result.records)


def test_close_delimited_replies_and_errors():
    async def go():
        server, url = await fake_sse_server.start()
        try:
            return await _stage(url, 4, prompts=("ok", "FAIL"))
        finally:
            await _shutdown(server)

    records = _loop(go()).records
    assert sorted(r.status for r in records) == ["error", "error", "ok", "ok"]
    assert all(r.error == "HTTP 500: oops" for r in records if not r.ok)


def test_not_http_and_refused_connections_are_errors():
    async def go():
        server, url = await _raw_server(b"SSH-2.0-OpenSSH\r\n\r\n")
        try:
            bad = await _stage(url, 1)
        finally:
            await _shutdown(server)
        return bad, await _stage("http://127.0.0.1:9", 1)

    bad, refused = _loop(go())
    assert bad.records[0].status == "error" and "not an HTTP/1.x reply" in bad.records[0].error
    assert refused.records[0].status == "error" and "ConnectionRefusedError" in refused.records[0].error


def test_fast_server_streams_every_token_over_keep_alive():
    async def go():
        server = await asyncio.get_running_loop().create_server(lambda: fast_server.Handler(0.0), "127.0.0.1", 0)
        try:
            return await _stage(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", 50, rate=500.0, tokens=64)
        finally:
            await _shutdown(server)

    records = _loop(go()).records
    assert all(r.ok and r.completion_tokens == 64 and len(r.chunk_times) == 64 for r in records)
    assert all(r.scheduled is not None and r.send >= r.scheduled for r in records)


def test_keeping_up_is_not_client_limited():
    async def go():
        server, url = await fake_sse_server.start()
        try:
            return await _stage(url, 40, rate=40.0)
        finally:
            await _shutdown(server)

    result = _loop(go())
    summary = summarize(1, "request_rate", 40.0, result.records, {}, result.loop_lag)
    assert summary.client_limited == "" and summary.send_delay_ms["p50"] < 10
    assert result.loop_lag and summary.loop_lag_ms["p90"] is not None


def test_a_throttled_client_is_flagged_client_limited():
    """Every finished request blocks the event loop for 30 ms (a CPU-bound client): at 100 req/s it falls behind."""
    async def go():
        server, url = await fake_sse_server.start()
        try:
            return await _stage(url, 60, rate=100.0, on_done=lambda r: time.sleep(0.03))
        finally:
            await _shutdown(server)

    result = _loop(go())
    assert all(r.ok for r in result.records)
    summary = summarize(1, "request_rate", 100.0, result.records, {}, result.loop_lag)
    assert "behind schedule" in summary.client_limited and "event-loop lag" in summary.client_limited
    assert summary.send_delay_ms["p50"] > 10 and summary.loop_lag_ms["p90"] > 20


def _limited(summary, why="median send 40 ms behind schedule"):
    return type(summary)(**{**summary.__dict__, "client_limited": why})


def test_client_limited_stage_is_no_saturation(tmp_path):
    from tests.unit.harness.test_harness import _run_result

    result, cfg = _run_result([(1, 50, 20), (2, 100, 21), (4, 190, 30), (8, 200, 80)])
    stage, top = result.stages[-1]
    result.stages[-1] = (stage, _limited(top))
    assert not still_growing([s for _, s in result.stages])  # a limited top stage ends the sweep
    grown, _ = _run_result([(1, 50, 20), (2, 100, 20)])
    assert not still_growing([grown.stages[0][1], _limited(grown.stages[1][1])])
    analysis = analyse(result, cfg, Hardware("g2-standard-12", "nvidia-l4", 1), "vllm", Targets(ntpot_ms=100), date="2026-11-29")
    assert [client_limited(p) for p in analysis.points] == [False, False, False, True]
    assert analysis.inflection.load_value == 4 and analysis.operating.load_value == 4  # not the client-limited stage 4
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    files = write_outputs(tmp_path / "out", result, cfg, analysis, Targets(ntpot_ms=100), profiles, plot=False)
    assert [p.load_value for p in load_file(Path(files["profile"]))] == [1, 2, 4]  # the measured profile: server rows only
    assert "CLIENT-LIMITED" in load_file(Path(files["csv"]))[3].source
    summary = json.loads(Path(files["summary"]).read_text())
    assert summary["client_limited_stages"] == [4] and summary["stages"][3]["client_limited"]


def test_capacity_ladder_stops_at_the_first_rate_not_sustained():
    measured = {50: (50.0, 1.0), 100: (99.0, 1.5), 200: (199.0, 6.5), 400: (300.0, 900.0)}
    steps, best = capacity.ladder(lambda r: capacity.Step(r, *measured[r]), rates=(50, 100, 200, 400))
    assert best == 100 and [s.sustained for s in steps] == [True, True, False]  # 200: p50 TTFT 5.5 ms above 50's
    steps, best = capacity.ladder(lambda r: capacity.Step(r, r * 0.9, 1.0), rates=(50, 100))
    assert best == 0 and len(steps) == 1



def test_cache_config_labels_and_flags_make_the_setup():
    from profiles.harness.setup import ServerSetup, cache_config_labels, from_server

    text = ('# HELP vllm:cache_config_info x\nvllm:cache_config_info{block_size="16",cache_dtype="fp8_e4m3",'
            'enable_prefix_caching="False",engine="0",gpu_memory_utilization="0.9"} 1.0\n')
    labels = cache_config_labels(text)
    assert labels["cache_dtype"] == "fp8_e4m3" and cache_config_labels("vllm:num_requests_waiting 0\n") == {}
    reported = from_server(labels, {"data": [{"id": "m", "max_model_len": 8192}]})
    assert (reported.kv_cache_dtype, reported.prefix_caching, reported.max_model_len) == ("fp8_e4m3", "off", 8192)
    merged = ServerSetup(max_num_seqs=256, prefix_caching="on").over(reported)
    assert (merged.max_num_seqs, merged.prefix_caching, merged.kv_cache_dtype) == (256, "on", "fp8_e4m3")


def test_a_measured_curve_with_its_setup_is_deployable(tmp_path):
    """benchmark run reads the setup from /metrics and /v1/models, takes the rest from --server-* flags, and the
    measured profile passes deployable.py; without the flags it stays reference-only, saying what is missing."""
    from profiles.catalog.catalog import default_catalog
    from profiles.selection.deployable import reference_reasons
    from tests.support.cli import run_cli

    def run(tag: str, *flags: str):
        (tmp_path / tag).mkdir()
        with capacity.FastServer() as server:
            proc = run_cli("benchmark", "run", "--endpoint", server.url, "--model", "m", "--metrics-url", f"{server.url}/metrics",
                           "--request-rates", "10", "--num-prompts", "10", "--warmup", "0", "--input-length", "16",
                           "--output-length", "8", "--no-plot", "--accelerator-type", "nvidia-l4", "--output",
                           str(tmp_path / f"out-{tag}"), "--profiles-dir", str(tmp_path / tag), *flags)
        assert proc.returncode == 0, proc.stderr
        (csv,) = (tmp_path / tag).iterdir()
        return load_file(csv)[0]

    point = run("stated", "--server-max-num-seqs", "256", "--server-max-num-batched-tokens", "8192", "--server-tensor-parallel", "1",
                "--server-replicas", "1", "--server-quantization", "none", "--server-speculative-decoding", "none")
    assert (point.kv_cache_dtype, point.prefix_caching, point.max_model_len, point.max_num_seqs) == ("auto", "on", 4096, 256)
    assert reference_reasons(default_catalog(), point) == []
    bare = run("bare")
    reasons = "; ".join(reference_reasons(default_catalog(), bare))
    assert "max-num-seqs, max-num-batched-tokens not stated" in reasons and "replicas not stated" in reasons
    assert bare.kv_cache_dtype == "auto"  # still read from the server


def test_workers_share_one_seeded_schedule_and_merge_results(tmp_path):
    """--workers 2 sends the very schedule one process sends (same offsets, prompts, lengths), merged in order;
    a concurrency stage splits its in-flight count over the workers."""
    from tests.support.cli import run_cli

    def run(workers: int) -> list[dict]:
        with capacity.FastServer() as server:
            proc = run_cli("benchmark", "run", "--endpoint", server.url, "--model", "m", "--request-rates", "50",
                           "--num-prompts", "40", "--concurrency", "3", "--duration", "0.5", "--warmup", "0",
                           "--dataset", "sharegpt-like", "--no-plot", "--seed", "7", "--workers", str(workers),
                           "--output", str(tmp_path / f"w{workers}"))
        assert proc.returncode == 0, proc.stderr
        return [json.loads(line) for line in (tmp_path / f"w{workers}" / "requests.jsonl").read_text().splitlines()]

    one, two = run(1), run(2)
    for records in (one, two):
        assert all(r["status"] == "ok" for r in records)
        assert [r["index"] for r in records if r["stage"] == 1] == list(range(40))
    rate1, rate2 = ([r for r in rs if r["stage"] == 1] for rs in (one, two))
    offsets = [[r["scheduled"] - rs[0]["scheduled"] for r in rs] for rs in (rate1, rate2)]
    assert offsets[0] == pytest.approx(offsets[1], abs=1e-9)
    assert [(r["input_length"], r["output_length"]) for r in rate1] == [(r["input_length"], r["output_length"]) for r in rate2]
    conc = sorted(r["index"] for r in two if r["stage"] == 2)
    assert conc == sorted(set(conc)) and len(conc) >= 6  # unique indices across both workers
