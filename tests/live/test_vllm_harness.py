"""The harness against a REAL vLLM (CPU build) serving a tiny random-weight Llama on 127.0.0.1.

One server per module, `--max-num-seqs 4` so a queue forms; it is stopped by PID when the module ends,
also when a test fails. Every load is bounded (a few hundred requests, seconds per stage).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from profiles.harness.local_vllm import SERVED_NAME, VllmServer, build_tiny_model
from profiles.store.read import load_file
from tests.support.cli import ROOT

IN, OUT = 128, 64  # fixed lengths of the sweep: short enough for a 2-core CPU


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    model = build_tiny_model(tmp_path_factory.mktemp("tiny-llama"))
    log = tmp_path_factory.mktemp("vllm-log") / "vllm.log"
    with VllmServer(model, log, max_num_seqs=4, max_model_len=1024) as srv:
        srv.model_dir = model
        yield srv
    assert srv.proc.poll() is not None, "vLLM still running after the fixture stopped it"


def bench(server, *flags: str, timeout: int = 420) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "profiles", "benchmark", "run", "--endpoint", server.url, "--model", SERVED_NAME, *flags]
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:] + server.log_tail()
    return proc


def profiles_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "profiles", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def sweep(server, tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    store = tmp_path_factory.mktemp("measured")
    bench(server, "--sweep", "auto", "--sweep-points", "6", "--probe-requests", "24", "--duration", "6s",
          "--warmup", "1s", "--input-length", str(IN), "--output-length", str(OUT), "--metrics-url", f"{server.url}/metrics",
          "--accelerator-type", "nvidia-l4", "--profiles-dir", str(store), "--output", str(out), "--seed", "1")
    return out, store, json.loads((out / "summary.json").read_text())


def test_sweep_rises_then_plateaus_with_a_queue(sweep):
    out, _, summary = sweep
    stages = summary["stages"]
    tps = [s["output_tps"] for s in stages]
    for s in stages:
        print(f"rate {s['load_value']:>6} req/s: {s['output_tps']:7.1f} tok/s, qps {s['qps']:.2f}, "
              f"TTFT p50 {s['latency_ms']['ttft']['p50']:8.1f} ms, NTPOT p50 {s['latency_ms']['ntpot']['p50']:6.1f} ms, "
              f"waiting {s['server']['vllm:num_requests_waiting']:.2f}, send delay p50 {s['send_delay_ms']['p50']:.1f} ms"
              + (f", CLIENT-LIMITED: {s['client_limited']}" if s["client_limited"] else ""))
    assert max(tps) >= 2.5 * tps[0], "throughput did not rise with the request rate"
    top = stages[-1]
    assert top["qps"] < 0.85 * top["load_value"], "the top stage was not past saturation"
    assert tps[-1] <= 1.3 * max(tps[:-1]), "throughput kept growing at the top rate: no plateau"
    for metric in ("ttft", "ntpot"):
        assert top["latency_ms"][metric]["p50"] >= 3 * stages[0]["latency_ms"][metric]["p50"], f"{metric} did not climb"
    # The engine's queue is > 0 at the top rates. On this 2-core box much of the queue can sit in vLLM's API-server
    # process instead (it shares a core with the client), which the engine's gauge does not count: TTFT then climbs
    # to seconds while num_requests_waiting stays near 1, so only "> 0" is asserted, as the issue states it.
    waiting = [s["server"]["vllm:num_requests_waiting"] for s in stages[-2:]]
    assert min(waiting) > 0, f"no queue at the top rates: {waiting}"
    records = [json.loads(line) for line in (out / "requests.jsonl").read_text().splitlines()]
    failed = [r for r in records if r["status"] != "ok"]
    assert len(failed) <= 0.01 * len(records), [r["error"] for r in failed][:3]  # a 2-core box hiccups, rarely
    assert all(r["error"] for r in failed)  # reported with a reason, never dropped
    assert sum(s["failed"] + s["timed_out"] for s in stages) + summary["probe"]["failed"] == sum(not r["warmup"] for r in failed)


def test_inflection_and_hpa_come_from_measured_metrics(sweep):
    out, _, summary = sweep
    knee = summary["inflection_point"]
    assert knee is not None and knee["stage"].startswith("stage")
    stage = next(s for s in summary["stages"] if f"stage{s['stage']}" == knee["stage"])
    derived = [h for h in summary["hpa"].values() if h["average_value"] is not None]
    assert derived, summary["hpa"]
    kv = summary["hpa"]["vllm:kv_cache_usage_perc"]
    assert kv["average_value"] == pytest.approx(round(stage["server"]["vllm:kv_cache_usage_perc"] * 0.8, 3), abs=1e-3)
    assert (out / "plot.png").read_bytes()[:4] == b"\x89PNG"
    lines = (out / "requests.jsonl").read_text().splitlines()
    assert len(lines) == summary["probe"]["requests"] + sum(s["requests"] + 0 for s in summary["stages"]) + sum(
        1 for line in lines if json.loads(line)["warmup"])


def test_measured_csv_changes_profiles_list(sweep):
    _, store, summary = sweep
    [csv] = list(store.glob("measured-*.csv"))
    points = load_file(csv)
    # --profiles-dir gets the server's rows: a stage whose client fell behind (issue #19) is in summary.json only
    assert len(points) == sum(not s["client_limited"] for s in summary["stages"]) >= 1
    assert {p.provenance for p in points} == {"measured"}
    assert {p.model_server_version for p in points} == {summary["server_version"]} and summary["server_version"] == "0.32.0"
    before = profiles_cli("list", "--model", SERVED_NAME)
    assert before.returncode == 2 and f"--model: unknown value '{SERVED_NAME}'" in before.stderr
    default = profiles_cli("list", "--model", SERVED_NAME, "--profiles-dir", str(store))  # ShareGPT ranking: none
    assert default.returncode == 0 and f"has profiles for: {IN}/{OUT}" in default.stderr, default.stderr
    after = profiles_cli("list", "--model", SERVED_NAME, "--profiles-dir", str(store), "--format", "json",
                         "--target-input-length", str(IN), "--target-output-length", str(OUT))
    assert after.returncode == 0, after.stderr
    [row] = json.loads(after.stdout)
    assert row["extension"]["provenance"] == "measured" and row["acceleratorType"] == "nvidia-l4"


def test_chat_api_and_failed_requests_are_counted(server, tmp_path):
    dataset = tmp_path / "mixed.jsonl"
    rows = ([{"input_length": 64, "output_length": 16}] * 5 + [{"input_length": 1100, "output_length": 8}]  # > max-model-len
            + [{"input_length": 1000, "output_length": 100}])  # fits only with max_tokens capped to 1024 - prompt
    dataset.write_text("".join(json.dumps(r) + "\n" for r in rows))
    bench(server, "--api", "chat", "--request-rates", "4", "--num-prompts", "16", "--warmup", "0",
          "--dataset", str(dataset), "--output", str(tmp_path / "out"), "--no-plot")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    [stage] = summary["stages"]
    records = [json.loads(line) for line in (tmp_path / "out" / "requests.jsonl").read_text().splitlines()]
    too_long = [r for r in records if r["input_length"] == 1100]
    capped = [r for r in records if r["input_length"] == 1000]
    assert stage["requests"] == 16 and stage["failed"] == len(too_long) > 0
    assert all(r["status"] == "error" and "HTTP 400" in r["error"] for r in too_long)
    assert stage["short_outputs"] == len(capped) > 0 and all(r["completion_tokens"] < 100 for r in capped)
    assert all(r["status"] == "ok" and r["completion_tokens"] == 16 for r in records if r["input_length"] == 64)


def _pair(server, tmp_path: Path, attempt: int) -> dict[str, tuple[float, float]]:
    """One concurrent run of vllm bench serve and ours; {metric: (ours, theirs)}."""
    rate, prompts, in_len, out_len = "1.5", "48", "512", "32"
    out = tmp_path / f"attempt{attempt}"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    peer = subprocess.Popen(
        [sys.executable, "scripts/vllm_bench_serve.py", "--backend", "vllm", "--base-url", server.url, "--model", SERVED_NAME,
         "--tokenizer", str(server.model_dir), "--dataset-name", "random", "--random-input-len", in_len,
         "--random-output-len", out_len, "--random-range-ratio", "0", "--num-prompts", prompts, "--request-rate", rate,
         "--ignore-eos", "--seed", str(attempt), "--save-result", "--result-dir", str(out), "--result-filename", "peer.json",
         "--disable-tqdm"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        for line in peer.stdout:
            if "Traffic request rate" in line:  # the peer starts sending now
                break
        # prompts from the local tokenizer: building them does not load the server while the peer measures
        bench(server, "--request-rates", rate, "--num-prompts", prompts, "--warmup", "0", "--input-length", in_len,
              "--output-length", out_len, "--tokenizer", str(server.model_dir), "--output", str(out / "ours"), "--no-plot",
              "--seed", str(attempt))
        peer.stdout.read()
        assert peer.wait(timeout=300) == 0
    finally:
        if peer.poll() is None:
            peer.kill()
    theirs = json.loads((out / "peer.json").read_text())
    [ours] = json.loads((out / "ours" / "summary.json").read_text())["stages"]
    return {"output tok/s": (ours["output_tps"], theirs["output_throughput"]),
            "p50 TTFT ms": (ours["latency_ms"]["ttft"]["p50"], theirs["median_ttft_ms"])}


def test_agrees_with_vllm_bench_serve(server, tmp_path):
    """Both tools load the same server at the same time (so both see the same server speed) at a fixed
    request rate with the same lengths; their output tok/s and p50 TTFT agree within 10 %. A second pair
    runs only if the first disagrees (other load on a shared 2-core machine starves one client); every
    attempt is printed, and the last one must agree."""
    # Both within the 10 %. Our client adds ~0.6 ms to a TTFT against vLLM's aiohttp client (measured on
    # a uvicorn SSE server, `make bench-client`); what remains is sampling noise of 48 requests on 2 shared cores.
    tolerance = {"output tok/s": 0.10, "p50 TTFT ms": 0.10}
    for attempt in (1, 2):
        pairs = _pair(server, tmp_path, attempt)
        for name, (a, b) in pairs.items():
            print(f"attempt {attempt}: {name}: ours {a:.2f}, vllm bench serve {b:.2f}, diff {abs(a - b) / b:.1%}")
        if all(abs(a - b) <= tolerance[name] * b for name, (a, b) in pairs.items()):
            break
    for name, (a, b) in pairs.items():
        assert abs(a - b) <= tolerance[name] * b, f"{name}: ours {a:.2f} vs vllm bench serve {b:.2f}"


def test_server_fixture_uses_loopback(server):
    assert server.url.startswith("http://127.0.0.1:") and Path(server.log_path).exists()
