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
from profiles.serving.sizing import Fit, fit

COEFFICIENTS = DATA_DIR / "estimator_coefficients.csv"
VLLM_VERSION = "0.32.0"
SERVED_PRECISIONS = ("bf16", "fp8", "int8", "mxfp4")
MIN_REQUESTS, MAX_STEADY_REQUESTS, SECONDS_OF_LOAD = 2000, 4000, 120.0


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
    published: bool = False  # a published benchmark: unset flags were vLLM's own defaults, not a deployment's setup


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
    max_num_seqs: int  # the server's, as simulated (a deployment's is fitted to its KV cache)
    requests: int
    efficiency: Efficiency
    itl_token_ms: dict[str, float]  # mean, p50 over streamed tokens (vllm bench's ITL), not per request


@functools.cache
def coefficients() -> dict[tuple[str, str], Efficiency]:
    try:
        handle = COEFFICIENTS.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{COEFFICIENTS}: cannot read ({exc.strerror}); run `make calibrate`") from None
    with handle:
        rows = list(csv.DictReader(handle))
    return {(r["arch"], r["engine"]): Efficiency(r["arch"], r["engine"], float(r["mfu"]), float(r["mbu"]),
                                                 float(r["overhead_ms"]), int(r["rows"]), r["source"], float(r["moe"]))
            for r in rows}


def efficiency(arch: str, engine: str, table: dict[tuple[str, str], Efficiency] | None = None) -> Efficiency:
    """This chip architecture x engine's fit, else the engine's pooled fit, else the global fallback."""
    table = coefficients() if table is None else table
    for key in ((arch, engine), ("*", engine), ("*", "*")):
        if key in table:
            return table[key]
    raise UsageError(f"{COEFFICIENTS}: no row for {arch}/{engine} and no '*' fallback")


def _dist(values_s: list[float]) -> dict[str, float]:
    """The harness's own statistics; 0.0 where there is nothing to measure (ITL of one-token outputs)."""
    return {k: v or 0.0 for k, v in distribution(values_s).items()}


def default_precision(spec: ModelSpec) -> str:
    """The checkpoint's precision where vLLM serves it as stored; fp32 checkpoints are served in bf16 (dtype auto)."""
    return spec.default_dtype if spec.default_dtype in SERVED_PRECISIONS else "bf16"


def _mean_request(workload: Workload, seed: int) -> float:
    """Mean prompt + output tokens of the workload (a fixed sample): a request's KV footprint at its end."""
    lengths = workload.lengths(400, seed)
    return sum(p + o for p, o in lengths) / len(lengths)


def steady_requests(load: Load, seqs: int) -> int:
    """Requests a steady-state measurement needs: enough to fill the batch about three times over."""
    if load.kind == "request_rate":
        return int(min(MAX_STEADY_REQUESTS, max(MIN_REQUESTS, 5 * seqs, load.value * SECONDS_OF_LOAD)))
    if load.kind == "concurrency":
        return int(min(MAX_STEADY_REQUESTS, max(MIN_REQUESTS, 4 * min(load.value, seqs), 3 * seqs)))
    return MAX_STEADY_REQUESTS  # a burst: the more requests, the longer its steady stretch


def _memory(catalog: Catalog, spec: ModelSpec, shape: Shape, precision: str, server: ServerArgs, longest: int) -> Fit:
    """The memory fit of the server a deployment renders (its max-model-len, gpu-memory-utilization and max-num-seqs),
    so the simulated KV cache is the deployed one; only a workload longer than that max-model-len asks for its own
    length. A published run (`server.published`) keeps vLLM's own default max-num-seqs."""
    def sized(max_model_len: int | None) -> Fit:
        return fit(catalog, spec, shape, VLLM_VERSION, precision, max_model_len=max_model_len,
                   gpu_memory_utilization=server.gpu_memory_utilization, kv_cache_dtype=server.kv_cache_dtype,
                   max_num_seqs=server.max_num_seqs, max_num_batched_tokens=server.max_num_batched_tokens,
                   tune_max_num_seqs=not server.published)
    if server.max_model_len:
        return sized(server.max_model_len)
    try:
        deployed = sized(None)
    except UsageError:
        return sized(longest)
    return deployed if deployed.max_model_len >= longest else sized(longest)


def estimate(catalog: Catalog, spec: ModelSpec, shape: Shape, precision: str, workload: Workload, load: Load,
             engine: str = "vllm", seed: int = 0, eff: Efficiency | None = None, requests: int | None = None,
             server: ServerArgs = ServerArgs()) -> Estimate:
    """One load point; UsageError (with the numbers) when the model does not fit the shape.

    `requests` given: a benchmark of exactly that many requests, measured the way `vllm bench serve` does: throughput
    from first send to last completion, latencies over every request (a closed loop's start-up, when its first C
    requests all start at once, included, as the benchmark includes it). None: the steady state (`steady`), warm-up
    and drain left out, which is what a curve point or a capacity must describe.
    """
    acc = catalog.accelerator(shape.accelerator_type)
    fmt = catalog.weight_format(acc.accelerator_type, precision)
    if fmt.mode == "unsupported":
        allowed = sorted(p for (arch, p), w in catalog.weight_formats.items() if arch == fmt.arch and w.mode != "unsupported")
        raise UsageError(f"precision: '{precision}' weights do not run on {acc.accelerator_type} ({fmt.source}); "
                         f"allowed there: {', '.join(allowed)}")
    longest = workload.longest_request()
    memory = _memory(catalog, spec, shape, precision, server, min(longest, spec.max_context or longest))
    eff = eff or efficiency(acc.efficiency_group, engine)
    model = step_model(spec, acc, shape.accelerator_count, precision, eff, memory.kv_bytes_per_token, fmt.mode)
    limits = SimLimits(server.max_num_seqs or memory.max_num_seqs,
                       server.max_num_batched_tokens or memory.max_num_batched_tokens, memory.kv_capacity_tokens)
    if server.max_model_len and longest > server.max_model_len:
        raise UsageError(f"--max-model-len: value '{server.max_model_len}' is shorter than the longest request of "
                         f"{workload.name} ({longest:,} tokens); vLLM would reject it; allowed: >= {longest}")
    seqs = max(1, min(limits.max_num_seqs, int(memory.kv_capacity_tokens / _mean_request(workload, seed))))
    steady = requests is None
    n = steady_requests(load, seqs) if steady else requests
    rng = random.Random(seed)
    if load.kind == "request_rate":
        result = simulate(model, limits, workload.lengths(n, seed), poisson_arrivals(load.value, float("inf"), rng, cap=n))
    elif load.kind == "concurrency":
        result = simulate(model, limits, workload.lengths(n, seed), None, concurrency=int(load.value))
    else:
        result = simulate(model, limits, workload.lengths(n, seed), [0.0] * n)
    reqs = result.requests
    if steady:
        window = result.steady_window()
        if load.kind == "request_rate":  # latencies of the requests sent inside the window
            reqs = [r for r in reqs if window.start <= r[0] <= window.end] or reqs
        elif load.kind == "concurrency":
            reqs = [r for r, a in zip(reqs, result.admits, strict=True) if window.start <= a <= window.end] or reqs
        out_mean = sum(o for *_, o in reqs) / len(reqs)
        in_mean = sum(p for *_, p, _ in reqs) / len(reqs)
        output_tps, waiting, running, kv = window.output_tps, window.mean_waiting, window.mean_running, window.mean_kv_usage
        qps, input_tps = output_tps / out_mean, output_tps * in_mean / out_mean
        token_itl = result.token_itl(window.start, window.end)
    else:
        span = max(result.makespan, 1e-9)
        output_tps, input_tps = sum(o for *_, o in reqs) / span, sum(p for *_, p, _ in reqs) / span
        qps, waiting, running, kv = len(reqs) / span, result.mean_waiting, result.mean_running, result.mean_kv_usage
        token_itl = result.token_itl()
    return Estimate(
        output_tps=output_tps, input_tps=input_tps, qps=qps,
        ttft_ms=_dist([f - a for a, f, _, _, _ in reqs]),
        ntpot_ms=_dist([(e - a) / o for a, _, e, _, o in reqs]),
        itl_ms=_dist([(e - f) / (o - 1) for _, f, e, _, o in reqs if o > 1]),
        num_requests_waiting=waiting, num_requests_running=running, kv_cache_usage_perc=kv,
        kv_capacity_tokens=memory.kv_capacity_tokens, max_num_seqs=limits.max_num_seqs, requests=len(result.requests),
        efficiency=eff,
        itl_token_ms={k: v * 1000 for k, v in token_itl.items()})


def provenance(eff: Efficiency) -> str:
    fitted = f"fitted on {eff.rows} calibration rows" if eff.rows else "fallback coefficients"
    if eff.arch == "*" and eff.rows:  # the engine's pool: no published row of this engine on this chip's architecture
        fitted += f" of other chips; no {eff.engine} row on this one"
    coefficients_used = (f"{eff.arch}/{eff.engine}: MFU {eff.mfu:g}, MBU {eff.mbu:g}, {eff.overhead_ms:g} ms/step, "
                         f"MoE {eff.moe:g}")
    return f"estimated by {MODEL_VERSION} ({coefficients_used}; {fitted})"
