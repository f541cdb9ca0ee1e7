"""Estimated profiles: every catalog model x accelerator configuration that fits, as store points.

Configurations: GPU counts 1/2/4/8 on their GKE machine types, TPU single-host slices 1x1/2x2/2x4 on v5e and
v6e, each at the checkpoint's own precision where the chip runs it (weight_formats.csv; an mxfp4 checkpoint does not
load on TPU, so there is no such curve). Each curve is a request-rate sweep on the ShareGPT length distribution:
first the configuration's capacity (the steady-state throughput of an offline burst, warm-up and drain left out),
then ten Poisson rates at 10-200 % of it, each measured at steady state. The top two points are past capacity:
their served rate is the capacity and the queue grows, which is what the HPA's queue signal and the inflection
need. `make profiles` checks every curve for that (TopCheck) and fails when one does not saturate.
Rows carry `provenance=estimated` and the estimator version with the coefficients they used; measured and published
rows of the same configuration win.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from profiles.catalog.catalog import Catalog, Shape, default_catalog
from profiles.catalog.csvdata import DATA_DIR
from profiles.catalog.modelspec import ModelSpec
from profiles.catalog.workload import SHAREGPT
from profiles.errors import UsageError
from profiles.estimator.estimate import VLLM_VERSION, Estimate, Load, default_precision, estimate, provenance
from profiles.estimator.step_time import MODEL_VERSION
from profiles.serving.sizing import Fit, fit
from profiles.store.dirs import SHIPPED_DIR
from profiles.store.points import ProfilePoint
from profiles.store.write import write_file

GPUS = ("nvidia-l4", "nvidia-tesla-a100", "nvidia-a100-80gb", "nvidia-h100-80gb", "nvidia-h200-141gb")
TPUS = ("tpu-v5-lite-podslice", "tpu-v6e-slice")
FRACTIONS = (0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 1.0, 1.5, 2.0)  # of the capacity; the top two are overloaded
TOP_TOLERANCE = 0.05  # the top point's throughput within 5 % of the configuration's capacity
DATE = "2026-11-27"  # the estimator version's date, not the run's: regenerating gives identical files
OUTPUT = SHIPPED_DIR / "estimated.csv"
FINGERPRINT = SHIPPED_DIR / "estimated.sha256"
PACKAGE = Path(__file__).resolve().parents[1]
# Every input the shipped curves depend on: estimator code, the memory fit, workloads, coefficients and catalogs.
INPUTS = [PACKAGE / "estimator" / name for name in ("estimate.py", "step_time.py", "simulator.py", "curves.py")]
INPUTS += [PACKAGE / "catalog" / name for name in ("workload.py", "modelspec.py", "stats.py")]
INPUTS += [PACKAGE / "serving" / "sizing.py"]
INPUTS += [PACKAGE / "catalog" / "catalog.py"]
INPUTS += [DATA_DIR / name for name in ("estimator_coefficients.csv", "models.csv", "accelerators.csv", "machine_types.csv",
                                        "tpu_topologies.csv", "vllm_defaults.csv", "weight_formats.csv", "vllm_memory.csv")]


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


def _point(catalog: Catalog, spec: ModelSpec, shape: Shape, precision: str, rate: float, e: Estimate,
           index: int, setup: Fit) -> ProfilePoint:
    """One store row, with the serving setup the estimate assumed (what a deployment of it must render): `setup` is
    the deployed memory fit (its max-model-len; max-num-seqs fitted to the KV cache, as the estimate simulated)."""
    return ProfilePoint(
        model=spec.model, model_server="vllm", model_server_version=VLLM_VERSION, instance_type=shape.machine_type,
        accelerator_type=shape.accelerator_type, accelerator_count=shape.accelerator_count, tpu_topology=shape.tpu_topology,
        precision=precision, use_case=SHAREGPT.use_case, input_length=round(e.input_tps / e.qps, 1),
        output_length=round(e.output_tps / e.qps, 1), load_type="request_rate", load_value=rate,
        output_tps=e.output_tps, input_tps=e.input_tps, qps=e.qps, ntpot_ms=e.ntpot_ms["p50"], ttft_ms=e.ttft_ms["p50"],
        itl_ms=e.itl_ms["p50"], ntpot_p90_ms=e.ntpot_ms["p90"], ttft_p90_ms=e.ttft_ms["p90"], itl_p90_ms=e.itl_ms["p90"],
        num_requests_waiting=e.num_requests_waiting, kv_cache_usage_perc=e.kv_cache_usage_perc,
        num_requests_running=e.num_requests_running, provenance="estimated", source_id=f"{MODEL_VERSION}-r{index}",
        source=f"{provenance(e.efficiency)}; ShareGPT lengths, {e.requests} simulated requests measured at steady state "
               "(warm-up and drain left out), seed 0",
        derived="ITL = per-request mean inter-token time; server metrics are simulated time averages", date=DATE,
        quantization="none" if precision in (spec.default_dtype, "bf16", "fp16") else "on-load", kv_cache_dtype="auto",
        max_num_seqs=setup.max_num_seqs, max_num_batched_tokens=setup.max_num_batched_tokens, max_model_len=setup.max_model_len,
        prefix_caching="on", speculative_decoding="none",
        tensor_parallel=shape.accelerator_count * catalog.accelerator(shape.accelerator_type).chips_per_device,
        data_parallel=1)


def capacity(catalog: Catalog, spec: ModelSpec, shape: Shape, precision: str, engine: str = "vllm") -> Estimate:
    """The configuration's steady-state capacity on ShareGPT (what `estimate --offline` reports)."""
    return estimate(catalog, spec, shape, precision, SHAREGPT, Load("offline"), engine=engine)


def curve(catalog: Catalog, spec: ModelSpec, shape: Shape, precision: str, engine: str = "vllm") -> list[ProfilePoint]:
    """One configuration's sweep from 10 % to 200 % of its capacity; [] when the model does not fit or load there.
    `engine`: whose coefficients (shipped curves: 'vllm'; 'vllm-v0' only to compare with a published V0 run)."""
    try:
        top = capacity(catalog, spec, shape, precision, engine)
        setup = fit(catalog, spec, shape, VLLM_VERSION, precision, tune_max_num_seqs=True)
    except UsageError:
        return []
    points = []
    for i, fraction in enumerate(FRACTIONS, 1):
        rate = float(f"{top.qps * fraction:.3g}")
        e = estimate(catalog, spec, shape, precision, SHAREGPT, Load("request_rate", rate), engine=engine)
        points.append(_point(catalog, spec, shape, precision, rate, e, i, setup))
    return points


@dataclass(frozen=True)
class TopCheck:
    """Does a curve reach saturation: a queue at the top point and its throughput at the capacity."""

    key: str
    top_output_tps: float
    capacity_tps: float
    top_waiting: float

    @property
    def ok(self) -> bool:
        return self.top_waiting > 0 and abs(self.top_output_tps / self.capacity_tps - 1) <= TOP_TOLERANCE


def top_check(catalog: Catalog, spec: ModelSpec, shape: Shape, precision: str, points: list[ProfilePoint]) -> TopCheck:
    top = max(points, key=lambda p: p.load_value or 0)
    cap = capacity(catalog, spec, shape, precision)
    return TopCheck(f"{spec.model} {shape.accelerator_count} x {shape.accelerator_type}", top.output_tps or 0.0,
                    cap.output_tps, top.num_requests_waiting or 0.0)


def _one(key: tuple[str, str, int, str]) -> tuple[list[ProfilePoint], TopCheck | None]:
    """Worker: one configuration's curve and its saturation check (by name: catalog objects stay in each process)."""
    catalog = default_catalog()
    model, accelerator, count, precision = key
    spec, shape = catalog.models[model], catalog.shape(accelerator, count)
    points = curve(catalog, spec, shape, precision)
    return points, (top_check(catalog, spec, shape, precision, points) if points else None)


def fingerprint() -> str:
    """sha256 over INPUTS (name and bytes): estimated.sha256 holds it, and a test fails when it no longer matches."""
    digest = hashlib.sha256()
    for path in INPUTS:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def generate(catalog: Catalog) -> tuple[int, int, int, list[TopCheck]]:
    """`make profiles`: write OUTPUT and FINGERPRINT; returns (points, configurations that fit, that do not, failed checks)."""
    keys = [(spec.model, shape.accelerator_type, shape.accelerator_count, precision)
            for spec, shape, precision in configurations(catalog)]
    points, fitted, skipped, failed = [], 0, 0, []
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for found, check in pool.map(_one, keys, chunksize=4):
            points += found
            fitted += bool(found)
            skipped += not found
            if check is not None and not check.ok:
                failed.append(check)
    write_file(OUTPUT, points)
    FINGERPRINT.write_text(f"{fingerprint()}  inputs of estimated.csv (make profiles)\n", encoding="utf-8")
    return len(points), fitted, skipped, failed
