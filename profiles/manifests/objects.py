"""One builder for the Kubernetes objects of a model-server deployment, used by `manifests create` and by Pulumi.

Objects are plain dicts. Values the caller passes in (namespace, bucket, service-account name) are placed
as given and never inspected, so a Pulumi Output flows through unchanged.

Rollout: `Recreate` unless the caller says spare accelerator capacity exists (`surge` > 0). A surge pod
needs a whole accelerator node; on a node pool sized to the replica bound it would sit Pending and stall
the rollout while the old pods keep every accelerator. With spare nodes, RollingUpdate (maxSurge=surge,
maxUnavailable=0) keeps serving through an update.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from profiles.checks import dns_label
from profiles.errors import UsageError
from profiles.gke.adapter import metric_name
from profiles.gke.node_pools import boot_disk_type
from profiles.manifests.gcsfuse import cache_class_name, storage_class
from profiles.manifests.pod import PodSizing, pod_annotations, pod_spec
from profiles.serving.source import HF_SECRET, HF_SECRET_KEY, ModelSource

if TYPE_CHECKING:
    from profiles.serving.plan import ServingPlan

DOMAIN = "gke-inference.dev"
SERVICE_TYPES = ("ClusterIP", "LoadBalancer", "InternalLoadBalancer")
SCALE_UP_WINDOW_S, SCALE_DOWN_WINDOW_S = 0, 300  # HPA defaults kept explicit (GKE autoscaling best practices)
STEADY_SCALE_UP = [{"type": "Pods", "value": 1, "periodSeconds": 60}]  # threshold >= 10: one accelerator node a minute
# threshold < 10: each unit is a whole request, so a spike jumps past it; add up to 4 pods or double every 15 s
FAST_SCALE_UP = [{"type": "Pods", "value": 4, "periodSeconds": 15}, {"type": "Percent", "value": 100, "periodSeconds": 15}]


NS_NAME_LABEL = "kubernetes.io/metadata.name"
PROMETHEUS_NAMESPACE = "gmp-system"  # Google Cloud Managed Service for Prometheus collectors scrape from here
API_KEY_ENV, API_KEY_SECRET_KEY = "VLLM_API_KEY", "api-key"  # vLLM reads --api-key from this env var


@dataclass(frozen=True)
class Exposure:
    """Who may reach the server port (issue #17). The NetworkPolicy always admits pods of the serving namespace and the
    Managed Prometheus collectors; these add namespaces, pods (by labels, any namespace) and CIDRs. A LoadBalancer
    needs `load_balancer_source_ranges`; `api_key_secret` names a Secret (key `api-key`) whose value vLLM requires as a
    bearer token on /v1 (health and metrics stay open for probes and scrapes)."""

    namespaces: tuple[str, ...] = ()
    pod_labels: tuple[tuple[str, str], ...] = ()
    cidrs: tuple[str, ...] = ()
    load_balancer_source_ranges: tuple[str, ...] = ()
    api_key_secret: str = ""


@dataclass(frozen=True)
class ManifestOptions:
    name: str = ""  # default: <server>-<model>
    image: str = ""  # default: the server's pinned image (an Artifact Registry mirror of it when set)
    xla_prefix: str = ""  # TPU from a bucket: the bucket prefix of the shared compile cache (manifests/xla_cache.py)
    namespace: Any = "default"
    source: ModelSource = field(default_factory=ModelSource)
    service_type: str = "ClusterIP"
    service_account: Any = None  # default: the name
    autopilot: bool = False
    spot: bool = False
    reservation: str = ""  # Autopilot: a specific Compute Engine reservation the pods select
    surge: int = 0  # spare accelerator nodes a rolling update may use
    replicas: int | None = None  # default: the HPA settings' initial replicas
    generated_by: str = ""  # the version annotation's value
    exposure: Exposure = field(default_factory=Exposure)


def slug(text: str, limit: int = 63) -> str:
    """A DNS-1123 label from any text (model ids contain '/', '.', capitals)."""
    value = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    return value[:limit].rstrip("-") or "model"


def default_name(serving: ServingPlan) -> str:
    return slug(f"{serving.server.name}-" + serving.model.model.rsplit("/", 1)[-1], 50)


def labels(serving: ServingPlan, name: str) -> dict[str, str]:
    return {**_selector(serving, name), "app.kubernetes.io/component": "model-server",
            "app.kubernetes.io/part-of": "gke-inference", "app.kubernetes.io/version": serving.image.version,
            "ai.gke.io/model": slug(serving.model.model), "ai.gke.io/inference-server": serving.server.name}


def _meta(name: str, namespace: Any, serving: ServingPlan, annotations: dict | None = None) -> dict:
    meta = {"name": name, "namespace": namespace, "labels": labels(serving, name)}
    if annotations:
        meta["annotations"] = annotations
    return meta


def _quantity(value: float) -> str:
    """A Kubernetes quantity: integers as is, fractions in milli-units (0.72 -> 720m)."""
    return str(int(value)) if float(value).is_integer() else f"{round(value * 1000)}m"


def _ksa(opts: ManifestOptions, name: str) -> Any:
    return name if opts.service_account is None else opts.service_account  # no truthiness test: may be an Output


def _selector(serving: ServingPlan, name: str) -> dict:
    return {"app.kubernetes.io/name": serving.server.container, "app.kubernetes.io/instance": name}


def deployment(serving: ServingPlan, opts: ManifestOptions, name: str, size: PodSizing) -> dict:
    replicas = opts.replicas or (serving.hpa.initial_replicas if serving.hpa_enabled else serving.hpa.min_replicas)
    strategy = {"type": "Recreate"} if opts.surge <= 0 else {
        "type": "RollingUpdate", "rollingUpdate": {"maxSurge": opts.surge, "maxUnavailable": 0}}
    annotations = {f"{DOMAIN}/version": opts.generated_by, f"{DOMAIN}/profile": serving.basis, f"{DOMAIN}/hpa": serving.hpa_note}
    template_meta: dict = {"labels": labels(serving, name)}
    if pod_annotations(opts.source, opts.autopilot):
        template_meta["annotations"] = pod_annotations(opts.source, opts.autopilot)
    # with an HPA, the HPA owns spec.replicas: a manifest that sets it resets the HPA's count on every apply (and,
    # with server-side apply, conflicts with the HPA's field manager; pulumi-kubernetes#2491), so it is left out and
    # the Deployment starts at 1 until the HPA applies minReplicas
    count = {} if serving.hpa_enabled and opts.replicas is None else {"replicas": replicas}
    spec = pod_spec(serving, opts.source, _ksa(opts, name), size, opts.spot, opts.reservation, opts.image,
                    opts.xla_prefix, cache_class_name(opts.namespace, name))
    if opts.exposure.api_key_secret:  # from the Secret into the env var vLLM reads: never on the command line
        spec["containers"][0]["env"].append({"name": API_KEY_ENV, "valueFrom": {"secretKeyRef": {
            "name": opts.exposure.api_key_secret, "key": API_KEY_SECRET_KEY}}})
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": _meta(name, opts.namespace, serving, annotations),
        "spec": {
            **count,
            "revisionHistoryLimit": 3,
            "progressDeadlineSeconds": size.startup_budget_s + 600,
            "strategy": strategy,
            "selector": {"matchLabels": _selector(serving, name)},
            "template": {"metadata": template_meta, "spec": spec},
        },
    }


def service(serving: ServingPlan, opts: ManifestOptions, name: str) -> dict:
    if opts.service_type not in SERVICE_TYPES:
        raise UsageError(f"--service-type: unknown value '{opts.service_type}'; allowed: {', '.join(SERVICE_TYPES)}")
    annotations = {"networking.gke.io/load-balancer-type": "Internal"} if opts.service_type == "InternalLoadBalancer" else None
    kind = "ClusterIP" if opts.service_type == "ClusterIP" else "LoadBalancer"
    spec = {"type": kind, "selector": _selector(serving, name),
            "ports": [{"name": "http", "port": serving.server.port, "targetPort": "http", "protocol": "TCP"}]}
    if kind == "LoadBalancer":
        ranges = list(opts.exposure.load_balancer_source_ranges)
        if not ranges:
            raise UsageError(f"--service-type: {opts.service_type} needs source ranges (--load-balancer-source-range CIDR / "
                             "exposure.loadBalancerSourceRanges): who may connect from outside the cluster")
        # Local keeps the client's address, so the NetworkPolicy's ipBlocks see it (Cluster would SNAT to a node IP)
        spec |= {"loadBalancerSourceRanges": ranges, "externalTrafficPolicy": "Local"}
    return {"apiVersion": "v1", "kind": "Service", "metadata": _meta(name, opts.namespace, serving, annotations), "spec": spec}


def service_account(serving: ServingPlan, opts: ManifestOptions, name: str) -> dict:
    """The KSA the pods run as; Workload Identity grants (bucket read) name it as a principal."""
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(_ksa(opts, name), opts.namespace, serving),
            "automountServiceAccountToken": False}


def pod_monitoring(serving: ServingPlan, opts: ManifestOptions, name: str) -> dict:
    return {"apiVersion": "monitoring.googleapis.com/v1", "kind": "PodMonitoring", "metadata": _meta(name, opts.namespace, serving),
            "spec": {"selector": {"matchLabels": _selector(serving, name)},
                     "endpoints": [{"port": serving.server.port, "path": serving.server.metrics_path, "interval": "15s"}]}}


def pod_disruption_budget(serving: ServingPlan, opts: ManifestOptions, name: str) -> dict:
    """maxUnavailable 1: voluntary evictions (node upgrades) go one replica at a time but are never blocked."""
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": _meta(name, opts.namespace, serving),
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": _selector(serving, name)}}}


def ingress_peers(opts: ManifestOptions) -> list[dict]:
    """Who may connect: the serving namespace's pods, the Prometheus collectors, then the exposure's namespaces,
    labelled pods and CIDRs (a LoadBalancer's source ranges included)."""
    ex = opts.exposure
    peers: list[dict] = [{"podSelector": {}},
                         {"namespaceSelector": {"matchLabels": {NS_NAME_LABEL: PROMETHEUS_NAMESPACE}}}]
    peers += [{"namespaceSelector": {"matchLabels": {NS_NAME_LABEL: ns}}} for ns in ex.namespaces]
    if ex.pod_labels:
        peers.append({"namespaceSelector": {}, "podSelector": {"matchLabels": dict(ex.pod_labels)}})
    cidrs = list(ex.cidrs) + (list(ex.load_balancer_source_ranges) if opts.service_type != "ClusterIP" else [])
    peers += [{"ipBlock": {"cidr": c}} for c in dict.fromkeys(cidrs)]
    return peers


def network_policy(serving: ServingPlan, opts: ManifestOptions, name: str) -> dict:
    """Ingress to the server port only, and only from ingress_peers (issue #17: it used to admit any source); egress
    stays open for Hugging Face, GCS and the metadata server."""
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": _meta(name, opts.namespace, serving),
            "spec": {"podSelector": {"matchLabels": _selector(serving, name)}, "policyTypes": ["Ingress"],
                     "ingress": [{"from": ingress_peers(opts), "ports": [{"port": serving.server.port, "protocol": "TCP"}]}]}}


def horizontal_pod_autoscaler(serving: ServingPlan, opts: ManifestOptions, name: str) -> dict:
    hpa = serving.hpa
    return {
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": _meta(name, opts.namespace, serving, {f"{DOMAIN}/hpa": hpa.reason}),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": hpa.min_replicas, "maxReplicas": hpa.max_replicas,
            "metrics": [{"type": "Pods", "pods": {"metric": {"name": metric_name(hpa.metric)},
                                                  "target": {"type": "AverageValue", "averageValue": _quantity(hpa.average_value)}}}],
            "behavior": {
                "scaleUp": {"stabilizationWindowSeconds": SCALE_UP_WINDOW_S, "selectPolicy": "Max",
                            "policies": FAST_SCALE_UP if hpa.fast_scale_up else STEADY_SCALE_UP},
                "scaleDown": {"stabilizationWindowSeconds": SCALE_DOWN_WINDOW_S,
                              "policies": [{"type": "Pods", "value": 1, "periodSeconds": 120}]},
            },
        },
    }


def resolve(serving: ServingPlan, opts: ManifestOptions) -> ManifestOptions:
    """Options with the default name filled in and checked."""
    name = opts.name or default_name(serving)
    dns_label(name, "name")
    if isinstance(opts.namespace, str):  # a Pulumi Output passes through; the stack config checked it
        dns_label(opts.namespace, "namespace")
    if opts.surge < 0:
        raise UsageError(f"--surge: {opts.surge} must be >= 0")
    return replace(opts, name=name)


def build(serving: ServingPlan, opts: ManifestOptions, size: PodSizing) -> list[dict]:
    """Every object of the deployment, in apply order; the HPA only when the serving plan has one. `size` is the
    pod's sizing (manifests.pod.size_pod), computed once by the caller and shown in its comments."""
    opts = resolve(serving, opts)
    name = opts.name
    objects = [service_account(serving, opts, name), deployment(serving, opts, name, size), service(serving, opts, name),
               pod_disruption_budget(serving, opts, name), network_policy(serving, opts, name), pod_monitoring(serving, opts, name)]
    if serving.hpa_enabled:
        objects.append(horizontal_pod_autoscaler(serving, opts, name))
    if size.cache_placement == "pvc":  # the GCS FUSE file cache's per-pod disks
        objects.insert(0, storage_class(boot_disk_type(serving.machine.machine_type), cache_class_name(opts.namespace, name)))
    return objects


def namespace_object(name: str) -> dict:
    """The serving namespace: baseline Pod Security enforced, restricted audited and warned (the vLLM pod meets
    restricted; enforcing it would also judge sidecars GKE injects, such as gcsfuse)."""
    levels = {f"pod-security.kubernetes.io/{mode}": level for mode, level in
              (("enforce", "baseline"), ("audit", "restricted"), ("warn", "restricted"))}
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {"app.kubernetes.io/part-of": "gke-inference", **levels}}}


def hf_secret_object(namespace: Any, token: Any) -> dict:
    """Secret hf-secret/hf_api_token, mounted as a file by the pod; `token` is passed through (a Pulumi secret)."""
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": HF_SECRET, "namespace": namespace, "labels": {"app.kubernetes.io/part-of": "gke-inference"}},
            "stringData": {HF_SECRET_KEY: token}}
