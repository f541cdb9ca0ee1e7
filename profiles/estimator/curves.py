"""Estimated profiles: every catalog model x accelerator configuration that fits, as store points.

Configurations: GPU counts 1/2/4/8 on their GKE machine types, TPU single-host slices 1x1/2x2/2x4 on v5e and
v6e. Each curve is a request-rate sweep on the ShareGPT length distribution: the saturation rate is the QPS
with `max-num-seqs` requests kept in flight, and ten Poisson rates span 10-125 % of it. Rows carry `provenance=estimated` and the
estimator version with the coefficients they used; measured and published rows of the same configuration win.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

from profiles.catalog.catalog import Catalog, Shape
from profiles.catalog.csvdata import DATA_DIR
from profiles.catalog.modelspec import ModelSpec
from profiles.catalog.workload import SHAREGPT
from profiles.errors import UsageError
from profiles.estimator.estimate import VLLM_VERSION, Estimate, Load, default_precision, estimate, provenance
from profiles.estimator.step_time import MODEL_VERSION
from profiles.store.dirs import SHIPPED_DIR
from profiles.store.points import ProfilePoint
from profiles.store.write import write_file

GPUS = ("nvidia-l4", "nvidia-tesla-a100", "nvidia-a100-80gb", "nvidia-h100-80gb", "nvidia-h200-141gb")
TPUS = ("tpu-v5-lite-podslice", "tpu-v6e-slice")
FRACTIONS = (0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 1.0, 1.1, 1.25)
CURVE_REQUESTS = 300  # simulated requests per point of a shipped curve
DATE = "2026-11-27"  # the estimator version's date, not the run's: regenerating gives identical files
OUTPUT = SHIPPED_DIR / "estimated.csv"
FINGERPRINT = SHIPPED_DIR / "estimated.sha256"
PACKAGE = Path(__file__).resolve().parents[1]
# Every input the shipped curves depend on: estimator code, the memory fit, workloads, coefficients and catalogs.
INPUTS = [PACKAGE / "estimator" / name for name in ("estimate.py", "step_time.py", "simulator.py", "curves.py")]
INPUTS += [PACKAGE / "catalog" / name for name in ("workload.py", "modelspec.py", "stats.py")]
INPUTS += [PACKAGE / "serving" / "sizing.py"]
INPUTS += [DATA_DIR / name for name in ("estimator_coefficients.csv", "models.csv", "accelerators.csv", "machine_types.csv",
                                        "tpu_topologies.csv", "vllm_defaults.csv")]


def configurations(catalog: Catalog) -> Iterator[tuple[ModelSpec, Shape, str]]:
    for spec in sorted(catalog.models.values(), key=lambda s: s.model):
        if not (spec.layers and spec.hidden_size and spec.kv_bytes_per_token):
            continue
        precision = default_precision(spec)
        for acc, counts in [(a, (1, 2, 4, 8)) for a in GPUS] + [(t, (1, 4, 8)) for t in TPUS]:
            for count in counts:
                shape = catalog.shape(acc, count)
                if shape is not None and shape.vms == 1:
                    yield spec, shape, precision


def _point(spec: ModelSpec, shape: Shape, precision: str, rate: float, e: Estimate, index: int) -> ProfilePoint:
    from profiles.catalog.catalog import default_catalog  # local: only _point is edited here (the estimator is being rewritten)
    from profiles.serving.sizing import fit

    catalog = default_catalog()
    limits = catalog.scheduler_defaults(VLLM_VERSION, shape.accelerator_type)
    try:  # the max-model-len a deployment of this setup runs with (the simulation only needs the longest request)
        max_model_len = fit(catalog, spec, shape, VLLM_VERSION, precision).max_model_len
    except UsageError:
        max_model_len = None
    return ProfilePoint(
        model=spec.model, model_server="vllm", model_server_version=VLLM_VERSION, instance_type=shape.machine_type,
        accelerator_type=shape.accelerator_type, accelerator_count=shape.accelerator_count, tpu_topology=shape.tpu_topology,
        precision=precision, use_case=SHAREGPT.use_case, input_length=round(e.input_tps / e.qps, 1),
        output_length=round(e.output_tps / e.qps, 1), load_type="request_rate", load_value=rate,
        output_tps=e.output_tps, input_tps=e.input_tps, qps=e.qps, ntpot_ms=e.ntpot_ms["p50"], ttft_ms=e.ttft_ms["p50"],
        itl_ms=e.itl_ms["p50"], ntpot_p90_ms=e.ntpot_ms["p90"], ttft_p90_ms=e.ttft_ms["p90"], itl_p90_ms=e.itl_ms["p90"],
        num_requests_waiting=e.num_requests_waiting, kv_cache_usage_perc=e.kv_cache_usage_perc,
        num_requests_running=e.num_requests_running, provenance="estimated", source_id=f"{MODEL_VERSION}-r{index}",
        source=f"{provenance(e.efficiency)}; ShareGPT lengths, {e.requests} simulated requests, seed 0",
        derived="ITL = per-request mean inter-token time; server metrics are simulated time averages", date=DATE,
        quantization="none" if precision in (spec.default_dtype, "bf16", "fp16") else "on-load", kv_cache_dtype="auto",
        max_num_seqs=limits.max_num_seqs, max_num_batched_tokens=limits.max_num_batched_tokens, max_model_len=max_model_len,
        prefix_caching="on", speculative_decoding="none",
        tensor_parallel=shape.accelerator_count * catalog.accelerator(shape.accelerator_type).chips_per_device,
        data_parallel=1)


def curve(catalog: Catalog, spec: ModelSpec, shape: Shape, precision: str) -> list[ProfilePoint]:
    """One configuration's sweep; [] when the model does not fit the shape."""
    seqs = catalog.scheduler_defaults(VLLM_VERSION, shape.accelerator_type).max_num_seqs
    try:  # saturation: the batch kept full (max-num-seqs in flight) long enough to reach steady state
        saturation = estimate(catalog, spec, shape, precision, SHAREGPT, Load("concurrency", seqs),
                              requests=min(3 * seqs, 2000)).qps
    except UsageError:
        return []
    points = []
    for i, fraction in enumerate(FRACTIONS, 1):
        rate = float(f"{saturation * fraction:.3g}")
        e = estimate(catalog, spec, shape, precision, SHAREGPT, Load("request_rate", rate), requests=CURVE_REQUESTS)
        points.append(_point(spec, shape, precision, rate, e, i))
    return points


def fingerprint() -> str:
    """sha256 over INPUTS (name and bytes): estimated.sha256 holds it, and a test fails when it no longer matches."""
    digest = hashlib.sha256()
    for path in INPUTS:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def generate(catalog: Catalog) -> tuple[int, int, int]:
    """`make profiles`: write OUTPUT and FINGERPRINT; returns (points, configurations that fit, that do not)."""
    points, fitted, skipped = [], 0, 0
    for spec, shape, precision in configurations(catalog):
        found = curve(catalog, spec, shape, precision)
        points += found
        fitted += bool(found)
        skipped += not found
    write_file(OUTPUT, points)
    FINGERPRINT.write_text(f"{fingerprint()}  inputs of estimated.csv (make profiles)\n", encoding="utf-8")
    return len(points), fitted, skipped
