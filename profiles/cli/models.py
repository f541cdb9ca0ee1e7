"""`models list|describe`, `model-servers list`, `model-server-versions list`: what the catalog and the store hold."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import TYPE_CHECKING

from profiles.catalog.catalog import Catalog, default_catalog
from profiles.cli.args import format_flag, list_flags, store_flags, verbs
from profiles.cli.printers import Output, render
from profiles.cli.resources import Listing, emit
from profiles.errors import unknown

if TYPE_CHECKING:  # the store (pandas) is imported when a verb runs
    from profiles.store.store import ProfileStore


def add_models(command: argparse.ArgumentParser) -> None:
    models = verbs(command)
    p = models.add_parser("list", help="list models that have profiles (--catalog: every catalog model)")
    p.add_argument("--catalog", action="store_true", help="every catalog model with its architecture, profiled or not")
    store_flags(p)
    list_flags(p, "gcloud's 'Supported models:' list")
    p.set_defaults(run=models_list)
    p = models.add_parser("describe", help="architecture of a catalog model or a local config.json")
    p.add_argument("--model", required=True, help="Hugging Face id or path to config.json / model directory")
    format_flag(p, "yaml")
    p.set_defaults(run=models_describe)


def add_model_servers(command: argparse.ArgumentParser) -> None:
    p = verbs(command).add_parser("list", help="model servers with profiles for a model")
    p.add_argument("--model", required=True)
    store_flags(p)
    list_flags(p, "gcloud's 'Supported model servers:' list")
    p.set_defaults(run=model_servers_list)


def add_model_server_versions(command: argparse.ArgumentParser) -> None:
    p = verbs(command).add_parser("list", help="versions with profiles, newest first")
    p.add_argument("--model", required=True)
    p.add_argument("--model-server", required=True)
    store_flags(p)
    list_flags(p, "gcloud's 'Supported model server versions:' list")
    p.set_defaults(run=model_server_versions_list)


def add_use_cases(command: argparse.ArgumentParser) -> None:
    p = verbs(command).add_parser("list", help="use cases (workload specs) with their average lengths")
    store_flags(p)
    list_flags(p, "table(useCase, averageInputLength, averageOutputLength)")
    p.set_defaults(run=use_cases_list)


ADDERS = {"models": add_models, "model-servers": add_model_servers, "model-server-versions": add_model_server_versions,
          "use-case": add_use_cases, "use-cases": add_use_cases}


def names_output(args: argparse.Namespace, names: list[str], what: str) -> Output:
    """gcloud's Display for these verbs ("Supported models:" then "-  name" lines); --format prints the strings."""
    def supported(items: list) -> str:
        if not items:
            return f"No supported {what} found.\n"
        return f"Supported {what}:\n" + "".join(f"-  {n}\n" for n in items)

    def lines(items: list) -> str:
        return "".join(f"{n}\n" for n in items)

    def yaml_docs(items: list) -> str:
        return "".join(f"--- {n}\n" for n in items)

    listing = Listing(list(names), lambda n: n, {"supported": supported, "lines": lines, "yaml": yaml_docs}, "supported",
                      table_as="lines", csv_as="lines", value_as="lines")
    return Output(emit(listing, args.format, args.filter, args.sort_by, args.limit, args.uri))


def check_model(store: ProfileStore, catalog: Catalog, model: str | None) -> None:
    """A model flag names a profiled or a catalog model."""
    if model and model not in store.models() and model not in catalog.models:
        raise unknown("--model", model, set(store.models()) | set(catalog.models))


def models_list(args: argparse.Namespace) -> Output:
    from profiles.store.store import ProfileStore

    store, catalog = ProfileStore.load(args.profiles_dir), default_catalog()
    profiled = store.models()
    if not args.catalog:
        return names_output(args, profiled, "models")
    counts = store.frame["model"].value_counts().to_dict()
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
    from profiles.cli.printers import csv_text
    from profiles.cli.resources import table_text

    printers = {"table": lambda items: table_text(columns, [[r[c] for c in columns] for r, _ in items]) if items else "",
                "csv": lambda items: csv_text([r for r, _ in items], columns)}
    listing = Listing(list(zip(rows, records, strict=True)), lambda i: i[1], printers, "table", table_as="table",
                      csv_as="csv")
    return Output(emit(listing, args.format, args.filter, args.sort_by, args.limit, args.uri))


def models_describe(args: argparse.Namespace) -> Output:
    spec = default_catalog().model(args.model)
    record = asdict(spec)
    rows = [{"Field": k, "Value": "N/A" if v is None else str(v)} for k, v in record.items()]
    return Output(render(rows, [record], ("Field", "Value"), args.format))


def model_servers_list(args: argparse.Namespace) -> Output:
    from profiles.store.store import ProfileStore

    store = ProfileStore.load(args.profiles_dir)
    check_model(store, default_catalog(), args.model)
    return names_output(args, store.model_servers(args.model), "model servers")


def model_server_versions_list(args: argparse.Namespace) -> Output:
    from profiles.store.store import ProfileStore

    store = ProfileStore.load(args.profiles_dir)
    check_model(store, default_catalog(), args.model)
    servers = store.model_servers(args.model)
    if args.model_server not in servers:
        raise unknown("--model-server", args.model_server, servers)
    return names_output(args, store.versions(args.model, args.model_server), "model server versions")


def use_cases_list(args: argparse.Namespace) -> Output:
    """GIQ's FetchUseCases: one WorkloadSpec per use case, its average lengths from the profiles that carry it."""
    from profiles.catalog.workload import USE_CASES
    from profiles.cli.giq import whole
    from profiles.store.store import ProfileStore

    frame = ProfileStore.load(args.profiles_dir).frame
    specs = []
    for use_case in USE_CASES:
        rows = frame[frame["use_case"] == use_case]
        spec: dict[str, object] = {"useCase": use_case}
        for field, column in (("averageInputLength", "input_length"), ("averageOutputLength", "output_length")):
            mean = rows[column].dropna().mean() if len(rows) else None
            if mean is not None and mean == mean:
                spec[field] = whole(float(mean))
        specs.append(spec)
    listing = Listing(specs, lambda s: s, {}, "table(useCase, averageInputLength, averageOutputLength)")
    return Output(emit(listing, args.format, args.filter, args.sort_by, args.limit, args.uri))
