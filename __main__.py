"""gke-inference: the cheapest accelerator setup that meets the stack's latency targets, deployed on GKE.

Wiring only. `profiles.stack.plan.plan_stack` decides everything (accelerator, shape, node pools, Kubernetes
objects, costs) before the first resource is registered and hands each component its spec, so a bad stack config
stops with one message and creates nothing. The program reads the plan and, beside it, the encrypted hfToken.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_gcp as gcp

from components.hugging_face_secret import HuggingFaceSecret
from components.image_mirror import ImageMirror
from components.inference_cluster import InferenceCluster
from components.kube import kube_resource
from components.metrics_adapter import CustomMetricsAdapter
from components.model_bucket import ModelBucket, preflight
from components.project_apis import ProjectApis
from components.vllm_service import VllmService
from components.weights_loader import WeightsLoader
from profiles.errors import UsageError
from profiles.stack.config import NS, SECRET_KEYS, parse, parse_gcp
from profiles.stack.plan import StackPlan, plan_stack


def _config(prefix: str) -> dict:
    """Every key of one config namespace (prefix removed), JSON values decoded, secrets left out."""
    keys = {**pulumi.runtime.config.get_config_env(), **pulumi.runtime.config.CONFIG.get()}
    values = {}
    for key, raw in keys.items():
        if key.startswith(prefix) and key[len(prefix):] not in SECRET_KEYS:
            try:
                values[key[len(prefix):]] = json.loads(raw) if isinstance(raw, str) else raw
            except json.JSONDecodeError:
                values[key[len(prefix):]] = raw
    return values


def _token_state(cfg_ns: str = NS + "hfToken") -> str:
    if pulumi.runtime.config.get_config(cfg_ns) is None:
        return "unset"
    return "secret" if pulumi.runtime.is_config_secret(cfg_ns) else "plaintext"


def _plan() -> StackPlan:
    source = f"Pulumi.{pulumi.get_stack()}.yaml"
    try:
        return plan_stack(parse(_config(NS), source), parse_gcp(_config("gcp:"), source), _token_state())
    except UsageError as exc:
        raise pulumi.RunError(str(exc)) from None  # one line, no traceback, nothing registered


plan = _plan()
if plan.bucket is not None and plan.bucket.preflight_object:
    preflight(plan.bucket)  # before any registration: a missing checkpoint creates nothing
project_number = gcp.organizations.get_project_output(project_id=plan.apis.project).number

# components pass their depends_on to every child (components/wiring.py; pulumi/pulumi#8721)
apis = ProjectApis("apis", plan.apis)
cluster = InferenceCluster(plan.cluster.name, plan.cluster, opts=pulumi.ResourceOptions(depends_on=apis.services))
# Workload Identity bindings name PROJECT.svc.id.goog, which exists once the first WI cluster does
wi_ready: list[pulumi.Resource] = [*apis.services, *([cluster.cluster] if cluster.cluster is not None else [])]
k8s_opts = pulumi.ResourceOptions(providers={"kubernetes": cluster.provider})

ready: list[pulumi.Resource] = []
namespace = None
if plan.namespace is not None:
    namespace = kube_resource(plan.namespace, k8s_opts)
    ready.append(namespace)
in_namespace = [namespace] if namespace is not None else []
bucket = None
if plan.bucket is not None:
    bucket = ModelBucket("models", plan.bucket, project_number, opts=pulumi.ResourceOptions(depends_on=wi_ready))
    ready += [bucket.reader, *([bucket.cache_writer] if bucket.cache_writer is not None else [])]
hf_secret = None
if plan.hf_secret is not None:
    hf_secret = HuggingFaceSecret("hf-token", plan.hf_secret, pulumi.Config().require_secret("hfToken"),
                                  opts=pulumi.ResourceOptions(providers={"kubernetes": cluster.provider}, depends_on=in_namespace))
    ready.append(hf_secret)
if plan.loader is not None and bucket is not None:
    # the Deployment waits for the Job (awaited until Complete): it never starts on an empty bucket
    ready.append(WeightsLoader("weights-loader", plan.loader, project_number, bucket.bucket,
                               opts=pulumi.ResourceOptions(providers={"kubernetes": cluster.provider},
                                                           depends_on=[*wi_ready, *in_namespace, hf_secret.secret])).job)
if plan.mirror is not None:
    mirror = ImageMirror("image-mirror", plan.mirror, cluster.node_sa_email, opts=pulumi.ResourceOptions(depends_on=apis.services))
    ready += [mirror.repository, *([mirror.reader] if mirror.reader is not None else [])]
if plan.metrics_adapter is not None:
    ready.append(CustomMetricsAdapter("metrics-adapter", plan.metrics_adapter, project_number,
                                      opts=pulumi.ResourceOptions(providers={"kubernetes": cluster.provider}, depends_on=wi_ready)))
service = VllmService(plan.service.name, plan.service, depends_on=ready, opts=k8s_opts)

for key, value in plan.outputs().items():
    pulumi.export(key, value)
pulumi.export("clusterName", cluster.name)
pulumi.export("kubeconfig", cluster.kubeconfig)
if plan.service.load_balancer:
    pulumi.export("loadBalancerIp", service.service.status.apply(
        lambda s: (s.load_balancer.ingress or [None])[0].ip if s and s.load_balancer and s.load_balancer.ingress else None))
