"""`manifests create`: gcloud's verb, offline, from the same builder the Pulumi program uses."""

from __future__ import annotations

import argparse
from pathlib import Path

from profiles import checks
from profiles.catalog.catalog import PRICING_MODELS
from profiles.cli.args import MAX_REPLICAS, bounded_int, buffer, choice, positive, resolve_version, store_flags, use_case_flag, verbs
from profiles.cli.printers import Output
from profiles.errors import UsageError
from profiles.files import write_atomically
from profiles.gke.adapter import adapter_objects
from profiles.manifests.objects import SERVICE_TYPES, Exposure, ManifestOptions, build, resolve
from profiles.manifests.pod import size_pod
from profiles.manifests.render import OUTPUTS, comments, generated_on, generator, render
from profiles.selection.autoscaling import DEFAULT_BUFFER
from profiles.selection.ranking import Pricing, Targets
from profiles.serving.plan import ServingRequest, plan_serving
from profiles.serving.servers import hpa_metric_names
from profiles.serving.servers.vllm import VLLM
from profiles.serving.source import ModelSource, parse_bucket_uri


def add_manifests(command: argparse.ArgumentParser) -> None:
    p = verbs(command).add_parser(
        "create", help="vLLM Deployment, Service, PodMonitoring, PDB and (with a met target) HPA")
    p.add_argument("--model", required=True, help="catalog model (Hugging Face id)")
    p.add_argument("--model-server", default="vllm", help="vllm (the only server with a pinned image)")
    p.add_argument("--model-server-version", default="latest",
                   help="profile version to follow (default latest; v0.7.2 and 0.7.2 alike, tags such as gptoss)")
    p.add_argument("--accelerator-type", required=True)
    p.add_argument("--namespace", default="default", help="DNS-1123 label; system namespaces need --allow-system-namespace")
    p.add_argument("--allow-system-namespace", action="store_true", help="allow kube-system and other system namespaces")
    for name in ("ntpot", "ttft", "itl"):
        p.add_argument(f"--target-{name}-milliseconds", type=positive(int), metavar="MS",
                       help=f"HPA keeps p50 {name.upper()} below this; no HPA when no profile point meets it")
    p.add_argument("--model-bucket-uri", metavar="gs://BUCKET[/PATH]", help="load weights from GCS (config.json + weights)")
    use_case_flag(p)
    p.add_argument("--output", type=choice(OUTPUTS), default="all",
                   help="manifest (YAML only, no comments), comments, or all (default)")
    p.add_argument("--output-path", help="write to this file instead of stdout")
    p.add_argument("--name", help="object name (default vllm-<model>)")
    p.add_argument("--service-type", type=choice(SERVICE_TYPES), default="ClusterIP")
    p.add_argument("--max-model-len", type=positive(int), help="context cap (default min(model context, 8192))")
    p.add_argument("--autopilot", action="store_true", help="Autopilot cluster: no unlimited GCS FUSE sidecar annotations")
    p.add_argument("--spot", action="store_true", help="schedule on Spot capacity (nodeSelector + toleration)")
    p.add_argument("--surge", type=bounded_int(0, 100), default=0,
                   help="spare accelerator nodes: >0 rolls with maxSurge, 0 (default) Recreate")
    p.add_argument("--pricing-model", type=choice(PRICING_MODELS), default="spot", help="prices used to rank profiles")
    p.add_argument("--hpa-metric", type=choice(hpa_metric_names()), default=VLLM.default_hpa_metric)
    p.add_argument("--hpa-buffer", type=buffer, default=DEFAULT_BUFFER)
    p.add_argument("--peak-qps", type=positive(float), help="expected peak QPS: initial replicas")
    p.add_argument("--min-replicas", type=positive(int, MAX_REPLICAS), default=1)
    p.add_argument("--max-replicas", type=positive(int, MAX_REPLICAS))
    p.add_argument("--allow-from-namespace", action="append", default=[], metavar="NS",
                   help="NetworkPolicy: also admit pods of this namespace (repeatable; the serving namespace and Prometheus always are)")
    p.add_argument("--allow-from-pod-label", action="append", default=[], metavar="KEY=VALUE",
                   help="NetworkPolicy: also admit pods with these labels in any namespace (repeatable, all must match)")
    p.add_argument("--allow-from-cidr", action="append", default=[], metavar="CIDR", help="NetworkPolicy: also admit this range")
    p.add_argument("--load-balancer-source-range", action="append", default=[], metavar="CIDR",
                   help="who may reach a LoadBalancer (required with --service-type LoadBalancer/InternalLoadBalancer)")
    p.add_argument("--api-key-secret", metavar="NAME", help="Secret whose key api-key vLLM requires as a bearer token on /v1")
    store_flags(p)
    p.set_defaults(run=manifests_create)


ADDERS = {"manifests": add_manifests}


def write_output_path(path: Path, text: str) -> None:
    """--output-path, checked first, then written atomically: a failed run never leaves a half-written manifest."""
    path = path.expanduser()
    if path.is_dir():
        raise UsageError(f"--output-path: '{path}' is a directory; give a file name")
    if not path.parent.is_dir():
        raise UsageError(f"--output-path: directory '{path.parent}' does not exist")
    write_atomically(path, text)


def exposure_flags(args: argparse.Namespace) -> Exposure:
    if args.service_type != "ClusterIP" and not args.load_balancer_source_range:
        raise UsageError(f"--service-type: {args.service_type} needs --load-balancer-source-range CIDR (repeatable): "
                         "who may connect from outside the cluster")
    return Exposure(namespaces=tuple(checks.dns_label(ns, "--allow-from-namespace") for ns in args.allow_from_namespace),
                    pod_labels=tuple(checks.label(t, "--allow-from-pod-label") for t in args.allow_from_pod_label),
                    cidrs=tuple(checks.cidr(c, "--allow-from-cidr") for c in args.allow_from_cidr),
                    load_balancer_source_ranges=tuple(checks.cidr(c, "--load-balancer-source-range")
                                                      for c in args.load_balancer_source_range),
                    api_key_secret=checks.dns_label(args.api_key_secret, "--api-key-secret") if args.api_key_secret else "")


def manifests_create(args: argparse.Namespace) -> Output:
    from profiles.store.store import ProfileStore  # pandas: only when the verb runs

    checks.namespace(args.namespace, "--namespace", args.allow_system_namespace)
    if args.name is not None:
        checks.dns_label(args.name, "--name")
    exposure = exposure_flags(args)

    store = ProfileStore.load(args.profiles_dir)
    requested = args.model_server_version
    if requested.lower() not in ("latest", "all"):
        args.model_server_version = resolve_version(requested, set(store.versions(args.model, args.model_server)))
    targets = Targets(ntpot_ms=args.target_ntpot_milliseconds, ttft_ms=args.target_ttft_milliseconds,
                      itl_ms=args.target_itl_milliseconds)
    request = ServingRequest(args.model, args.accelerator_type, args.model_server, args.model_server_version, targets,
                             Pricing(args.pricing_model), args.max_model_len, args.hpa_metric, args.hpa_buffer, args.peak_qps,
                             args.min_replicas, args.max_replicas, args.use_case)
    serving = plan_serving(request, store)
    source = parse_bucket_uri(args.model_bucket_uri) if args.model_bucket_uri else ModelSource()
    date = generated_on()
    opts = resolve(serving, ManifestOptions(name=args.name or "", namespace=args.namespace, source=source,
                                            service_type=args.service_type, autopilot=args.autopilot, spot=args.spot,
                                            surge=args.surge, generated_by=generator(serving, date), exposure=exposure))
    size = size_pod(serving, source, autopilot=args.autopilot)
    objects = build(serving, opts, size)
    if serving.hpa_enabled:  # the HPA reads the server metric through the adapter: ship the pinned upstream objects with it
        objects += [dict(o) for o in adapter_objects()]
    text = render(objects, comments(serving, opts, size, date, adapter_included=True), args.output)
    note = _version_note(requested, args.model_server_version, serving)
    if args.output_path:
        write_output_path(Path(args.output_path), text)
        return Output("", "\n".join(filter(None, [note, f"Output saved to {args.output_path}"])))
    return Output(text, note)


def _version_note(requested: str, version: str, serving) -> str:
    """Say so when the requested version's profiles are not what the manifests deploy (GIQ's v0.7.2 rows, say)."""
    if version in ("latest", "all") or (serving.point and serving.point.model_server_version == serving.image.version):
        return ""
    followed = (f"follow profile {serving.point.source_id} ({serving.point.model_server_version})" if serving.point
                else f"follow no {version} profile ({serving.basis})")
    return (f"--model-server-version={requested}: the manifests run {serving.image.image} (the one image pinned for "
            f"{serving.server.name} on {serving.platform}, whose arguments are tested) and {followed}.")
