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
from profiles.estimator.estimate import efficiency
from profiles.gke import registry
from profiles.gke.adapter import adapter_objects
from profiles.gke.cluster import REQUIRED_APIS, ClusterSpec, MaintenanceSpec, NetworkSpec
from profiles.gke.identity import (
    ADAPTER_KSA,
    ADAPTER_NAMESPACE,
    ADAPTER_ROLE,
    BUCKET_READER_ROLE,
    BUCKET_WRITER_ROLE,
    node_sa_id,
)
from profiles.gke.node_pools import BlueGreen, accelerator_pools
from profiles.gke.versions import FLEX_START_MAX_DAYS, below, required
from profiles.manifests import loader, xla_cache
from profiles.manifests.objects import ManifestOptions, build, namespace_object, resolve, slug
from profiles.manifests.pod import PodSizing, download_gib, size_pod
from profiles.selection.choose import Choice, choose
from profiles.selection.cost import TokenCost, token_cost
from profiles.selection.ranking import Pricing, Targets
from profiles.serving.plan import ServingPlan, ServingRequest, plan_serving
from profiles.serving.source import ModelSource
from profiles.stack.config import GcpConfig, StackConfig
from profiles.stack.specs import (
    HuggingFaceSecretSpec,
    ImageMirrorSpec,
    InferenceClusterSpec,
    MetricsAdapterSpec,
    ModelBucketSpec,
    ProjectApisSpec,
    VllmServiceSpec,
    WeightsLoaderSpec,
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
    hf_secret: HuggingFaceSecretSpec | None  # None: weights come from a bucket and no loader Job downloads them
    metrics_adapter: MetricsAdapterSpec | None  # None: no HPA
    service: VllmServiceSpec
    price: Price | None  # one replica, in gcp:region, at the pricing model
    cost: TokenCost | None
    notes: list[str] = field(default_factory=list)
    loader: WeightsLoaderSpec | None = None  # modelSource.loader job
    mirror: ImageMirrorSpec | None = None  # image.mirror

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
    if cfg.modelSource.loader == "job" and token == "unset":
        raise UsageError("gke-inference:hfToken: required for modelSource.loader job (it downloads from Hugging Face); "
                         "set it with `pulumi config set --secret hfToken <token>`")


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


def _cluster_spec(cfg: StackConfig) -> ClusterSpec:
    c, name = cfg.cluster, cfg.cluster.name
    network = (NetworkSpec(cfg.network, cfg.subnetwork, create=False) if cfg.network
               else NetworkSpec(f"{name}-vpc", f"{name}-subnet", create=True))
    m = cfg.maintenance
    maintenance = None if m is None else MaintenanceSpec(
        m.start, m.end, m.recurrence, tuple((e.name, e.start, e.end, e.scope) for e in m.exclusions))
    return ClusterSpec(name, c.mode, c.releaseChannel, c.privateNodes, c.deletionProtection, network=network,
                       master_cidr=c.masterCidr, min_master_version=c.minMasterVersion, maintenance=maintenance,
                       authorized_networks=tuple((a.cidr, a.name or a.cidr) for a in c.masterAuthorizedNetworks),
                       private_endpoint=c.privateEndpoint)


def _version_notes(cfg: StackConfig, accelerator: str, platform: str, capacity: str) -> list[str]:
    """Refuses a minMasterVersion below what the accelerator or capacity needs; notes the minimum otherwise."""
    notes = []
    for what, minimum in required(accelerator, platform, capacity):
        version = cfg.cluster.minMasterVersion
        if version and below(version, minimum):
            raise UsageError(f"gke-inference:cluster.minMasterVersion: value '{version}': {what} needs GKE >= {minimum}; "
                             f"set {minimum} or newer")
        if not version:
            where = f"cluster {cfg.cluster.existing}" if cfg.cluster.existing else f"the {cfg.cluster.releaseChannel} channel's default"
            notes.append(f"{what} needs GKE >= {minimum}; {where} must be at least that (pin it with cluster.minMasterVersion)")
    if capacity == "flex-start":
        notes.append(f"flex-start nodes live at most {FLEX_START_MAX_DAYS} days and are offered in a few zones only; "
                     "GKE then drains them and the pool queues for new capacity")
    return notes


def weights_command(model: str, bucket: str, path: str, created: bool) -> str:
    """The serving identity only reads the bucket (objectViewer) and vLLM runs offline: the weights must be there
    before the first replica starts, or it crash-loops. The exact commands to put them there."""
    target = f"gs://{bucket}/{path}".rstrip("/")
    local = f"./{model.rsplit('/', 1)[-1]}"
    state = "the program creates the bucket empty" if created else f"{target} must hold the checkpoint"
    return (f"weights: {state}; before the first replica starts run `huggingface-cli download {model} --local-dir "
            f"{local} --exclude 'original/*'` then `gcloud storage cp -r {local}/* {target}/` "
            f"(check: `gcloud storage ls {target}/config.json`)")


def _calibration_notes(serving: ServingPlan) -> list[str]:
    """An estimated profile on a chip no published vLLM V1 measurement calibrates rests on other chips' efficiencies:
    say so, so the promise is read as the estimate it is."""
    point, acc = serving.point, serving.accelerator
    if point is None or point.provenance != "estimated":
        return []
    eff = efficiency(acc.efficiency_group, "vllm")
    if eff.arch != "*":
        return []
    pooled = (f"the efficiencies vLLM reaches on other chips (fitted on {eff.rows} rows)" if eff.engine == "vllm" and eff.rows
              else "fallback efficiencies (no vLLM calibration rows at all)")
    v0_only = efficiency(acc.efficiency_group, "vllm-v0").arch != "*"
    link = "; its tensor-parallel link figure is unmeasured" if point.accelerator_count > 1 else ""
    return [f"no published vLLM V1 (0.8 or later) measurement on {acc.accelerator_type} calibrates this estimate"
            f"{' (its rows there ran the V0 engine, which calibrates only vllm-v0)' if v0_only else ''}: it uses {pooled}"
            f"{link} — measure it before relying on the numbers (python -m profiles benchmark run)"]


def _availability_notes(cfg: StackConfig, min_replicas: int, capacity: str) -> list[str]:
    notes = []
    if min_replicas == 1:
        notes.append("one replica: a node upgrade, repair, spot preemption or rollout takes the service down until the "
                     "replacement has loaded the model; set autoscaling.minReplicas >= 2 (and cluster.acceleratorMaxSurge "
                     "or upgradeStrategy BLUE_GREEN on Standard) for no downtime")
    if cfg.cluster.upgradeStrategy == "BLUE_GREEN":
        notes.append("blue-green node upgrades: GKE brings up a second pool of the same accelerator nodes before draining "
                     "the first; the project needs quota (and the zone capacity) for both while an upgrade runs")
    if cfg.maintenance is None and not cfg.cluster.existing:
        notes.append("no maintenance window: GKE may upgrade nodes at any time; set gke-inference:maintenance")
    if cfg.cluster.privateEndpoint:
        notes.append("privateEndpoint: the control plane has no public IP; run pulumi from inside the VPC (or through "
                     "a bastion / Cloud VPN) or the Kubernetes resources cannot be applied")
    if not cfg.cluster.masterAuthorizedNetworks and not cfg.cluster.existing:
        notes.append("the control-plane endpoint accepts any source address (GKE still authenticates every call); "
                     "set cluster.masterAuthorizedNetworks to restrict it")
    return notes


def _blue_green(cfg: StackConfig) -> BlueGreen | None:
    c = cfg.cluster
    if c.upgradeStrategy != "BLUE_GREEN":
        return None
    bg = c.blueGreen
    return BlueGreen() if bg is None else BlueGreen(bg.batchPercentage, bg.batchSoakDuration, bg.nodePoolSoakDuration)


def _xla_prefix(cfg: StackConfig, serving: ServingPlan) -> str:
    """The bucket prefix of the shared TPU compile cache, or "" (per-pod emptyDir)."""
    if cfg.modelSource.xlaCache != "bucket":
        return ""
    shape = serving.fit.shape
    if serving.platform != "tpu":
        raise UsageError(f"gke-inference:modelSource.xlaCache: value 'bucket': {shape.accelerator_type} is a GPU; the XLA "
                         "compile cache applies to TPU accelerators only (use pod, the default)")
    return xla_cache.prefix(slug(serving.model.model), shape.accelerator_type, shape.tpu_topology, serving.image.version)


def _mirror(cfg: StackConfig, gcp: GcpConfig, image: str) -> ImageMirrorSpec | None:
    if not cfg.image.mirror:
        return None
    repo = cfg.image.repository
    return ImageMirrorSpec(gcp.project, gcp.region, repo, registry.mirrored_image(image, gcp.region, gcp.project, repo))


def _loader(cfg: StackConfig, gcp: GcpConfig, serving: ServingPlan, image: str) -> WeightsLoaderSpec | None:
    src = cfg.modelSource
    if src.loader != "job":
        return None
    autopilot = cfg.cluster.mode == "autopilot"
    objects = loader.loader_objects(cfg.model, src.bucket, src.path, cfg.namespace, image, autopilot,
                                    download_gib(serving), system_pool=not autopilot and not cfg.cluster.existing)
    deadline = objects[1]["spec"]["activeDeadlineSeconds"]
    return WeightsLoaderSpec(gcp.project, src.bucket, cfg.namespace, loader.LOADER, BUCKET_WRITER_ROLE, tuple(objects),
                             deadline)


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
    mirror = _mirror(cfg, gcp, image.image)
    pulled = mirror.image if mirror else image.image
    xla_prefix = _xla_prefix(cfg, serving)
    options = resolve(serving, ManifestOptions(
        namespace=cfg.namespace, source=_source(cfg), service_type=cfg.serviceType, autopilot=not standard,
        spot=capacity == "spot", reservation=reservation, exposure=cfg.exposure.spec(), image=pulled, xla_prefix=xla_prefix,
        generated_by=f"gke-inference {__version__} (Pulumi), model server {serving.server.name} {image.version} ({pulled})"))
    others = (xla_cache.CPU_M, xla_cache.MEMORY_MIB, xla_cache.EPHEMERAL_GIB) if xla_prefix else (0, 0, 0)
    pod = size_pod(serving, options.source, autopilot=not standard, others=others)
    objects = build(serving, options, pod)
    ksa = next(o["metadata"]["name"] for o in objects if o["kind"] == "ServiceAccount")
    pools = accelerator_pools(serving.fit.shape, serving.platform, capacity, serving.hpa.min_replicas, serving.hpa.max_replicas,
                              gcp.zone or "", serving.accelerator.kind, cfg.cluster.acceleratorMaxSurge,
                              _blue_green(cfg)) if standard else []
    created = None if cfg.cluster.existing else _cluster_spec(cfg)
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
    notes += _calibration_notes(serving)
    notes += _version_notes(cfg, serving.fit.shape.accelerator_type, serving.platform, capacity)
    notes += _availability_notes(cfg, serving.hpa.min_replicas, capacity)
    src = cfg.modelSource
    command = weights_command(cfg.model, src.bucket, src.path, src.create) if src.type == "gcs" else ""
    if src.type == "gcs" and src.loader == "none":
        notes.append(command)
    elif src.loader == "job":
        notes.append(f"weights: the Job {loader.LOADER} fills gs://{src.bucket}/{src.path} from Hugging Face (skipped when "
                     "config.json is there) before the Deployment is created")
    elif src.loader == "preflight":
        notes.append(f"PREFLIGHT: `pulumi preview`/`up` stops before registering anything while gs://{src.bucket}/{src.path}/config.json "
                     f"is missing; {command}")
    if xla_prefix:
        notes.append(f"XLA cache: gs://{src.bucket}/{xla_prefix}/ (the serving KSA may write only there; an existing bucket "
                     "needs uniform bucket-level access for that IAM condition)")
    if mirror:
        notes.append(f"image: pulled from the Artifact Registry mirror {mirror.image} (Docker Hub upstream)"
                     + ("; grant the existing cluster's node service account roles/artifactregistry.reader on it"
                        if cfg.cluster.existing and (not standard or src.loader == "job") else ""))
    bucket = ModelBucketSpec(gcp.project, src.bucket, src.create, gcp.region, cfg.namespace, ksa, BUCKET_READER_ROLE,
                             writer_prefix=xla_prefix,
                             preflight_object=f"{src.path.strip('/')}/config.json".lstrip("/") if src.loader == "preflight" else "",
                             preflight_message=command if src.loader == "preflight" else "")
    adapter = MetricsAdapterSpec(gcp.project, adapter_objects(), ADAPTER_NAMESPACE, ADAPTER_KSA, ADAPTER_ROLE)
    return StackPlan(
        cfg, gcp, choice, serving, options, pod,
        namespace=namespace_object(cfg.namespace) if cfg.namespace != "default" else None,
        apis=ProjectApisSpec(gcp.project, (REQUIRED_APIS + ((registry.API,) if mirror else ())) if cfg.enableApis else ()),
        cluster=InferenceClusterSpec(cfg.cluster.existing or cfg.cluster.name, gcp.project, gcp.region, created, tuple(pools),
                                     cfg.cluster.systemMachineType, node_sa_id(cfg.cluster.existing or cfg.cluster.name)),
        bucket=bucket if src.type == "gcs" else None,
        hf_secret=HuggingFaceSecretSpec(cfg.namespace) if src.type == "huggingface" or src.loader == "job" else None,
        metrics_adapter=adapter if serving.hpa_enabled else None,
        service=VllmServiceSpec(options.name, tuple(objects), pod.startup_budget_s, cfg.serviceType != "ClusterIP"),
        price=price, cost=cost, notes=notes, loader=_loader(cfg, gcp, serving, pulled), mirror=mirror)
