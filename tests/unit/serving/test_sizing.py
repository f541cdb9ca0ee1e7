"""Memory fit against the published context-fit table (reference performance-modeling.md 3.4, LambdaLabsML)."""

from __future__ import annotations

import pytest

from profiles.catalog.catalog import default_catalog
from profiles.errors import UsageError
from profiles.serving.sizing import _kv_bytes, fit, kv_copies, smallest_fit

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
    with pytest.raises(UsageError, match=r"141\.1 GB weights.*22\.4 GB usable"):
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


def _memory_logs():
    import csv

    from profiles.catalog.catalog import DATA_DIR
    with open(DATA_DIR / "vllm_memory_logs.csv") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("log", _memory_logs(), ids=lambda r: r["log_id"])
def test_sizing_terms_reproduce_published_vllm_startup_logs(cat, log):
    """Each published vLLM startup log states the weights it loaded and the KV cache it was left with: our loaded
    weights must be within 3 % of the log, and our overhead (non-torch + sampler warm-up; these versions did not take
    CUDA graphs from the budget) within 0.5 GiB of what the log leaves unexplained (total x util - weights - KV)."""
    from profiles.serving.sizing import GB, GIB, runtime_overhead_gb

    spec, acc = cat.model(log["model"]), cat.accelerator(log["accelerator_type"])
    tp = int(log["tensor_parallel_size"])
    factor = cat.weight_format(acc.accelerator_type, log["precision"]).load_factor
    weights_gib = spec.bytes_at(log["precision"], load_factor=factor) / tp / GIB
    assert weights_gib == pytest.approx(float(log["weights_gib"]), rel=0.03)
    logged = float(log["total_gib"]) * float(log["gpu_memory_utilization"]) - float(log["weights_gib"]) \
        - float(log["available_kv_gib"])
    ours = runtime_overhead_gb(cat, spec, acc, tp, int(log["max_num_seqs"])) * GB / GIB - cat.memory_terms["cuda_graph_gib"]
    assert ours == pytest.approx(logged, abs=0.5)


def test_runtime_memory_is_what_cuda_reports_not_the_marketing_figure(cat):
    """An '80 GB' H100 gives vLLM 79.22 GiB (85.1 GB), not 80 GB: the KV budget is 6 % larger than a decimal reading."""
    acc = cat.accelerator("nvidia-h100-80gb")
    assert acc.memory_gb == 80 and acc.runtime_memory_gib == pytest.approx(79.22)
    spec = cat.model("meta-llama/Llama-3.1-8B-Instruct")
    assert fit(cat, spec, h100(cat, 1), VLLM).usable_gb == pytest.approx(0.9 * 79.22 * 2**30 / 1e9)


def test_a_large_vocabulary_at_many_sequences_costs_kv_cache(cat):
    """The sampler warm-up scales with max-num-seqs x vocabulary: gpt-oss (201k) at 1024 sequences keeps ~6.5 GiB
    more than at 128, and that memory comes out of the KV cache."""
    spec = cat.model("openai/gpt-oss-20b")
    many = fit(cat, spec, h100(cat, 1), VLLM, max_num_seqs=1024)
    few = fit(cat, spec, h100(cat, 1), VLLM, max_num_seqs=128)
    assert (few.kv_cache_gb - many.kv_cache_gb) * 1e9 / 2**30 == pytest.approx(39 * 896 * 201088 / 2**30, rel=0.01)


def test_the_profiling_forward_pass_sets_the_floor_of_the_activation_peak(cat):
    """vLLM profiles a forward pass of max-num-batched-tokens tokens, then the sampler: the peak is the larger. At 64
    slots gpt-oss-20b's sampler (0.50 GB) is below the pass's fused-MoE intermediates at 8,192 tokens
    (8,192 x 4 experts x (3 x 2,880 + 2,880) x 2 B = 0.75 GB), so fewer slots stop freeing memory there; and a step
    budget of 16,384 tokens on one L4 costs Llama-3.1-8B 1.4 GB of activations, taken from its KV cache."""
    spec = cat.model("openai/gpt-oss-20b")
    at64, at32 = (fit(cat, spec, h100(cat, 1), VLLM, max_num_seqs=s) for s in (64, 32))
    assert at64.kv_cache_gb == pytest.approx(at32.kv_cache_gb, abs=1e-9)
    assert at64.overhead_gb - fit(cat, spec, h100(cat, 1), VLLM, max_num_seqs=1024).overhead_gb == pytest.approx(
        (8192 * 4 * 4 * 2880 * 2 - 39 * 1024 * 201088) / 1e9, rel=1e-6)
    llama, l4 = cat.model("meta-llama/Llama-3.1-8B-Instruct"), cat.shape("nvidia-l4", 1)
    default, big = (fit(cat, llama, l4, VLLM, max_num_seqs=64, max_num_batched_tokens=t) for t in (None, 16384))
    assert default.kv_cache_gb - big.kv_cache_gb == pytest.approx(16384 * 3 * 14336 * 2 / 1e9 - 39 * 64 * 128256 / 1e9,
                                                                  rel=1e-6)
    with pytest.raises(UsageError, match="does not fit"):
        fit(cat, llama, l4, VLLM, max_num_batched_tokens=10**9, tune_max_num_seqs=True)


def test_the_full_max_model_len_at_095_beats_a_shrunken_one_at_090(cat):
    """Llama-3.3-70B on 4 x A100 40GB holds ~4k tokens at 0.90 but ~30k at 0.95: the fit takes 0.95 and the default
    8192-token max-model-len rather than a 2048-token cache that would starve the batch."""
    spec = cat.model("meta-llama/Llama-3.3-70B-Instruct")
    shape = cat.shape("nvidia-tesla-a100", 4)
    at_090 = fit(cat, spec, shape, VLLM, gpu_memory_utilization=0.90)
    assert at_090.max_model_len < 8192
    chosen = fit(cat, spec, shape, VLLM)
    assert chosen.gpu_memory_utilization == 0.95 and chosen.max_model_len == 8192
    assert chosen.kv_capacity_tokens > 5 * at_090.kv_capacity_tokens


def test_a_deployment_fits_max_num_seqs_to_its_kv_cache(cat):
    """Every slot reserves sampler memory: Qwen2.5-72B on 2 x H100 at vLLM's 1,024 slots keeps a 4.5k-token cache (ten
    ShareGPT requests); a deployment renders fewer slots and gets several times the cache. Llama-3.1-8B on one H100
    fills its 1,024 slots, so it keeps vLLM's default."""
    spec = cat.model("Qwen/Qwen2.5-72B-Instruct")
    default = fit(cat, spec, h100(cat, 2), VLLM)
    tuned = fit(cat, spec, h100(cat, 2), VLLM, tune_max_num_seqs=True)
    assert default.max_num_seqs == 1024 and tuned.max_num_seqs < 1024
    assert tuned.kv_capacity_tokens > 5 * default.kv_capacity_tokens
    small = cat.model("meta-llama/Llama-3.1-8B-Instruct")
    assert fit(cat, small, h100(cat, 1), VLLM, tune_max_num_seqs=True).max_num_seqs == 1024
    assert fit(cat, spec, h100(cat, 2), VLLM, max_num_seqs=512, tune_max_num_seqs=True).max_num_seqs == 512


def test_fewer_slots_than_256_only_where_nothing_else_fits(cat):
    """gemma-2-9b (256k vocabulary) on one L4: 256 slots' sampler reserve leaves no cache for 2,048 tokens, so a
    deployment takes fewer; Llama-3.1-8B on one L4 fits at vLLM's 256 and keeps it."""
    spec, l4 = cat.model("google/gemma-2-9b-it"), cat.shape("nvidia-l4", 1)
    with pytest.raises(UsageError, match="does not fit"):
        fit(cat, spec, l4, VLLM)
    assert fit(cat, spec, l4, VLLM, tune_max_num_seqs=True).max_num_seqs < 256
    assert fit(cat, cat.model("meta-llama/Llama-3.1-8B-Instruct"), l4, VLLM, tune_max_num_seqs=True).max_num_seqs == 256


def test_a_deployment_renders_the_utilization_its_profile_was_sized_at(cat):
    """gemma-2-9b on one L4 with 32 slots: sized from the default length it gets 0.95 and a 4,096-token max-model-len
    (8k tokens of cache); 0.90 would hold 4,096 alone (4.7k tokens), but the budget rule asks 0.90 to hold the default
    length, so re-sizing from the row's 4,096 gives 0.95 too: the deployment renders the budget it was simulated with."""
    from dataclasses import replace

    from profiles.estimator.curves import OUTPUT
    from profiles.serving.plan import profiled_fit
    from profiles.store.read import load_file

    spec, l4 = cat.model("google/gemma-2-9b-it"), cat.shape("nvidia-l4", 1)
    simulated = fit(cat, spec, l4, VLLM, max_num_seqs=32)
    assert simulated.gpu_memory_utilization == 0.95 and simulated.max_model_len == 4096
    assert fit(cat, spec, l4, VLLM, max_model_len=4096, max_num_seqs=32, gpu_memory_utilization=0.90).kv_capacity_tokens >= 4096
    assert fit(cat, spec, l4, VLLM, max_model_len=4096, max_num_seqs=32).gpu_memory_utilization == 0.95
    shipped = next(p for p in load_file(OUTPUT) if p.model == spec.model and p.accelerator_type == "nvidia-l4")
    point = replace(shipped, max_num_seqs=32, max_model_len=4096)
    deployed = profiled_fit(cat, spec, l4, VLLM, point)
    assert deployed.gpu_memory_utilization == 0.95 and deployed.kv_capacity_tokens == simulated.kv_capacity_tokens


def test_tuned_sequence_slots_stay_within_the_step_token_budget():
    """vLLM refuses max-num-seqs above max-num-batched-tokens, so a given budget caps the tuned slots."""
    cat = default_catalog()
    spec = cat.model("meta-llama/Llama-3.1-8B-Instruct")
    assert fit(cat, spec, h100(cat, 1), VLLM, tune_max_num_seqs=True).max_num_seqs == 1024
    capped = fit(cat, spec, h100(cat, 1), VLLM, max_num_batched_tokens=300, tune_max_num_seqs=True)
    assert (capped.max_num_seqs, capped.max_num_batched_tokens) == (300, 300)
    with pytest.raises(UsageError, match="'8'.*>= 16"):
        fit(cat, spec, h100(cat, 1), VLLM, max_num_batched_tokens=8, tune_max_num_seqs=True)


@pytest.mark.parametrize(("model", "tp", "copies"), [
    ("deepseek-ai/DeepSeek-R1", 8, 8.0),  # MLA: one latent per token, which plain TP does not split
    ("deepseek-ai/DeepSeek-R1", 1, 1.0),
    ("meta-llama/Llama-3.3-70B-Instruct", 8, 1.0),  # 8 KV heads over 8 ranks: sharded
    ("meta-llama/Llama-3.3-70B-Instruct", 4, 1.0),
    ("google/gemma-3-4b-it", 8, 2.0),  # 4 KV heads over 8 ranks: each head on two ranks
    ("google/gemma-2b-it", 2, 2.0),  # multi-query attention: every rank caches the one head
])
def test_tensor_parallel_ranks_replicate_kv_heads_they_cannot_split(cat, model, tp, copies):
    assert kv_copies(cat.models[model], tp) == copies


def test_tpu_shards_an_mla_cache_over_its_chips(cat):
    """tpu-inference splits an MLA cache's pages over the chips; GQA heads are padded to the TP size as on GPUs."""
    assert kv_copies(cat.models["deepseek-ai/DeepSeek-R1"], 8, tpu=True) == 1.0
    assert kv_copies(cat.models["google/gemma-3-4b-it"], 8, tpu=True) == 2.0


def test_a_tensor_parallel_size_vllm_refuses_is_refused_with_the_head_count(cat):
    with pytest.raises(UsageError, match=r"tensor-parallel size 8, which does not divide the model's 28 attention heads"):
        fit(cat, cat.models["Qwen/Qwen2.5-7B-Instruct"], h100(cat, 8), VLLM)
    assert fit(cat, cat.models["Qwen/Qwen2.5-7B-Instruct"], h100(cat, 4), VLLM).tensor_parallel_size == 4


def test_an_mla_cache_holds_the_tokens_vllm_logs_for_an_mla_model_at_tp8(cat):
    """vllm-project/recipes PR #115: Kimi-K2-Thinking (DeepSeek-V3's MLA shape: 61 layers x 576-value latent, bf16) at TP8 logs
    'Available KV cache memory: 46.80 GiB' per rank and 'GPU KV cache size: 715,072 tokens' for the engine."""
    spec = cat.models["deepseek-ai/DeepSeek-R1"]
    assert spec.kv_bytes_per_token == 61 * 576 * 2
    tokens = 8 * 46.80 * 2**30 / _kv_bytes(spec, "auto", 8)
    assert tokens == pytest.approx(715_072, rel=1e-3)


def test_deepseek_r1_on_eight_h200_sizes_its_cache_by_one_rank(cat):
    sized = fit(cat, cat.models["deepseek-ai/DeepSeek-R1"], cat.shape("nvidia-h200-141gb", 8), "0.32.0",
                tune_max_num_seqs=True)
    assert sized.kv_bytes_per_token == 8 * 70_272
    assert sized.kv_capacity_tokens == int(sized.kv_cache_gb * 1e9 // (8 * 70_272))
    assert sized.kv_capacity_tokens < 1_000_000  # a sharded cache would claim 8x: over 5 million tokens
