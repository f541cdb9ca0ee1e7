"""Step-time model of one engine iteration (roofline with fitted efficiencies), per replica.

One iteration runs `decodes` sequences one token each plus `prefill` prompt tokens (chunked prefill):
  FLOPs  = 2 · active params · (tokens + M_HALF per GEMM) + attention (4 · layers · d_model · Σ query tokens × context)
  bytes  = weight bytes read (the checkpoint's real composition; MoE: only the experts the step's tokens route to,
           E·(1-(1-k/E)^tokens) of E) + KV bytes read (Σ context × KV/token)
  t      = Σ over linear layers, MoE experts and attention of max(FLOPs / (N · F · MFU), bytes / (N · BW · MBU))
           + TP all-reduce + per-step overhead; MoE expert GEMMs run at MFU · `moe` (grouped GEMMs, weight-only
           dequantization), a factor fitted like MFU on the MoE rows
TP all-reduce: 2 per layer, ring, 2·(N−1)/N · tokens · d_model · 2 bytes over the link, plus a latency per call.
MFU, MBU, the MoE factor and the overhead are fitted per chip architecture and engine (scripts/calibrate.py); link figures are
estimates (U) named in LINKS. Formulas: shared/reference/performance-modeling.md §3.
"""

from __future__ import annotations

from dataclasses import dataclass

from profiles.catalog.catalog import Accelerator
from profiles.catalog.modelspec import ModelSpec

MODEL_VERSION = "estimator-v3"

# Per-direction link bandwidth (bytes/s) between the devices of one replica, and latency per all-reduce (s).
# Estimates [U]: NVLink 4 (H100/H200) 450 GB/s, NVLink 3 (A100) 300 GB/s, PCIe Gen4 x16 (L4, no NVLink) ~25 GB/s
# effective, TPU ICI ~90-180 GB/s per chip for v5e/v6e single-host slices; H100 PCIe (calibration rows only) PCIe Gen5
# x16 ~50 GB/s effective, no NVLink bridge assumed.
LINKS = {"L4": (25e9, 30e-6), "H100-PCIe": (50e9, 15e-6), "A100-40GB": (300e9, 10e-6), "A100-80GB": (300e9, 10e-6),
         "H100-80GB": (450e9, 8e-6), "H200": (450e9, 8e-6), "B200": (900e9, 8e-6), "v5e": (90e9, 15e-6),
         "v5p": (180e9, 15e-6), "v6e": (180e9, 15e-6), "TPU7x": (300e9, 15e-6)}


# A matrix multiply with M rows (the tokens of a step; for an MoE expert, the tokens routed to it) reaches the fitted
# MFU only when M is large: small-M GEMMs leave tensor-core tiles and SMs idle. Modelled as MFU · M / (M + M_HALF),
# i.e. M_HALF tokens' worth of extra compute per GEMM. This is what lets one MFU describe both a long prefill chunk
# (M in the thousands, near peak) and a decode batch (M = batch size), and grouped MoE GEMMs whose per-expert M is
# tokens · k / E. 32: the leave-one-source-out optimum of 0, 8, 16, 24, 32, 48, 64 (lowest sum of the three medians).
GEMM_HALF_TOKENS = 32


@dataclass(frozen=True)
class Efficiency:
    """Fitted coefficients of one chip architecture × engine ('*': a pooled fit)."""

    arch: str
    engine: str
    mfu: float
    mbu: float
    overhead_ms: float
    rows: int  # calibration rows it was fitted on (0: fallback)
    source: str
    moe: float = 1.0  # MoE expert GEMMs' efficiency relative to MFU (grouped GEMMs over many small experts)


@dataclass(frozen=True)
class StepModel:
    """Everything a step time needs, precomputed for one model × shape × precision."""

    flops_per_token: float  # 2 · active params outside the MoE experts (attention projections, dense MLP, lm_head)
    attn_flops_per_ctx_token: float  # 4 · layers · d_model, per query token per context token
    weight_bytes: float  # read by a step of one token (MoE: only the routed experts)
    kv_bytes_per_token: float
    compute_rate: float  # N · F · MFU  (FLOP/s)
    memory_rate: float  # N · BW · MBU (B/s)
    comm_bytes_per_token: float  # per all-reduce set of one token
    comm_rate: float
    comm_latency: float  # per step (2 · layers calls)
    overhead_s: float
    expert_bytes: float = 0.0  # MoE experts' bytes, read in proportion to the experts a step's tokens touch
    expert_share: float = 0.0  # k/E: the chance one token routes to a given expert
    expert_flops_per_token: float = 0.0  # 2 · the k routed experts' params
    experts: int = 0  # E
    gemm_half_tokens: float = 0.0  # M_HALF
    moe_factor: float = 1.0  # Efficiency.moe

    def step_time(self, tokens: float, ctx_tokens_read: float, attn_pairs: float) -> float:
        """Seconds for one iteration: `tokens` processed, `ctx_tokens_read` KV tokens read, `attn_pairs` query×context.

        A roofline per operation, summed: the linear layers, the MoE experts and attention each run at the slower of
        their compute and memory times (a step runs them one after another, so one max over the sums would let a
        compute-bound prefill chunk hide a memory-bound KV read)."""
        half = self.gemm_half_tokens
        linear = max(self.flops_per_token * (tokens + half) / self.compute_rate, self.weight_bytes / self.memory_rate)
        experts = 0.0
        if self.expert_bytes:
            touched = 1 - (1 - self.expert_share) ** max(tokens, 1.0)  # share of the E experts a step runs
            # each touched expert multiplies its (tokens · k / E_touched) rows plus M_HALF rows' worth of idle tiles
            flops_per_row = self.expert_flops_per_token / max(self.expert_share * self.experts, 1.0)  # one expert's 2·params
            flops = self.expert_flops_per_token * tokens + flops_per_row * half * touched * self.experts
            experts = max(flops / (self.compute_rate * self.moe_factor), self.expert_bytes * touched / self.memory_rate)
        attention = max(self.attn_flops_per_ctx_token * attn_pairs / self.compute_rate,
                        self.kv_bytes_per_token * ctx_tokens_read / self.memory_rate)
        comm = self.comm_latency + (self.comm_bytes_per_token * tokens / self.comm_rate if self.comm_rate else 0.0)
        return linear + experts + attention + comm + self.overhead_s


def compute_peak(acc: Accelerator, precision: str, mode: str = "native") -> float:
    """Dense peak FLOP/s per device at the precision the matmuls run in: a format's own rate only where the chip runs
    it natively (weight_formats.csv); weight-only formats (fp8 on A100, mxfp4 on Hopper) compute in bf16."""
    if mode == "native" and precision == "fp8" and acc.fp8_tflops:
        return acc.fp8_tflops * 1e12
    if mode == "native" and precision == "int8" and acc.int8_tops:
        return acc.int8_tops * 1e12
    return acc.bf16_tflops * 1e12


def step_model(spec: ModelSpec, acc: Accelerator, count: int, precision: str, eff: Efficiency,
               kv_bytes_per_token: float | None = None, mode: str = "native") -> StepModel:
    """`kv_bytes_per_token`: the cache's real size (an fp8 KV cache reads half); default the model's bf16 figure.
    `mode`: how the chip runs `precision` (Catalog.weight_format)."""
    layers = spec.layers or 32
    d_model = spec.hidden_size or 4096
    tp = count * acc.chips_per_device
    link_bw, link_lat = LINKS.get(acc.family, (100e9, 15e-6))
    ring = 2 * (tp - 1) / tp if tp > 1 else 0.0
    share = (spec.experts_per_token or 0) / spec.experts if spec.experts else 0.0
    always = spec.bytes_at(precision, experts_fraction=0.0, input_embedding=False)  # attention, dense MLP, lm_head
    expert_bytes = spec.bytes_at(precision, experts_fraction=1.0, input_embedding=False) - always
    embed, _, experts, _ = spec.parts()
    routed = experts * share  # the k of E experts one token runs through
    return StepModel(
        flops_per_token=2 * (spec.active_params_b * 1e9 - embed - routed),
        attn_flops_per_ctx_token=4 * layers * d_model,
        weight_bytes=always,
        kv_bytes_per_token=float(kv_bytes_per_token if kv_bytes_per_token is not None else spec.kv_bytes_per_token or 0),
        compute_rate=count * compute_peak(acc, precision, mode) * eff.mfu,
        memory_rate=count * acc.hbm_bandwidth_gbps * 1e9 * eff.mbu,
        comm_bytes_per_token=2 * layers * ring * d_model * 2,
        comm_rate=link_bw,
        comm_latency=2 * layers * link_lat if tp > 1 else 0.0,
        overhead_s=eff.overhead_ms / 1000,
        expert_bytes=expert_bytes,
        expert_share=share,
        expert_flops_per_token=2 * routed,
        experts=spec.experts or 0,
        gemm_half_tokens=GEMM_HALF_TOKENS,
        moe_factor=eff.moe,
    )
