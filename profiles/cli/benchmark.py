"""`benchmark run`: measure an OpenAI-compatible endpoint and turn the curve into a measured profile.

Every flag is checked before the first request, so bad input exits 2 having sent nothing and written
nothing. The command prints the stage table and the chosen points; the files are listed on stderr.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
from pathlib import Path
from typing import TYPE_CHECKING

from profiles import checks
from profiles.catalog.catalog import default_catalog
from profiles.catalog.workload import SHAREGPT, fixed, from_jsonl
from profiles.cli.args import bounded_int, buffer, choice, positive, verbs
from profiles.cli.printers import Output, table
from profiles.errors import Stopped, UsageError
from profiles.selection.ranking import Targets
from profiles.store.points import PRECISIONS

if TYPE_CHECKING:  # the harness (httpx, asyncio) loads only when `benchmark run` runs: other commands stay fast
    from profiles.harness.report import Analysis, Hardware
    from profiles.harness.run import RunConfig

APIS = ("completions", "chat")
GRACE_S = 10.0  # after SIGINT/SIGTERM, requests in flight get this long to finish

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m)?$")


def duration(text: str) -> float:
    """'120', '120s', '2m' or '500ms' as seconds (argparse type)."""
    match = _DURATION.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"value '{text}' is not a duration; allowed: seconds like 120, 120s, 2m, 500ms")
    value = float(match.group(1)) * {"ms": 0.001, "s": 1.0, "m": 60.0, None: 1.0}[match.group(2)]
    return value


def number_list(kind: type):
    def convert(text: str) -> tuple:
        try:
            values = tuple(kind(v) for v in text.split(",") if v.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"value '{text}' is not a comma-separated list of numbers") from None
        if not values or any(v <= 0 for v in values):
            raise argparse.ArgumentTypeError(f"value '{text}' must list numbers greater than 0")
        return values
    convert.__name__ = f"list of {kind.__name__}"
    return convert


def add_benchmark(command: argparse.ArgumentParser) -> None:
    bench = verbs(command)
    p = bench.add_parser("run", help="load an OpenAI-compatible endpoint stage by stage; write a measured profile")
    p.add_argument("--endpoint", required=True, help="base URL, e.g. http://127.0.0.1:8000 (kubectl port-forward)")
    p.add_argument("--model", required=True, help="served model name; also the profile's model (use the HF id)")
    p.add_argument("--api", type=choice(APIS), default="completions", help="completions (default) or chat")
    load = p.add_mutually_exclusive_group()
    load.add_argument("--request-rates", type=number_list(float), metavar="R1,R2,…", help="Poisson request rates (req/s)")
    load.add_argument("--sweep", type=choice(("auto",)), help="auto: burst probe for saturation, then rates up to and past it")
    p.add_argument("--concurrency", type=number_list(int), metavar="C1,C2,…", help="fixed in-flight requests per stage")
    p.add_argument("--duration", type=duration, default=120.0, help="measured time per stage (default 120s)")
    p.add_argument("--num-prompts", type=positive(int), metavar="N",
                   help="request-rate stages send exactly N requests instead of lasting --duration (as vllm bench serve)")
    p.add_argument("--warmup", type=duration, default=10.0, help="time per stage sent but not measured (default 10s)")
    p.add_argument("--dataset", help="sharegpt-like (GIQ's ShareGPT length table, the default without fixed lengths) "
                                      "or a .jsonl file")
    p.add_argument("--input-length", type=positive(int), metavar="TOKENS", help="fixed input length (with --output-length)")
    p.add_argument("--output-length", type=positive(int), metavar="TOKENS", help="fixed output length (with --input-length)")
    p.add_argument("--metrics-url", help="Prometheus endpoint to scrape per stage (vLLM: <endpoint>/metrics)")
    p.add_argument("--tokenizer", metavar="PATH", help="local tokenizer.json (or model dir) instead of the server's /tokenize")
    p.add_argument("--seed", type=bounded_int(0, 2**31 - 1), default=0)
    p.add_argument("--workers", type=positive(int), default=1,
                   help="load-generator processes sharing each stage's schedule (default 1; one per spare core)")
    p.add_argument("--sweep-points", type=positive(int), default=8, help="stages of --sweep auto (default 8)")
    p.add_argument("--probe-requests", type=positive(int), default=64, help="burst size of the saturation probe (default 64)")
    p.add_argument("--request-timeout", type=duration, default=600.0, help="per request (default 600s); late ones count as timed out")
    p.add_argument("--output", metavar="DIR", help="results directory (default benchmark-runs/<UTC time>)")
    p.add_argument("--profiles-dir", metavar="DIR", help="also write the curve there as a measured profile (needs --accelerator-type)")
    p.add_argument("--accelerator-type", help="what the endpoint runs on (catalog label, e.g. nvidia-l4, tpu-v6e-slice)")
    p.add_argument("--accelerator-count", type=positive(int), default=1, help="accelerators per replica (default 1)")
    p.add_argument("--instance-type", help="machine type (default: the catalog's default shape for the count)")
    p.add_argument("--precision", type=choice(PRECISIONS), default="bf16")
    p.add_argument("--model-server", default="vllm")
    for name in ("ntpot", "ttft", "itl"):
        p.add_argument(f"--target-{name}-milliseconds", type=positive(int), metavar="MS", help=f"p50 {name.upper()} target")
    p.add_argument("--hpa-buffer", type=buffer, default=0.2)
    p.add_argument("--no-plot", action="store_true", help="skip the PNG")
    s = p.add_argument_group("serving setup of the measured server (profile setup columns; a deployable curve needs all)")
    for flag in ("max-num-seqs", "max-num-batched-tokens", "max-model-len", "tensor-parallel", "replicas"):
        s.add_argument(f"--server-{flag}", type=positive(int), metavar="N")
    s.add_argument("--server-kv-cache-dtype", default="", help="vLLM --kv-cache-dtype (default: /metrics cache_config_info)")
    s.add_argument("--server-prefix-caching", type=choice(("on", "off")), help="default: /metrics cache_config_info")
    s.add_argument("--server-quantization", type=choice(("none", "on-load", "pre-quantized")))
    s.add_argument("--server-checkpoint", default="", help="the pre-quantized checkpoint's id")
    s.add_argument("--server-speculative-decoding", default="", help="none, or the method")
    p.set_defaults(run=benchmark_run)

    j = bench.add_parser("job", help="render a Kubernetes Job running `benchmark run` inside the cluster (kubectl apply -f -)")
    j.add_argument("--model", required=True, help="served model name (as for benchmark run)")
    j.add_argument("--service", required=True, help="the model's Service (the name `manifests create` gave it)")
    j.add_argument("--namespace", default="default")
    j.add_argument("--port", type=positive(int), default=8000, help="the Service's port (default 8000)")
    j.add_argument("--image", required=True, help="pinned image holding this repository (Dockerfile.benchmark), tag or digest")
    j.add_argument("--name", default="", help="Job and ServiceAccount name (default benchmark-<service>)")
    where = j.add_mutually_exclusive_group()
    where.add_argument("--results-bucket", default="", help="write the files to this GCS bucket (GCS FUSE, Workload Identity)")
    where.add_argument("--results-pvc", default="", help="write the files to this existing PersistentVolumeClaim")
    j.add_argument("--gcp-service-account", default="", help="annotate the KSA for this Google service account (else direct WI)")
    j.add_argument("--cpu", type=positive(int), default=4, help="vCPU for the load generator (default 4)")
    j.add_argument("--memory-gib", type=positive(int), default=4)
    j.add_argument("run_args", nargs=argparse.REMAINDER, metavar="-- RUN FLAGS",
                   help="flags of `benchmark run` after --, e.g. -- --sweep auto --accelerator-type nvidia-l4")
    j.set_defaults(run=benchmark_job)


ADDERS = {"benchmark": add_benchmark}


def _workload(args: argparse.Namespace):
    if (args.input_length is None) != (args.output_length is None):
        raise UsageError("--input-length and --output-length: each only works alongside the other")
    if args.input_length is not None:
        if args.dataset is not None:
            raise UsageError(f"--dataset: value '{args.dataset}' cannot be combined with fixed --input-length/--output-length; "
                             "allowed: a dataset, or fixed lengths")
        return fixed(args.input_length, args.output_length)
    return SHAREGPT if args.dataset in (None, "sharegpt-like") else from_jsonl(args.dataset)


def _hardware(args: argparse.Namespace) -> Hardware:
    from profiles.harness.report import Hardware

    if args.accelerator_type is None:
        if args.profiles_dir:
            raise UsageError("--profiles-dir: a profile must say what it ran on; add --accelerator-type (and --accelerator-count)")
        if args.instance_type:
            raise UsageError("--instance-type: only works alongside --accelerator-type")
        return Hardware(precision=args.precision)
    catalog = default_catalog()
    catalog.accelerator(args.accelerator_type)
    shape = catalog.shape(args.accelerator_type, args.accelerator_count, args.instance_type or "")
    if shape is None:
        machines = sorted(m.machine_type for m in catalog.machine_types.values() if m.accelerator_type == args.accelerator_type)
        raise UsageError(f"--accelerator-count/--instance-type: no GKE shape with {args.accelerator_count} x {args.accelerator_type}"
                         f"{' on ' + args.instance_type if args.instance_type else ''}; machine types: {', '.join(machines)}")
    return Hardware(shape.machine_type, args.accelerator_type, args.accelerator_count, shape.tpu_topology, args.precision)


def _config(args: argparse.Namespace) -> RunConfig:
    from profiles.harness.client import Endpoint
    from profiles.harness.run import RunConfig
    from profiles.harness.setup import ServerSetup

    if not (args.request_rates or args.concurrency or args.sweep):
        raise UsageError("benchmark run: give --request-rates R1,R2,…, --concurrency C1,C2,… or --sweep auto")
    if args.sweep and args.concurrency:
        raise UsageError("--sweep: 'auto' sweeps request rates; it cannot be combined with --concurrency")
    checks.model_id(args.model, "--model")  # written into the profile and its file name
    checks.http_url(args.endpoint, "--endpoint")
    if args.metrics_url:
        checks.http_url(args.metrics_url, "--metrics-url")
    checks.finite(args.duration, "--duration", high=7 * 86400)
    checks.finite(args.warmup, "--warmup", 0, 86400)
    checks.finite(args.request_timeout, "--request-timeout", 0, 86400, low_open=True)
    for rate in args.request_rates or ():
        checks.finite(rate, "--request-rates", 0, 1e6, low_open=True)
    for conc in args.concurrency or ():
        checks.finite(conc, "--concurrency", 1, 100_000)
    checks.finite(args.sweep_points, "--sweep-points", 1, 100)
    checks.finite(args.probe_requests, "--probe-requests", 1, 100_000)
    if args.num_prompts:
        checks.finite(args.num_prompts, "--num-prompts", 1, 10_000_000)
    if args.duration <= 0:
        raise UsageError(f"--duration: value '{args.duration:g}s' must be greater than 0")
    checks.finite(args.hpa_buffer, "--hpa-buffer")
    if not 0 <= args.hpa_buffer < 0.9:
        raise UsageError(f"--hpa-buffer: value '{args.hpa_buffer}' is not in [0, 0.9)")
    endpoint = Endpoint(args.endpoint, args.model, args.api, args.metrics_url, args.request_timeout)
    setup = ServerSetup(quantization=args.server_quantization or "", checkpoint=args.server_checkpoint,
                        kv_cache_dtype=args.server_kv_cache_dtype, max_num_seqs=args.server_max_num_seqs,
                        max_num_batched_tokens=args.server_max_num_batched_tokens, max_model_len=args.server_max_model_len,
                        prefix_caching=args.server_prefix_caching or "", speculative_decoding=args.server_speculative_decoding,
                        tensor_parallel=args.server_tensor_parallel, data_parallel=args.server_replicas)
    return RunConfig(endpoint=endpoint, workload=_workload(args), request_rates=args.request_rates or (),
                     concurrencies=args.concurrency or (), sweep_auto=args.sweep == "auto", sweep_points=args.sweep_points,
                     probe_requests=args.probe_requests, duration_s=args.duration, warmup_s=args.warmup,
                     num_prompts=args.num_prompts,
                     seed=args.seed, tokenizer=args.tokenizer, server_setup=setup, workers=args.workers)


def _out_dirs(args: argparse.Namespace) -> tuple[Path, Path | None]:
    out = Path(args.output) if args.output else Path("benchmark-runs") / dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--output: '{out}' exists and is not a directory")
    profiles = Path(args.profiles_dir) if args.profiles_dir else None
    if profiles is not None and not profiles.is_dir():
        raise UsageError(f"--profiles-dir: '{profiles}' is not a directory")
    return out, profiles


def stage_table(analysis: Analysis) -> str:
    from profiles.harness.report import client_limited

    rows = []
    for p in analysis.points:
        mark = ("knee " if p is analysis.inflection else "") + ("op" if p is analysis.operating else "")
        mark += " client-limited" if client_limited(p) else ""
        rows.append({"Stage": p.source_id, "Load": f"{p.load_value:g} {'req/s' if p.load_type == 'request_rate' else 'conc'}",
                     "Output Tokens/s": f"{p.output_tps:.1f}", "QPS": f"{p.qps:.2f}", "TTFT(ms)": _f(p.ttft_ms),
                     "NTPOT(ms)": _f(p.ntpot_ms), "ITL(ms)": _f(p.itl_ms), "Waiting": _f(p.num_requests_waiting, 2),
                     "Running": _f(p.num_requests_running, 2), "KV Cache": _f(p.kv_cache_usage_perc, 3), "Point": mark.strip()})
    return table(rows, list(rows[0])) if rows else ""


def _f(value: float | None, digits: int = 1) -> str:
    return "N/A" if value is None else f"{value:.{digits}f}"


async def _run_until_signal(cfg: RunConfig, writer) -> tuple:
    """The run, with SIGINT/SIGTERM turned into a stop request (stop sending, bounded wait, keep what was measured);
    returns the result and the signal caught, if any."""
    import asyncio
    import signal

    from profiles.harness.run import run

    loop = asyncio.get_running_loop()
    stop, caught = asyncio.Event(), []
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, lambda s=sig: (caught.append(s), stop.set()))
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signal support
            pass
    try:
        result = await run(cfg, on_stage=writer, stop=stop, grace_s=GRACE_S)
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
    return result, (caught[0] if caught else None)


def benchmark_run(args: argparse.Namespace) -> Output:
    import asyncio

    from profiles.harness.report import RunWriter

    cfg = _config(args)
    hardware = _hardware(args)
    out_dir, profiles_dir = _out_dirs(args)
    targets = Targets(args.target_ntpot_milliseconds, args.target_ttft_milliseconds, args.target_itl_milliseconds)
    writer = RunWriter(out_dir, cfg, hardware, args.model_server, targets, profiles_dir, args.hpa_buffer, plot=not args.no_plot)
    result, caught = asyncio.run(_run_until_signal(cfg, writer))
    status = "interrupted" if caught else "incomplete" if result.failed_stages else "complete"
    analysis = writer.finish(result, status)
    if caught:
        kept = (f"kept {len(analysis.points)} finished stage(s) in " + ", ".join(f"{k}={v}" for k, v in writer.files.items())
                if writer.files else "no stage had finished; nothing written")
        raise Stopped(f"interrupted by {caught.name}: stopped sending, {kept}", 128 + caught.value,
                      stage_table(analysis) + ("\n" if analysis.points else ""))
    if not analysis.points:
        failed = [r for r in result.records if not r.ok]
        why = failed[0].error if failed else (result.failed_stages[0]["reason"] if result.failed_stages else "no request was sent")
        raise UsageError(f"--endpoint: no stage completed a request ({len(failed)} failed; first error: {why}); nothing written")
    files = writer.files
    if result.failed_stages:
        first = result.failed_stages[0]
        raise Stopped(f"stage {first['stage']} could not run ({first['reason']}); {len(result.failed_stages)} stage(s) failed, "
                      f"kept {len(analysis.points)} finished stage(s) in " + ", ".join(f"{k}={v}" for k, v in files.items()),
                      1, stage_table(analysis) + "\n")
    lines = [stage_table(analysis), ""]
    knee = analysis.inflection
    limited = [p.source_id for p in analysis.points if "CLIENT-LIMITED" in p.source]
    if limited:
        lines.append(f"Client-limited: {', '.join(limited)}: the load generator fell behind its schedule or its event loop "
                     "lagged (summary.json: send_delay_ms, loop_lag_ms); these rows are not the server's and are left out "
                     "of the inflection point, the operating point and --profiles-dir")
    if knee is None:
        lines.append(f"Inflection point: none ({analysis.operating_rule})")
    else:
        lines.append(f"Inflection point: {knee.source_id} at {knee.load_value:g} req/s ({knee.output_tps:.1f} output tok/s, "
                     f"p50 NTPOT {_f(knee.ntpot_ms)} ms)")
    op = analysis.operating
    lines.append(f"Operating point ({targets.describe()}): " + (f"{op.source_id}" if op else analysis.operating_rule))
    for metric, plan in analysis.hpa.items():
        lines.append(f"HPA on {metric}: " + (f"averageValue {plan.average_value:g} ({plan.reason})" if plan.enabled else plan.reason))
    note = "Files: " + ", ".join(f"{k}={v}" for k, v in files.items())
    return Output("\n".join(lines) + "\n", note)


JOB_OWNS = ("--endpoint", "--model", "--metrics-url", "--output")


def _job_run_args(args: argparse.Namespace) -> tuple[str, ...]:
    """The passthrough `benchmark run` flags, checked by the run parser and its own checks (nothing is sent)."""
    from profiles.cli.main import build_parser

    run_args = list(args.run_args[1:] if args.run_args[:1] == ["--"] else args.run_args)
    owned = [a for a in run_args if a.split("=", 1)[0] in JOB_OWNS]
    if owned:
        raise UsageError(f"benchmark job: {owned[0].split('=', 1)[0]} is set by the Job (the Service, its /metrics and "
                         "$(RESULTS_DIR)); leave it out of the run flags")
    if "--profiles-dir" in run_args:
        raise UsageError("benchmark job: --profiles-dir is written where the Job runs; fetch profile.csv from the results instead")
    try:
        parsed = build_parser("benchmark").parse_args(["benchmark", "run", "--endpoint", "http://service:8000", "--model",
                                                       args.model, *run_args])
    except UsageError as exc:
        raise UsageError(f"benchmark job run flags: {exc}") from None
    _config(parsed)
    _hardware(parsed)
    return tuple(run_args)


def benchmark_job(args: argparse.Namespace) -> Output:
    from profiles.manifests.benchmark_job import JobOptions, build_job
    from profiles.manifests.render import render

    opts = JobOptions(model=args.model, service=args.service, image=args.image, namespace=args.namespace, port=args.port,
                      name=args.name, results_bucket=args.results_bucket, results_pvc=args.results_pvc,
                      gcp_service_account=args.gcp_service_account, run_args=_job_run_args(args), cpu=args.cpu,
                      memory_gib=args.memory_gib)
    objects = build_job(opts)
    name, ns = opts.job_name, opts.namespace
    notes = [f"Benchmark Job {name}: `benchmark run` inside the cluster against {opts.endpoint}",
             f"Run: kubectl apply -f job.yaml && kubectl wait --for=condition=complete job/{name} -n {ns} --timeout=6h; "
             f"kubectl logs job/{name} -n {ns}"]
    if opts.results_bucket:
        notes.append(f"Before applying, let the KSA write to gs://{opts.results_bucket}: gcloud storage buckets "
                     f"add-iam-policy-binding gs://{opts.results_bucket} --role roles/storage.objectUser --member "
                     f"principal://iam.googleapis.com/projects/PROJECT_NUMBER/locations/global/workloadIdentityPools/"
                     f"PROJECT_ID.svc.id.goog/subject/ns/{ns}/sa/{name}")
        notes.append(f"Fetch: gcloud storage cp -r gs://{opts.results_bucket}/{name} ./")
    elif opts.results_pvc:
        notes.append(f"Fetch: mount PVC {opts.results_pvc} in a pod and kubectl cp its /results/{name} directory")
    else:
        notes.append("Results: an emptyDir; only the pod log keeps the stage table (add --results-bucket or --results-pvc)")
    notes.append(f"Feed back: python -m profiles list --model {opts.model} --profiles-dir DIR, with {name}/profile.csv "
                 "copied into DIR (client-limited rows removed first)")
    return Output(render(objects, notes, "all"))
