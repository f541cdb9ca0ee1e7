"""Calibration (`make calibrate` / `make accuracy`): fit the estimator's efficiencies on the published rows, report its error.

Rows: ../shared/data/published_measurements_normalized.csv. A row is used when the catalog knows its model's
shape and accelerator and it states its input length; rows with speculative decoding or with prefix caching
over multi-turn conversations are left out (neither is modelled: both cut the work a TTFT or ITL measures).
Per accelerator family x engine, MFU, MBU and the per-step overhead are fitted by coordinate descent on a
grid, minimising the median absolute percentage error over every published metric of the group's rows
(output tok/s, TTFT, ITL/TPOT, NTPOT); pooled fits per engine and overall are the fallbacks.
Server flags a row's benchmark set (an fp8 KV cache, a larger token budget, ...) come from
profiles/data/calibration_server_args.csv, each with its source; every other flag is vLLM's default.
Writes profiles/data/estimator_coefficients.csv and estimator_residuals.csv (one line per row x metric).
"""

from __future__ import annotations

import csv
import re
import statistics
import sys
from dataclasses import dataclass

from profiles.catalog.catalog import Shape, default_catalog
from profiles.catalog.csvdata import DATA_DIR, SHARED_DIR
from profiles.catalog.workload import SHAREGPT, fixed
from profiles.errors import UsageError
from profiles.estimator.estimate import COEFFICIENTS, Load, ServerArgs, coefficients, efficiency, estimate
from profiles.estimator.step_time import MODEL_VERSION, Efficiency

ROWS = SHARED_DIR / "data" / "published_measurements_normalized.csv"
RESIDUALS = DATA_DIR / "estimator_residuals.csv"
SERVER_ARGS = DATA_DIR / "calibration_server_args.csv"
# Bounded to physically plausible values (reference performance-modeling.md §5: MBU 0.33-0.67 measured, MFU
# 0.25-0.46 offline): with 1-3 rows a group could otherwise "fit" a 0.2 MBU that makes batch-1 decode 3x too slow.
GRID = {"mbu": [0.4, 0.5, 0.6, 0.7, 0.8, 0.9], "mfu": [0.25, 0.35, 0.45, 0.55, 0.65, 0.75],
        "overhead_ms": [0.5, 1, 2, 4, 8, 16]}
START = {"mbu": 0.6, "mfu": 0.45, "overhead_ms": 2}
METRICS = {"output_tok_s": "output tok/s", "ttft_ms": "TTFT", "itl_ms": "ITL/TPOT", "ntpot_ms": "NTPOT"}


@dataclass(frozen=True)
class Row:
    row_id: str
    family: str
    engine: str
    args: tuple  # estimate() arguments: spec, shape, precision, workload, load
    measured: dict[str, float]
    stat: dict[str, str]  # metric -> p50 | mean
    server: ServerArgs = ServerArgs()


def _engine(source: str) -> str:
    s = source.lower()
    for key, engine in (("tensorrt-llm", "trtllm"), ("nim", "trtllm"), ("sglang", "sglang"), ("jetstream", "jetstream")):
        if key in s:
            return engine
    return "vllm"


def load_server_args(known: set[str]) -> dict[str, ServerArgs]:
    """Per-row server flags; a row id the published file lacks or a bad number is a data error (exit 2)."""
    out = {}
    with SERVER_ARGS.open(newline="", encoding="utf-8") as handle:
        for line, r in enumerate(csv.DictReader(handle), start=2):
            where = f"{SERVER_ARGS.name} line {line}"
            if r["row_id"] not in known:
                raise UsageError(f"{where}: row_id '{r['row_id']}' is not in {ROWS.name}")
            if not r["source"] or r["confidence"] not in ("V", "U"):
                raise UsageError(f"{where}: every row needs a source and confidence V or U (got '{r['confidence']}')")
            try:
                num = {k: (float(r[k]) if k == "gpu_memory_utilization" else int(r[k])) if r[k] else None
                       for k in ("gpu_memory_utilization", "max_num_batched_tokens", "max_num_seqs", "max_model_len")}
            except ValueError as exc:
                raise UsageError(f"{where}: {exc}") from None
            out[r["row_id"]] = ServerArgs(r["kv_cache_dtype"] or "auto", **num)
    return out


def load_rows() -> tuple[list[Row], list[str]]:
    catalog = default_catalog()
    used, skipped = [], []
    with ROWS.open(newline="", encoding="utf-8") as handle:
        published = list(csv.DictReader(handle))
    server_args = load_server_args({r["row_id"] for r in published})
    for r in published:
        rid, src = r["row_id"], r["source"]
        low = src.lower()
        why = None
        spec = catalog.models.get(r["model"])
        if spec is None or not spec.layers:
            why = "model shape unknown"
        elif r["accelerator_type"] not in catalog.accelerators:
            why = "accelerator not in catalog"
        elif not r["input_len"]:
            why = "input length not published"
        elif "speculative" in low:
            why = "speculative decoding is not modelled"
        elif "prefix caching on" in low and "multi-turn" in low:
            why = "prefix-cache hits across multi-turn conversations are not modelled"
        elif not any(r[k] for k in METRICS):
            why = "no numbers"
        if why:
            skipped.append(f"{rid}: {why}")
            continue
        replicas = 8 if "8 replicas" in src else 1
        count = int(r["accelerator_count"]) // replicas
        workload = SHAREGPT if (r["input_len"], r["output_len"]) == ("226", "195") else fixed(int(r["input_len"]), int(r["output_len"]))
        if r["load_type"] == "offline":
            prompts = re.search(r"(\d[\d,]*) (?:ShareGPT )?(?:text )?prompts", src)
            load, n = Load("offline"), min(int(prompts.group(1).replace(",", "")) if prompts else 1000, 1000)
        elif r["load_type"] == "concurrency":
            load, n = Load("concurrency", float(r["load_value"]) / replicas), None
        else:
            load, n = Load("request_rate", float(r["load_value"])), None
        shape = Shape("", r["accelerator_type"], count, "", 1)
        measured = {k: float(r[k]) for k in METRICS if r[k]}
        if "output_tok_s" in measured:
            measured["output_tok_s"] /= replicas
        stat = {"ttft_ms": "mean" if re.search(r"ttft (and itl )?(are|is|=) (the )?mean", low) else "p50",
                "itl_ms": "mean" if re.search(r"ttft and itl are means|itl_ms = loadgen tpot mean", low) else "p50",
                "ntpot_ms": "mean"}
        used.append(Row(rid, catalog.accelerators[r["accelerator_type"]].family, _engine(src),
                        (spec, shape, r["precision"], workload, load, n), measured, stat,
                        server_args.get(rid, ServerArgs())))
    return used, skipped


def predict(row: Row, eff: Efficiency) -> dict[str, float] | str:
    spec, shape, precision, workload, load, n = row.args
    try:
        e = estimate(default_catalog(), spec, shape, precision, workload, load, engine=row.engine, eff=eff, requests=n,
                     server=row.server)
    except (UsageError, ValueError) as exc:
        return str(exc)
    return {"output_tok_s": e.output_tps, "ttft_ms": e.ttft_ms[row.stat["ttft_ms"]],
            "itl_ms": e.itl_ms[row.stat["itl_ms"]], "ntpot_ms": e.ntpot_ms[row.stat["ntpot_ms"]]}


def errors(rows: list[Row], eff: Efficiency) -> list[float]:
    out = []
    for row in rows:
        pred = predict(row, eff)
        if isinstance(pred, str):
            out.append(1.0)
            continue
        out += [abs(pred[k] - v) / v for k, v in row.measured.items()]
    return out


def fit_group(rows: list[Row], family: str, engine: str) -> Efficiency:
    params = dict(START)

    def make(p: dict) -> Efficiency:
        return Efficiency(family, engine, p["mfu"], p["mbu"], p["overhead_ms"], len(rows), "")

    def score(p: dict) -> tuple[float, float]:
        errs = errors(rows, make(p))
        return (statistics.median(errs), statistics.mean(errs))

    best = score(params)
    for _ in range(3):
        changed = False
        for name, grid in GRID.items():
            for value in grid:
                trial = {**params, name: value}
                s = score(trial)
                if s < best:
                    best, params, changed = s, trial, True
        if not changed:
            break
    ids = " ".join(r.row_id for r in rows)
    return Efficiency(family, engine, params["mfu"], params["mbu"], params["overhead_ms"], len(rows),
                      f"fitted by scripts/calibrate.py ({MODEL_VERSION}) on {ids}; median APE {best[0]:.1%}")


def calibrate() -> None:
    rows, skipped = load_rows()
    groups: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        groups.setdefault((row.family, row.engine), []).append(row)
        groups.setdefault(("*", row.engine), []).append(row)
        groups.setdefault(("*", "*"), []).append(row)
    fitted = []
    for (family, engine), members in sorted(groups.items()):
        eff = fit_group(members, family, engine)
        print(f"{family:>10} {engine:<9} rows {len(members):>2}: MFU {eff.mfu:<5} MBU {eff.mbu:<4} overhead {eff.overhead_ms:>4} ms  "
              f"({eff.source.split('; ')[-1]})", file=sys.stderr)
        fitted.append(eff)
    with COEFFICIENTS.open("w", newline="", encoding="utf-8") as handle:
        w = csv.writer(handle, lineterminator="\n")
        w.writerow(["family", "engine", "mfu", "mbu", "overhead_ms", "rows", "source"])
        for e in fitted:
            w.writerow([e.family, e.engine, e.mfu, e.mbu, e.overhead_ms, e.rows, e.source])
    coefficients.cache_clear()  # residuals below must use the file just written
    write_residuals(rows, skipped)


def residuals(rows: list[Row]) -> list[dict[str, str]]:
    out = []
    for row in rows:
        eff = efficiency(row.family, row.engine)
        pred = predict(row, eff)
        for metric, value in row.measured.items():
            est = None if isinstance(pred, str) else pred[metric]
            out.append({"row_id": row.row_id, "family": row.family, "engine": row.engine, "metric": metric,
                        "statistic": row.stat.get(metric, "p50") if metric != "output_tok_s" else "",
                        "measured": f"{value:.6g}", "estimated": "" if est is None else f"{est:.6g}",
                        "abs_pct_error": "" if est is None else f"{abs(est - value) / value:.4f}",
                        "coefficients": f"{eff.family}/{eff.engine}", "note": pred if isinstance(pred, str) else "",
                        "source": f"measured: published row {row.row_id} of shared/data/published_measurements_normalized.csv; "
                                  f"estimated: {MODEL_VERSION} with the {eff.family}/{eff.engine} coefficients"})
    return out


def write_residuals(rows: list[Row], skipped: list[str]) -> None:
    lines = residuals(rows)
    with RESIDUALS.open("w", newline="", encoding="utf-8") as handle:
        w = csv.DictWriter(handle, fieldnames=list(lines[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(lines)
    print(f"skipped: {'; '.join(skipped)}", file=sys.stderr)


def accuracy_table(lines: list[dict[str, str]]) -> str:
    """Median and p90 APE per family for throughput, TTFT and ITL/TPOT (NTPOT counted with ITL/TPOT)."""
    kinds = {"output_tok_s": "throughput", "ttft_ms": "TTFT", "itl_ms": "ITL/TPOT", "ntpot_ms": "ITL/TPOT"}
    cells: dict[tuple[str, str], list[float]] = {}
    for line in lines:
        if not line["abs_pct_error"]:
            continue
        value = float(line["abs_pct_error"])
        for fam in (line["family"], "all"):
            cells.setdefault((fam, kinds[line["metric"]]), []).append(value)
    fams = sorted({f for f, _ in cells} - {"all"}) + ["all"]
    head = "| family | " + " | ".join(f"{k} median / p90 (n)" for k in ("throughput", "TTFT", "ITL/TPOT")) + " |"
    rows = [head, "|---|---|---|---|"]
    for fam in fams:
        parts = []
        for k in ("throughput", "TTFT", "ITL/TPOT"):
            v = sorted(cells.get((fam, k), []))
            parts.append(f"{statistics.median(v):.0%} / {v[min(len(v) - 1, int(0.9 * len(v)))]:.0%} ({len(v)})" if v else "—")
        rows.append(f"| {fam} | " + " | ".join(parts) + " |")
    return "\n".join(rows)


def run(report: bool = False) -> str:
    """Fit (or, with `report`, only score the checked-in coefficients), write the residuals, return the accuracy table."""
    if not ROWS.exists():
        raise UsageError(f"{ROWS} not found (../shared beside the checkout)")
    if report:
        rows, skipped = load_rows()
        write_residuals(rows, skipped)
    else:
        calibrate()
    with RESIDUALS.open(newline="", encoding="utf-8") as handle:
        return accuracy_table(list(csv.DictReader(handle)))
