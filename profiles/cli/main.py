"""`python -m profiles`: gcloud container ai profiles …, offline. Bad input: one line on stderr, exit 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from profiles import commands, commands_benchmark, commands_estimate, commands_manifests
from profiles.catalog import PRICING_MODELS
from profiles.cost import DEFAULT_OUTPUT_INPUT_COST_RATIO
from profiles.errors import UsageError
from profiles.hpa import DEFAULT_BUFFER, DEFAULT_HPA_METRIC, HPA_METRICS
from profiles.manifests import SERVICE_TYPES
from profiles.manifests_render import OUTPUTS
from profiles.printers import FORMAT_ALIASES, FORMATS
from profiles.store import PROFILES_ENV

USE_CASES = ("Advanced Customer Support", "Code Completion", "Text Summarization", "Chatbot (ShareGPT)",
             "Text Generation", "Code Generation", "Deep Research")


class Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting, so every error is one line."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(f"({self.prog}) {message}")


def positive(kind: type):
    def convert(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"value '{text}' is not a {'whole ' if kind is int else ''}number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"value '{text}' must be greater than 0")
        return value
    convert.__name__ = f"positive {kind.__name__}"
    return convert


def choice(allowed: Sequence[str], aliases: dict[str, str] | None = None, fold: bool = False):
    def convert(text: str) -> str:
        value = (aliases or {}).get(text, text)
        if fold:
            value = next((a for a in allowed if a.lower() == value.lower() or a.lower().startswith(value.lower() + " ")), value)
        if value not in allowed:
            raise argparse.ArgumentTypeError(f"value '{text}' is not allowed; allowed: {', '.join(allowed)}")
        return value
    return convert


def _store_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--profiles-dir", action="append", default=[], metavar="DIR",
                   help=f"extra profile CSV directory (repeatable; also ${PROFILES_ENV}); measured > published > estimated")


def _format_flag(p: argparse.ArgumentParser, default: str) -> None:
    p.add_argument("--format", type=choice(FORMATS, FORMAT_ALIASES), default=default,
                   help=f"{' | '.join(FORMATS)} (gcloud's profile / csvprofile accepted); default {default}")


def _pricing_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pricing-model", type=choice(PRICING_MODELS), default="spot",
                   help="on-demand, spot, 1-year-cud, 3-years-cud (default spot, as the GIQ API)")
    p.add_argument("--region", help="price region (default: us-east5, A3 machines us-central1, as GIQ)")
    p.add_argument("--output-input-cost-ratio", type=positive(float), default=DEFAULT_OUTPUT_INPUT_COST_RATIO,
                   help="how many times an output token costs an input token (default 4.0)")


def build_parser() -> Parser:
    root = Parser(prog="profiles", description="Offline GKE Inference Quickstart profiles (gcloud container ai profiles).")
    groups = root.add_subparsers(dest="group", required=True, metavar="COMMAND", parser_class=Parser)

    models = groups.add_parser("models", help="models with profiles").add_subparsers(dest="verb", required=True, parser_class=Parser)
    p = models.add_parser("list", help="list models that have profiles (--catalog: every catalog model)")
    p.add_argument("--catalog", action="store_true", help="every catalog model with its architecture, profiled or not")
    _store_flags(p)
    _format_flag(p, "table")
    p.set_defaults(run=commands.models_list)
    p = models.add_parser("describe", help="architecture of a catalog model or a local config.json")
    p.add_argument("--model", required=True, help="Hugging Face id or path to config.json / model directory")
    _format_flag(p, "yaml")
    p.set_defaults(run=commands.models_describe)

    servers = groups.add_parser("model-servers", help="model servers").add_subparsers(dest="verb", required=True, parser_class=Parser)
    p = servers.add_parser("list", help="model servers with profiles for a model")
    p.add_argument("--model", required=True)
    _store_flags(p)
    p.set_defaults(run=commands.model_servers_list)

    versions = groups.add_parser("model-server-versions", help="model server versions").add_subparsers(
        dest="verb", required=True, parser_class=Parser)
    p = versions.add_parser("list", help="versions with profiles, newest first")
    p.add_argument("--model", required=True)
    p.add_argument("--model-server", required=True)
    _store_flags(p)
    p.set_defaults(run=commands.model_server_versions_list)

    p = groups.add_parser("list", help="profiles at their operating point, cheapest first")
    p.add_argument("--model")
    p.add_argument("--model-server")
    p.add_argument("--model-server-version", default="latest", help="latest (default, per configuration), all, or a version")
    p.add_argument("--accelerator-type")
    _pricing_flags(p)
    for name in ("ntpot", "ttft", "itl"):
        p.add_argument(f"--target-{name}-milliseconds", type=positive(int), metavar="MS",
                       help=f"p50 {name.upper()} target; only points meeting it qualify")
    p.add_argument("--target-cost-per-million-output-tokens", type=positive(float), metavar="USD")
    p.add_argument("--target-cost-per-million-input-tokens", type=positive(float), metavar="USD")
    p.add_argument("--use-case", type=choice(USE_CASES, {"chatbot": "Chatbot (ShareGPT)"}, fold=True),
                   help=f"one of: {', '.join(USE_CASES)}")
    p.add_argument("--target-input-length", type=positive(int), metavar="TOKENS", help="with --target-output-length: within 20%%")
    p.add_argument("--target-output-length", type=positive(int), metavar="TOKENS", help="with --target-input-length: within 20%%")
    p.add_argument("--explain", action="store_true", help="print why the first row won (and HPA settings) to stderr")
    p.add_argument("--hpa-metric", type=choice(tuple(HPA_METRICS)), default=DEFAULT_HPA_METRIC)
    p.add_argument("--hpa-buffer", type=float, default=DEFAULT_BUFFER, help="fraction below the operating-point value (default 0.2)")
    p.add_argument("--peak-qps", type=positive(float), help="expected peak QPS, for initial replicas in --explain")
    _store_flags(p)
    _format_flag(p, "table")
    p.set_defaults(run=commands.profiles_list)

    manifests = groups.add_parser("manifests", help="Kubernetes manifests").add_subparsers(dest="verb", required=True, parser_class=Parser)
    p = manifests.add_parser("create", help="vLLM Deployment, Service, PodMonitoring, PDB and (with a met target) HPA")
    p.add_argument("--model", required=True, help="catalog model (Hugging Face id)")
    p.add_argument("--model-server", default="vllm", help="vllm (the only server with a pinned image)")
    p.add_argument("--model-server-version", default="latest", help="profile version to follow (default latest)")
    p.add_argument("--accelerator-type", required=True)
    p.add_argument("--namespace", default="default")
    for name in ("ntpot", "ttft", "itl"):
        p.add_argument(f"--target-{name}-milliseconds", type=positive(int), metavar="MS",
                       help=f"HPA keeps p50 {name.upper()} below this; no HPA when no profile point meets it")
    p.add_argument("--model-bucket-uri", metavar="gs://BUCKET[/PATH]", help="load weights from GCS (config.json + weights)")
    p.add_argument("--use-case", type=choice(USE_CASES, {"chatbot": "Chatbot (ShareGPT)"}, fold=True))
    p.add_argument("--output", type=choice(OUTPUTS), default="all",
                   help="manifest (YAML only, no comments), comments, or all (default)")
    p.add_argument("--output-path", help="write to this file instead of stdout")
    p.add_argument("--name", help="object name (default vllm-<model>)")
    p.add_argument("--service-type", type=choice(SERVICE_TYPES), default="ClusterIP")
    p.add_argument("--max-model-len", type=positive(int), help="context cap (default min(model context, 8192))")
    p.add_argument("--autopilot", action="store_true", help="Autopilot cluster: no unlimited GCS FUSE sidecar annotations")
    p.add_argument("--spot", action="store_true", help="schedule on Spot capacity (nodeSelector + toleration)")
    p.add_argument("--surge", type=int, default=0, help="spare accelerator nodes: >0 rolls with maxSurge, 0 (default) Recreate")
    p.add_argument("--pricing-model", type=choice(PRICING_MODELS), default="spot", help="prices used to rank profiles")
    p.add_argument("--hpa-metric", type=choice(tuple(HPA_METRICS)), default=DEFAULT_HPA_METRIC)
    p.add_argument("--hpa-buffer", type=float, default=DEFAULT_BUFFER)
    p.add_argument("--peak-qps", type=positive(float), help="expected peak QPS: initial replicas")
    p.add_argument("--min-replicas", type=positive(int), default=1)
    p.add_argument("--max-replicas", type=positive(int))
    _store_flags(p)
    p.set_defaults(run=commands_manifests.manifests_create)

    bench = groups.add_parser("benchmarks", help="benchmark points").add_subparsers(dest="verb", required=True, parser_class=Parser)
    p = bench.add_parser("list", help="every load point (CSV, gcloud's header first)")
    p.add_argument("--model", required=True)
    p.add_argument("--model-server", required=True)
    p.add_argument("--model-server-version", default="latest")
    p.add_argument("--instance-type")
    p.add_argument("--use-case", type=choice(USE_CASES, {"chatbot": "Chatbot (ShareGPT)"}, fold=True))
    _pricing_flags(p)
    _store_flags(p)
    _format_flag(p, "csv")
    p.set_defaults(run=commands.benchmarks_list)
    commands_benchmark.add_parser(groups)
    commands_estimate.add_parser(groups)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        out = args.run(args)
    except UsageError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `| head` closed the pipe: not an error
        return 0
    sys.stdout.write(out.text)
    if out.note:
        print(out.note, file=sys.stderr)
    return 0
