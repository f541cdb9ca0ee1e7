"""Does a model fit N accelerators, and how much KV cache is left: the memory side of a serving plan.

Model (SIZING_VERSION), per tensor-parallel rank, as vLLM's own memory profile computes it (vllm v0.32.0
v1/worker/gpu_worker.py determine_available_memory: requested - weights - peak activation - non-torch - CUDA graphs):
  usable   = gpu_memory_utilization x the memory the runtime reports (CUDA's total, JAX's bytes_limit on TPU; an
             "80 GB" H100 reports 79.22 GiB = 85.1 GB)                                   (accelerators.csv)
  weights  = the checkpoint's real composition / TP, quantized tensors at the size the kernels load them
             (gpt-oss mxfp4 experts: 1.055 x on Hopper, 1.08 x on Marlin GPUs)            (weight_formats.csv)
  overhead = non-torch (CUDA context; + NCCL at TP > 1) + the sampler warm-up's peak, bytes x max-num-seqs x
             vocabulary (4.8 GiB for a 128k vocabulary at 1024 sequences on H100), or the profiling forward pass's
             MLP intermediates at max-num-batched-tokens where larger + CUDA graphs; on TPU one
             unmeasured constant                                                          (vllm_memory.csv)
  KV cache = TP x (usable - weights - overhead);  tokens = KV cache / (KV bytes per token x the copies TP keeps:
             1, or TP / KV heads where there are fewer heads than ranks, TP for an MLA latent)   (kv_copies)
Checked against published vLLM startup logs in tests (data/vllm_memory_logs.csv). vLLM refuses to start when one
max-model-len sequence does not fit the KV cache (vllm#8933), so the same check rejects a configuration here, with
the numbers, before anything is deployed. Scheduler limits are vLLM's own API-server defaults for the pinned version
(data/vllm_defaults.csv), written out so a manifest never depends on a default that moves between releases.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from profiles.catalog.catalog import Accelerator, Catalog, Shape
from profiles.catalog.modelspec import DTYPE_BYTES, ModelSpec
from profiles.catalog.workload import SHAREGPT_TABLE
from profiles.errors import UsageError

SIZING_VERSION = "sizing-v3"
GB = 1e9
GIB = 2**30
SIZING_REQUEST_TOKENS = SHAREGPT_TABLE["input"]["mean"] + SHAREGPT_TABLE["output"]["mean"]  # 421: what one slot holds
# no fewer slots than vLLM's own default on every GPU but the H100 class, unless nothing else fits
MIN_TUNED_SEQS = 256
FEWEST_TUNED_SEQS = 16  # the tuned max-num-seqs never goes below this, even where nothing larger fits
ACTIVATION_BYTES = 2  # a 16-bit activation (bf16/fp16; quantized checkpoints still compute activations in 16 bits)
UNKNOWN_VOCAB = 262144  # a model whose vocabulary is not known is sized as the largest catalog one (Gemma 3)
DEFAULT_GPU_MEMORY_UTILIZATION = 0.90
FALLBACK_GPU_MEMORY_UTILIZATION = 0.95  # recipes use 0.95; tried only when 0.90 does not fit
DEFAULT_MAX_MODEL_LEN = 8192  # well above the ShareGPT P99 request (seed table); long-context users pass their own
MIN_MAX_MODEL_LEN = 2048


class DoesNotFit(UsageError):
    """The KV cache left cannot hold one max-model-len sequence. `detail` carries the numbers; the message puts the
    key a caller names ('accelerator' in a stack config; `estimate` names its own flags) in front of it."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"accelerator: {detail}")
        self.detail = detail


@dataclass(frozen=True)
class Fit:
    """A model on a shape: memory budget and the vLLM limits that follow from it."""

    shape: Shape
    precision: str
    tensor_parallel_size: int
    gpu_memory_utilization: float
    weights_gb: float
    usable_gb: float
    overhead_gb: float  # all ranks: non-torch, the sampler warm-up's peak, CUDA graphs
    kv_cache_gb: float
    kv_bytes_per_token: int  # one token across the replica's ranks (replicated heads counted once per copy)
    kv_capacity_tokens: int
    max_model_len: int
    max_num_seqs: int
    max_num_batched_tokens: int
    kv_cache_dtype: str = "auto"
    quantization: str = "none"  # none: weights as the checkpoint stores them; on-load: the server quantizes to `precision`
    prefix_caching: bool = True  # vLLM's default

    def describe(self) -> str:
        kv = "" if self.kv_cache_dtype == "auto" else f" {self.kv_cache_dtype}"
        return (f"{self.weights_gb:.1f} GB weights ({self.precision}) + {self.overhead_gb:.1f} GB runtime "
                f"in {self.usable_gb:.1f} GB usable ({self.gpu_memory_utilization:.2f} x HBM) leaves "
                f"{self.kv_cache_gb:.1f} GB{kv} KV cache = {self.kv_capacity_tokens:,} tokens ({SIZING_VERSION})")


def tensor_parallel_size(acc: Accelerator, count: int) -> int:
    """Ranks vLLM shards over: one per GPU or TPU chip; a TPU7x device holds two chips."""
    return count * acc.chips_per_device


KV_CACHE_DTYPES = ("auto", "bf16", "fp16", "fp8")  # vLLM --kv-cache-dtype; auto = the model's dtype (bf16 here)


def kv_copies(spec: ModelSpec, tp: int, tpu: bool = False) -> float:
    """How many copies of each KV head a tensor-parallel group caches. vLLM shards KV heads over the ranks and, where
    there are fewer heads than ranks, gives every rank one (max(1, kv_heads // tp) per rank: vllm/config/model.py
    get_num_kv_heads; tpu-inference pads them to the TP size the same way, get_num_kv_heads_by_tp). An MLA model caches
    one compressed latent per token, which vLLM on GPUs does not split at plain TP (1 head with use_mla): every rank
    holds all of it (Kimi-K2-Thinking at TP8 logs 46.80 GiB = 715,072 tokens per rank, 70,272 B each, the whole
    latent: vllm-project/recipes PR #115; its TP8 + decode-context-parallel 8 run splits it, 5,721,088 tokens).
    tpu-inference shards an MLA cache's pages over the chips instead, so there it is one copy. DeepSeek-R1 on 8 GPUs
    holds 1/8 the tokens a sharded cache would, and each rank reads every sequence's whole latent in a decode step."""
    if spec.architecture == "mla-moe":
        return 1.0 if tpu else float(tp)
    heads = spec.kv_heads or spec.attention_heads
    return max(1.0, tp * max(1, heads // tp) / heads) if heads else 1.0


def check_tensor_parallel(spec: ModelSpec, tp: int, where: str) -> None:
    """vLLM refuses to start when the TP size does not divide the attention heads, or when KV heads and TP size do
    not divide one another (ModelConfig.verify_with_parallel_config; tpu-inference asserts the same)."""
    heads, kv = spec.attention_heads, spec.kv_heads
    if heads and heads % tp:
        raise UsageError(f"accelerator: {where} runs tensor-parallel size {tp}, which does not divide the model's "
                         f"{heads} attention heads (vLLM refuses to start); allowed: a TP size that divides {heads}")
    if kv and spec.architecture != "mla-moe" and kv % tp and tp % kv:
        raise UsageError(f"accelerator: {where} runs tensor-parallel size {tp}, and the model's {kv} KV heads and {tp} "
                         "do not divide one another (vLLM refuses to start); allowed: a TP size that divides or is a "
                         f"multiple of {kv}")


def _kv_bytes(spec: ModelSpec, kv_cache_dtype: str = "auto", tp: int = 1, tpu: bool = False) -> int:
    """KV bytes one token takes across the replica's ranks: models.csv holds the bf16 figure of one copy; an fp8 cache
    (--kv-cache-dtype fp8) halves it; heads a tensor-parallel group replicates (kv_copies) multiply it."""
    if not spec.kv_bytes_per_token:
        raise UsageError(f"model: '{spec.model}' has no KV-cache size in models.csv; cannot size it")
    if kv_cache_dtype not in KV_CACHE_DTYPES:
        raise UsageError(f"kv-cache-dtype: unknown value '{kv_cache_dtype}'; allowed: {', '.join(KV_CACHE_DTYPES)}")
    one = spec.kv_bytes_per_token // 2 if kv_cache_dtype == "fp8" else spec.kv_bytes_per_token
    return round(one * kv_copies(spec, tp, tpu))


def runtime_overhead_gb(catalog: Catalog, spec: ModelSpec, acc: Accelerator, tp: int, max_num_seqs: int,
                        max_num_batched_tokens: int = 0) -> float:
    """GB that vLLM keeps outside the weights and the KV cache on each rank (vllm_memory.csv; see the module doc).
    The sampler warm-up is not sharded by tensor parallelism, and vLLM sizes every rank's cache by the fullest one.
    The activation peak is the larger of the sampler warm-up and the profiling forward pass of max-num-batched-tokens
    tokens (they run one after the other), so a large step budget costs KV cache as it does in vLLM."""
    terms = catalog.memory_terms
    if acc.kind == "tpu":
        return terms["tpu_runtime_gib"] * GIB / GB
    sampler = terms["sampler_bytes_per_logit"] * max_num_seqs * (spec.vocab_size or UNKNOWN_VOCAB)
    non_torch = terms["non_torch_gib"] + (terms["tp_non_torch_gib"] if tp > 1 else 0.0)
    return (non_torch + terms["cuda_graph_gib"]) * GIB / GB + max(sampler, forward_activation_bytes(spec, tp,
                                                                                                    max_num_batched_tokens)) / GB


def forward_activation_bytes(spec: ModelSpec, tp: int, tokens: int) -> float:
    """A lower bound on the profiling forward pass's peak, per rank: the MLP intermediates live together for `tokens`
    tokens, in 16-bit activations — gate/up (2 x ffn / TP) and the activated half (ffn / TP); a fused MoE keeps them
    per routed expert plus its output (vLLM fused_moe's intermediate caches: top-k x (3 x ffn / TP + hidden)). At
    vLLM's default step budgets and slots it is below the sampler warm-up (Gemma 2 27B on one H100: 1.2 GB against
    10 GB); it decides where a large --max-num-batched-tokens is asked for, or where few sequence slots leave the
    sampler small (Qwen3-32B on one H100 at 128 slots: 1.3 GB against 0.8 GB). Unknown widths: 0."""
    if not spec.ffn_size or not spec.hidden_size:
        return 0.0
    if spec.experts and spec.experts_per_token:
        per_token = spec.experts_per_token * (3 * spec.ffn_size / tp + spec.hidden_size)
    else:
        per_token = 3 * spec.ffn_size / tp
    return tokens * per_token * ACTIVATION_BYTES


def fit(catalog: Catalog, spec: ModelSpec, shape: Shape, vllm_version: str, precision: str = "",
        max_model_len: int | None = None, gpu_memory_utilization: float | None = None, kv_cache_dtype: str = "auto",
        max_num_seqs: int | None = None, max_num_batched_tokens: int | None = None, tune_max_num_seqs: bool = False) -> Fit:
    """The memory budget of `spec` on `shape`; UsageError naming the numbers when it does not fit. Scheduler limits
    not given are the pinned vLLM's defaults for the accelerator; with `tune_max_num_seqs` (what a deployment renders)
    max-num-seqs is instead the default (or a given max-num-batched-tokens, if fewer: vLLM refuses more slots than
    step tokens), or a power of two below it down to MIN_TUNED_SEQS, whichever keeps the longest
    max-model-len and lets the most requests run at once: every sequence slot reserves sampler memory (bytes x
    vocabulary), so slots the KV cache could never fill are given back to it (Qwen2.5-72B on 2 x H100: 1,024 slots
    leave a 4.5k-token cache, 256 leave 32k); below the floor (down to 16) only when nothing from it up fits."""
    args = (catalog, spec, shape, vllm_version, precision, max_model_len, gpu_memory_utilization, kv_cache_dtype,
            max_num_batched_tokens)
    acc = catalog.accelerator(shape.accelerator_type)
    check_tensor_parallel(spec, tensor_parallel_size(acc, shape.accelerator_count),
                          f"{spec.model} on {shape.accelerator_count} x {acc.accelerator_type}")
    default = catalog.scheduler_defaults(vllm_version, shape.accelerator_type).max_num_seqs
    if max_num_seqs or not tune_max_num_seqs:
        return _fit(*args, max_num_seqs or default)
    # vLLM refuses max-num-seqs above max-num-batched-tokens (every running sequence needs its decode token in a step)
    check_batched_tokens(max_num_batched_tokens)
    top = min(default, max_num_batched_tokens or default)
    candidates = [top] + [2 ** k for k in range(int(math.log2(top)), int(math.log2(FEWEST_TUNED_SEQS)) - 1, -1) if 2 ** k < top]
    best, error = None, None
    for seqs in candidates:
        if seqs < MIN_TUNED_SEQS and best is not None and best.max_num_seqs >= MIN_TUNED_SEQS:
            break  # fewer slots only where nothing from the floor up fits (gemma-2-9b on one L4)
        try:
            sized = _fit(*args, seqs)
        except DoesNotFit as exc:
            error = error or exc  # reported at the most slots tried (vLLM's default unless the step budget caps it)
            continue
        if best is None or _rank(sized) > _rank(best):
            best = sized
    if best is None:
        raise DoesNotFit(f"{error.detail}; fewer sequence slots (max-num-seqs down to {candidates[-1]}) do not fit either")
    return best


def check_batched_tokens(max_num_batched_tokens: int | None) -> None:
    """A step budget below the fewest slots a deployment renders leaves no max-num-seqs vLLM would accept."""
    if max_num_batched_tokens is not None and max_num_batched_tokens < FEWEST_TUNED_SEQS:
        raise UsageError(f"--max-num-batched-tokens: value '{max_num_batched_tokens}' is below the fewest sequence "
                         f"slots a deployment renders ({FEWEST_TUNED_SEQS}); allowed: >= {FEWEST_TUNED_SEQS}, or pass "
                         "--max-num-seqs")


def _rank(sized: Fit) -> tuple[int, float]:
    """The longer max-model-len first (the full one before a shortened one), then the requests that can run at once:
    the slots, or the KV cache's worth of ShareGPT-sized requests if fewer."""
    return sized.max_model_len, min(sized.max_num_seqs, sized.kv_capacity_tokens / SIZING_REQUEST_TOKENS)


def _fit(catalog: Catalog, spec: ModelSpec, shape: Shape, vllm_version: str, precision: str, max_model_len: int | None,
         gpu_memory_utilization: float | None, kv_cache_dtype: str, max_num_batched_tokens: int | None,
         seqs: int) -> Fit:
    acc = catalog.accelerator(shape.accelerator_type)
    precision = precision or spec.default_dtype
    if precision not in DTYPE_BYTES:
        raise UsageError(f"precision: unknown value '{precision}'; allowed: {', '.join(DTYPE_BYTES)}")
    utils = [gpu_memory_utilization] if gpu_memory_utilization else [DEFAULT_GPU_MEMORY_UTILIZATION, FALLBACK_GPU_MEMORY_UTILIZATION]
    tp = tensor_parallel_size(acc, shape.accelerator_count)
    load_factor = catalog.weight_format(acc.accelerator_type, precision).load_factor
    weights = spec.bytes_at(precision, load_factor=load_factor) / GB
    kv_tok = _kv_bytes(spec, kv_cache_dtype, tp, acc.kind == "tpu")
    limits = catalog.scheduler_defaults(vllm_version, acc.accelerator_type)
    batched = max_num_batched_tokens or limits.max_num_batched_tokens
    overhead = tp * runtime_overhead_gb(catalog, spec, acc, tp, seqs, batched)
    full = min(DEFAULT_MAX_MODEL_LEN, spec.max_context or DEFAULT_MAX_MODEL_LEN)
    wanted = min(max_model_len or DEFAULT_MAX_MODEL_LEN, spec.max_context or DEFAULT_MAX_MODEL_LEN)
    if max_model_len and spec.max_context and max_model_len > spec.max_context:
        raise UsageError(f"--max-model-len: {max_model_len} exceeds {spec.model}'s context {spec.max_context}")
    where = f"{spec.model} ({precision}) on {shape.accelerator_count} x {acc.accelerator_type}"

    def cache(util: float) -> tuple[float, float, int]:
        usable = util * acc.runtime_memory_gib * GIB / GB * shape.accelerator_count
        kv_gb = usable - weights - overhead
        return usable, kv_gb, int(kv_gb * GB // kv_tok) if kv_gb > 0 else 0

    # the budget: 0.90 only where it holds the default max-model-len (or the asked one, if longer), else 0.95 — one
    # rule whatever length is asked, so re-sizing a shipped row from its own max-model-len renders the budget it was
    # simulated with; a shorter length only then, never a 0.90 cache that scrapes past MIN_MAX_MODEL_LEN
    util = next((u for u in utils[:-1] if cache(u)[2] >= max(wanted, full)), utils[-1])
    usable, kv_gb, tokens = cache(util)
    if tokens >= wanted or (max_model_len is None and tokens >= MIN_MAX_MODEL_LEN):
        length = wanted if tokens >= wanted else 2 ** int(math.log2(tokens))
        return Fit(shape, precision, tp, util, weights, usable, overhead, kv_gb, kv_tok, tokens, length,
                   max_num_seqs=seqs, max_num_batched_tokens=batched, kv_cache_dtype=kv_cache_dtype)
    need = wanted if max_model_len else MIN_MAX_MODEL_LEN
    raise DoesNotFit(
        f"{where} does not fit: {weights:.1f} GB weights + {overhead:.1f} GB runtime (max-num-seqs {seqs}, "
        f"max-num-batched-tokens {batched}) "
        f"leave {max(kv_gb, 0):.1f} GB of {usable:.1f} GB usable (at gpu-memory-utilization {util:.2f}) for KV cache, "
        f"{tokens:,} tokens < {need:,} needed for one max-model-len sequence; use more accelerators or a smaller precision")


def smallest_fit(catalog: Catalog, spec: ModelSpec, accelerator_type: str, vllm_version: str, precision: str = "",
                 max_model_len: int | None = None) -> Fit:
    """The fewest accelerators of a type, on one host, that hold the model with a usable KV cache."""
    catalog.accelerator(accelerator_type)
    reasons = []
    for count in catalog.single_host_counts(accelerator_type):
        shape = catalog.shape(accelerator_type, count)
        if shape is None or shape.vms > 1:
            continue
        try:
            return fit(catalog, spec, shape, vllm_version, precision, max_model_len, tune_max_num_seqs=True)
        except UsageError as exc:
            reasons.append(str(exc))
    raise UsageError(reasons[-1] if reasons else f"accelerator: no single-host shape of {accelerator_type}")
