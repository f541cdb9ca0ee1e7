"""`list` (profiles at their operating point, cheapest first) and `benchmarks list` (every load point).

The store (pandas) is imported when a verb runs, so commands that do not read profiles start without it.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from profiles.catalog.catalog import Catalog, default_catalog
from profiles.catalog.workload import SHAREGPT, USE_CASES
from profiles.cli import giq
from profiles.cli.args import (
    ALL_WORKLOADS,
    buffer,
    choice,
    list_flags,
    positive,
    pricing_flags,
    resolve_version,
    store_flags,
    use_case_flag,
    verbs,
)
from profiles.cli.models import check_model
from profiles.cli.printers import Output, csv_text, num
from profiles.cli.resources import Listing, emit, table_text
from profiles.errors import UsageError, unknown
from profiles.selection.autoscaling import AUTO, DEFAULT_BUFFER, HpaSettings, hpa_settings
from profiles.selection.cost import gcloud_amount, token_cost
from profiles.selection.deployable import FOOTNOTE, FOOTNOTE_HIDDEN, REFERENCE_MARK, reference_reason
from profiles.selection.explain import explain
from profiles.selection.ranking import Candidate, Pricing, Targets, rank
from profiles.serving.servers import hpa_metric, hpa_metric_names
from profiles.serving.servers.vllm import VLLM
from profiles.store.points import GCLOUD_BENCHMARK_HEADER, STORE_HEADER, ProfilePoint
from profiles.store.write import point_to_row

if TYPE_CHECKING:
    import pandas as pd

    from profiles.store.store import ProfileStore

LIST_EXTRA_COLUMNS = ("$/h", "Input Tokens/s", "Precision", "Workload", "Source", "Deployable")  # --show-extras
LIST_COLUMNS = (*giq.PROFILE_TABLE_COLUMNS, *LIST_EXTRA_COLUMNS)
BENCHMARK_COLUMNS = (*STORE_HEADER, "Deployable")  # the store format plus the verdict (derived, never stored)
LENGTH_TOLERANCE = 0.2  # gcloud: "within 20% of the specified one"


def add_list(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model")
    p.add_argument("--model-server")
    p.add_argument("--model-server-version", default="latest",
                   help="latest (default, per configuration), all, or a version (v0.7.2 and 0.7.2 alike, tags such as gptoss)")
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
    list_flags(p, "profile (GIQ's table)", extras=True)
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
    list_flags(p, "csvprofile (gcloud's 17 CSV columns)", extras=True)
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
    try:
        version = resolve_version(args.model_server_version, set(keep.frame["model_server_version"]))
    except UsageError as exc:
        raise UsageError(f"{exc}{_version_elsewhere(store, args)}") from None
    return keep.select_versions(version)


def _version_elsewhere(store: ProfileStore, args: argparse.Namespace) -> str:
    """Where a version this selection lacks does have profiles for the model: other workloads (model-server-versions
    list shows every workload's versions; list ranks one)."""
    if not args.model:
        return ""
    others = store.where(model=args.model, model_server=args.model_server)
    try:  # the same spelling rules as the selection's (v-prefix, case)
        version = resolve_version(args.model_server_version, set(others.frame["model_server_version"]))
    except UsageError:
        return ""
    found = sorted({p.workload for p in others.select_versions(version).points()})
    return (f"; '{args.model_server_version}' has profiles of {args.model} for other workloads ({', '.join(found)}): "
            "pass --use-case all, or --target-input-length/--target-output-length")


def _within(values: pd.Series, target: int) -> pd.Series:
    """Lengths within gcloud's 20 % of the target (unknown lengths never are)."""
    return (values - target).abs() <= LENGTH_TOLERANCE * target


def _pricing(args: argparse.Namespace) -> Pricing:
    return Pricing(args.pricing_model, args.region or "", args.output_input_cost_ratio)


def _list_row(c: Candidate, reference: str) -> dict[str, str]:
    """The profile table's cells (GIQ's 16 columns, then ours)."""
    p = c.point
    return {
        "Instance Type": p.instance_type, "Accelerator": p.accelerator_type,
        "Cost/M Input Tokens": gcloud_amount(c.cost.per_million_input if c.cost else None),
        "Cost/M Output Tokens": gcloud_amount(c.cost.per_million_output if c.cost else None),
        "Output Tokens/s": num(p.output_tps), "NTPOT(ms)": num(p.ntpot_ms), "TTFT(ms)": num(p.ttft_ms),
        "ITL(ms)": num(p.itl_ms), "Model Server": p.model_server, "Model Server Version": p.model_server_version,
        "Model": p.model, "Use Case": p.use_case, "Average Input Length": num(p.input_length),
        "Average Output Length": num(p.output_length), "Serving Stack": p.serving_stack,
        "Serving Stack Version": p.serving_stack_version,
        "$/h": num(c.price.usd_per_hour if c.price else None, 2),
        "Input Tokens/s": num(p.input_tps), "Precision": p.precision, "Workload": p.workload,
        "Source": f"{p.provenance}:{p.source_id}" if p.source_id else p.provenance,
        "Deployable": REFERENCE_MARK if reference else "yes",
    }


def _list_resource(c: Candidate, reference: str, pricing: Pricing) -> dict:
    """A GIQ Profile at the operating point, our fields under `extension`."""
    p = c.point
    stats = giq.performance_stats(p, c.cost.per_million_output if c.cost else None,
                                  c.cost.per_million_input if c.cost else None, pricing.pricing_model, pricing.ratio)
    extension = giq.config_extension(p, reference) | {"operatingPoint": c.rule, "point": giq.point_extension(p)}
    price = giq.price_extension(c.price)
    if price:
        extension["price"] = price
    return giq.profile(p, [stats], extension)


def _csv_row(p: ProfilePoint, price, cost, reference: str) -> dict[str, str]:
    """gcloud's CSV printer row (the store format) with costs for the chosen pricing and the verdict."""
    return point_to_row(p) | {
        "Cost/M Input Tokens": gcloud_amount(cost.per_million_input if cost else None),
        "Cost/M Output Tokens": gcloud_amount(cost.per_million_output if cost else None),
        "Instance $/h": f"{price.usd_per_hour:g}" if price else "",
        "Deployable": REFERENCE_MARK if reference else "yes",
    }


def _printers(show_extras: bool, table_rows, csv_rows) -> dict:
    table_columns = LIST_COLUMNS if show_extras else giq.PROFILE_TABLE_COLUMNS
    csv_columns = BENCHMARK_COLUMNS if show_extras else GCLOUD_BENCHMARK_HEADER

    def profile(items: list) -> str:
        rows = [r for i in items for r in table_rows(i)]
        return table_text(table_columns, [[r.get(c, "") for c in table_columns] for r in rows]) if rows else ""

    def csvprofile(items: list) -> str:
        return csv_text([r for i in items for r in csv_rows(i)], csv_columns)

    return {"profile": profile, "csvprofile": csvprofile}


def _emit(args: argparse.Namespace, items: list, default: str, table_rows, csv_rows) -> tuple[str, list]:
    """The text and the items printed (after --sort-by, --filter, --limit)."""
    listing = Listing(items, lambda i: i["resource"], _printers(args.show_extras, table_rows, csv_rows), default,
                      table_as="profile", csv_as="csvprofile")
    text = emit(listing, args.format, args.filter, args.sort_by, args.limit, args.uri)
    return text, listing.kept


def _reference_note(args: argparse.Namespace, kept: list) -> list[str]:
    if not any(not i["resource"][giq.EXTENSION]["deployable"] for i in kept):
        return []
    return [FOOTNOTE if args.show_extras else FOOTNOTE_HIDDEN]


def _targets(args: argparse.Namespace) -> Targets:
    return Targets(args.target_ntpot_milliseconds, args.target_ttft_milliseconds, args.target_itl_milliseconds,
                   args.target_cost_per_million_output_tokens, args.target_cost_per_million_input_tokens)


def profiles_list(args: argparse.Namespace) -> Output:
    from profiles.store.store import ProfileStore

    store, catalog = ProfileStore.load(args.profiles_dir), default_catalog()
    check_model(store, catalog, args.model)
    _check_region(catalog, args.region)
    if args.model and args.model not in store.models():
        empty, _ = _emit(args, [], "profile", lambda i: [], lambda i: [])
        return Output(empty, f"{args.model} is in the catalog but has no profiles yet (no published or measured points; "
                          "add measured ones with --profiles-dir).\nListed 0 items.")
    targets = _targets(args)
    implicit_workload = args.use_case is None and not (args.target_input_length or args.target_output_length)
    if implicit_workload:
        args.use_case = SHAREGPT.use_case  # one workload per ranking: GIQ's default distribution
    ranking = rank(catalog, _filter(store, args, catalog).curves(), targets, _pricing(args))
    why = {id(c): w for c, w in ranking.set_aside}
    reference = rank(catalog, [c for c, _ in ranking.set_aside], targets, _pricing(args), reference=True)
    listed = [(c, "") for c in ranking.candidates] + [(c, why[id(c.curve)]) for c in reference.candidates]
    pricing = _pricing(args)
    items = [{"resource": _list_resource(c, r, pricing), "row": _list_row(c, r),
              "csv": _csv_row(c.point, c.price, c.cost, r)} for c, r in listed]
    text, kept = _emit(args, items, "profile", lambda i: [i["row"]], lambda i: [i["csv"]])
    notes = _reference_note(args, kept)
    if not ranking.candidates:
        if not ranking.excluded and not ranking.set_aside:
            notes.append(f"No profiles match these flags{' for ' + args.model if args.model else ''}.")
            if args.model and (implicit_workload or args.use_case != ALL_WORKLOADS):
                notes.append(_other_workloads(store, args.model))
        else:
            notes.append(explain(ranking, targets))
        if not kept:
            notes.append("Listed 0 items.")
    elif not kept:
        notes.append("Listed 0 items.")
    elif args.explain:
        notes.append(explain(ranking, targets))
        notes.append(f"HPA: {_hpa(args, ranking.candidates[0]).reason}.")
    return Output(text, "\n".join(notes))


def _other_workloads(store, model: str) -> str:
    """Which workloads the model does have profiles for, and the flags that list them (a measured fixed-length sweep)."""
    found = sorted({p.workload for p in store.where(model=model).points()})
    return (f"Profiles compete within one workload, {SHAREGPT.use_case} unless asked; {model} has profiles for: "
            f"{', '.join(found)}. Pass --use-case all, or --target-input-length/--target-output-length for fixed lengths.")


def _hpa(args: argparse.Namespace, winner: Candidate) -> HpaSettings:
    """The HPA the winner would get (--hpa-metric auto: queue or batch size from its curve)."""
    server = VLLM if args.hpa_metric == AUTO else hpa_metric(args.hpa_metric)[0]
    metric, why = server.resolve_hpa_metric(args.hpa_metric, winner.point)
    return hpa_settings(winner.point, metric, args.hpa_buffer, args.peak_qps, fallback=server.hpa_fallback(metric), why=why)


_TABLE_FROM_CSV = {"Accelerator": "Accelerator Type", "Model": "Model Name", "Model Server": "Model Server Name",
                   "NTPOT(ms)": "NTPOT (ms)", "TTFT(ms)": "TTFT (ms)", "ITL(ms)": "ITL (ms)", "$/h": "Instance $/h",
                   "Source": "Source Id"}


def _table_row(row: dict[str, str]) -> dict[str, str]:
    """A benchmark point in the profile table's columns (bare --format table)."""
    return {c: row.get(_TABLE_FROM_CSV.get(c, c), "") for c in LIST_COLUMNS}


def _curves(points: list[ProfilePoint]) -> list[list[ProfilePoint]]:
    """Consecutive points of one configuration, version and provenance: one GIQ Profile each."""
    groups: list[list[ProfilePoint]] = []
    for p in points:
        if groups and _curve_key(groups[-1][0]) == _curve_key(p):
            groups[-1].append(p)
        else:
            groups.append([p])
    return groups


def _curve_key(p: ProfilePoint) -> tuple:
    return (str(p.config_key), p.model_server_version, p.provenance)


def benchmarks_list(args: argparse.Namespace) -> Output:
    from profiles.store.store import ProfileStore

    store, catalog = ProfileStore.load(args.profiles_dir), default_catalog()
    check_model(store, catalog, args.model)
    _check_region(catalog, args.region)
    points = sorted(_filter(store, args, catalog).points(),
                    key=lambda p: (str(p.config_key), p.model_server_version, p.provenance, p.load_order))
    pricing = _pricing(args)
    items = []
    for curve in _curves(points):
        stats, rows, per_point = [], [], []
        reference = reference_reason(catalog, curve[0])
        for p in curve:
            price = catalog.price(p.instance_type, p.accelerator_count, pricing.pricing_model, pricing.region)
            cost = token_cost(price.usd_per_hour if price else None, p.output_tps, p.input_tps, pricing.ratio)
            stats.append(giq.performance_stats(p, cost.per_million_output if cost else None,
                                               cost.per_million_input if cost else None, pricing.pricing_model, pricing.ratio))
            rows.append(_csv_row(p, price, cost, reference_reason(catalog, p)))
            per_point.append(giq.point_extension(p))
        extension = giq.config_extension(curve[0], reference) | {"points": per_point}
        price = catalog.price(curve[0].instance_type, curve[0].accelerator_count, pricing.pricing_model, pricing.region)
        if price:
            extension["price"] = giq.price_extension(price)
        items.append({"resource": giq.profile(curve[0], stats, extension), "rows": rows})
    text, kept = _emit(args, items, "csvprofile", lambda i: [_table_row(r) for r in i["rows"]], lambda i: i["rows"])
    return Output(text, "\n".join(_reference_note(args, kept) or ([] if kept else ["Listed 0 items."])))
