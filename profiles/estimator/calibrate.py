"""Calibration (`make calibrate` / `make accuracy`): fit the estimator's efficiencies on published rows, score them honestly.

Rows: ../shared/data/published_measurements_normalized.csv plus profiles/data/published_measurements_extra.csv (same
columns, one source per row). A row is used when the catalog knows its model's shape and accelerator and it states its
input length; rows with speculative decoding or with prefix caching over multi-turn conversations are left out
(neither is modelled: both cut the work a TTFT or ITL measures), and so is the TTFT of rows run with vLLM 0.6's
multi-step scheduling (`--num-scheduler-steps`: a new request waits for the running window, which is not modelled).
Rows run with `--async-scheduling` are kept: vLLM 0.32.0, the version the estimator describes, enables it by default.
A row measured on a chip GKE does not offer (H100 PCIe) is scored against that chip's own figures
(calibration_accelerators.csv), not against the GKE chip the normalized file names. A ShareGPT run keeps the dataset's
length spread (GIQ's table), not its mean lengths. A row whose client counted raw prompt tokens while its server
applied the chat template (`vllm bench serve --backend openai-chat`) is simulated with the template's framing tokens
added to every prompt (chat_template_tokens.csv: 67 for gpt-oss's harmony header, a third of a ShareGPT prompt).

Rows of vLLM before 0.8 (the V0 engine) calibrate their own engine, 'vllm-v0', which nothing deploys: the V1 engine of
0.8 onwards is what a deployment runs, and V0's host overhead would otherwise be read as the chip's inefficiency.
Fit, per chip architecture x engine (A100-40GB and -80GB share Ampere's kernels, H100 and H200 Hopper's):
  1. the engine's pooled MFU, MBU, per-step overhead and MoE factor (expert GEMMs' efficiency relative to MFU;
     only rows of MoE models move it), by coordinate descent on a bounded grid minimising the median
     absolute percentage error over every published metric of the engine's rows;
  2. each architecture's own fit on its rows, started from the pool and then shrunk toward it:
     p = pool + n/(n + SHRINK_ROWS) x (own - pool), so one or two rows cannot make an H100 slower than an A100;
     a parameter whose own fit lands on a bound of GRID keeps the pool's value and the others are refitted with it
     held (rows the model cannot explain within physical efficiencies are not evidence of an efficiency).
Bounds are physical (reference performance-modeling.md §5). Accuracy is scored leave-one-source-out: every source
(a repository or a site) is held out in turn, the coefficients are refitted without its rows, and its rows are scored;
the in-sample table (rows scored by coefficients fitted on them) is reported beside it, labelled.
Server flags a row's benchmark set come from profiles/data/calibration_server_args.csv, each with its source.
Writes profiles/data/estimator_coefficients.csv, estimator_residuals.csv (in-sample) and estimator_cv_residuals.csv.
"""

from __future__ import annotations

import csv
import functools
import re
import statistics
import sys
from dataclasses import dataclass, replace

from profiles.catalog.catalog import Catalog, Shape, default_catalog
from profiles.catalog.csvdata import DATA_DIR, SHARED_DIR
from profiles.catalog.workload import SHAREGPT, fixed
from profiles.errors import UsageError
from profiles.estimator.estimate import COEFFICIENTS, Load, ServerArgs, coefficients, efficiency, estimate
from profiles.estimator.step_time import MODEL_VERSION, Efficiency

ROWS = SHARED_DIR / "data" / "published_measurements_normalized.csv"
EXTRA_ROWS = DATA_DIR / "published_measurements_extra.csv"
RESIDUALS = DATA_DIR / "estimator_residuals.csv"
CV_RESIDUALS = DATA_DIR / "estimator_cv_residuals.csv"
SERVER_ARGS = DATA_DIR / "calibration_server_args.csv"
CHAT_TEMPLATE_TOKENS = DATA_DIR / "chat_template_tokens.csv"
# Bounded to physically plausible values (reference performance-modeling.md §5: MBU 0.33-0.67 measured, MFU
# 0.25-0.46 offline): with 1-3 rows a group could otherwise "fit" a 0.2 MBU that makes batch-1 decode 3x too slow.
# moe: MoE expert GEMMs' efficiency relative to MFU (1: as fast as dense GEMMs); rows of dense models leave it at START.
GRID = {"mbu": [0.4, 0.5, 0.6, 0.7, 0.8, 0.9], "mfu": [0.25, 0.35, 0.45, 0.55, 0.65, 0.75],
        "overhead_ms": [0.5, 1, 2, 4, 8, 16], "moe": [0.25, 0.35, 0.5, 0.7, 1.0]}
START = {"mfu": 0.45, "mbu": 0.6, "overhead_ms": 2, "moe": 1.0}
PARAMS = tuple(START)
# What a chip architecture refits: its kernels' efficiencies. The per-step overhead is the host's and the engine's
# (scheduling, launches), not the chip's, so it stays the engine's pooled value: a fitted 2 ms on Hopper against 1 ms
# on Ampere would otherwise make a batch-1 H100 step slower than an A100 one.
CHIP_PARAMS = ("mfu", "mbu", "moe")
SHRINK_ROWS = 8  # an architecture's own fit weighs n/(n + 8) against its engine's pool (8: the leave-one-source-out optimum of 1, 4, 8, 16)
METRICS = {"output_tok_s": "output tok/s", "ttft_ms": "TTFT", "itl_ms": "ITL/TPOT", "ntpot_ms": "NTPOT"}
VLLM_V0 = "vllm-v0"  # calibration only: no deployment runs it, `estimate --model-server vllm` reads the 'vllm' rows
FIRST_V1_MINOR = 8  # vLLM 0.8.0 made V1 the default engine
# a vLLM version in a source: "vLLM v0.5.4", "vllm==0.6.3", "vllm-0.6.3", "vllm/vllm-openai:v0.6.3", "vllm-tpu:v0.7.3",
# "vLLM version 0.6.3", "vLLM, release 0.6.3", "vLLM (v0.7.3)", "vLLM 0.6" ("vLLM 0.5x slower" is no version);
# not "vLLM V1" or "VLLM_USE_V1=1"
VLLM_VERSION_TEXT = re.compile(r"vllm(?:[-_/](?:openai|tpu))?(?:,? (?:version|release))?(?:==|[ :(=-]+)v?(\d+)\.(\d+)(?![\dx%])")
MAX_PROMPTS = 1000  # a burst larger than this is simulated as 1000 prompts (the rate, not the count, matters)


@dataclass(frozen=True, eq=False)  # hashed by identity: load_rows() builds each row once
class Row:
    row_id: str
    arch: str
    engine: str
    args: tuple  # estimate() arguments: spec, shape, precision, workload, load, requests
    measured: dict[str, float]
    stat: dict[str, str]  # metric -> p50 | mean
    server: ServerArgs = ServerArgs(published=True)
    source_key: str = ""
    itl_per_token: bool = True  # itl_ms is vllm bench's ITL (a sample per streamed token), not a request's TPOT


def _engine(row_id: str, source: str) -> str:
    """The engine whose coefficients a row calibrates. vLLM before 0.8 ran the V0 engine (scheduling, input preparation
    and detokenization on the step's critical path); 0.8 made the rewritten V1 engine the default, and 0.32.0, what
    this project deploys, is V1. A row whose source names a V0 version (or says "vLLM V0 engine", with its evidence)
    calibrates 'vllm-v0', so its slowness is not charged to the chip it ran on; a vLLM row naming no version is V1
    (every such row is from 2025-2026). A source naming versions of both engines is a data error (exit 2)."""
    s = source.lower()
    for pattern, engine in ((r"tensorrt-llm", "trtllm"), (r"\bnim\b", "trtllm"), (r"sglang 0", "sglang"),
                            (r"jetstream", "jetstream")):
        if re.search(pattern, s):
            return engine
    versions = [f"{major}.{minor}" for major, minor in VLLM_VERSION_TEXT.findall(s)]
    engines = {vllm_engine(v) for v in versions} | ({VLLM_V0} if "vllm v0 engine" in s else set())
    if len(engines) > 1:
        raise UsageError(f"{row_id}: the source names vLLM versions of both engines ({', '.join(versions)}"
                         f"{', vLLM V0 engine' if 'vllm v0 engine' in s else ''}); allowed: versions before 0.8 (V0) or "
                         "from 0.8 (V1), not both")
    return engines.pop() if engines else "vllm"


def vllm_engine(version: str) -> str:
    """'vllm-v0' for a vLLM release before 0.8 ('v0.7.2', '0.6', 'vLLM 0.6.0'), else 'vllm' (V1; also a build tag such
    as GIQ's 'gptoss', vLLM 0.10.1's gpt-oss build)."""
    found = re.search(r"(?:^|[^\d.])v?0\.(\d+)", version.strip().lower())
    return VLLM_V0 if found and int(found.group(1)) < FIRST_V1_MINOR else "vllm"


def source_key(source: str) -> str:
    """The publisher a row comes from: `owner/repo` of a repository (forks of mlcommons results count as mlcommons),
    or the site of a URL. Leave-one-source-out holds out every row of one key together."""
    first = source.strip().split()[0].rstrip(";:,")
    if first.startswith("http"):
        parts = first.split("/")
        return "/".join(parts[2:4]) if "github.com" in first else parts[2]
    repo = first.split("@")[0].split(":")[0]
    return "mlcommons/inference_results" if "inference_results" in repo else repo


def _read(path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def load_server_args(known: set[str]) -> dict[str, ServerArgs]:
    """Per-row server flags; a row id the published files lack or a bad number is a data error (exit 2)."""
    out = {}
    with SERVER_ARGS.open(newline="", encoding="utf-8") as handle:
        for line, r in enumerate(csv.DictReader(handle), start=2):
            where = f"{SERVER_ARGS.name} line {line}"
            if r["row_id"] not in known:
                raise UsageError(f"{where}: row_id '{r['row_id']}' is not in {ROWS.name} or {EXTRA_ROWS.name}")
            if not r["source"] or r["confidence"] not in ("V", "U"):
                raise UsageError(f"{where}: every row needs a source and confidence V or U (got '{r['confidence']}')")
            try:
                num = {k: (float(r[k]) if k == "gpu_memory_utilization" else int(r[k])) if r[k] else None
                       for k in ("gpu_memory_utilization", "max_num_batched_tokens", "max_num_seqs", "max_model_len")}
            except ValueError as exc:
                raise UsageError(f"{where}: {exc}") from None
            out[r["row_id"]] = ServerArgs(r["kv_cache_dtype"] or "auto", **num, published=True)
    return out


@functools.cache
def chat_template_tokens() -> dict[str, int]:
    """Tokens a model's chat template adds to one user prompt; a bad row is a data error (exit 2)."""
    out = {}
    for line, r in enumerate(_read(CHAT_TEMPLATE_TOKENS), start=2):
        if not r["source"] or r["confidence"] not in ("V", "U") or not r["tokens"].isdigit():
            raise UsageError(f"{CHAT_TEMPLATE_TOKENS.name} line {line}: tokens must be a whole number with a source and "
                             f"confidence V or U (got tokens '{r['tokens']}', confidence '{r['confidence']}')")
        out[r["model"]] = int(r["tokens"])
    return out


def _prompts(low: str) -> int | None:
    found = re.search(r"--num-prompts (\d+)|(\d[\d,]*) (?:sharegpt )?(?:text )?(?:prompts|requests at)", low)
    return int((found.group(1) or found.group(2)).replace(",", "")) if found else None


@functools.cache
def calibration_catalog() -> Catalog:
    return default_catalog().with_calibration_hardware()


def _accelerator_type(r: dict[str, str], low: str) -> str:
    """The chip a row was measured on: the normalized files say nvidia-h100-80gb for H100 PCIe rows (GKE's only
    H100 is SXM, 3.35 TB/s); a source that names the PCIe card is scored against the PCIe card (2.0 TB/s)."""
    if r["accelerator_type"] == "nvidia-h100-80gb" and re.search(r"h100[ -]pcie", low):
        return "nvidia-h100-pcie-80gb"
    return r["accelerator_type"]


def load_rows() -> tuple[list[Row], list[str]]:
    catalog = calibration_catalog()
    used, skipped = [], []
    published = _read(ROWS) + (_read(EXTRA_ROWS) if EXTRA_ROWS.exists() else [])
    server_args = load_server_args({r["row_id"] for r in published})
    for r in published:
        rid, src = r["row_id"], r["source"]
        low = src.lower()
        why = None
        spec = catalog.models.get(r["model"])
        if spec is None or not spec.layers:
            why = "model shape unknown"
        elif _accelerator_type(r, low) not in catalog.accelerators:
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
        # ShareGPT runs (GIQ's 226/195, or a source naming the dataset) keep the dataset's length spread, which decides
        # how many sequences share a batch; fixed lengths only where the benchmark fixed them
        # (not where the run overrode the dataset's output lengths: --sharegpt-output-len)
        sharegpt = (r["input_len"], r["output_len"]) == ("226", "195") or (
            "sharegpt" in low and "random" not in low and "sharegpt-output-len" not in low)
        workload = SHAREGPT if sharegpt else fixed(int(float(r["input_len"])), int(float(r["output_len"])))
        if "openai-chat" in low and "client counts raw prompt tokens" in low:
            # the server prefills the chat template's framing as well as the prompt the client counted
            framing = chat_template_tokens()
            if spec.model not in framing:
                raise UsageError(f"{rid}: benchmarked through the chat endpoint, but {CHAT_TEMPLATE_TOKENS.name} has no "
                                 f"row for {spec.model}; add its chat template's tokens per prompt")
            workload = replace(workload, prompt_overhead=framing[spec.model])
        prompts = _prompts(low)
        n = min(prompts, MAX_PROMPTS) if prompts else None
        if r["load_type"] == "offline":
            load, n = Load("offline"), n or MAX_PROMPTS
        elif r["load_type"] == "concurrency":
            load = Load("concurrency", float(r["load_value"]) / replicas)
        else:
            load = Load("request_rate", float(r["load_value"]))
        shape = Shape("", _accelerator_type(r, low), count, "", 1)
        measured = {k: float(r[k]) for k in METRICS if r[k]}
        if "num-scheduler-steps" in low:  # multi-step scheduling holds a new request until the window ends: not modelled
            measured.pop("ttft_ms", None)
        if "output_tok_s" in measured:
            measured["output_tok_s"] /= replicas
        stat = {"ttft_ms": "mean" if re.search(r"ttft (and itl )?(are|is|=) (the )?mean", low) else "p50",
                "itl_ms": "mean" if re.search(r"ttft and itl are means|itl_ms = loadgen tpot mean", low) else "p50",
                "ntpot_ms": "mean"}
        # ITL unless the source says the column holds a TPOT (MLPerf's loadgen TPOT, vLLM 0.6 multi-step rows)
        tpot = bool(re.search(r"itl_ms = (median |loadgen )?tpot", low))
        used.append(Row(rid, catalog.accelerators[shape.accelerator_type].efficiency_group, _engine(rid, src),
                        (spec, shape, r["precision"], workload, load, n), measured, stat,
                        server_args.get(rid, ServerArgs(published=True)), source_key(src), not tpot))
    return used, skipped


def predict(row: Row, eff: Efficiency) -> dict[str, float] | str:
    spec, shape, precision, workload, load, n = row.args
    try:
        e = estimate(calibration_catalog(), spec, shape, precision, workload, load, engine=row.engine, eff=eff, requests=n,
                     server=row.server)
    except (UsageError, ValueError) as exc:
        return str(exc)
    itl = e.itl_token_ms if row.itl_per_token else e.itl_ms
    return {"output_tok_s": e.output_tps, "ttft_ms": e.ttft_ms[row.stat["ttft_ms"]],
            "itl_ms": itl[row.stat["itl_ms"]], "ntpot_ms": e.ntpot_ms[row.stat["ntpot_ms"]]}


@functools.cache
def _predict_cached(row: Row, mfu: float, mbu: float, overhead_ms: float, moe: float) -> dict[str, float] | str:
    return predict(row, Efficiency(row.arch, row.engine, mfu, mbu, overhead_ms, 0, "", moe))


def errors(rows: list[Row] | tuple[Row, ...], params: dict) -> list[float]:
    out = []
    for row in rows:
        pred = _predict_cached(row, *(params[k] for k in PARAMS))
        if isinstance(pred, str):
            out.append(1.0)
            continue
        out += [abs(pred[k] - v) / v for k, v in row.measured.items()]
    return out


def objective(errs: list[float]) -> tuple[float, float]:
    """What a fit minimises: the median absolute percentage error, ties broken by the mean."""
    return (statistics.median(errs), statistics.mean(errs))


@functools.cache
def fit_params(rows: tuple[Row, ...], start: tuple[float, ...], free: tuple[str, ...] = PARAMS) -> tuple[dict, float]:
    """Coordinate descent over GRID from `start` (values in PARAMS order), moving only the `free` parameters; returns
    the params and their median APE. One parameter at a time on a coarse grid: a joint MFU x MoE search finds lower
    in-sample medians (the vLLM pool at MFU 0.75, MoE 0.25, both bounds) that score worse left-one-source-out
    (ITL/TPOT 30 % against 19 %), so the simpler search is kept as the regulariser it is."""
    params = dict(zip(PARAMS, start, strict=True))

    def score(p: dict) -> tuple[float, float]:
        return objective(errors(rows, p))

    best = score(params)
    for _ in range(3):
        changed = False
        for name in free:
            for value in GRID[name]:
                trial = {**params, name: value}
                s = score(trial)
                if s < best:
                    best, params, changed = s, trial, True
        if not changed:
            break
    return params, best[0]


def fit_table(rows: list[Row]) -> dict[tuple[str, str], Efficiency]:
    """Engine pools, shrunk architecture fits and a ('*', '*') fallback (the median of the pools) for `rows`."""
    table: dict[tuple[str, str], Efficiency] = {}
    start = tuple(START[k] for k in PARAMS)
    for engine in sorted({r.engine for r in rows}):
        members = tuple(sorted((r for r in rows if r.engine == engine), key=lambda r: r.row_id))
        pool, ape = fit_params(members, start)
        ids = " ".join(r.row_id for r in members)
        table[("*", engine)] = Efficiency("*", engine, pool["mfu"], pool["mbu"], pool["overhead_ms"], len(members),
                                          moe=pool["moe"], source=f"pooled fit ({MODEL_VERSION}) on {ids}; median APE {ape:.1%}")
        for arch in sorted({r.arch for r in members}):
            own_rows = tuple(r for r in members if r.arch == arch)
            # a parameter pinned at a physical bound is not a measured efficiency: the rows ask for more than a chip
            # can give (something the model lacks), so it keeps the pool's value and the others are refitted with it
            # held there, until none lands on a bound (Ampere vLLM: MBU 0.9 on five gpt-oss rows and one Qwen3). An
            # engine pool is not subject to the rule: it has no coarser fit to fall back to.
            free, pinned = CHIP_PARAMS, []
            while True:
                own, own_ape = fit_params(own_rows, tuple(pool[k] for k in PARAMS), free)
                new = [k for k in free if own[k] in (min(GRID[k]), max(GRID[k])) and own[k] != pool[k]]
                if not new:
                    break
                pinned += [f"{k} {own[k]:g}" for k in new]
                free = tuple(k for k in free if k not in new)
                if not free:  # every chip parameter pinned: the pool itself, scored on these rows
                    own, own_ape = fit_params(own_rows, tuple(pool[k] for k in PARAMS), ())
                    break
            w = len(own_rows) / (len(own_rows) + SHRINK_ROWS)
            shrunk = {k: round(pool[k] + w * (own[k] - pool[k]), 4) for k in pool}
            note = f"; {', '.join(pinned)} at a grid bound: the pool's kept, the rest refitted" if pinned else ""
            table[(arch, engine)] = Efficiency(
                arch, engine, shrunk["mfu"], shrunk["mbu"], shrunk["overhead_ms"], len(own_rows),
                f"own fit on {' '.join(r.row_id for r in own_rows)} (MFU {own['mfu']:g}, MBU {own['mbu']:g}, "
                f"{own['overhead_ms']:g} ms/step, MoE {own['moe']:g}; median APE {own_ape:.1%}{note}) shrunk {w:.2f} "
                f"toward the {engine} pool",
                moe=shrunk["moe"])
    pools = [e for (a, engine), e in table.items() if a == "*" and engine != VLLM_V0] or \
        [e for (a, _), e in table.items() if a == "*"]  # V0 is never deployed: its pool counts only when it is all there is
    med = {k: statistics.median(getattr(e, k) for e in pools) for k in PARAMS}
    table[("*", "*")] = Efficiency("*", "*", med["mfu"], med["mbu"], med["overhead_ms"], 0,
                                   "median of the engine pools (an engine without rows)", moe=med["moe"])
    return table


def calibrate() -> None:
    rows, skipped = load_rows()
    table = fit_table(rows)
    for e in sorted(table.values(), key=lambda e: (e.engine, e.arch)):
        print(f"{e.arch:>10} {e.engine:<9} rows {e.rows:>2}: MFU {e.mfu:<6} MBU {e.mbu:<6} overhead {e.overhead_ms:>6} ms/step"
              f" MoE {e.moe:<6}",
              file=sys.stderr)
    with COEFFICIENTS.open("w", newline="", encoding="utf-8") as handle:
        w = csv.writer(handle, lineterminator="\n")
        w.writerow(["arch", "engine", "mfu", "mbu", "overhead_ms", "moe", "rows", "source"])
        for e in sorted(table.values(), key=lambda e: (e.engine, e.arch)):
            w.writerow([e.arch, e.engine, e.mfu, e.mbu, e.overhead_ms, e.moe, e.rows, e.source])
    coefficients.cache_clear()  # residuals below must use the file just written
    write_residuals(RESIDUALS, residuals(rows))
    print(f"skipped: {'; '.join(skipped)}", file=sys.stderr)


def _lines(row: Row, eff: Efficiency, scoring: str) -> list[dict[str, str]]:
    pred = predict(row, eff)
    out = []
    for metric, value in row.measured.items():
        est = None if isinstance(pred, str) else pred[metric]
        out.append({"row_id": row.row_id, "arch": row.arch, "engine": row.engine, "source_key": row.source_key,
                    "metric": metric, "statistic": row.stat.get(metric, "p50") if metric != "output_tok_s" else "",
                    "measured": f"{value:.6g}", "estimated": "" if est is None else f"{est:.6g}",
                    "abs_pct_error": "" if est is None else f"{abs(est - value) / value:.4f}",
                    "coefficients": f"{eff.arch}/{eff.engine} MFU {eff.mfu:g} MBU {eff.mbu:g} {eff.overhead_ms:g} ms/step "
                                    f"MoE {eff.moe:g}",
                    "note": pred if isinstance(pred, str) else "",
                    "source": f"measured: published row {row.row_id}; estimated: {MODEL_VERSION}, {scoring}"})
    return out


def residuals(rows: list[Row]) -> list[dict[str, str]]:
    """In-sample: every row scored with the checked-in coefficients (fitted on it)."""
    return [line for row in rows for line in _lines(row, efficiency(row.arch, row.engine), "in-sample")]


def cv_residuals(rows: list[Row]) -> list[dict[str, str]]:
    """Leave-one-source-out: each source's rows scored by coefficients refitted without that source."""
    out = []
    for key in sorted({r.source_key for r in rows}):
        table = fit_table([r for r in rows if r.source_key != key])
        for row in (r for r in rows if r.source_key == key):
            out += _lines(row, efficiency(row.arch, row.engine, table), f"fitted without source {key}")
    return out


def write_residuals(path, lines: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        w = csv.DictWriter(handle, fieldnames=list(lines[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(lines)


def accuracy_table(lines: list[dict[str, str]]) -> str:
    """Median and p90 APE per architecture for throughput, TTFT and ITL/TPOT (NTPOT counted with ITL/TPOT)."""
    kinds = {"output_tok_s": "throughput", "ttft_ms": "TTFT", "itl_ms": "ITL/TPOT", "ntpot_ms": "ITL/TPOT"}
    cells: dict[tuple[str, str], list[float]] = {}
    for line in lines:
        if not line["abs_pct_error"]:
            continue
        value = float(line["abs_pct_error"])
        for group in (f"{line['arch']} {line['engine']}", "all"):
            cells.setdefault((group, kinds[line["metric"]]), []).append(value)
    groups = sorted({g for g, _ in cells} - {"all"}) + ["all"]
    head = "| architecture engine | " + " | ".join(f"{k} median / p90 (n)" for k in ("throughput", "TTFT", "ITL/TPOT")) + " |"
    rows = [head, "|---|---|---|---|"]
    for group in groups:
        parts = []
        for k in ("throughput", "TTFT", "ITL/TPOT"):
            v = sorted(cells.get((group, k), []))
            parts.append(f"{statistics.median(v):.0%} / {v[min(len(v) - 1, int(0.9 * len(v)))]:.0%} ({len(v)})" if v else "—")
        rows.append(f"| {group} | " + " | ".join(parts) + " |")
    return "\n".join(rows)


def run(report: bool = False) -> str:
    """Fit (or, with `report`, only score the checked-in coefficients); write both residual files; return both tables."""
    if not ROWS.exists():
        raise UsageError(f"{ROWS} not found (../shared beside the checkout)")
    rows, _ = load_rows()
    if report:
        write_residuals(RESIDUALS, residuals(rows))
    else:
        calibrate()
    write_residuals(CV_RESIDUALS, cv_residuals(rows))
    return ("Leave-one-source-out (each source scored by coefficients fitted without it):\n"
            f"{accuracy_table(_read(CV_RESIDUALS))}\n\n"
            "In-sample (scored on the rows the coefficients were fitted on; optimistic):\n"
            f"{accuracy_table(_read(RESIDUALS))}")
