"""`list` (profiles at their operating point, cheapest first) and `benchmarks list` (every load point)."""

from __future__ import annotations

import argparse

from profiles.catalog.catalog import Catalog, default_catalog
from profiles.cli.args import USE_CASES, choice, format_flag, positive, pricing_flags, store_flags, use_case_flag, verbs
from profiles.cli.models import check_model
from profiles.cli.printers import Output, num, render
from profiles.errors import UsageError, unknown
from profiles.selection.autoscaling import DEFAULT_BUFFER, DEFAULT_HPA_METRIC, HPA_METRICS, recommend
from profiles.selection.cost import gcloud_amount, token_cost
from profiles.selection.explain import explain
from profiles.selection.ranking import Candidate, Pricing, Targets, rank
from profiles.store.store import STORE_HEADER, ProfilePoint, ProfileStore, point_to_row, select_versions

LIST_COLUMNS = ("Instance Type", "Accelerator", "Cost/M Input Tokens", "Cost/M Output Tokens", "Output Tokens/s",
                "NTPOT(ms)", "TTFT(ms)", "ITL(ms)", "Model Server", "Model Server Version", "Model",
                "$/h", "Input Tokens/s", "Precision", "Workload", "Source")
LENGTH_TOLERANCE = 0.2  # gcloud: "within 20% of the specified one"


def add_list_parser(groups) -> None:
    p = groups.add_parser("list", help="profiles at their operating point, cheapest first")
    p.add_argument("--model")
    p.add_argument("--model-server")
    p.add_argument("--model-server-version", default="latest", help="latest (default, per configuration), all, or a version")
    p.add_argument("--accelerator-type")
    pricing_flags(p)
    for name in ("ntpot", "ttft", "itl"):
        p.add_argument(f"--target-{name}-milliseconds", type=positive(int), metavar="MS",
                       help=f"p50 {name.upper()} target; only points meeting it qualify")
    p.add_argument("--target-cost-per-million-output-tokens", type=positive(float), metavar="USD")
    p.add_argument("--target-cost-per-million-input-tokens", type=positive(float), metavar="USD")
    use_case_flag(p, help=f"one of: {', '.join(USE_CASES)}")
    p.add_argument("--target-input-length", type=positive(int), metavar="TOKENS", help="with --target-output-length: within 20%%")
    p.add_argument("--target-output-length", type=positive(int), metavar="TOKENS", help="with --target-input-length: within 20%%")
    p.add_argument("--explain", action="store_true", help="print why the first row won (and HPA settings) to stderr")
    p.add_argument("--hpa-metric", type=choice(tuple(HPA_METRICS)), default=DEFAULT_HPA_METRIC)
    p.add_argument("--hpa-buffer", type=float, default=DEFAULT_BUFFER, help="fraction below the operating-point value (default 0.2)")
    p.add_argument("--peak-qps", type=positive(float), help="expected peak QPS, for initial replicas in --explain")
    store_flags(p)
    format_flag(p, "table")
    p.set_defaults(run=profiles_list)


def add_benchmarks_parser(groups) -> None:
    p = verbs(groups, "benchmarks", "benchmark points").add_parser("list", help="every load point (CSV, gcloud's header first)")
    p.add_argument("--model", required=True)
    p.add_argument("--model-server", required=True)
    p.add_argument("--model-server-version", default="latest")
    p.add_argument("--instance-type")
    use_case_flag(p)
    pricing_flags(p)
    store_flags(p)
    format_flag(p, "csv")
    p.set_defaults(run=benchmarks_list)


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
    check_model(store, catalog, args.model)
    _check_region(catalog, args.region)
    if args.model and args.model not in store.models():
        return Output("", f"{args.model} is in the catalog but has no profiles yet (no published or measured points; "
                          "add measured ones with --profiles-dir).\nListed 0 items.")
    targets = _targets(args)
    ranking = rank(catalog, _filter(store.points, args, catalog), targets, _pricing(args))
    rows = [_list_row(c) for c in ranking.candidates]
    text = render(rows, [_list_record(c) for c in ranking.candidates], LIST_COLUMNS, args.format)
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
    check_model(store, catalog, args.model)
    _check_region(catalog, args.region)
    points = sorted(_filter(store.points, args, catalog), key=lambda p: (str(p.config_key), p.model_server_version, p.load_order))
    pricing = _pricing(args)
    rows = [_benchmark_row(p, catalog, pricing) for p in points]
    note = "" if rows else "Listed 0 items."
    return Output(render(rows, rows, STORE_HEADER, args.format), note)
