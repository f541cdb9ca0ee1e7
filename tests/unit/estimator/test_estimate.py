"""Estimator: physical sanity properties, the scheduler simulation, and the `estimate` CLI contract."""

from __future__ import annotations

import json

import pytest

from profiles.catalog.catalog import default_catalog
from profiles.catalog.workload import SHAREGPT, fixed
from profiles.estimator.estimate import Load, ServerArgs, efficiency, estimate
from profiles.estimator.simulator import SimLimits, simulate
from profiles.estimator.step_time import MODEL_VERSION, step_model
from profiles.serving.sizing import fit
from tests.support.cli import run_cli

CATALOG = default_catalog()
LLAMA_8B = CATALOG.models["meta-llama/Llama-3.1-8B-Instruct"]
LLAMA_70B = CATALOG.models["meta-llama/Llama-3.1-70B-Instruct"]


def _est(spec, acc, count, load, precision="bf16", lengths=(128, 128)):
    return estimate(CATALOG, spec, CATALOG.shape(acc, count), precision, fixed(*lengths), load)


@pytest.mark.parametrize(("spec", "acc", "count"), [(LLAMA_8B, "nvidia-l4", 1), (LLAMA_8B, "nvidia-h100-80gb", 1),
                                                    (LLAMA_70B, "nvidia-h100-80gb", 4), (LLAMA_8B, "tpu-v6e-slice", 1),
                                                    (LLAMA_70B, "tpu-v6e-slice", 8), (LLAMA_8B, "nvidia-a100-80gb", 2)])
def test_batch_one_itl_is_above_the_weight_read_floor(spec, acc, count):
    a = CATALOG.accelerators[acc]
    floor_ms = spec.weight_bytes("bf16") / (count * a.hbm_bandwidth_gbps * 1e9) * 1000
    itl = _est(spec, acc, count, Load("concurrency", 1)).itl_ms["p50"]
    assert itl >= floor_ms, (itl, floor_ms)


def test_more_chips_never_slow_single_stream_decode_beyond_the_all_reduce():
    previous = None
    for count in (2, 4, 8):
        shape = CATALOG.shape("nvidia-h100-80gb", count)
        model = step_model(LLAMA_70B, CATALOG.accelerators["nvidia-h100-80gb"], count, "bf16", efficiency("Hopper", "vllm"))
        itl = estimate(CATALOG, LLAMA_70B, shape, "bf16", fixed(128, 128), Load("concurrency", 1)).itl_ms["p50"]
        if previous is not None:
            allreduce_ms = (model.comm_latency + model.comm_bytes_per_token / model.comm_rate) * 1000
            assert itl <= previous + allreduce_ms, (count, itl, previous)
        previous = itl


def test_throughput_does_not_fall_with_rate_until_saturation():
    points = [estimate(CATALOG, LLAMA_8B, CATALOG.shape("nvidia-h100-80gb", 1), "bf16", SHAREGPT, Load("request_rate", r))
              for r in (0.5, 1, 2, 4, 8, 16, 32, 64)]
    tps = [p.output_tps for p in points]
    peak = tps.index(max(tps))
    assert peak > 0
    for a, b in zip(tps[: peak + 1], tps[1 : peak + 1], strict=False):
        assert b >= 0.97 * a, tps
    assert points[-1].ttft_ms["p50"] > points[0].ttft_ms["p50"]


def test_fp8_halves_the_weight_read_floor():
    acc = CATALOG.accelerators["nvidia-h100-80gb"]
    eff = efficiency(acc.efficiency_group, "vllm")
    bf16, fp8 = (step_model(LLAMA_70B, acc, 2, p, eff) for p in ("bf16", "fp8"))
    assert fp8.weight_bytes == pytest.approx(bf16.weight_bytes / 2, rel=0.02)  # lm_head stays bf16
    itl_bf16, itl_fp8 = (_est(LLAMA_70B, "nvidia-h100-80gb", 2, Load("concurrency", 1), p).itl_ms["p50"] for p in ("bf16", "fp8"))
    assert itl_fp8 < itl_bf16


def test_fp8_kv_cache_doubles_the_token_capacity_and_halves_kv_reads():
    shape = CATALOG.shape("nvidia-h100-80gb", 2)
    auto, fp8 = (fit(CATALOG, LLAMA_70B, shape, "0.32.0", "fp8", kv_cache_dtype=k) for k in ("auto", "fp8"))
    assert fp8.kv_bytes_per_token * 2 == auto.kv_bytes_per_token
    assert abs(fp8.kv_capacity_tokens - 2 * auto.kv_capacity_tokens) <= 1  # integer floor
    # long contexts at batch: the decode step reads the KV cache, so an fp8 cache shortens ITL
    lengths, load = fixed(3000, 2000), Load("concurrency", 32)  # decode-dominated: KV reads matter
    itl = [estimate(CATALOG, LLAMA_70B, shape, "fp8", lengths, load, server=ServerArgs(kv_cache_dtype=k)).itl_ms["p50"]
           for k in ("auto", "fp8")]
    assert itl[1] < 0.95 * itl[0], itl


def test_server_args_override_the_scheduler_defaults():
    shape = CATALOG.shape("nvidia-l4", 1)
    default = _est(LLAMA_8B, "nvidia-l4", 1, Load("concurrency", 64))
    capped = estimate(CATALOG, LLAMA_8B, shape, "bf16", fixed(128, 128), Load("concurrency", 64), server=ServerArgs(max_num_seqs=8))
    assert capped.num_requests_running <= 8.01 < default.num_requests_running
    assert capped.num_requests_waiting > 40 and capped.output_tps < default.output_tps


def test_closed_loop_latencies_leave_out_the_start_up_wave():
    """At concurrency C the first C requests start together and queue behind each other's prefills; the
    estimate describes the steady state after them (as an operating point should)."""
    shape, lengths = CATALOG.shape("nvidia-h100-80gb", 2), fixed(5000, 500)
    acc = CATALOG.accelerators["nvidia-h100-80gb"]
    e = estimate(CATALOG, LLAMA_70B, shape, "fp8", lengths, Load("concurrency", 25))
    memory = fit(CATALOG, LLAMA_70B, shape, "0.32.0", "fp8", max_model_len=5500)
    model = step_model(LLAMA_70B, acc, 2, "fp8", efficiency(acc.efficiency_group, "vllm"), memory.kv_bytes_per_token)
    raw = simulate(model, SimLimits(memory.max_num_seqs, memory.max_num_batched_tokens, memory.kv_capacity_tokens),
                   lengths.lengths(e.requests, 0), None, concurrency=25)
    everyone = sum(f - a for a, f, *_ in raw.requests) / len(raw.requests) * 1000
    start_wave = sorted(f - a for a, f, *_ in sorted(raw.requests)[:25])
    assert e.requests == len(raw.requests)
    assert start_wave[-1] * 1000 > 5 * e.ttft_ms["mean"]  # the 25th of the wave waited for 24 prefills
    assert e.ttft_ms["mean"] < 0.8 * everyone


def test_preemption_when_the_kv_cache_is_short():
    acc = CATALOG.accelerators["nvidia-l4"]
    model = step_model(LLAMA_8B, acc, 1, "bf16", efficiency(acc.efficiency_group, "vllm"))
    lengths = [(100, 200)] * 20
    roomy = simulate(model, SimLimits(16, 2048, 100_000), lengths, [0.0] * 20)
    tight = simulate(model, SimLimits(16, 2048, 1200), lengths, [0.0] * 20)  # < 16 x 300 tokens
    assert len(tight.requests) == 20 and all(o == 200 for *_, o in tight.requests)
    assert tight.makespan > roomy.makespan and tight.mean_kv_usage > roomy.mean_kv_usage


def test_queue_forms_past_max_num_seqs():
    acc = CATALOG.accelerators["nvidia-l4"]
    model = step_model(LLAMA_8B, acc, 1, "bf16", efficiency(acc.efficiency_group, "vllm"))
    result = simulate(model, SimLimits(4, 2048, 100_000), [(100, 50)] * 40, [0.0] * 40)
    assert result.mean_waiting > 5 and result.mean_running == pytest.approx(4, rel=0.1)


def test_estimates_are_deterministic():
    a = _est(LLAMA_8B, "nvidia-l4", 1, Load("request_rate", 0.5))
    b = _est(LLAMA_8B, "nvidia-l4", 1, Load("request_rate", 0.5))
    assert a == b


def test_cli_json_contract(tmp_path):
    proc = run_cli("estimate", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--accelerator-type", "nvidia-h100-80gb",
                   "--accelerator-count", "1", "--input-length", "512", "--output-length", "128", "--request-rate", "2",
                   "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    contract = ["output_tokens_per_second", "input_tokens_per_second", "queries_per_second", "ttft_ms", "ntpot_ms", "itl_ms"]
    assert list(data)[:6] == contract  # the stable keys first; issue #14 added more after them
    assert all(isinstance(data[k], float) and data[k] > 0 for k in contract)
    assert data["input_tokens_per_second"] == pytest.approx(4 * data["output_tokens_per_second"], rel=0.01)
    assert f"estimated by {MODEL_VERSION}" in proc.stderr


def test_cli_accepts_a_config_json(tmp_path):
    config = {"architectures": ["LlamaForCausalLM"], "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
              "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 128256, "max_position_embeddings": 8192,
              "torch_dtype": "bfloat16"}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    proc = run_cli("estimate", "--model", str(path), "--accelerator-type", "nvidia-l4", "--accelerator-count", "1",
                   "--input-length", "256", "--output-length", "64", "--offline", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["output_tokens_per_second"] > 0


@pytest.mark.parametrize(("flags", "message"), [
    (["--model", "meta-llama/Llama-3.1-70B", "--accelerator-type", "nvidia-l4", "--accelerator-count", "1"], "does not fit"),
    (["--model", "nope/model", "--accelerator-type", "nvidia-l4", "--accelerator-count", "1"], "--model: unknown value 'nope/model'"),
    (["--model", "meta-llama/Llama-3.1-8B", "--accelerator-type", "nvidia-l5", "--accelerator-count", "1"], "--accelerator-type: unknown"),
    (["--model", "meta-llama/Llama-3.1-8B", "--accelerator-type", "nvidia-l4", "--accelerator-count", "3"], "allowed: 1, 2, 4, 8"),
])
def test_cli_bad_input_exits_2(flags, message):
    proc = run_cli("estimate", *flags, "--input-length", "128", "--output-length", "128", "--offline")
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_checked_in_residuals_match_the_estimator(shared_dir):
    """estimator_residuals.csv (behind the README's accuracy table) is what the current code and coefficients give."""
    if shared_dir is None:
        pytest.skip("../shared/data is not beside the checkout")
    import csv

    from profiles.estimator import calibrate

    rows, _ = calibrate.load_rows()
    fresh = {(r["row_id"], r["metric"]): r["abs_pct_error"] for r in calibrate.residuals(rows)}
    with calibrate.RESIDUALS.open(newline="", encoding="utf-8") as handle:
        stored = {(r["row_id"], r["metric"]): r["abs_pct_error"] for r in csv.DictReader(handle)}
    assert fresh.keys() == stored.keys() and len(fresh) >= 40
    for key, value in stored.items():
        if not value:  # a row whose configuration the memory fit refuses is scored by nobody, then and now
            assert fresh[key] == "", key
            continue
        assert float(fresh[key]) == pytest.approx(float(value), abs=2e-3), key


def test_shipped_estimated_profiles_are_fresh():
    """estimated.csv matches its inputs' fingerprint, and a sample of curves regenerates byte-identically."""
    from collections import defaultdict

    from profiles.estimator.curves import FINGERPRINT, OUTPUT, configurations, curve, fingerprint
    from profiles.store.read import load_file
    from profiles.store.write import point_to_row

    assert FINGERPRINT.read_text().split()[0] == fingerprint(), "estimated.csv is stale: run `make profiles`"
    stored = defaultdict(list)
    for p in load_file(OUTPUT):
        stored[(p.model, p.accelerator_type, p.accelerator_count)].append(point_to_row(p))
    sample = list(configurations(CATALOG))[::97]
    assert len(sample) >= 8
    for spec, shape, precision in sample:
        fresh = [point_to_row(p) for p in curve(CATALOG, spec, shape, precision)]
        assert fresh == stored.get((spec.model, shape.accelerator_type, shape.accelerator_count), []), (spec.model, shape)


def test_every_catalog_model_has_estimated_curves():
    from profiles.store.store import ProfileStore

    store = ProfileStore.load()
    points = store.points()
    estimated = {(p.model, p.accelerator_type) for p in points if p.provenance == "estimated"}
    shaped = {m for m, s in CATALOG.models.items() if s.layers and s.hidden_size and s.kv_bytes_per_token}
    assert shaped <= {m for m, _ in estimated} | {p.model for p in points}
    accelerators = {a for m, a in estimated if m == "meta-llama/Llama-3.1-8B-Instruct"}
    assert {"nvidia-l4", "nvidia-tesla-a100", "nvidia-a100-80gb", "nvidia-h100-80gb", "nvidia-h200-141gb",
            "tpu-v5-lite-podslice", "tpu-v6e-slice"} <= accelerators


@pytest.mark.parametrize(("line", "message"), [
    ("Z99,fp8,,,,,somewhere,V", "row_id 'Z99' is not in"),
    ("K01,fp8,lots,,,,somewhere,V", "could not convert"),
    ("K01,fp8,,,,,,V", "needs a source"),
])
def test_calibration_server_args_are_checked(shared_dir, tmp_path, monkeypatch, line, message):
    if shared_dir is None:
        pytest.skip("../shared/data is not beside the checkout")
    from profiles.errors import UsageError
    from profiles.estimator import calibrate

    bad = tmp_path / "calibration_server_args.csv"
    header = calibrate.SERVER_ARGS.read_text(encoding="utf-8").splitlines()[0]
    bad.write_text(f"{header}\n{line}\n", encoding="utf-8")
    monkeypatch.setattr(calibrate, "SERVER_ARGS", bad)
    before = calibrate.RESIDUALS.read_bytes()
    with pytest.raises(UsageError) as err:
        calibrate.run(report=True)
    assert message in str(err.value) and "line 2" in str(err.value)
    assert calibrate.RESIDUALS.read_bytes() == before  # nothing half-written


def test_the_simulated_kv_cache_is_the_deployed_one():
    """A deployment renders the default max-model-len (8192), which on 4 x A100 40GB needs 0.95 for Llama-3.3-70B; the
    estimate must simulate that cache, not the 4k-token one 0.90 would leave for ShareGPT's 2k-token longest request
    (sizing for that request alone picks the same 0.95 budget)."""
    spec, shape = CATALOG.model("meta-llama/Llama-3.3-70B-Instruct"), CATALOG.shape("nvidia-tesla-a100", 4)
    deployed = fit(CATALOG, spec, shape, "0.32.0")
    e = estimate(CATALOG, spec, shape, "bf16", SHAREGPT, Load("offline"), requests=200)
    assert e.kv_capacity_tokens == deployed.kv_capacity_tokens
    at_090 = fit(CATALOG, spec, shape, "0.32.0", max_model_len=2048, gpu_memory_utilization=0.90)
    assert deployed.kv_capacity_tokens > 5 * at_090.kv_capacity_tokens
    assert fit(CATALOG, spec, shape, "0.32.0", max_model_len=2048).kv_capacity_tokens == deployed.kv_capacity_tokens
