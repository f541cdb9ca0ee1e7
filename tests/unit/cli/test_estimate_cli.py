"""`estimate` as a user runs it: model server, workload, server flags, --num-prompts, the JSON keys, bad input."""

from __future__ import annotations

import json
import re

import pytest

from profiles.cli import estimate as estimate_cli
from profiles.estimator.step_time import MODEL_VERSION
from tests.support.cli import run_cli

LLAMA_8B = ["--model", "meta-llama/Llama-3.1-8B-Instruct", "--accelerator-type", "nvidia-l4", "--accelerator-count", "1"]
CONTRACT = ["output_tokens_per_second", "input_tokens_per_second", "queries_per_second", "ttft_ms", "ntpot_ms", "itl_ms"]
ADDED = ["ttft_ms_mean", "itl_ms_mean", "num_requests_waiting", "num_requests_running", "kv_cache_usage_perc",
         "ttft_p90_ms", "ntpot_p90_ms"]


def run(*flags: str, base: list[str] = LLAMA_8B) -> tuple[dict[str, float], str]:
    """JSON answer and stderr note of a successful run (50 prompts unless the flags say otherwise)."""
    prompts = [] if "--num-prompts" in flags else ["--num-prompts", "50"]
    proc = run_cli("estimate", *base, *prompts, *flags, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout), proc.stderr


def kv_tokens(note: str) -> int:
    return int(re.search(r"KV cache ([\d,]+) tokens", note).group(1).replace(",", ""))


def test_json_keeps_the_contract_keys_first_then_the_added_ones_in_order():
    data, note = run("--offline")
    assert list(data) == CONTRACT + ADDED
    assert all(isinstance(v, float) for v in data.values())
    assert data["ttft_ms_mean"] > 0 and data["itl_ms_mean"] > 0
    assert data["num_requests_running"] > 1 and 0 < data["kv_cache_usage_perc"] <= 1
    assert f"estimated by {MODEL_VERSION}" in note


def test_json_adds_the_estimates_mean_latencies_and_server_metrics(monkeypatch):
    """The added keys are the Estimate's own fields (mean, not p50), rounded like the others."""
    seen = {}
    real = estimate_cli.estimate

    def spy(*args, **kwargs):
        seen["e"] = real(*args, **kwargs)
        return seen["e"]

    monkeypatch.setattr(estimate_cli, "estimate", spy)
    data, _ = run("--request-rate", "2")
    e = seen["e"]
    assert data["ttft_ms_mean"] == round(e.ttft_ms["mean"], 4) and data["itl_ms_mean"] == round(e.itl_ms["mean"], 4)
    assert data["ttft_ms"] == round(e.ttft_ms["p50"], 4) and data["ttft_ms_mean"] != data["ttft_ms"]
    assert data["num_requests_waiting"] == round(e.num_requests_waiting, 4)
    assert data["num_requests_running"] == round(e.num_requests_running, 4)
    assert data["kv_cache_usage_perc"] == round(e.kv_cache_usage_perc, 4)
    assert data["ttft_p90_ms"] == round(e.ttft_ms["p90"], 4) and data["ntpot_p90_ms"] == round(e.ntpot_ms["p90"], 4)


def test_table_shows_the_added_columns():
    proc = run_cli("estimate", *LLAMA_8B, "--offline", "--num-prompts", "50")
    assert proc.returncode == 0, proc.stderr
    header, row = proc.stdout.splitlines()[:2]
    columns = header.split()
    assert columns[:6] == CONTRACT
    assert all(k in columns for k in ADDED) and len(row.split()) == len(columns)


def test_sharegpt_is_the_default_and_differs_from_fixed_lengths():
    default, note = run("--offline")
    explicit, _ = run("--offline", "--dataset", "sharegpt")
    alias, _ = run("--offline", "--dataset", "sharegpt-like")
    fixed, fixed_note = run("--offline", "--input-length", "1000", "--output-length", "1000")
    assert default == explicit == alias
    assert "ShareGPT lengths" in note and "1000/1000 tokens" in fixed_note
    assert fixed["input_tokens_per_second"] == pytest.approx(fixed["output_tokens_per_second"], rel=1e-6)
    assert default["input_tokens_per_second"] != pytest.approx(default["output_tokens_per_second"], rel=0.05)
    assert default["output_tokens_per_second"] != pytest.approx(fixed["output_tokens_per_second"], rel=0.02)


def test_fp8_kv_cache_doubles_the_kv_capacity():
    auto = kv_tokens(run("--offline")[1])
    fp8 = kv_tokens(run("--offline", "--kv-cache-dtype", "fp8")[1])
    assert fp8 == pytest.approx(2 * auto, abs=2) and auto > 10_000


def test_fp8_kv_cache_relieves_a_kv_bound_burst():
    """1000/1000 requests on one L4 fill its KV cache: twice the tokens, fewer requests wait."""
    flags = ("--offline", "--input-length", "1000", "--output-length", "1000")
    auto, fp8 = run(*flags)[0], run(*flags, "--kv-cache-dtype", "fp8")[0]
    assert auto["kv_cache_usage_perc"] > 0.8
    assert fp8["num_requests_running"] > 1.5 * auto["num_requests_running"]
    assert fp8["num_requests_waiting"] < auto["num_requests_waiting"]


def test_lower_max_num_seqs_lowers_offline_throughput_and_running_requests():
    default, _ = run("--offline")
    capped, _ = run("--offline", "--max-num-seqs", "4")
    assert capped["num_requests_running"] <= 4.01 < default["num_requests_running"]
    assert capped["output_tokens_per_second"] < 0.7 * default["output_tokens_per_second"]
    assert capped["num_requests_waiting"] > default["num_requests_waiting"]


def test_max_num_batched_tokens_changes_the_answer():
    flags = ("--request-rate", "2", "--input-length", "1000", "--output-length", "100")
    assert run(*flags)[0]["ttft_ms"] != pytest.approx(run(*flags, "--max-num-batched-tokens", "256")[0]["ttft_ms"], rel=0.05)


def test_max_num_batched_tokens_alone_caps_the_sized_sequence_slots():
    """Without --max-num-seqs the slots are sized as a deployment sizes them, never above the step budget vLLM accepts."""
    default, default_note = run("--offline", "--num-prompts", "50")
    capped, note = run("--offline", "--num-prompts", "50", "--max-num-batched-tokens", "64")
    assert "max-num-seqs 64;" in note and "max-num-seqs 64;" not in default_note
    assert capped["num_requests_running"] <= 64.01


def test_gpu_memory_utilization_sizes_the_kv_cache():
    low = kv_tokens(run("--offline", "--gpu-memory-utilization", "0.9")[1])
    high = kv_tokens(run("--offline", "--gpu-memory-utilization", "0.95")[1])
    assert high > low * 1.2


def test_max_model_len_that_holds_every_request_is_accepted():
    data, _ = run("--offline", "--max-model-len", "2048")  # the ShareGPT table's longest: 1,024 + 1,024
    assert data["output_tokens_per_second"] > 0


def test_num_prompts_is_the_number_of_simulated_requests():
    _, note50 = run("--offline", "--num-prompts", "50")
    _, note20 = run("--offline", "--num-prompts", "20")
    rate, rate_note = run("--request-rate", "1", "--num-prompts", "30")
    assert "50 simulated requests" in note50 and "20 simulated requests" in note20 and "30 simulated requests" in rate_note
    assert rate["queries_per_second"] < 1.05


def test_request_rate_inf_is_an_offline_burst():
    assert run("--request-rate", "inf")[0] == run("--offline")[0]


@pytest.mark.parametrize(("server", "engine", "accelerator"), [
    ("vllm", "vllm", "nvidia-l4"), ("sglang", "sglang", "nvidia-l4"), ("tensorrt-llm", "trtllm", "nvidia-l4"),
    ("jetstream", "jetstream", "tpu-v6e-slice"),
])
def test_model_server_picks_the_engines_coefficients(server, engine, accelerator):
    base = ["--model", "meta-llama/Llama-3.1-8B-Instruct", "--accelerator-type", accelerator, "--accelerator-count", "1"]
    data, note = run("--offline", "--model-server", server, base=base)
    assert re.search(rf"\(\S+/{engine}: MFU", note), note
    assert f", {server};" in note and data["output_tokens_per_second"] > 0


def test_model_server_changes_the_answer():
    vllm, _ = run("--offline")
    trtllm, _ = run("--offline", "--model-server", "tensorrt-llm")
    assert vllm == run("--offline", "--model-server", "vllm")[0]
    # another engine's coefficients: some figure moves by more than 2 % (which one depends on the fitted values)
    assert any(trtllm[k] != pytest.approx(vllm[k], rel=0.02) for k in ("output_tokens_per_second", "ttft_ms", "itl_ms"))


@pytest.mark.parametrize(("flags", "words"), [
    (["--dataset", "sharegpt", "--input-length", "100", "--output-length", "10"], ["--dataset", "'sharegpt'", "--input-length"]),
    (["--input-length", "100"], ["--input-length", "'100'", "--output-length"]),
    (["--output-length", "10"], ["--output-length", "'10'", "--input-length"]),
    (["--dataset", "alpaca"], ["--dataset", "'alpaca'", "allowed: sharegpt"]),
    (["--model-server", "tgi"], ["--model-server", "'tgi'", "allowed: vllm, sglang, tensorrt-llm, jetstream"]),
    (["--model-server", "jetstream"], ["--model-server", "'jetstream'", "TPUs only", "allowed: vllm, sglang, tensorrt-llm"]),
    (["--kv-cache-dtype", "fp16"], ["--kv-cache-dtype", "'fp16'", "allowed: auto, fp8"]),
    (["--gpu-memory-utilization", "0"], ["--gpu-memory-utilization", "'0'", "0 < x <= 1"]),
    (["--gpu-memory-utilization", "1.2"], ["--gpu-memory-utilization", "'1.2'", "0 < x <= 1"]),
    (["--gpu-memory-utilization", "most"], ["--gpu-memory-utilization", "'most'", "0 < x <= 1"]),
    (["--max-num-seqs", "0"], ["--max-num-seqs", "'0'", "greater than 0"]),
    (["--max-num-seqs", "2.5"], ["--max-num-seqs", "'2.5'", "whole number"]),
    (["--max-num-batched-tokens", "-1"], ["--max-num-batched-tokens", "'-1'", "greater than 0"]),
    (["--max-num-batched-tokens", "64", "--max-num-seqs", "128"], ["--max-num-batched-tokens", "'64'", ">= 128"]),
    (["--max-num-batched-tokens", "8"], ["--max-num-batched-tokens", "'8'", "fewest sequence slots", ">= 16"]),
    (["--max-num-seqs", "4096"], ["--max-num-seqs", "'4096'", "<= 2048"]),
    (["--num-prompts", "0"], ["--num-prompts", "'0'", "greater than 0"]),
    (["--num-prompts", "1000000000"], ["--num-prompts", "'1000000000'", "at most 100000"]),
    (["--max-model-len", "0"], ["--max-model-len", "'0'", "greater than 0"]),
    (["--max-model-len", "1500"], ["--max-model-len", "'1500'", "2,048 tokens", "1,024 prompt + 1,024 output", "allowed: 2048"]),
    (["--max-model-len", "1500", "--input-length", "1000", "--output-length", "600"],
     ["--max-model-len", "'1500'", "1,600 tokens", "allowed: 1600"]),
    (["--max-model-len", "200000"], ["--max-model-len", "'200000'", "context of 131,072"]),
    (["--input-length", "130000", "--output-length", "5000"], ["--input-length/--output-length", "135,000", "131,072"]),
])
def test_bad_input_exits_2_naming_the_flag_and_value(flags, words):
    proc = run_cli("estimate", *LLAMA_8B, "--offline", "--num-prompts", "50", *flags, "--format", "json")
    assert proc.returncode == 2 and proc.stdout == "", proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert all(w in proc.stderr for w in words), proc.stderr


@pytest.mark.parametrize("rate", ["nan", "-2", "0", "1e-14", "1e-300"])
def test_bad_request_rate_exits_2(rate):
    """Below 0.001 req/s the arrival times (~1e14 s) swallowed the step times: every latency came out 0 with exit 0."""
    proc = run_cli("estimate", *LLAMA_8B, "--request-rate", rate, "--num-prompts", "50")
    assert proc.returncode == 2 and "--request-rate" in proc.stderr and f"'{rate}'" in proc.stderr, proc.stderr


def test_the_slowest_request_rate_allowed_still_has_latencies():
    data, _ = run("--request-rate", "0.001", "--num-prompts", "20")
    assert data["ttft_ms"] > 10 and data["itl_ms"] > 10 and data["num_requests_waiting"] == 0


def test_closed_loop_latency_does_not_fall_as_concurrency_nears_the_prompt_count():
    """A benchmark of N prompts counts every request, as vllm bench serve does: dropping the first C as warm-up left
    one request at C = N - 1 and all of them at C = N (TTFT fell 6.5x from C = 199 to 200 on 200 prompts)."""
    ttft = [run("--concurrency", str(c), "--num-prompts", "60")[0]["ttft_ms_mean"] for c in (20, 40, 59, 60, 61)]
    assert all(b >= a * 0.999 for a, b in zip(ttft, ttft[1:], strict=False)), ttft


@pytest.mark.parametrize(("flags", "words"), [
    # one request of 100,000 + 1,000 tokens: the KV cache of one L4 holds 32,443
    (["--input-length", "100000", "--output-length", "1000"], ["does not fit", "32,443 tokens < 101,000", "--input-length 100000"]),
    (["--max-model-len", "100000", "--kv-cache-dtype", "fp8"], ["does not fit", "< 100,000", "--max-model-len 100000",
                                                                   "--kv-cache-dtype fp8"]),
    (["--gpu-memory-utilization", "0.7"], ["--accelerator-count: value '1' x nvidia-l4", "does not fit",
                                           "gpu-memory-utilization 0.70", "< 2,048",
                                           "--gpu-memory-utilization 0.7 (a higher share"]),
])
def test_a_kv_cache_that_cannot_hold_one_request_exits_2_with_the_numbers(flags, words):
    proc = run_cli("estimate", *LLAMA_8B, "--offline", "--num-prompts", "50", *flags)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert all(w in proc.stderr for w in words), proc.stderr


def test_a_step_budget_whose_forward_pass_cannot_fit_exits_2():
    """vLLM profiles a forward pass of max-num-batched-tokens tokens: a billion of them is not free memory."""
    proc = run_cli("estimate", *LLAMA_8B, "--offline", "--num-prompts", "50", "--max-num-batched-tokens", "1000000000")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "does not fit" in proc.stderr and "max-num-batched-tokens 1000000000" in proc.stderr
    assert "--max-num-batched-tokens 1000000000 (its forward pass" in proc.stderr


def test_a_tensor_parallel_size_vllm_refuses_exits_2_without_memory_context():
    proc = run_cli("estimate", "--model", "Qwen/Qwen2.5-7B-Instruct", "--accelerator-type", "nvidia-h100-80gb",
                   "--accelerator-count", "8", "--offline", "--num-prompts", "50")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "does not divide the model's 28 attention heads" in proc.stderr
    assert "longest request" not in proc.stderr and "sequence slots" not in proc.stderr


def test_a_simulator_value_error_becomes_a_usage_error(monkeypatch):
    def boom(*args, **kwargs):
        raise ValueError("a prompt does not fit the KV cache")

    monkeypatch.setattr(estimate_cli, "estimate", boom)
    proc = run_cli("estimate", *LLAMA_8B, "--offline", "--num-prompts", "50", "--max-model-len", "4096")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "a prompt does not fit the KV cache" in proc.stderr and "--max-model-len 4096" in proc.stderr
