"""`models list|describe`, `model-servers list`, `model-server-versions list`: what the catalog and the store hold."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import TYPE_CHECKING

from profiles.catalog.catalog import Catalog, default_catalog
from profiles.cli.args import format_flag, store_flags, verbs
from profiles.cli.printers import Output, render
from profiles.errors import unknown

if TYPE_CHECKING:  # the store (pandas) is imported when a verb runs
    from profiles.store.store import ProfileStore


def add_models(command: argparse.ArgumentParser) -> None:
    models = verbs(command)
    p = models.add_parser("list", help="list models that have profiles (--catalog: every catalog model)")
    p.add_argument("--catalog", action="store_true", help="every catalog model with its architecture, profiled or not")
    store_flags(p)
    format_flag(p, "table")
    p.set_defaults(run=models_list)
    p = models.add_parser("describe", help="architecture of a catalog model or a local config.json")
    p.add_argument("--model", required=True, help="Hugging Face id or path to config.json / model directory")
    format_flag(p, "yaml")
    p.set_defaults(run=models_describe)


def add_model_servers(command: argparse.ArgumentParser) -> None:
    p = verbs(command).add_parser("list", help="model servers with profiles for a model")
    p.add_argument("--model", required=True)
    store_flags(p)
    p.set_defaults(run=model_servers_list)


def add_model_server_versions(command: argparse.ArgumentParser) -> None:
    p = verbs(command).add_parser("list", help="versions with profiles, newest first")
    p.add_argument("--model", required=True)
    p.add_argument("--model-server", required=True)
    store_flags(p)
    p.set_defaults(run=model_server_versions_list)


ADDERS = {"models": add_models, "model-servers": add_model_servers, "model-server-versions": add_model_server_versions}


def check_model(store: ProfileStore, catalog: Catalog, model: str | None) -> None:
    """A model flag names a profiled or a catalog model."""
    if model and model not in store.models() and model not in catalog.models:
        raise unknown("--model", model, set(store.models()) | set(catalog.models))


def models_list(args: argparse.Namespace) -> Output:
    from profiles.store.store import ProfileStore

    store, catalog = ProfileStore.load(args.profiles_dir), default_catalog()
    profiled = store.models()
    if not args.catalog:
        return Output(render([{"Model": m} for m in profiled], [{"model": m} for m in profiled], ("Model",), args.format))
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
    return Output(render(rows, records, columns, args.format))


def models_describe(args: argparse.Namespace) -> Output:
    spec = default_catalog().model(args.model)
    record = asdict(spec)
    rows = [{"Field": k, "Value": "N/A" if v is None else str(v)} for k, v in record.items()]
    return Output(render(rows, [record], ("Field", "Value"), args.format))


def model_servers_list(args: argparse.Namespace) -> Output:
    from profiles.store.store import ProfileStore

    store = ProfileStore.load(args.profiles_dir)
    check_model(store, default_catalog(), args.model)
    return Output("".join(f"{s}\n" for s in store.model_servers(args.model)))


def model_server_versions_list(args: argparse.Namespace) -> Output:
    from profiles.store.store import ProfileStore

    store = ProfileStore.load(args.profiles_dir)
    check_model(store, default_catalog(), args.model)
    servers = store.model_servers(args.model)
    if args.model_server not in servers:
        raise unknown("--model-server", args.model_server, servers)
    return Output("".join(f"{v}\n" for v in store.versions(args.model, args.model_server)))
