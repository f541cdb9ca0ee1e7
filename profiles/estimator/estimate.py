"""Estimated latency-throughput points for any model x accelerator: memory fit, step model, scheduler simulation.

The memory side is serving/sizing.py's fit (weights + runtime + KV cache in gpu-memory-utilization x HBM; KV capacity
in tokens); the scheduler limits are vLLM 0.32.0's defaults for the accelerator; the step time is
step_time.py with efficiencies fitted by `make calibrate` (data/estimator_coefficients.csv).
"""

from __future__ import annotations

import csv
import functools
import random
from dataclasses import dataclass

from profiles.catalog.catalog import Catalog, Shape
from profiles.catalog.csvdata import DATA_DIR
from profiles.catalog.modelspec import ModelSpec
from profiles.catalog.stats import distribution
from profiles.catalog.workload import Workload, poisson_arrivals
from profiles.errors import UsageError
from profiles.estimator.simulator import SimLimits, simulate
from profiles.estimator.step_time import MODEL_VERSION, Efficiency, step_model
from profiles.serving.sizing import fit

COEFFICIENTS = DATA_DIR / "estimator_coefficients.csv"
VLLM_VERSION = "0.32.0"
SERVED_PRECISIONS = ("bf16", "fp8", "int8", "mxfp4")
MIN_REQUESTS, MAX_REQUESTS, SECONDS_OF_LOAD = 200, 1000, 120.0


@dataclass(frozen=True)
class Load:
    kind: str  # request_rate | concurrency | offline
    value: float | None = None


@dataclass(frozen=True)
class ServerArgs:
    """Server flags a run set explicitly (a published benchmark's own); None keeps vLLM's default for the chip."""

    kv_cache_dtype: str = "auto"
    gpu_memory_utilization: float | None = None
    max_num_batched_tokens: int | None = None
    max_num_seqs: int | None = None
    max_model_len: int | None = None


@dataclass(frozen=True)
class Estimate:
    output_tps: float
    input_tps: float
    qps: float
    ttft_ms: dict[str, float]  # p50, p90, mean
    ntpot_ms: dict[str, float]
    itl_ms: dict[str, float]  # per-request mean inter-token time (= TPOT), distribution over requests
    num_requests_waiting: float
    num_requests_running: float
    kv_cache_usage_perc: float
    kv_capacity_tokens: int
    requests: int
    efficiency: Efficiency


@functools.cache
def coefficients() -> dict[tuple[str, str], Efficiency]:
    try:
        handle = COEFFICIENTS.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{COEFFICIENTS}: cannot read ({exc.strerror}); run `make calibrate`") from None
    with handle:
        rows = list(csv.DictReader(handle))
    return {(r["family"], r["engine"]): Efficiency(r["family"], r["engine"], float(r["mfu"]), float(r["mbu"]),
                                                   float(r["overhead_ms"]), int(r["rows"]), r["source"]) for r in rows}


def efficiency(family: str, engine: str, table: dict[tuple[str, str], Efficiency] | None = None) -> Efficiency:
    """This family x engine's fit, else the engine's pooled fit, else the family's, else the global one."""
    table = coefficients() if table is None else table
    for key in ((family, engine), ("*", engine), (family, "*"), ("*", "*")):
        if key in table:
            return table[key]
    raise UsageError(f"{COEFFICIENTS}: no row for {family}/{engine} and no '*' fallback")


def _dist(values_s: list[float]) -> dict[str, float]:
    """The harness's own statistics; 0.0 where there is nothing to measure (ITL of one-token outputs)."""
    return {k: v or 0.0 for k, v in distribution(values_s).items()}


def default_precision(spec: ModelSpec) -> str:
    """The checkpoint's precision where vLLM serves it as stored; fp32 checkpoints are served in bf16 (dtype auto)."""
    return spec.default_dtype if spec.default_dtype in SERVED_PRECISIONS else "bf16"


def estimate(catalog: Catalog, spec: ModelSpec, shape: Shape, precision: str, workload: Workload, load: Load,
             engine: str = "vllm", seed: int = 0, eff: Efficiency | None = None, requests: int | None = None,
             server: ServerArgs = ServerArgs()) -> Estimate:
    """One load point; UsageError (with the numbers) when the model does not fit the shape."""
    acc = catalog.accelerator(shape.accelerator_type)
    longest = workload.longest_request()
    memory = fit(catalog, spec, shape, VLLM_VERSION, precision,
                 max_model_len=server.max_model_len or min(longest, spec.max_context or longest),
                 gpu_memory_utilization=server.gpu_memory_utilization, kv_cache_dtype=server.kv_cache_dtype)
    eff = eff or efficiency(acc.family, engine)
    model = step_model(spec, acc, shape.accelerator_count, precision, eff, memory.kv_bytes_per_token)
    limits = SimLimits(server.max_num_seqs or memory.max_num_seqs,
                       server.max_num_batched_tokens or memory.max_num_batched_tokens, memory.kv_capacity_tokens)
    rng = random.Random(seed)
    if load.kind == "request_rate":
        n = requests or int(min(MAX_REQUESTS, max(MIN_REQUESTS, load.value * SECONDS_OF_LOAD)))
        arrivals = poisson_arrivals(load.value, float("inf"), rng, cap=n)
        result = simulate(model, limits, workload.lengths(n, seed), arrivals)
    elif load.kind == "concurrency":
        n = requests or int(min(MAX_REQUESTS * 2, max(MIN_REQUESTS, 4 * load.value)))
        result = simulate(model, limits, workload.lengths(n, seed), None, concurrency=int(load.value))
    else:
        n = requests or MAX_REQUESTS
        result = simulate(model, limits, workload.lengths(n, seed), [0.0] * n)
    reqs = result.requests
    out = sum(o for *_, o in reqs)
    inp = sum(p for *_, p, _ in reqs)
    span = max(result.makespan, 1e-9)
    if load.kind == "concurrency":
        # Latencies at steady state: the first C requests all start at t=0 and queue behind each other's
        # prefills, a start-up transient that is not the operating point a closed-loop benchmark describes.
        reqs = sorted(reqs)[int(load.value):] or reqs
    return Estimate(
        output_tps=out / span, input_tps=inp / span, qps=len(result.requests) / span,
        ttft_ms=_dist([f - a for a, f, _, _, _ in reqs]),
        ntpot_ms=_dist([(e - a) / o for a, _, e, _, o in reqs]),
        itl_ms=_dist([(e - f) / (o - 1) for _, f, e, _, o in reqs if o > 1]),
        num_requests_waiting=result.mean_waiting, num_requests_running=result.mean_running,
        kv_cache_usage_perc=result.mean_kv_usage, kv_capacity_tokens=memory.kv_capacity_tokens, requests=len(result.requests),
        efficiency=eff)


def provenance(eff: Efficiency) -> str:
    fitted = f"fitted on {eff.rows} calibration rows" if eff.rows else "fallback coefficients"
    coefficients_used = f"{eff.family}/{eff.engine}: MFU {eff.mfu:g}, MBU {eff.mbu:g}, {eff.overhead_ms:g} ms/step"
    return f"estimated by {MODEL_VERSION} ({coefficients_used}; {fitted})"
