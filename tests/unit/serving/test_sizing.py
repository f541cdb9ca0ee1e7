"""Memory fit against the published context-fit table (reference performance-modeling.md 3.4, LambdaLabsML)."""

from __future__ import annotations

import pytest

from profiles.catalog.catalog import default_catalog
from profiles.errors import UsageError
from profiles.serving.sizing import fit, smallest_fit

VLLM = "0.32.0"


@pytest.fixture(scope="module")
def cat():
    return default_catalog()


def h100(cat, count):
    return cat.shape("nvidia-h100-80gb", count)


def test_lambda_table_70b_fp8(cat):
    """'Llama-3.1-70B-Instruct-FP8: 1x A100/H100 80GB serves up to 4k context; 2x serves 128k'."""
    spec = cat.model("meta-llama/Llama-3.1-70B-Instruct")
    one = fit(cat, spec, h100(cat, 1), VLLM, "fp8", max_model_len=4096, gpu_memory_utilization=0.95)
    assert one.max_model_len == 4096
    with pytest.raises(UsageError, match="does not fit"):
        fit(cat, spec, h100(cat, 1), VLLM, "fp8", max_model_len=131072, gpu_memory_utilization=0.95)
    assert fit(cat, spec, h100(cat, 2), VLLM, "fp8", max_model_len=131072, gpu_memory_utilization=0.95).kv_capacity_tokens >= 131072


def test_lambda_table_405b_needs_eight(cat):
    spec = cat.model("meta-llama/Llama-3.1-405B-Instruct")
    assert fit(cat, spec, h100(cat, 8), VLLM, "fp8", max_model_len=131072, gpu_memory_utilization=0.95).tensor_parallel_size == 8
    with pytest.raises(UsageError, match="does not fit"):
        fit(cat, spec, h100(cat, 4), VLLM, "fp8", max_model_len=4096, gpu_memory_utilization=0.95)


def test_70b_bf16_on_one_l4_is_rejected_with_numbers(cat):
    with pytest.raises(UsageError, match=r"141\.1 GB weights.*22\.8 GB usable"):
        fit(cat, cat.model("meta-llama/Llama-3.1-70B"), cat.shape("nvidia-l4", 1), VLLM)


def test_smallest_fit_picks_the_fewest_accelerators(cat):
    assert smallest_fit(cat, cat.model("meta-llama/Llama-3.1-70B"), "tpu-v6e-slice", VLLM).shape.tpu_topology == "2x4"
    assert smallest_fit(cat, cat.model("meta-llama/Llama-3.1-8B-Instruct"), "nvidia-l4", VLLM).shape.accelerator_count == 1


def test_scheduler_limits_are_the_pinned_vllm_defaults(cat):
    spec = cat.model("meta-llama/Llama-3.1-8B-Instruct")
    assert (fit(cat, spec, h100(cat, 1), VLLM).max_num_batched_tokens, fit(cat, spec, h100(cat, 1), VLLM).max_num_seqs) == (8192, 1024)
    tpu = fit(cat, spec, cat.shape("tpu-v6e-slice", 1), VLLM)
    assert (tpu.max_num_batched_tokens, tpu.max_num_seqs) == (1024, 256)


def test_short_kv_cache_shrinks_max_model_len_to_what_fits(cat):
    spec = cat.model("meta-llama/Llama-3.1-8B-Instruct")
    small = fit(cat, spec, cat.shape("nvidia-l4", 1), VLLM, max_model_len=None)
    assert small.max_model_len <= small.kv_capacity_tokens
    with pytest.raises(UsageError, match="max-model-len"):
        fit(cat, spec, cat.shape("nvidia-l4", 1), VLLM, max_model_len=10**6)
