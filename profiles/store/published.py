"""The importer of published measurements: ../shared/data/published_measurements*.csv -> data/profiles/published.csv.

Only rows that describe one serving replica on a GKE machine shape with a published throughput
become profile points; every other row is reported with the reason it was left out. Derived
values (input tokens/s, QPS, NTPOT) are computed from published columns only, and each row's
`Derived` cell says which and how.

`make import` / `make check-import` (scripts/import_published.py) run it.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from profiles.catalog.catalog import default_catalog
from profiles.errors import UsageError
from profiles.store.dirs import SHIPPED_DIR
from profiles.store.points import ProfilePoint
from profiles.store.published_setup import setup
from profiles.store.write import render_csv

OUT = SHIPPED_DIR / "published.csv"
SHAREGPT = "Chatbot (ShareGPT)"

# Rows that are not a single GKE serving replica, or carry no throughput: left out on purpose.
SKIP = {
    "I01": "H100 PCIe is not offered on GKE (A3 machines are SXM)",
    "T07": "1 x H200: GKE has only 8-GPU H200 machines (a3-ultragpu-8g)",
    "T13": "1 x H200: GKE has only 8-GPU H200 machines (a3-ultragpu-8g)",
    "V01": "1 x H200 and no throughput published",
    "V03": "2 x H200 and no throughput published",
    "V05": "no throughput or latency in the normalized row",
    "S01": "no output tokens/s published (only offered rate and latencies)",
    "S03": "no output tokens/s published (only offered rate and latencies)",
    "S05": "no output tokens/s published (only offered rate and latencies)",
}
# Published for several data-parallel replicas: per-replica throughput = total / replicas.
REPLICAS = {"K01": 8, "K03": 8}


def server_and_version(raw: dict[str, str]) -> tuple[str, str]:
    """Model server name (GIQ style, lower-case) and version from the raw engine columns."""
    engine, version = raw["engine"], raw["engine_version"]
    if engine.startswith("TensorRT-LLM via NVIDIA MLPerf"):
        return "tensorrt-llm", f"mlperf-{version}"
    if engine.startswith("TensorRT-LLM"):
        return "tensorrt-llm", "perf-overview@" + re.search(r"commit ([0-9a-f]+)", version).group(1)
    if engine.startswith("NVIDIA NIM"):
        return "nim", version.replace("NIM container ", "")
    if engine.startswith("SGLang"):
        return "sglang", version
    if engine.startswith("JetStream"):
        return "jetstream", "pytorch@" + version.replace("as of ", "")
    if engine.startswith("vLLM TPU"):
        return "vllm", version.split(":", 1)[1]
    if engine.startswith("vLLM"):
        found = re.search(r"\d+\.\d+\.\d+", version)
        return "vllm", found.group(0) if found else "unknown"
    raise UsageError(f"published_measurements.csv: unmapped engine {engine!r} in row {raw['row_id']}")


def num(value: str) -> float | None:
    return float(value) if value not in ("", None) else None


def convert(norm: dict[str, str], raw: dict[str, str]) -> tuple[ProfilePoint | None, str]:
    catalog = default_catalog()
    row_id = norm["row_id"]
    if row_id in SKIP:
        return None, SKIP[row_id]
    replicas = REPLICAS.get(row_id, 1)
    count = int(norm["accelerator_count"]) // replicas
    shape = catalog.shape(norm["accelerator_type"], count)
    if shape is None:
        return None, f"no GKE machine shape for {count} x {norm['accelerator_type']}"
    out_tps = num(norm["output_tok_s"])
    if out_tps is None:
        return None, "no output tokens/s"
    derived = []
    if replicas > 1:
        out_tps /= replicas
        derived.append(f"per replica = published total / {replicas} data-parallel replicas")
    isl, osl = num(norm["input_len"]), num(norm["output_len"])
    req_s = num(raw["req_s"])
    qps = req_s / replicas if req_s is not None else None
    if qps is None and osl:
        qps = out_tps / osl
        derived.append("QPS = output tok/s / OSL")
    input_tps = None
    if qps is not None and isl is not None:
        input_tps = qps * isl
        derived.append("input tok/s = QPS x ISL")
    ttft, itl, ntpot = num(norm["ttft_ms"]), num(norm["itl_ms"]), num(norm["ntpot_ms"])
    if ntpot is None and ttft is not None and itl is not None and osl:
        ntpot = (ttft + (osl - 1) * itl) / osl
        derived.append("NTPOT = (TTFT + (OSL-1) x ITL) / OSL")
    server, version = server_and_version(raw)
    workload = raw["workload"]
    use_case = SHAREGPT if "ShareGPT" in workload and "multi-turn" not in workload else ""

    point = ProfilePoint(
        model=norm["model"], model_server=server, model_server_version=version, instance_type=shape.machine_type,
        accelerator_type=shape.accelerator_type, accelerator_count=count, tpu_topology=shape.tpu_topology,
        precision=norm["precision"], use_case=use_case, input_length=isl, output_length=osl,
        load_type=norm["load_type"], load_value=num(norm["load_value"]), output_tps=_r(out_tps),
        input_tps=_r(input_tps), qps=_r(qps), ntpot_ms=_r(ntpot), ttft_ms=ttft, itl_ms=itl, ntpot_p90_ms=None,
        ttft_p90_ms=None, itl_p90_ms=None, num_requests_waiting=None, kv_cache_usage_perc=None,
        num_requests_running=None, provenance="published", source_id=row_id, source=norm["source"],
        derived="; ".join(derived), date="", **setup(raw, replicas),
    )
    return point, ""


def _r(value: float | None) -> float | None:
    """Six significant digits, as written to the file, so a re-import compares equal."""
    return None if value is None else float(f"{value:.6g}")


def render(shared: Path) -> tuple[str, list[str]]:
    data = shared / "data"
    with (data / "published_measurements.csv").open(newline="") as f:
        raw = {r["row_id"]: r for r in csv.DictReader(f)}
    with (data / "published_measurements_normalized.csv").open(newline="") as f:
        norm_rows = list(csv.DictReader(f))
    points, report = [], []
    for norm in norm_rows:
        point, why = convert(norm, raw[norm["row_id"]])
        if point is None:
            report.append(f"skipped {norm['row_id']}: {why}")
        else:
            points.append(point)
    return render_csv(points), report
