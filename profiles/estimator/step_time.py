"""Step-time model of one engine iteration (roofline with fitted efficiencies), per replica.

One iteration runs `decodes` sequences one token each plus `prefill` prompt tokens (chunked prefill):
  FLOPs  = 2 · active params · tokens + attention (4 · layers · d_model · Σ query tokens × context)
  bytes  = weight bytes (all experts resident; MoE reads them all at batch) + KV bytes read (Σ context × KV/token)
  t      = max(FLOPs / (N · F · MFU), bytes / (N · BW · MBU)) + TP all-reduce + per-step overhead
TP all-reduce: 2 per layer, ring, 2·(N−1)/N · tokens · d_model · 2 bytes over the link, plus a latency per call.
MFU, MBU and the overhead are fitted per accelerator family and engine (scripts/calibrate.py); link figures are
estimates (U) named in LINKS. Formulas: shared/reference/performance-modeling.md §3.
"""

from __future__ import annotations

from dataclasses import dataclass

from profiles.catalog.catalog import Accelerator
from profiles.catalog.modelspec import DTYPE_BYTES, ModelSpec

MODEL_VERSION = "estimator-v1"

# Per-direction link bandwidth (bytes/s) between the devices of one replica, and latency per all-reduce (s).
# Estimates [U]: NVLink 4 (H100/H200) 450 GB/s, NVLink 3 (A100) 300 GB/s, PCIe Gen4 x16 (L4, no NVLink) ~25 GB/s
# effective, TPU ICI ~90-180 GB/s per chip for v5e/v6e single-host slices.
LINKS = {"L4": (25e9, 30e-6), "A100-40GB": (300e9, 10e-6), "A100-80GB": (300e9, 10e-6), "H100-80GB": (450e9, 8e-6),
         "H200": (450e9, 8e-6), "B200": (900e9, 8e-6), "v5e": (90e9, 15e-6), "v5p": (180e9, 15e-6),
         "v6e": (180e9, 15e-6), "TPU7x": (300e9, 15e-6)}


@dataclass(frozen=True)
class Efficiency:
    """Fitted coefficients of one accelerator family × engine."""

    family: str
    engine: str
    mfu: float
    mbu: float
    overhead_ms: float
    rows: int  # calibration rows it was fitted on (0: fallback)
    source: str


@dataclass(frozen=True)
class StepModel:
    """Everything a step time needs, precomputed for one model × shape × precision."""

    flops_per_token: float  # 2 · active params
    attn_flops_per_ctx_token: float  # 4 · layers · d_model, per query token per context token
    weight_bytes: float
    kv_bytes_per_token: float
    compute_rate: float  # N · F · MFU  (FLOP/s)
    memory_rate: float  # N · BW · MBU (B/s)
    comm_bytes_per_token: float  # per all-reduce set of one token
    comm_rate: float
    comm_latency: float  # per step (2 · layers calls)
    overhead_s: float

    def step_time(self, tokens: float, ctx_tokens_read: float, attn_pairs: float) -> float:
        """Seconds for one iteration: `tokens` processed, `ctx_tokens_read` KV tokens read, `attn_pairs` query×context."""
        flops = self.flops_per_token * tokens + self.attn_flops_per_ctx_token * attn_pairs
        data = self.weight_bytes + self.kv_bytes_per_token * ctx_tokens_read
        comm = self.comm_latency + (self.comm_bytes_per_token * tokens / self.comm_rate if self.comm_rate else 0.0)
        return max(flops / self.compute_rate, data / self.memory_rate) + comm + self.overhead_s


def compute_peak(acc: Accelerator, precision: str) -> float:
    """Dense peak FLOP/s per device at the precision the matmuls run in (fp8 only where the chip has it)."""
    if precision == "fp8" and acc.fp8_tflops:
        return acc.fp8_tflops * 1e12
    if precision == "int8" and acc.int8_tops and acc.kind == "tpu":
        return acc.int8_tops * 1e12
    return acc.bf16_tflops * 1e12


def step_model(spec: ModelSpec, acc: Accelerator, count: int, precision: str, eff: Efficiency,
               kv_bytes_per_token: float | None = None) -> StepModel:
    """`kv_bytes_per_token`: the cache's real size (an fp8 KV cache reads half); default the model's bf16 figure."""
    layers = spec.layers or 32
    d_model = spec.hidden_size or 4096
    tp = count * acc.chips_per_device
    link_bw, link_lat = LINKS.get(acc.family, (100e9, 15e-6))
    ring = 2 * (tp - 1) / tp if tp > 1 else 0.0
    return StepModel(
        flops_per_token=2 * spec.active_params_b * 1e9,
        attn_flops_per_ctx_token=4 * layers * d_model,
        weight_bytes=spec.total_params_b * 1e9 * DTYPE_BYTES[precision],
        kv_bytes_per_token=float(kv_bytes_per_token if kv_bytes_per_token is not None else spec.kv_bytes_per_token or 0),
        compute_rate=count * compute_peak(acc, precision) * eff.mfu,
        memory_rate=count * acc.hbm_bandwidth_gbps * 1e9 * eff.mbu,
        comm_bytes_per_token=2 * layers * ring * d_model * 2,
        comm_rate=link_bw,
        comm_latency=2 * layers * link_lat if tp > 1 else 0.0,
        overhead_s=eff.overhead_ms / 1000,
    )
