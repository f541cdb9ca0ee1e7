"""From a validated stack config to everything the Pulumi program creates, decided before any resource exists.

`plan_stack` selects the accelerator (the stack's `acceleratorType`, else the cheapest profiled configuration
meeting the targets), sizes the serving shape, builds the Kubernetes objects with the same builder as
`manifests create`, derives the node pools, prices one replica in `gcp:region` and collects the stack outputs.
Every refusal is a UsageError naming the key, so a bad stack registers nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from profiles import __version__
from profiles.catalog.catalog import Catalog, Price, default_catalog
from profiles.errors import UsageError
from profiles.gke.cluster import ClusterSpec
from profiles.gke.node_pools import PoolSpec, accelerator_pools
from profiles.manifests.objects import ManifestOptions, build, namespace_object, resolve
from profiles.manifests.pod import PORT, ModelSource
from profiles.selection.choose import Recommendation, recommend
from profiles.selection.cost import TokenCost, token_cost
from profiles.selection.ranking import Pricing, Targets
from profiles.serving.plan import ServingPlan, plan_serving
from profiles.stack.config import GcpConfig, StackConfig

TokenState = Literal["secret", "plaintext", "unset"]


@dataclass(frozen=True)
class StackPlan:
    cfg: StackConfig
    gcp: GcpConfig
    recommendation: Recommendation | None  # None when the stack names the accelerator
    serving: ServingPlan
    options: ManifestOptions
    workload: list[dict]  # ServiceAccount, Deployment, Service, PDB, NetworkPolicy, PodMonitoring[, HPA]
    namespace: dict | None  # None for the pre-existing `default` namespace
    cluster: ClusterSpec | None  # None: use cluster.existing
    pools: list[PoolSpec]  # empty on Autopilot
    price: Price | None  # one replica, in gcp:region, at the pricing model
    cost: TokenCost | None
    notes: list[str] = field(default_factory=list)

    @property
    def hpa(self) -> bool:
        return self.serving.hpa_enabled

    @property
    def ksa(self) -> str:
        return next(o["metadata"]["name"] for o in self.workload if o["kind"] == "ServiceAccount")

    @property
    def needs_hf_token(self) -> bool:
        return not self.options.source.from_bucket

    @property
    def cluster_name(self) -> str:
        return self.cfg.cluster.existing or self.cfg.cluster.name

    def object(self, kind: str) -> dict:
        return next(o for o in self.workload if o["kind"] == kind)

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
            "serviceUrl": f"http://{self.options.name}.{self.cfg.namespace}.svc.cluster.local:{PORT}/v1",
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


def plan_stack(cfg: StackConfig, gcp: GcpConfig, hf_token: TokenState = "secret", catalog: Catalog | None = None) -> StackPlan:
    """Everything the program will create for this stack; UsageError (nothing registered) when it cannot."""
    catalog = catalog or default_catalog()
    _check_token(cfg, hf_token)
    auto = cfg.autoscaling
    targets = Targets(cfg.targetNtpotMs, cfg.targetTtftMs, cfg.targetItlMs, cfg.targetCostPerMillionOutputTokens)
    pricing = Pricing(cfg.pricingModel, region=gcp.region)
    hpa = dict(hpa_metric=auto.metric, peak_qps=auto.peakQps, min_replicas=auto.minReplicas, max_replicas=auto.maxReplicas)
    rec, accelerator = None, cfg.acceleratorType
    if not accelerator:
        rec = recommend(cfg.model, targets, pricing, model_server=cfg.modelServer, model_server_version=cfg.modelServerVersion,
                        profiles_dirs=cfg.profilesDirs, **hpa)
        accelerator = rec.choice.point.accelerator_type
    serving = plan_serving(cfg.model, accelerator, cfg.modelServer, cfg.modelServerVersion, targets=targets, pricing=pricing,
                           profiles_dirs=cfg.profilesDirs, catalog=catalog, **hpa)
    standard, capacity = cfg.cluster.mode == "standard", cfg.node_capacity
    if standard and not gcp.zone:
        raise UsageError(f"gcp:zone: required when cluster.mode is standard: accelerator node pools are zonal; set a zone "
                         f"of {gcp.region} that offers {serving.fit.shape.machine_type} (`pulumi config set gcp:zone ...`)")
    reservation = capacity.split(":", 1)[1] if capacity.startswith("reservation:") and not standard else ""
    options = resolve(serving, ManifestOptions(
        namespace=cfg.namespace, source=_source(cfg), service_type=cfg.serviceType, autopilot=not standard,
        spot=capacity == "spot", reservation=reservation,
        generated_by=f"gke-inference {__version__} (Pulumi), model server vllm {serving.image.version} ({serving.image.image})"))
    workload = build(serving, options)
    pools = accelerator_pools(serving.fit.shape, serving.platform, capacity, serving.hpa.min_replicas, serving.hpa.max_replicas,
                              gcp.zone or "", serving.accelerator.kind) if standard else []
    cluster = None if cfg.cluster.existing else ClusterSpec(cfg.cluster.name, cfg.cluster.mode, cfg.cluster.releaseChannel,
                                                            cfg.cluster.privateNodes, cfg.cluster.deletionProtection)
    shape = serving.fit.shape
    price = catalog.price(shape.machine_type, shape.accelerator_count, cfg.pricingModel, gcp.region)
    point = serving.point
    cost = token_cost(price.usd_per_hour if price else None, point.output_tps if point else None,
                      point.input_tps if point else None) if point else None
    notes = []
    if gcp.region not in serving.machine.regions:
        notes.append(f"{shape.machine_type} is not listed for {gcp.region} in machine_types.csv (regions checked: "
                     f"{', '.join(serving.machine.regions)}); confirm availability before `pulumi up`")
    if price is None:
        notes.append(f"no published {cfg.pricingModel} price for {shape.machine_type} in {gcp.region}: costs show N/A")
    if hf_token == "unset" and cfg.modelSource.type == "gcs":
        notes.append("no hfToken: weights come from the bucket; no Hugging Face secret is created")
    namespace = namespace_object(cfg.namespace) if cfg.namespace != "default" else None
    return StackPlan(cfg, gcp, rec, serving, options, workload, namespace, cluster, pools, price, cost, notes)
