"""`estimate`: one estimated load point for a model on N accelerators (stable CLI contract, see README)."""

from __future__ import annotations

import argparse
import json

from profiles.catalog.catalog import default_catalog
from profiles.catalog.workload import fixed
from profiles.cli.args import choice, positive
from profiles.cli.printers import Output, table
from profiles.errors import UsageError
from profiles.estimator.estimate import Load, default_precision, estimate, provenance

JSON_KEYS = ("output_tokens_per_second", "input_tokens_per_second", "queries_per_second", "ttft_ms", "ntpot_ms", "itl_ms")


def add_estimate(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, help="catalog model or a path to a Hugging Face config.json")
    p.add_argument("--accelerator-type", required=True)
    p.add_argument("--accelerator-count", type=positive(int), required=True, help="GPUs or TPU chips of one replica")
    p.add_argument("--precision", type=choice(("bf16", "fp8", "int8")), help="weights (default: the checkpoint's, else bf16)")
    p.add_argument("--input-length", type=positive(int), required=True)
    p.add_argument("--output-length", type=positive(int), required=True)
    load = p.add_mutually_exclusive_group(required=True)
    load.add_argument("--concurrency", type=positive(int))
    load.add_argument("--request-rate", type=positive(float), help="Poisson arrivals, req/s")
    load.add_argument("--offline", action="store_true", help="every request at once (saturation)")
    p.add_argument("--format", type=choice(("json", "table")), default="table")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=estimate_command)


ADDERS = {"estimate": add_estimate}


def estimate_command(args: argparse.Namespace) -> Output:
    catalog = default_catalog()
    spec = catalog.model(args.model)
    catalog.accelerator(args.accelerator_type)
    shape = catalog.shape(args.accelerator_type, args.accelerator_count)
    if shape is None or shape.vms > 1:
        counts = catalog.single_host_counts(args.accelerator_type)
        raise UsageError(f"--accelerator-count: value '{args.accelerator_count}' has no single-host GKE shape for "
                         f"{args.accelerator_type}; allowed: {', '.join(map(str, counts))}")
    if not spec.layers or not spec.kv_bytes_per_token:
        raise UsageError(f"--model: '{spec.model}' has no layer/KV shape in the catalog; pass its config.json")
    precision = args.precision or default_precision(spec)
    load = (Load("concurrency", args.concurrency) if args.concurrency else
            Load("request_rate", args.request_rate) if args.request_rate else Load("offline"))
    e = estimate(catalog, spec, shape, precision, fixed(args.input_length, args.output_length), load, seed=args.seed)
    values = {"output_tokens_per_second": e.output_tps, "input_tokens_per_second": e.input_tps, "queries_per_second": e.qps,
              "ttft_ms": e.ttft_ms["p50"], "ntpot_ms": e.ntpot_ms["p50"], "itl_ms": e.itl_ms["p50"]}
    note = (f"{spec.model} ({precision}) on {shape.accelerator_count} x {shape.accelerator_type} ({shape.machine_type}); "
            f"KV cache {e.kv_capacity_tokens:,} tokens; {e.requests} simulated requests; {provenance(e.efficiency)}")
    if args.format == "json":
        return Output(json.dumps({k: round(values[k], 4) for k in JSON_KEYS}) + "\n", note)
    row = {k: f"{v:,.1f}" for k, v in values.items()}
    row.update({"ttft_p90_ms": f"{e.ttft_ms['p90']:,.1f}", "ntpot_p90_ms": f"{e.ntpot_ms['p90']:,.1f}",
                "num_requests_waiting": f"{e.num_requests_waiting:.2f}", "num_requests_running": f"{e.num_requests_running:.2f}",
                "kv_cache_usage_perc": f"{e.kv_cache_usage_perc:.3f}"})
    return Output(table([row], list(row)), note)
