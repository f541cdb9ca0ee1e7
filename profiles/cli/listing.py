"""`list` (profiles at their operating point, cheapest first) and `benchmarks list` (every load point).

The store (pandas) is imported when a verb runs, so commands that do not read profiles start without it.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from profiles.catalog.catalog import Catalog, default_catalog
from profiles.catalog.workload import SHAREGPT, USE_CASES
from profiles.cli.args import (
    ALL_WORKLOADS,
    buffer,
    choice,
    format_flag,
    positive,
    pricing_flags,
    store_flags,
    use_case_flag,
    verbs,
)
from profiles.cli.models import check_model
from profiles.cli.printers import Output, num, render
from profiles.errors import UsageError, unknown
from profiles.selection.autoscaling import AUTO, DEFAULT_BUFFER, HpaSettings, hpa_settings
from profiles.selection.cost import gcloud_amount, token_cost
from profiles.selection.deployable import FOOTNOTE, REFERENCE_MARK, reference_reason
from profiles.selection.explain import explain
from profiles.selection.ranking import Candidate, Pricing, Targets, rank
from profiles.serving.servers import hpa_metric, hpa_metric_names
from profiles.serving.servers.vllm import VLLM
from profiles.store.points import STORE_HEADER, ProfilePoint
from profiles.store.write import point_to_row

if TYPE_CHECKING:
    import pandas as pd

    from profiles.store.store import ProfileStore

LIST_COLUMNS = ("Instance Type", "Accelerator", "Cost/M Input Tokens", "Cost/M Output Tokens", "Output Tokens/s",
                "NTPOT(ms)", "TTFT(ms)", "ITL(ms)", "Model Server", "Model Server Version", "Model",
                "$/h", "Input Tokens/s", "Precision", "Workload", "Source", "Deployable")
BENCHMARK_COLUMNS = (*STORE_HEADER, "Deployable")  # the store format plus the verdict (derived, never stored)
LENGTH_TOLERANCE = 0.2  # gcloud: "within 20% of the specified one"


def add_list(p: argparse.ArgumentParser) -> None:
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
    use_case_flag(p, every=True, help=f"one of: {', '.join(USE_CASES)}; default {SHAREGPT.use_case} unless lengths are "
                  f"given; {ALL_WORKLOADS}: every workload in one ranking")
    p.add_argument("--target-input-length", type=positive(int), metavar="TOKENS", help="with --target-output-length: within 20%%")
    p.add_argument("--target-output-length", type=positive(int), metavar="TOKENS", help="with --target-input-length: within 20%%")
    p.add_argument("--explain", action="store_true", help="print why the first row won (and HPA settings) to stderr")
    p.add_argument("--hpa-metric", type=choice(hpa_metric_names()), default=VLLM.default_hpa_metric)
    p.add_argument("--hpa-buffer", type=buffer, default=DEFAULT_BUFFER, help="fraction below the operating-point value (default 0.2)")
    p.add_argument("--peak-qps", type=positive(float), help="expected peak QPS, for initial replicas in --explain")
    store_flags(p)
    format_flag(p, "table")
    p.set_defaults(run=profiles_list)


def add_benchmarks(command: argparse.ArgumentParser) -> None:
    p = verbs(command).add_parser("list", help="every load point (CSV, gcloud's header first)")
    p.add_argument("--model", required=True)
    p.add_argument("--model-server", required=True)
    p.add_argument("--model-server-version", default="latest")
    p.add_argument("--instance-type")
    use_case_flag(p, every=True, help="only this workload (default: every workload)")
    pricing_flags(p)
    store_flags(p)
    format_flag(p, "csv")
    p.set_defaults(run=benchmarks_list)


ADDERS = {"list": add_list, "benchmarks": add_benchmarks}


def _check_region(catalog: Catalog, region: str | None) -> None:
    regions = {r for m in catalog.machine_types.values() for r in m.regions}
    if region and region not in regions:
        raise unknown("--region", region, regions)


def _filter(store: ProfileStore, args: argparse.Namespace, catalog: Catalog) -> ProfileStore:
    """Flag filters common to `list` and `benchmarks list`, then model-server-version selection."""
    accelerator, instance = getattr(args, "accelerator_type", None), getattr(args, "instance_type", None)
    if accelerator:
        catalog.accelerator(accelerator)
    if instance and instance not in catalog.machine_types:
        raise unknown("--instance-type", instance, catalog.machine_types)
    servers = set(store.where(model=args.model).frame["model_server"])
    if args.model_server and args.model_server not in servers:
        raise unknown("--model-server", args.model_server, servers)
    use_case = None if args.use_case == ALL_WORKLOADS else args.use_case
    keep = store.where(model=args.model, model_server=args.model_server, accelerator_type=accelerator, instance_type=instance,
                       use_case=use_case)
    if args.region:
        offered = [m.machine_type for m in catalog.machine_types.values() if args.region in m.regions]
        keep = keep.mask(keep.frame["instance_type"].isin(offered))
    lengths = (getattr(args, "target_input_length", None), getattr(args, "target_output_length", None))
    if any(lengths):
        if not all(lengths):
            raise UsageError("--target-input-length and --target-output-length: each only works alongside the other")
        frame = keep.frame
        keep = keep.mask(_within(frame["input_length"], lengths[0]) & _within(frame["output_length"], lengths[1]))
    versions = set(keep.frame["model_server_version"])
    if args.model_server_version not in ("latest", "all") and args.model_server_version not in versions:
        raise unknown("--model-server-version", args.model_server_version, versions | {"latest", "all"})
    return keep.select_versions(args.model_server_version)


def _within(values: pd.Series, target: int) -> pd.Series:
    """Lengths within gcloud's 20 % of the target (unknown lengths never are)."""
    return (values - target).abs() <= LENGTH_TOLERANCE * target


def _pricing(args: argparse.Namespace) -> Pricing:
    return Pricing(args.pricing_model, args.region or "", args.output_input_cost_ratio)


def _list_row(c: Candidate, reference: str) -> dict[str, str]:
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
        "Deployable": REFERENCE_MARK if reference else "yes",
    }


def _list_record(c: Candidate, reference: str) -> dict[str, object]:
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
        "source": p.source, "derived": p.derived or None, "setup": p.setup, "deployable": not reference,
        "referenceOnly": reference or None,
    }


def _targets(args: argparse.Namespace) -> Targets:
    return Targets(args.target_ntpot_milliseconds, args.target_ttft_milliseconds, args.target_itl_milliseconds,
                   args.target_cost_per_million_output_tokens, args.target_cost_per_million_input_tokens)


def profiles_list(args: argparse.Namespace) -> Output:
    from profiles.store.store import ProfileStore

    store, catalog = ProfileStore.load(args.profiles_dir), default_catalog()
    check_model(store, catalog, args.model)
    _check_region(catalog, args.region)
    if args.model and args.model not in store.models():
        return Output("", f"{args.model} is in the catalog but has no profiles yet (no published or measured points; "
                          "add measured ones with --profiles-dir).\nListed 0 items.")
    targets = _targets(args)
    if args.use_case is None and not (args.target_input_length or args.target_output_length):
        args.use_case = SHAREGPT.use_case  # one workload per ranking: GIQ's default distribution
    ranking = rank(catalog, _filter(store, args, catalog).curves(), targets, _pricing(args))
    why = {id(c): w for c, w in ranking.set_aside}
    reference = rank(catalog, [c for c, _ in ranking.set_aside], targets, _pricing(args), reference=True)
    listed = [(c, "") for c in ranking.candidates] + [(c, why[id(c.curve)]) for c in reference.candidates]
    rows = [_list_row(c, r) for c, r in listed]
    text = render(rows, [_list_record(c, r) for c, r in listed], LIST_COLUMNS, args.format)
    notes = [FOOTNOTE] if reference.candidates else []
    if not ranking.candidates:
        if not ranking.excluded and not ranking.set_aside:
            notes.append(f"No profiles match these flags{' for ' + args.model if args.model else ''}.")
        else:
            notes.append(explain(ranking, targets))
        if not reference.candidates:
            notes.append("Listed 0 items.")
    elif args.explain:
        notes.append(explain(ranking, targets))
        notes.append(f"HPA: {_hpa(args, ranking.candidates[0]).reason}.")
    return Output(text, "\n".join(notes))


def _hpa(args: argparse.Namespace, winner: Candidate) -> HpaSettings:
    """The HPA the winner would get (--hpa-metric auto: queue or batch size from its curve)."""
    server = VLLM if args.hpa_metric == AUTO else hpa_metric(args.hpa_metric)[0]
    metric, why = server.resolve_hpa_metric(args.hpa_metric, winner.point)
    return hpa_settings(winner.point, metric, args.hpa_buffer, args.peak_qps, fallback=server.hpa_fallback(metric), why=why)


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
    from profiles.store.store import ProfileStore

    store, catalog = ProfileStore.load(args.profiles_dir), default_catalog()
    check_model(store, catalog, args.model)
    _check_region(catalog, args.region)
    points = sorted(_filter(store, args, catalog).points(), key=lambda p: (str(p.config_key), p.model_server_version, p.load_order))
    pricing = _pricing(args)
    reasons = [reference_reason(catalog, p) for p in points]
    rows = [_benchmark_row(p, catalog, pricing) | {"Deployable": REFERENCE_MARK if r else "yes"}
            for p, r in zip(points, reasons, strict=True)]
    note = FOOTNOTE if any(reasons) else ("" if rows else "Listed 0 items.")
    return Output(render(rows, rows, BENCHMARK_COLUMNS, args.format), note)
