"""YAML and the explanatory comments for `manifests create`; deterministic (SOURCE_DATE_EPOCH fixes the date)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import yaml

from profiles import __version__
from profiles.checks import one_line
from profiles.errors import UsageError
from profiles.manifests.objects import ManifestOptions
from profiles.manifests.pod import PodSizing
from profiles.serving.source import HF_SECRET, HF_SECRET_KEY

if TYPE_CHECKING:
    from profiles.serving.plan import ServingPlan

OUTPUTS = ("manifest", "comments", "all")
ADAPTER_URL = ("https://raw.githubusercontent.com/GoogleCloudPlatform/k8s-stackdriver/master/"
               "custom-metrics-stackdriver-adapter/deploy/production/adapter_new_resource_model.yaml")


def generated_on(env: Mapping[str, str] = os.environ) -> str:
    """UTC date of generation; SOURCE_DATE_EPOCH (reproducible-builds.org) pins it."""
    raw = env.get("SOURCE_DATE_EPOCH")
    if raw is None:
        return dt.datetime.now(dt.UTC).date().isoformat()
    try:
        return dt.datetime.fromtimestamp(int(raw), dt.UTC).date().isoformat()
    except (ValueError, OverflowError, OSError):
        raise UsageError(f"SOURCE_DATE_EPOCH: '{raw}' is not a Unix timestamp in seconds") from None


def generator(serving: ServingPlan, date: str) -> str:
    """The version annotation's value, in GIQ's 'Generated on DATE using: ...' shape."""
    return (f"Generated on {date} using: gke-inference {__version__}, model server {serving.server.name} {serving.image.version} "
            f"({serving.image.image})")


def comments(serving: ServingPlan, opts: ManifestOptions, size: PodSizing, date: str, adapter_included: bool = False) -> list[str]:
    """What the manifest assumes and what to do before `kubectl apply`, one line each; `adapter_included`: the
    adapter's objects follow the workload's in the output."""
    shape, fit = serving.fit.shape, serving.fit
    where = f"{shape.accelerator_count} x {shape.accelerator_type} on {shape.machine_type}"
    if shape.tpu_topology:
        where += f" (topology {shape.tpu_topology})"
    ns, name = opts.namespace, opts.name
    lines = [generator(serving, date),
             f"Model: {serving.model.model} on {where}, tensor parallel {fit.tensor_parallel_size}",
             f"Basis: {serving.basis}",
             f"Memory: {fit.describe()}",
             f"Pod: {size.cpu} vCPU, {size.memory_gib} GiB RAM ({serving.machine.vcpus} vCPU / {serving.machine.memory_gb:g} GB node), "
             f"weights cache {size.cache_gib} GiB {size.cache_where}, "
             f"startup budget {size.startup_budget_s // 60} min",
             f"Image: {serving.image.image} (confidence {serving.image.confidence}: {serving.image.source})",
             serving.hpa_note]
    if serving.hpa_enabled:
        lines += [f"The HPA reads {serving.server.display_name} metrics through Managed Prometheus (the PodMonitoring) and the "
                  "Custom Metrics Stackdriver Adapter: " + ("its pinned upstream objects follow the workload's below"
                                                            if adapter_included else f"kubectl apply -f {ADAPTER_URL}"),
                  "then grant it roles/monitoring.viewer: gcloud projects add-iam-policy-binding PROJECT_ID --role "
                  "roles/monitoring.viewer --member=principal://iam.googleapis.com/projects/PROJECT_NUMBER/locations/global/"
                  "workloadIdentityPools/PROJECT_ID.svc.id.goog/subject/ns/custom-metrics/sa/custom-metrics-stackdriver-adapter"]
    if opts.source.from_bucket:
        lines.append(f"Before applying, grant the pods read access to gs://{opts.source.bucket}: gcloud storage buckets "
                     f"add-iam-policy-binding gs://{opts.source.bucket} --role roles/storage.objectViewer --member "
                     f"principal://iam.googleapis.com/projects/PROJECT_NUMBER/locations/global/workloadIdentityPools/"
                     f"PROJECT_ID.svc.id.goog/subject/ns/{ns}/sa/{name}")
    else:
        lines.append(f"Before applying, store the Hugging Face token: kubectl create secret generic {HF_SECRET} "
                     f"--from-literal={HF_SECRET_KEY}=HF_TOKEN --namespace {ns}")
    if opts.exposure.api_key_secret:
        lines.append(f"Before applying, create the API key clients must send (Authorization: Bearer KEY): kubectl create secret "
                     f"generic {opts.exposure.api_key_secret} --from-literal=api-key=$(openssl rand -hex 32) --namespace {ns}")
    lines.append("NetworkPolicy: port open to pods of this namespace and Managed Prometheus"
                 + (f"; also namespaces {', '.join(opts.exposure.namespaces)}" if opts.exposure.namespaces else "")
                 + (f"; also pods labelled {', '.join(f'{k}={v}' for k, v in opts.exposure.pod_labels)}"
                    if opts.exposure.pod_labels else "")
                 + (f"; also {', '.join(opts.exposure.cidrs)}" if opts.exposure.cidrs else "")
                 + (f"; load balancer from {', '.join(opts.exposure.load_balancer_source_ranges)}"
                    if opts.service_type != "ClusterIP" else ""))
    if serving.platform == "tpu":
        lines.append(f"XLA compile cache: one emptyDir per pod ({serving.server.compile_cache_env}), so replicas never write one path "
                     "concurrently; each new pod compiles once.")
    return lines


def render(objects: Sequence[dict], comment_lines: Sequence[str], output: str = "all") -> str:
    """`manifest`: YAML only; `comments`: comments only; `all`: the YAML, then the comments (gcloud's order)."""
    if output not in OUTPUTS:
        raise UsageError(f"--output: unknown value '{output}'; allowed: {', '.join(OUTPUTS)}")
    header = "".join(f"# {one_line(line)}\n" for line in comment_lines)  # text from flags and profile files: one line each
    body = "".join("---\n" + yaml.safe_dump(obj, sort_keys=False, width=120) for obj in objects)
    if output == "comments":
        return header
    return body if output == "manifest" else body + "---\n" + header
