"""`estimate`: one estimated load point for a model on N accelerators (stable CLI contract, see README)."""

from __future__ import annotations

import argparse
import json

from profiles.catalog.catalog import Accelerator, default_catalog
from profiles.catalog.modelspec import ModelSpec
from profiles.catalog.workload import SHAREGPT, Workload, fixed
from profiles.cli.args import bounded_int, choice, fraction, positive
from profiles.cli.printers import Output, table
from profiles.errors import UsageError
from profiles.estimator.estimate import VLLM_VERSION, Load, ServerArgs, default_precision, estimate, provenance
from profiles.serving.sizing import DoesNotFit, check_batched_tokens

# The first six are the stable contract (external checks read them, in this order); the rest were added after.
JSON_KEYS = ("output_tokens_per_second", "input_tokens_per_second", "queries_per_second", "ttft_ms", "ntpot_ms", "itl_ms",
             "ttft_ms_mean", "itl_ms_mean", "num_requests_waiting", "num_requests_running", "kv_cache_usage_perc",
             "ttft_p90_ms", "ntpot_p90_ms")
# --model-server (as GIQ and the profile store spell it) -> the estimator's engine key (its coefficient rows)
ENGINES = {"vllm": "vllm", "sglang": "sglang", "tensorrt-llm": "trtllm", "jetstream": "jetstream"}
# Servers that run on one platform only; the rest (vLLM, SGLang) run on GPUs and TPUs.
PLATFORMS = {"tensorrt-llm": "gpu", "jetstream": "tpu"}
DATASETS = ("sharegpt",)


MIN_RATE = 0.001  # req/s: one request per 1,000 s; far slower arrivals lose the step times to float rounding
MAX_PROMPTS = 100_000  # simulated requests: time and memory grow linearly (about 3 s and 160 MB at the cap)


def request_rate(text: str) -> float:
    """Poisson req/s; 'inf' sends every request at once, as `vllm bench serve --request-rate inf` (= --offline)."""
    if text.strip().lower() in ("inf", "infinity"):
        return float("inf")
    value = positive(float)(text)
    if value < MIN_RATE:
        raise argparse.ArgumentTypeError(f"value '{text}' is below {MIN_RATE:g} req/s (one request per "
                                         f"{1 / MIN_RATE:,.0f} s); allowed: {MIN_RATE:g} or more, or inf")
    return value


def add_estimate(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, help="catalog model or a path to a Hugging Face config.json")
    p.add_argument("--accelerator-type", required=True)
    p.add_argument("--accelerator-count", type=positive(int), required=True, help="GPUs or TPU chips of one replica")
    p.add_argument("--precision", type=choice(("bf16", "fp8", "int8")), help="weights (default: the checkpoint's, else bf16)")
    p.add_argument("--model-server", type=choice(tuple(ENGINES)), default="vllm",
                   help=f"{' | '.join(ENGINES)} (default vllm): whose fitted step-time coefficients are used")
    work = p.add_argument_group("workload: --dataset, or fixed --input-length with --output-length")
    work.add_argument("--dataset", type=choice(DATASETS, {"sharegpt-like": "sharegpt"}),
                      help="sharegpt: GIQ's ShareGPT length table (the default when no lengths are given)")
    work.add_argument("--input-length", type=positive(int), metavar="TOKENS", help="fixed prompt length (with --output-length)")
    work.add_argument("--output-length", type=positive(int), metavar="TOKENS", help="fixed output length (with --input-length)")
    load = p.add_mutually_exclusive_group(required=True)
    load.add_argument("--concurrency", type=positive(int))
    load.add_argument("--request-rate", type=request_rate, help="Poisson arrivals, req/s (inf = every request at once)")
    load.add_argument("--offline", action="store_true", help="every request at once (saturation)")
    p.add_argument("--num-prompts", type=positive(int, MAX_PROMPTS), metavar="N",
                   help="simulated requests (with --offline: a burst of N prompts, as vllm bench's --num-prompts); "
                        "default: the estimator's choice for the load")
    server = p.add_argument_group("server flags (vLLM's; default: vLLM's own for the accelerator and the memory fit)")
    server.add_argument("--max-num-seqs", type=positive(int), metavar="N", help="sequences in one batch")
    server.add_argument("--max-num-batched-tokens", type=positive(int), metavar="N", help="token budget of one step")
    server.add_argument("--kv-cache-dtype", type=choice(("auto", "fp8")), default="auto",
                        help="auto (the model's dtype) or fp8 (half the bytes per token: twice the KV cache)")
    server.add_argument("--gpu-memory-utilization", type=fraction, metavar="X",
                        help="share of accelerator memory vLLM may use, 0 < X <= 1 (default 0.90, else 0.95 if needed)")
    server.add_argument("--max-model-len", type=positive(int), metavar="TOKENS",
                        help="longest prompt + output a request may have (default: the workload's longest request)")
    p.add_argument("--format", type=choice(("json", "table")), default="table")
    p.add_argument("--seed", type=bounded_int(0, 2**31 - 1), default=0)
    p.set_defaults(run=estimate_command)


ADDERS = {"estimate": add_estimate}


def _workload(args: argparse.Namespace) -> Workload:
    """--dataset sharegpt (the default) or fixed --input-length/--output-length, never both, never one length."""
    given = [(flag, value) for flag, value in (("--input-length", args.input_length), ("--output-length", args.output_length))
             if value is not None]
    if args.dataset and given:
        flag, value = given[0]
        raise UsageError(f"--dataset: value '{args.dataset}' cannot be combined with fixed lengths ({flag} {value}); "
                         "allowed: --dataset sharegpt, or --input-length with --output-length")
    if len(given) == 1:
        flag, value = given[0]
        other = "--output-length" if flag == "--input-length" else "--input-length"
        raise UsageError(f"{flag}: value '{value}' needs {other} too (fixed lengths take both); "
                         "or give neither for --dataset sharegpt")
    return fixed(args.input_length, args.output_length) if given else SHAREGPT


def _describe_longest(workload: Workload) -> str:
    if workload.input_dist and workload.output_dist:
        return (f"{workload.longest_request():,} tokens (the ShareGPT table's longest {workload.input_dist.knots[-1]:,.0f} "
                f"prompt + {workload.output_dist.knots[-1]:,.0f} output)")
    return f"{workload.longest_request():,} tokens (--input-length {workload.input_length} + --output-length {workload.output_length})"


def _check_lengths(args: argparse.Namespace, spec: ModelSpec, workload: Workload) -> None:
    """Every request must fit --max-model-len, and --max-model-len (or the request) the model's context."""
    longest = workload.longest_request()
    context = spec.max_context
    if args.max_model_len is not None:
        if context and args.max_model_len > context:
            raise UsageError(f"--max-model-len: value '{args.max_model_len}' exceeds {spec.model}'s context of {context:,} "
                             f"tokens; allowed: {longest} to {context}")
        if args.max_model_len < longest:
            allowed = f"{longest} to {context}" if context else f">= {longest}"
            raise UsageError(f"--max-model-len: value '{args.max_model_len}' is shorter than the longest request, "
                             f"{_describe_longest(workload)}; allowed: {allowed}, or shorter requests")
    elif context and longest > context:
        raise UsageError(f"--input-length/--output-length: the longest request, {_describe_longest(workload)}, exceeds "
                         f"{spec.model}'s context of {context:,} tokens")


def _check_scheduler(args: argparse.Namespace, acc: Accelerator) -> None:
    """vLLM refuses max-num-batched-tokens < max-num-seqs (each running sequence needs its decode token in a step).
    Without --max-num-seqs the estimate sizes the slots the way a deployment does, at most --max-num-batched-tokens."""
    if args.max_num_seqs is None:
        check_batched_tokens(args.max_num_batched_tokens)
        return
    defaults = default_catalog().scheduler_defaults(VLLM_VERSION, acc.accelerator_type)
    seqs = args.max_num_seqs
    tokens = args.max_num_batched_tokens or defaults.max_num_batched_tokens
    if tokens < seqs:
        if args.max_num_batched_tokens:
            raise UsageError(f"--max-num-batched-tokens: value '{tokens}' is below --max-num-seqs {seqs}; allowed: >= {seqs}")
        raise UsageError(f"--max-num-seqs: value '{seqs}' is above max-num-batched-tokens (vLLM {VLLM_VERSION}'s default "
                         f"on {acc.accelerator_type}) {tokens}; allowed: <= {tokens}, or raise --max-num-batched-tokens")


def _memory_context(args: argparse.Namespace, workload: Workload) -> str:
    """What sized the one sequence the KV cache must hold, and the memory flags given (for a does-not-fit error)."""
    parts = [f"--max-model-len {args.max_model_len}" if args.max_model_len else f"longest request {_describe_longest(workload)}"]
    if args.gpu_memory_utilization:
        parts.append(f"--gpu-memory-utilization {args.gpu_memory_utilization:g} (a higher share leaves more for the cache)")
    if args.kv_cache_dtype != "auto":
        parts.append(f"--kv-cache-dtype {args.kv_cache_dtype}")
    if args.max_num_batched_tokens:
        parts.append(f"--max-num-batched-tokens {args.max_num_batched_tokens} (its forward pass's activations are runtime)")
    return "; ".join(parts)


def estimate_command(args: argparse.Namespace) -> Output:
    workload = _workload(args)
    catalog = default_catalog()
    spec = catalog.model(args.model)
    acc = catalog.accelerator(args.accelerator_type)
    platform = PLATFORMS.get(args.model_server)
    if platform and acc.kind != platform:
        allowed = [s for s in ENGINES if PLATFORMS.get(s, acc.kind) == acc.kind]
        raise UsageError(f"--model-server: value '{args.model_server}' runs on {platform.upper()}s only, not on "
                         f"{args.accelerator_type}; allowed: {', '.join(allowed)}")
    shape = catalog.shape(args.accelerator_type, args.accelerator_count)
    if shape is None or shape.vms > 1:
        counts = catalog.single_host_counts(args.accelerator_type)
        raise UsageError(f"--accelerator-count: value '{args.accelerator_count}' has no single-host GKE shape for "
                         f"{args.accelerator_type}; allowed: {', '.join(map(str, counts))}")
    if not spec.layers or not spec.kv_bytes_per_token:
        raise UsageError(f"--model: '{spec.model}' has no layer/KV shape in the catalog; pass its config.json")
    _check_lengths(args, spec, workload)
    _check_scheduler(args, acc)
    precision = args.precision or default_precision(spec)
    rate = args.request_rate
    load = (Load("concurrency", args.concurrency) if args.concurrency else
            Load("request_rate", rate) if rate and rate != float("inf") else Load("offline"))
    server = ServerArgs(kv_cache_dtype=args.kv_cache_dtype, gpu_memory_utilization=args.gpu_memory_utilization,
                        max_num_batched_tokens=args.max_num_batched_tokens, max_num_seqs=args.max_num_seqs,
                        max_model_len=args.max_model_len)
    try:
        e = estimate(catalog, spec, shape, precision, workload, load, engine=ENGINES[args.model_server], seed=args.seed,
                     requests=args.num_prompts, server=server)
    except DoesNotFit as exc:  # the memory fit: one max-model-len sequence does not fit the KV cache (with numbers)
        raise UsageError(f"--accelerator-count: value '{args.accelerator_count}' x {args.accelerator_type}: "
                         f"{exc.detail} [{_memory_context(args, workload)}]") from None
    except ValueError as exc:  # the simulator: a request the KV cache cannot hold (the checks above should prevent it)
        raise UsageError(f"estimate: {exc} [{_memory_context(args, workload)}]; use more accelerators, "
                         "--kv-cache-dtype fp8 or shorter requests") from None
    values = {"output_tokens_per_second": e.output_tps, "input_tokens_per_second": e.input_tps, "queries_per_second": e.qps,
              "ttft_ms": e.ttft_ms["p50"], "ntpot_ms": e.ntpot_ms["p50"], "itl_ms": e.itl_ms["p50"],
              "ttft_ms_mean": e.ttft_ms["mean"], "itl_ms_mean": e.itl_ms["mean"],
              "num_requests_waiting": e.num_requests_waiting, "num_requests_running": e.num_requests_running,
              "kv_cache_usage_perc": e.kv_cache_usage_perc, "ttft_p90_ms": e.ttft_ms["p90"], "ntpot_p90_ms": e.ntpot_ms["p90"]}
    lengths = "ShareGPT lengths" if workload is SHAREGPT else f"{workload.input_length}/{workload.output_length} tokens"
    kv = f" ({args.kv_cache_dtype})" if args.kv_cache_dtype != "auto" else ""
    note = (f"{spec.model} ({precision}) on {shape.accelerator_count} x {shape.accelerator_type} ({shape.machine_type}), "
            f"{args.model_server}; KV cache {e.kv_capacity_tokens:,} tokens{kv}, max-num-seqs {e.max_num_seqs}; "
            f"{e.requests} simulated requests, {lengths}; "
            f"{provenance(e.efficiency)}")
    if args.format == "json":
        return Output(json.dumps({k: round(values[k], 4) for k in JSON_KEYS}) + "\n", note)
    row = {k: f"{values[k]:,.1f}" for k in JSON_KEYS[:6]}
    row.update({"ttft_p90_ms": f"{e.ttft_ms['p90']:,.1f}", "ntpot_p90_ms": f"{e.ntpot_ms['p90']:,.1f}",
                "ttft_ms_mean": f"{e.ttft_ms['mean']:,.1f}", "itl_ms_mean": f"{e.itl_ms['mean']:,.1f}",
                "num_requests_waiting": f"{e.num_requests_waiting:.2f}", "num_requests_running": f"{e.num_requests_running:.2f}",
                "kv_cache_usage_perc": f"{e.kv_cache_usage_perc:.3f}"})
    return Output(table([row], list(row)), note)
