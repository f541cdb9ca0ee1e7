"""The CLI verbs: each takes parsed args and returns text for stdout plus an optional stderr note."""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass

from profiles.catalog import Catalog, default_catalog
from profiles.cost import gcloud_amount, token_cost
from profiles.errors import UsageError, unknown
from profiles.explain import explain
from profiles.hpa import recommend
from profiles.printers import csv_text, num, structured, table
from profiles.selection import Candidate, Pricing, Targets, rank
from profiles.store import STORE_HEADER, ProfilePoint, ProfileStore, point_to_row, select_versions

LIST_COLUMNS = ("Instance Type", "Accelerator", "Cost/M Input Tokens", "Cost/M Output Tokens", "Output Tokens/s",
                "NTPOT(ms)", "TTFT(ms)", "ITL(ms)", "Model Server", "Model Server Version", "Model",
                "$/h", "Input Tokens/s", "Precision", "Workload", "Source")
LENGTH_TOLERANCE = 0.2  # gcloud: "within 20% of the specified one"


@dataclass(frozen=True)
class Output:
    text: str
    note: str = ""


def _render(rows: list[dict[str, str]], records: list[dict[str, object]], columns, fmt: str) -> str:
    if fmt == "table":
        return table(rows, columns) if rows else ""
    if fmt == "csv":
        return csv_text(rows, columns)
    return structured(records, fmt)


# ---- validation shared by the verbs ------------------------------------------------------------
def _check_model(store: ProfileStore, catalog: Catalog, model: str | None) -> None:
    if model and model not in store.models() and model not in catalog.models:
        raise unknown("--model", model, set(store.models()) | set(catalog.models))


def _check_region(catalog: Catalog, region: str | None) -> None:
    regions = {r for m in catalog.machine_types.values() for r in m.regions}
    if region and region not in regions:
        raise unknown("--region", region, regions)


def _filter(points: list[ProfilePoint], args: argparse.Namespace, catalog: Catalog) -> list[ProfilePoint]:
    """Flag filters common to `list` and `benchmarks list`, then model-server-version selection."""
    if getattr(args, "accelerator_type", None):
        catalog.accelerator(args.accelerator_type)
    if getattr(args, "instance_type", None) and args.instance_type not in catalog.machine_types:
        raise unknown("--instance-type", args.instance_type, catalog.machine_types)
    servers = {p.model_server for p in points if not args.model or p.model == args.model}
    if args.model_server and args.model_server not in servers:
        raise unknown("--model-server", args.model_server, servers)
    keep = [p for p in points
            if (not args.model or p.model == args.model)
            and (not args.model_server or p.model_server == args.model_server)
            and (not getattr(args, "accelerator_type", None) or p.accelerator_type == args.accelerator_type)
            and (not getattr(args, "instance_type", None) or p.instance_type == args.instance_type)
            and (not args.use_case or p.use_case == args.use_case)
            and (not args.region or _offered(catalog, p.instance_type, args.region))]
    lengths = (getattr(args, "target_input_length", None), getattr(args, "target_output_length", None))
    if any(lengths):
        if not all(lengths):
            raise UsageError("--target-input-length and --target-output-length: each only works alongside the other")
        keep = [p for p in keep if _within(p.input_length, lengths[0]) and _within(p.output_length, lengths[1])]
    versions = {p.model_server_version for p in keep}
    if args.model_server_version not in ("latest", "all") and args.model_server_version not in versions:
        raise unknown("--model-server-version", args.model_server_version, versions | {"latest", "all"})
    return select_versions(keep, args.model_server_version)


def _offered(catalog: Catalog, machine_type: str, region: str) -> bool:
    machine = catalog.machine_types.get(machine_type)
    return machine is not None and region in machine.regions


def _within(value: float | None, target: int) -> bool:
    return value is not None and abs(value - target) <= LENGTH_TOLERANCE * target


def _pricing(args: argparse.Namespace) -> Pricing:
    return Pricing(args.pricing_model, args.region or "", args.output_input_cost_ratio)


# ---- verbs ---------------------------------------------------------------------------------------
def models_list(args: argparse.Namespace) -> Output:
    store, catalog = ProfileStore.load(args.profiles_dir), default_catalog()
    profiled = store.models()
    if not args.catalog:
        return Output(_render([{"Model": m} for m in profiled], [{"model": m} for m in profiled], ("Model",), args.format))
    counts = {m: sum(1 for p in store.points if p.model == m) for m in profiled}
    columns = ("Model", "Architecture", "Params (B)", "Active (B)", "Layers", "KV Heads", "Head Dim", "Max Context",
               "KV KiB/token", "Dtype", "GIQ", "Profile Points", "Confidence")
    rows, records = [], []
    for spec in sorted(catalog.models.values(), key=lambda s: s.model):
        kv = spec.kv_bytes_per_token
        rows.append({"Model": spec.model, "Architecture": spec.architecture, "Params (B)": f"{spec.total_params_b:g}",
                     "Active (B)": f"{spec.active_params_b:g}", "Layers": str(spec.layers or "N/A"),
                     "KV Heads": str(spec.kv_heads or "N/A"), "Head Dim": str(spec.head_dim or "N/A"),
                     "Max Context": str(spec.max_context or "N/A"), "KV KiB/token": f"{kv / 1024:g}" if kv else "N/A",
                     "Dtype": spec.default_dtype, "GIQ": "yes" if spec.giq else "no",
                     "Profile Points": str(counts.get(spec.model, 0)), "Confidence": spec.confidence})
        records.append(asdict(spec) | {"profile_points": counts.get(spec.model, 0)})
    return Output(_render(rows, records, columns, args.format))


def models_describe(args: argparse.Namespace) -> Output:
    spec = default_catalog().model(args.model)
    record = asdict(spec)
    rows = [{"Field": k, "Value": "N/A" if v is None else str(v)} for k, v in record.items()]
    return Output(_render(rows, [record], ("Field", "Value"), args.format))


def model_servers_list(args: argparse.Namespace) -> Output:
    store = ProfileStore.load(args.profiles_dir)
    _check_model(store, default_catalog(), args.model)
    return Output("".join(f"{s}\n" for s in store.model_servers(args.model)))


def model_server_versions_list(args: argparse.Namespace) -> Output:
    store = ProfileStore.load(args.profiles_dir)
    _check_model(store, default_catalog(), args.model)
    servers = store.model_servers(args.model)
    if args.model_server not in servers:
        raise unknown("--model-server", args.model_server, servers)
    return Output("".join(f"{v}\n" for v in store.versions(args.model, args.model_server)))


def _list_row(c: Candidate) -> dict[str, str]:
    p = c.point
    return {
        "Instance Type": p.instance_type, "Accelerator": p.accelerator_type,
        "Cost/M Input Tokens": gcloud_amount(c.cost.per_million_input if c.cost else None),
        "Cost/M Output Tokens": gcloud_amount(c.cost.per_million_output if c.cost else None),
        "Output Tokens/s": num(p.output_tps), "NTPOT(ms)": num(p.ntpot_ms), "TTFT(ms)": num(p.ttft_ms),
        "ITL(ms)": num(p.itl_ms), "Model Server": p.model_server, "Model Server Version": p.model_server_version,
        "Model": p.model, "$/h": num(c.price.usd_per_hour if c.price else None, 2),
        "Input Tokens/s": num(p.input_tps), "Precision": p.precision, "Workload": p.workload,
        "Source": f"{p.provenance}:{p.source_id}" if p.source_id else p.provenance,
    }


def _list_record(c: Candidate) -> dict[str, object]:
    p = c.point
    return {
        "instanceType": p.instance_type, "acceleratorType": p.accelerator_type, "acceleratorCount": p.accelerator_count,
        "tpuTopology": p.tpu_topology or None, "model": p.model, "modelServer": p.model_server,
        "modelServerVersion": p.model_server_version, "precision": p.precision, "useCase": p.use_case or None,
        "averageInputLength": p.input_length, "averageOutputLength": p.output_length,
        "outputTokensPerSecond": p.output_tps, "inputTokensPerSecond": p.input_tps, "queriesPerSecond": p.qps,
        "ntpotMilliseconds": p.ntpot_ms, "ttftMilliseconds": p.ttft_ms, "itlMilliseconds": p.itl_ms,
        "costPerMillionOutputTokens": c.cost.per_million_output if c.cost else None,
        "costPerMillionInputTokens": c.cost.per_million_input if c.cost else None,
        "usdPerHour": c.price.usd_per_hour if c.price else None,
        "pricingModel": c.price.pricing_model if c.price else None, "priceRegion": c.price.region if c.price else None,
        "priceSource": c.price.row.source if c.price else None, "operatingPoint": c.rule,
        "loadType": p.load_type, "loadValue": p.load_value, "provenance": p.provenance, "sourceId": p.source_id,
        "source": p.source, "derived": p.derived or None,
    }


def _targets(args: argparse.Namespace) -> Targets:
    return Targets(args.target_ntpot_milliseconds, args.target_ttft_milliseconds, args.target_itl_milliseconds,
                   args.target_cost_per_million_output_tokens, args.target_cost_per_million_input_tokens)


def profiles_list(args: argparse.Namespace) -> Output:
    store, catalog = ProfileStore.load(args.profiles_dir), default_catalog()
    _check_model(store, catalog, args.model)
    _check_region(catalog, args.region)
    if args.model and args.model not in store.models():
        return Output("", f"{args.model} is in the catalog but has no profiles yet (no published or measured points; "
                          "add measured ones with --profiles-dir).\nListed 0 items.")
    targets = _targets(args)
    ranking = rank(catalog, _filter(store.points, args, catalog), targets, _pricing(args))
    rows = [_list_row(c) for c in ranking.candidates]
    text = _render(rows, [_list_record(c) for c in ranking.candidates], LIST_COLUMNS, args.format)
    notes = []
    if not ranking.candidates:
        if not ranking.excluded:
            notes.append(f"No profiles match these flags{' for ' + args.model if args.model else ''}.")
        else:
            notes.append(explain(ranking, targets))
        notes.append("Listed 0 items.")
    elif args.explain:
        notes.append(explain(ranking, targets))
        plan = recommend(ranking.candidates[0].point, args.hpa_metric, args.hpa_buffer, args.peak_qps)
        notes.append(f"HPA: {plan.reason}.")
    return Output(text, "\n".join(notes))


def _benchmark_row(p: ProfilePoint, catalog: Catalog, pricing: Pricing) -> dict[str, str]:
    """The store row of a point with its price and costs filled in for the chosen pricing."""
    price = catalog.price(p.instance_type, p.accelerator_count, pricing.pricing_model, pricing.region)
    cost = token_cost(price.usd_per_hour if price else None, p.output_tps, p.input_tps, pricing.ratio)
    return point_to_row(p) | {
        "Cost/M Input Tokens": gcloud_amount(cost.per_million_input if cost else None),
        "Cost/M Output Tokens": gcloud_amount(cost.per_million_output if cost else None),
        "Instance $/h": f"{price.usd_per_hour:g}" if price else "",
    }


def benchmarks_list(args: argparse.Namespace) -> Output:
    store, catalog = ProfileStore.load(args.profiles_dir), default_catalog()
    _check_model(store, catalog, args.model)
    _check_region(catalog, args.region)
    points = sorted(_filter(store.points, args, catalog), key=lambda p: (str(p.config_key), p.model_server_version, p.load_order))
    pricing = _pricing(args)
    rows = [_benchmark_row(p, catalog, pricing) for p in points]
    note = "" if rows else "Listed 0 items."
    return Output(_render(rows, rows, STORE_HEADER, args.format), note)
