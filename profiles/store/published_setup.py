"""The serving setup of a published row, read from its source text (model, precision, parallelism and engine cells)
and from the server flags a row's benchmark set (data/calibration_server_args.csv, each with its source).

Only what the text states is filled in; the rest stays empty ("not stated"), which makes the row reference-only.
Speculative decoding is opt-in in every engine, so a row whose text does not mention it ran without it.
"""

from __future__ import annotations

import csv
import functools
import re

from profiles.catalog.csvdata import DATA_DIR

SERVER_ARGS = DATA_DIR / "calibration_server_args.csv"


@functools.cache
def _server_args() -> dict[str, dict[str, str]]:
    with SERVER_ARGS.open(newline="", encoding="utf-8") as f:
        return {r["row_id"]: r for r in csv.DictReader(f)}


def quantization(raw: dict[str, str]) -> tuple[str, str]:
    """('none' | 'on-load' | 'pre-quantized' | '', the quantized checkpoint as the source names it)."""
    model, precision = raw["model"], raw["precision"]
    named = re.search(r"\(([^)]*(?:FP8|ckpt)[^)]*)\)", model)
    if named:
        return "pre-quantized", named.group(1)
    if "ckpt" in precision or re.search(r"-FP8\b", model):
        return "pre-quantized", model
    if "MLPerf" in raw["engine"] and precision.startswith("FP8"):
        return "pre-quantized", "TensorRT-LLM engine built by the MLPerf harness"
    if raw["engine"].startswith("NVIDIA NIM"):
        return "pre-quantized", "NIM FP8 engine profile"
    if "Qwix" in precision:
        return "on-load", ""
    if re.match(r"(?i)(bf16|bfloat16)", precision):
        return "none", ""
    return "", ""


def tensor_parallel(parallelism: str) -> int | None:
    found = re.search(r"TP(\d+)|over (\d+) chips|v\d+e?-(\d+) slice|^(\d+) chip", parallelism)
    return int(next(g for g in found.groups() if g)) if found else None


def speculative(model: str) -> str:
    found = re.search(r"\+ (.*speculative decoding.*)", model)
    return found.group(1) if found else "none"


def prefix_caching(raw: dict[str, str]) -> str:
    """'hits' when prefix caching was on and the workload shares prefixes across requests (multi-turn)."""
    if "prefix caching on" in raw["engine"]:
        return "hits" if "multi-turn" in raw["workload"] else "on"
    return ""


def setup(raw: dict[str, str], replicas: int) -> dict[str, object]:
    """ProfilePoint's setup fields for one published row."""
    quant, checkpoint = quantization(raw)
    args = _server_args().get(raw["row_id"], {})
    kv = args.get("kv_cache_dtype", "") or ("fp8" if "FP8 KV" in raw["precision"] else "")
    per_submission = raw["parallelism"].startswith("per-submission")
    return {
        "quantization": quant, "checkpoint": checkpoint, "kv_cache_dtype": kv,
        "max_num_seqs": _int(args.get("max_num_seqs")), "max_num_batched_tokens": _int(args.get("max_num_batched_tokens")),
        "max_model_len": _int(args.get("max_model_len")), "prefix_caching": prefix_caching(raw),
        "speculative_decoding": speculative(raw["model"]), "tensor_parallel": tensor_parallel(raw["parallelism"]),
        "data_parallel": None if per_submission else replicas,
    }


def _int(text: str | None) -> int | None:
    return int(text) if text else None
