"""gke-inference: the cheapest accelerator setup that meets the stack's latency targets, deployed on GKE.

Wiring only. `profiles.stack.plan` decides everything (accelerator, shape, node pools, Kubernetes objects,
costs) before the first resource is registered, so a bad stack config stops with one message and creates nothing.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_gcp as gcp

from components.hugging_face_secret import HuggingFaceSecret
from components.inference_cluster import InferenceCluster
from components.kube import kube_resource
from components.metrics_adapter import CustomMetricsAdapter
from components.model_bucket import ModelBucket
from components.project_apis import ProjectApis
from components.vllm_service import VllmService
from profiles.errors import UsageError
from profiles.gke.cluster import REQUIRED_APIS
from profiles.manifests.pod import size_pod
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
cfg, gcp_cfg = plan.cfg, plan.gcp
project_number = gcp.organizations.get_project_output(project_id=gcp_cfg.project).number

apis = ProjectApis("apis", gcp_cfg.project, REQUIRED_APIS if cfg.enableApis else ())
cluster = InferenceCluster(plan.cluster_name, gcp_cfg.project, gcp_cfg.region, plan.cluster, cfg.cluster.existing,
                           plan.pools, cfg.cluster.systemMachineType, opts=pulumi.ResourceOptions(depends_on=[apis]))
k8s_opts = pulumi.ResourceOptions(providers={"kubernetes": cluster.provider})

ready: list[pulumi.Resource] = []
if plan.namespace is not None:
    ready.append(kube_resource(plan.namespace, k8s_opts))
if plan.options.source.from_bucket:
    bucket = ModelBucket("models", gcp_cfg.project, project_number, cfg.modelSource.bucket, cfg.modelSource.create,
                         gcp_cfg.region, cfg.namespace, plan.ksa, opts=pulumi.ResourceOptions(depends_on=[apis]))
    ready.append(bucket.reader)
if plan.needs_hf_token:
    ready.append(HuggingFaceSecret("hf-token", cfg.namespace, pulumi.Config().require_secret("hfToken"),
                                   opts=pulumi.ResourceOptions(providers={"kubernetes": cluster.provider}, depends_on=ready[:1])))
if plan.hpa:
    ready.append(CustomMetricsAdapter("metrics-adapter", gcp_cfg.project, project_number, opts=k8s_opts))
service = VllmService(plan.options.name, plan.workload, size_pod(plan.serving, plan.options.source).startup_budget_s,
                      depends_on=ready, opts=k8s_opts)

outputs = plan.outputs()
for key, value in outputs.items():
    pulumi.export(key, value)
pulumi.export("clusterName", cluster.name)
pulumi.export("kubeconfig", cluster.kubeconfig)
if cfg.serviceType != "ClusterIP":
    pulumi.export("loadBalancerIp", service.service.status.apply(
        lambda s: (s.load_balancer.ingress or [None])[0].ip if s and s.load_balancer and s.load_balancer.ingress else None))
