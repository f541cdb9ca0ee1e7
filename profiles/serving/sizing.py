"""Does a model fit N accelerators, and how much KV cache is left: the memory side of a serving plan.

Model (SIZING_VERSION, an estimate, not a measurement):
  usable   = gpu_memory_utilization x memory per accelerator x N          (vLLM's own budget)
  weights  = total parameters x bytes per parameter at the precision       (MoE: all experts are resident)
  overhead = RUNTIME_OVERHEAD_GB per tensor-parallel rank                  (runtime context, activations, graphs)
  KV cache = usable - weights - overhead;  tokens = KV cache / KV bytes per token
vLLM refuses to start when one max-model-len sequence does not fit the KV cache (vllm#8933), so the same
check rejects a configuration here, with the numbers, before anything is deployed.
Scheduler limits are vLLM's own API-server defaults for the pinned version (data/vllm_defaults.csv), written
out so a manifest never depends on a default that moves between releases.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from profiles.catalog.catalog import Accelerator, Catalog, Shape
from profiles.catalog.modelspec import DTYPE_BYTES, ModelSpec
from profiles.errors import UsageError

SIZING_VERSION = "sizing-v1"
GB = 1e9
RUNTIME_OVERHEAD_GB = 2.0
DEFAULT_GPU_MEMORY_UTILIZATION = 0.90
FALLBACK_GPU_MEMORY_UTILIZATION = 0.95  # recipes use 0.95; tried only when 0.90 does not fit
DEFAULT_MAX_MODEL_LEN = 8192  # well above the ShareGPT P99 request (seed table); long-context users pass their own
MIN_MAX_MODEL_LEN = 2048


@dataclass(frozen=True)
class Fit:
    """A model on a shape: memory budget and the vLLM limits that follow from it."""

    shape: Shape
    precision: str
    tensor_parallel_size: int
    gpu_memory_utilization: float
    weights_gb: float
    usable_gb: float
    kv_cache_gb: float
    kv_bytes_per_token: int
    kv_capacity_tokens: int
    max_model_len: int
    max_num_seqs: int
    max_num_batched_tokens: int
    kv_cache_dtype: str = "auto"
    quantization: str = "none"  # none: weights as the checkpoint stores them; on-load: the server quantizes to `precision`
    prefix_caching: bool = True  # vLLM's default

    def describe(self) -> str:
        kv = "" if self.kv_cache_dtype == "auto" else f" {self.kv_cache_dtype}"
        return (f"{self.weights_gb:.1f} GB weights ({self.precision}) + {self.tensor_parallel_size} x {RUNTIME_OVERHEAD_GB:g} GB "
                f"runtime in {self.usable_gb:.1f} GB usable ({self.gpu_memory_utilization:.2f} x HBM) leaves "
                f"{self.kv_cache_gb:.1f} GB{kv} KV cache = {self.kv_capacity_tokens:,} tokens ({SIZING_VERSION})")


def tensor_parallel_size(acc: Accelerator, count: int) -> int:
    """Ranks vLLM shards over: one per GPU or TPU chip; a TPU7x device holds two chips."""
    return count * acc.chips_per_device


KV_CACHE_DTYPES = ("auto", "bf16", "fp16", "fp8")  # vLLM --kv-cache-dtype; auto = the model's dtype (bf16 here)


def _kv_bytes(spec: ModelSpec, kv_cache_dtype: str = "auto") -> int:
    """KV bytes per token: models.csv holds the bf16 figure; an fp8 cache (--kv-cache-dtype fp8) halves it."""
    if not spec.kv_bytes_per_token:
        raise UsageError(f"model: '{spec.model}' has no KV-cache size in models.csv; cannot size it")
    if kv_cache_dtype not in KV_CACHE_DTYPES:
        raise UsageError(f"kv-cache-dtype: unknown value '{kv_cache_dtype}'; allowed: {', '.join(KV_CACHE_DTYPES)}")
    return spec.kv_bytes_per_token // 2 if kv_cache_dtype == "fp8" else spec.kv_bytes_per_token


def fit(catalog: Catalog, spec: ModelSpec, shape: Shape, vllm_version: str, precision: str = "",
        max_model_len: int | None = None, gpu_memory_utilization: float | None = None, kv_cache_dtype: str = "auto",
        max_num_seqs: int | None = None, max_num_batched_tokens: int | None = None) -> Fit:
    """The memory budget of `spec` on `shape`; UsageError naming the numbers when it does not fit. Scheduler limits
    not given are the pinned vLLM's defaults for the accelerator."""
    acc = catalog.accelerator(shape.accelerator_type)
    precision = precision or spec.default_dtype
    if precision not in DTYPE_BYTES:
        raise UsageError(f"precision: unknown value '{precision}'; allowed: {', '.join(DTYPE_BYTES)}")
    utils = [gpu_memory_utilization] if gpu_memory_utilization else [DEFAULT_GPU_MEMORY_UTILIZATION, FALLBACK_GPU_MEMORY_UTILIZATION]
    tp = tensor_parallel_size(acc, shape.accelerator_count)
    weights = spec.weight_bytes(precision) / GB
    kv_tok = _kv_bytes(spec, kv_cache_dtype)
    wanted = min(max_model_len or DEFAULT_MAX_MODEL_LEN, spec.max_context or DEFAULT_MAX_MODEL_LEN)
    if max_model_len and spec.max_context and max_model_len > spec.max_context:
        raise UsageError(f"--max-model-len: {max_model_len} exceeds {spec.model}'s context {spec.max_context}")
    where = f"{spec.model} ({precision}) on {shape.accelerator_count} x {acc.accelerator_type}"
    for util in utils:
        usable = util * acc.memory_gb * shape.accelerator_count
        kv_gb = usable - weights - tp * RUNTIME_OVERHEAD_GB
        tokens = int(kv_gb * GB // kv_tok) if kv_gb > 0 else 0
        if tokens >= wanted or (max_model_len is None and tokens >= MIN_MAX_MODEL_LEN):
            length = wanted if tokens >= wanted else 2 ** int(math.log2(tokens))
            limits = catalog.scheduler_defaults(vllm_version, acc.accelerator_type)
            return Fit(shape, precision, tp, util, weights, usable, kv_gb, kv_tok, tokens, length,
                       max_num_seqs=max_num_seqs or limits.max_num_seqs,
                       max_num_batched_tokens=max_num_batched_tokens or limits.max_num_batched_tokens,
                       kv_cache_dtype=kv_cache_dtype)
    need = wanted if max_model_len else MIN_MAX_MODEL_LEN
    raise UsageError(
        f"accelerator: {where} does not fit: {weights:.1f} GB weights + {tp} x {RUNTIME_OVERHEAD_GB:g} GB runtime "
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
            return fit(catalog, spec, shape, vllm_version, precision, max_model_len)
        except UsageError as exc:
            reasons.append(str(exc))
    raise UsageError(reasons[-1] if reasons else f"accelerator: no single-host shape of {accelerator_type}")
