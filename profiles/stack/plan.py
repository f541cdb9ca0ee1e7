"""From a validated stack config to everything the Pulumi program creates, decided before any resource exists.

`plan_stack` is one pass: it loads the profile store once, chooses once (the stack's `acceleratorType`, else the
cheapest profiled configuration meeting the targets), plans the serving replica, sizes its pod once, builds the
Kubernetes objects with the same builder as `manifests create`, derives the node pools, prices one replica in
`gcp:region` and fills in one spec per component. `__main__.py` reads nothing else. Every refusal is a UsageError
naming the key, so a bad stack registers nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from profiles import __version__
from profiles.catalog.catalog import Catalog, Price, default_catalog
from profiles.errors import UsageError, unknown
from profiles.gke.adapter import adapter_objects
from profiles.gke.cluster import REQUIRED_APIS, ClusterSpec
from profiles.gke.identity import ADAPTER_KSA, ADAPTER_NAMESPACE, ADAPTER_ROLE, BUCKET_READER_ROLE
from profiles.gke.node_pools import accelerator_pools
from profiles.manifests.objects import ManifestOptions, build, namespace_object, resolve
from profiles.manifests.pod import PodSizing, size_pod
from profiles.selection.choose import Choice, choose
from profiles.selection.cost import TokenCost, token_cost
from profiles.selection.ranking import Pricing, Targets
from profiles.serving.plan import ServingPlan, ServingRequest, plan_serving
from profiles.serving.source import ModelSource
from profiles.stack.config import GcpConfig, StackConfig
from profiles.stack.specs import (
    HuggingFaceSecretSpec,
    InferenceClusterSpec,
    MetricsAdapterSpec,
    ModelBucketSpec,
    ProjectApisSpec,
    VllmServiceSpec,
)
from profiles.store.store import ProfileStore

TokenState = Literal["secret", "plaintext", "unset"]


@dataclass(frozen=True)
class StackPlan:
    cfg: StackConfig
    gcp: GcpConfig
    choice: Choice | None  # the auto-selection over every accelerator; None when the stack names the accelerator
    serving: ServingPlan
    options: ManifestOptions
    pod: PodSizing
    namespace: dict | None  # None for the pre-existing `default` namespace
    apis: ProjectApisSpec
    cluster: InferenceClusterSpec
    bucket: ModelBucketSpec | None  # None: weights come from Hugging Face
    hf_secret: HuggingFaceSecretSpec | None  # None: weights come from a bucket
    metrics_adapter: MetricsAdapterSpec | None  # None: no HPA
    service: VllmServiceSpec
    price: Price | None  # one replica, in gcp:region, at the pricing model
    cost: TokenCost | None
    notes: list[str] = field(default_factory=list)

    @property
    def hpa(self) -> bool:
        return self.serving.hpa_enabled

    def outputs(self) -> dict[str, Any]:
        """Plain values the stack exports (the endpoint, kubeconfig and IDs come from resources)."""
        s, hpa, shape = self.serving, self.serving.hpa, self.serving.fit.shape
        point = s.point
        per_replica = self.price.usd_per_hour if self.price else None
        return {
            "profile": {
                "model": s.model.model, "acceleratorType": shape.accelerator_type, "instanceType": shape.machine_type,
                "acceleratorCount": shape.accelerator_count, "tpuTopology": shape.tpu_topology or None,
                "precision": s.fit.precision, "source": f"{point.provenance}:{point.source_id}" if point else "memory-fit",
                "basis": s.basis,
            },
            "costPerHour": {
                "perReplica": per_replica, "atMinReplicas": _times(per_replica, hpa.min_replicas),
                "atMaxReplicas": _times(per_replica, hpa.max_replicas), "pricingModel": self.cfg.pricingModel,
                "region": self.gcp.region,
            },
            "costPerMillionTokens": {"input": self.cost.per_million_input if self.cost else None,
                                     "output": self.cost.per_million_output if self.cost else None},
            "hpa": {"enabled": self.hpa, "metric": hpa.metric if self.hpa else None,
                    "targetAverageValue": hpa.average_value if self.hpa else None,
                    "minReplicas": hpa.min_replicas, "maxReplicas": hpa.max_replicas, "reason": s.hpa_note},
            "serviceUrl": f"http://{self.options.name}.{self.cfg.namespace}.svc.cluster.local:{s.server.port}/v1",
        }


def _times(value: float | None, n: int) -> float | None:
    return None if value is None else round(value * n, 6)


def _source(cfg: StackConfig) -> ModelSource:
    src = cfg.modelSource
    return ModelSource(src.bucket, src.path) if src.type == "gcs" else ModelSource()


def _check_token(cfg: StackConfig, token: TokenState) -> None:
    if token == "plaintext":
        raise UsageError("gke-inference:hfToken: stored in plain text; store it encrypted with "
                         "`pulumi config set --secret hfToken <token>`")
    if cfg.modelSource.type == "huggingface" and token == "unset":
        raise UsageError("gke-inference:hfToken: required for modelSource huggingface (gated models need it); set it "
                         "with `pulumi config set --secret hfToken <token>` or use modelSource type gcs")


def _auto_select(cfg: StackConfig, store: ProfileStore, catalog: Catalog, targets: Targets, pricing: Pricing) -> Choice:
    """The cheapest deployable configuration of the model over every accelerator, within the stack's use case, that
    meets the targets; UsageError if none."""
    if cfg.model not in store.models():
        if cfg.model not in catalog.models:
            raise unknown("model", cfg.model, store.models())
        raise UsageError(f"model: '{cfg.model}' is in the catalog but has no profiles yet; models with profiles: "
                         "`python -m profiles models list`")
    found = store.where(model=cfg.model, model_server=cfg.modelServer, use_case=cfg.useCase)
    if not len(found):
        raise UsageError(f"modelServer: no '{cfg.useCase}' profiles of {cfg.model} with server '{cfg.modelServer}'; servers with profiles: "
                         f"{', '.join(store.model_servers(cfg.model))}")
    return choose(catalog, found.select_versions(cfg.modelServerVersion).curves(), targets, pricing)


def plan_stack(cfg: StackConfig, gcp: GcpConfig, hf_token: TokenState = "secret", catalog: Catalog | None = None) -> StackPlan:
    """Everything the program will create for this stack; UsageError (nothing registered) when it cannot."""
    catalog = catalog or default_catalog()
    _check_token(cfg, hf_token)
    auto = cfg.autoscaling
    targets = Targets(cfg.targetNtpotMs, cfg.targetTtftMs, cfg.targetItlMs, cfg.targetCostPerMillionOutputTokens)
    pricing = Pricing(cfg.pricingModel, region=gcp.region)
    store = ProfileStore.load(cfg.profilesDirs)
    choice = None if cfg.acceleratorType else _auto_select(cfg, store, catalog, targets, pricing)
    accelerator = cfg.acceleratorType or choice.winner.point.accelerator_type
    request = ServingRequest(cfg.model, accelerator, cfg.modelServer, cfg.modelServerVersion, targets, pricing,
                             hpa_metric=auto.metric, peak_qps=auto.peakQps, min_replicas=auto.minReplicas,
                             max_replicas=auto.maxReplicas, use_case=cfg.useCase)
    serving = plan_serving(request, store, catalog, choice)
    standard, capacity = cfg.cluster.mode == "standard", cfg.node_capacity
    if standard and not gcp.zone:
        raise UsageError(f"gcp:zone: required when cluster.mode is standard: accelerator node pools are zonal; set a zone "
                         f"of {gcp.region} that offers {serving.fit.shape.machine_type} (`pulumi config set gcp:zone ...`)")
    reservation = capacity.split(":", 1)[1] if capacity.startswith("reservation:") and not standard else ""
    image = serving.image
    options = resolve(serving, ManifestOptions(
        namespace=cfg.namespace, source=_source(cfg), service_type=cfg.serviceType, autopilot=not standard,
        spot=capacity == "spot", reservation=reservation, exposure=cfg.exposure.spec(),
        generated_by=f"gke-inference {__version__} (Pulumi), model server {serving.server.name} {image.version} ({image.image})"))
    pod = size_pod(serving, options.source)
    objects = build(serving, options, pod)
    ksa = next(o["metadata"]["name"] for o in objects if o["kind"] == "ServiceAccount")
    pools = accelerator_pools(serving.fit.shape, serving.platform, capacity, serving.hpa.min_replicas, serving.hpa.max_replicas,
                              gcp.zone or "", serving.accelerator.kind) if standard else []
    created = None if cfg.cluster.existing else ClusterSpec(cfg.cluster.name, cfg.cluster.mode, cfg.cluster.releaseChannel,
                                                            cfg.cluster.privateNodes, cfg.cluster.deletionProtection)
    shape = serving.fit.shape
    price = catalog.price(shape.machine_type, shape.accelerator_count, cfg.pricingModel, gcp.region)
    point = serving.point
    cost = token_cost(price.usd_per_hour if price else None, point.output_tps, point.input_tps) if point else None
    notes = []
    if gcp.region not in serving.machine.regions:
        notes.append(f"{shape.machine_type} is not listed for {gcp.region} in machine_types.csv (regions checked: "
                     f"{', '.join(serving.machine.regions)}); confirm availability before `pulumi up`")
    if price is None:
        notes.append(f"no published {cfg.pricingModel} price for {shape.machine_type} in {gcp.region}: costs show N/A")
    src = cfg.modelSource
    bucket = ModelBucketSpec(gcp.project, src.bucket, src.create, gcp.region, cfg.namespace, ksa, BUCKET_READER_ROLE)
    adapter = MetricsAdapterSpec(gcp.project, adapter_objects(), ADAPTER_NAMESPACE, ADAPTER_KSA, ADAPTER_ROLE)
    return StackPlan(
        cfg, gcp, choice, serving, options, pod,
        namespace=namespace_object(cfg.namespace) if cfg.namespace != "default" else None,
        apis=ProjectApisSpec(gcp.project, REQUIRED_APIS if cfg.enableApis else ()),
        cluster=InferenceClusterSpec(cfg.cluster.existing or cfg.cluster.name, gcp.project, gcp.region, created, tuple(pools),
                                     cfg.cluster.systemMachineType),
        bucket=bucket if src.type == "gcs" else None,
        hf_secret=HuggingFaceSecretSpec(cfg.namespace) if src.type == "huggingface" else None,
        metrics_adapter=adapter if serving.hpa_enabled else None,
        service=VllmServiceSpec(options.name, tuple(objects), pod.startup_budget_s, cfg.serviceType != "ClusterIP"),
        price=price, cost=cost, notes=notes)
