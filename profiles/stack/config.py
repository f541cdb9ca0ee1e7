"""The typed stack config (`gke-inference:*` and `gcp:*` keys of Pulumi.<stack>.yaml), validated before
anything is planned or registered.

Pure pydantic: `make plan` and the Pulumi program read the same model. An error names the key as written in
the stack file, the value, and what is allowed. Object keys (`cluster`, `modelSource`, `autoscaling`) are
validated here because Pulumi.yaml can only declare scalar and array types.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from profiles import checks
from profiles.catalog.catalog import PRICING_MODELS, default_catalog
from profiles.catalog.workload import SHAREGPT, USE_CASES
from profiles.errors import UsageError, closest
from profiles.gke.cluster import CLUSTER_NAME, MASTER_CIDR
from profiles.manifests.objects import SERVICE_TYPES, Exposure
from profiles.serving.servers import SERVERS, hpa_metric_names
from profiles.serving.servers.vllm import VLLM

NS = "gke-inference:"
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
CAPACITY = r"^(on-demand|spot|flex-start|reservation:[a-z]([-a-z0-9]{0,61}[a-z0-9])?)$"
SECRET_KEYS = ("hfToken",)
CIDR = r"^(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}/([0-9]|[12][0-9]|3[0-2])$"
GKE_VERSION = r"^1\.[0-9]+(\.[0-9]+(-gke\.[0-9]+)?)?$"  # 1.31, 1.31.2 or 1.31.2-gke.1115000
RFC3339 = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"
MAX_REPLICAS = 1000  # bounded counts: a typo such as 1000000 is refused, not planned
PositiveInt = Annotated[int, Field(gt=0, le=MAX_REPLICAS)]
TargetMs = Annotated[int, Field(gt=0, le=3_600_000)]  # at most an hour
PositiveFloat = Annotated[float, Field(gt=0, le=1e9, allow_inf_nan=False)]  # finite: NaN and inf are refused


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuthorizedNetwork(_Strict):
    cidr: str = Field(pattern=CIDR)
    name: str = Field("", max_length=64)
DURATION = r"^[0-9]{1,7}s$"  # protobuf Duration in seconds, as GKE's blue-green settings take it ("300s")


class BlueGreenConfig(_Strict):
    """Blue-green upgrade tuning of the accelerator pools; an unset field keeps GKE's default."""

    batchPercentage: float | None = Field(None, gt=0, le=1, allow_inf_nan=False)
    batchSoakDuration: str | None = Field(None, pattern=DURATION)
    nodePoolSoakDuration: str | None = Field(None, pattern=DURATION)


def _check(check, value):  # noqa: ANN001, ANN202 - a checks.* function as a pydantic validator
    try:
        return check(value, "")
    except UsageError as exc:
        raise ValueError(str(exc).removeprefix(": ")) from None


class Cluster(_Strict):
    mode: Literal["autopilot", "standard"] = "autopilot"
    name: str = "gke-inference"  # GKE: <= 40 characters, a letter first
    existing: str | None = None  # use this cluster (in gcp:region) instead of creating one
    releaseChannel: Literal["RAPID", "REGULAR", "STABLE"] = "REGULAR"
    privateNodes: bool = False
    deletionProtection: bool = True
    systemMachineType: str = Field("e2-standard-4", pattern=r"^[a-z][a-z0-9]*-[a-z0-9-]+$")  # Standard: pool for system pods
    masterCidr: str = Field(MASTER_CIDR, pattern=CIDR)  # Standard private clusters: a /28 unique in the VPC
    minMasterVersion: str | None = Field(None, pattern=GKE_VERSION)  # checked against the accelerator's minimum
    masterAuthorizedNetworks: list[AuthorizedNetwork] = []  # empty: the public endpoint accepts any source
    privateEndpoint: bool = False  # control plane on its internal IP only (pulumi must run inside the VPC)
    acceleratorMaxSurge: int = Field(0, ge=0, le=8)  # spare accelerator nodes a pool upgrade may add (0: one down at a time)
    upgradeStrategy: Literal["SURGE", "BLUE_GREEN"] = "SURGE"  # accelerator pools (SHORT_LIVED: see gke/node_pools.py)
    blueGreen: BlueGreenConfig | None = None  # with upgradeStrategy BLUE_GREEN only

    @field_validator("name", "existing")
    @classmethod
    def _cluster_name(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(CLUSTER_NAME, value):
            raise ValueError("GKE cluster names are 1-40 characters: lower-case letters, digits and '-', a letter first, "
                             "no '-' last")
        return value

    @model_validator(mode="after")
    def _rules(self) -> Cluster:
        if not self.masterCidr.endswith("/28"):
            raise ValueError(f"masterCidr {self.masterCidr}: GKE needs a /28")
        if self.privateEndpoint and not self.privateNodes:
            raise ValueError("privateEndpoint needs privateNodes true")
        if self.blueGreen is not None and self.upgradeStrategy != "BLUE_GREEN":
            raise ValueError("blueGreen applies to upgradeStrategy BLUE_GREEN only")
        if self.upgradeStrategy == "BLUE_GREEN" and self.acceleratorMaxSurge:
            raise ValueError("acceleratorMaxSurge is a SURGE setting; with upgradeStrategy BLUE_GREEN leave it 0")
        return self


def _after(start: str, end: str, what: str = "") -> None:
    """`end` strictly after `start`: RFC3339 in UTC ('Z' only), so the text orders like the instants."""
    if end <= start:
        raise ValueError(f"{what}end {end} is not after start {start}")


class Exclusion(_Strict):
    name: str = Field(pattern=DNS_LABEL)
    start: str = Field(pattern=RFC3339)
    end: str = Field(pattern=RFC3339)
    scope: Literal["NO_UPGRADES", "NO_MINOR_UPGRADES", "NO_MINOR_OR_NODE_UPGRADES"] = "NO_MINOR_OR_NODE_UPGRADES"

    @model_validator(mode="after")
    def _order(self) -> Exclusion:
        _after(self.start, self.end, f"exclusion {self.name}: ")
        return self


class Maintenance(_Strict):
    """When GKE may upgrade the control plane and nodes: a recurring window and exclusions."""

    start: str = Field("2026-01-03T03:00:00Z", pattern=RFC3339)  # a first occurrence; its time of day is what recurs
    end: str = Field("2026-01-03T09:00:00Z", pattern=RFC3339)
    recurrence: str = Field("FREQ=WEEKLY;BYDAY=SA,SU", pattern=r"^FREQ=(DAILY|WEEKLY|MONTHLY)(;[A-Z]+=[A-Z0-9,+-]+)*$")
    exclusions: list[Exclusion] = []

    @model_validator(mode="after")
    def _order(self) -> Maintenance:
        _after(self.start, self.end)
        return self


class ModelSourceConfig(_Strict):
    type: Literal["huggingface", "gcs"] = "huggingface"
    bucket: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")
    path: str = ""
    create: bool = False  # create the bucket (else it must exist)
    # who puts the weights there: none (you, with the commands the plan prints), job (a one-shot Job before the
    # server starts), preflight (`pulumi up` stops with those commands while config.json is missing)
    loader: Literal["none", "job", "preflight"] = "none"
    xlaCache: Literal["pod", "bucket"] = "pod"  # TPU compile cache: per pod (emptyDir), or shared in the bucket

    @field_validator("bucket")
    @classmethod
    def _bucket_name(cls, value: str | None) -> str | None:
        return None if value is None else _check(checks.bucket_name, value)

    @field_validator("path")
    @classmethod
    def _object_path(cls, value: str) -> str:
        return _check(checks.object_path, value)

    @model_validator(mode="after")
    def _bucket_for_gcs(self) -> ModelSourceConfig:
        if self.type == "gcs" and not self.bucket:
            raise ValueError("bucket is required when type is gcs")
        if self.type == "huggingface" and (self.bucket or self.path or self.loader != "none" or self.xlaCache != "pod"):
            raise ValueError("bucket, path, loader and xlaCache apply to type gcs only")
        if self.loader == "preflight" and self.create:
            raise ValueError("loader preflight with create true: the bucket the program creates is empty, so the check "
                             "could never pass; use loader job (or fill it and set create false)")
        return self


class ImageConfig(_Strict):
    """Where nodes pull the model-server image from."""

    mirror: bool = False  # an Artifact Registry remote repository (Docker Hub upstream) in gcp:region
    repository: str = Field("docker-hub", pattern=r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")  # its id


class Autoscaling(_Strict):
    minReplicas: PositiveInt = 1
    maxReplicas: PositiveInt | None = None
    metric: Literal[hpa_metric_names()] = VLLM.default_hpa_metric  # type: ignore[valid-type]  # auto: queue or batch size
    peakQps: PositiveFloat | None = None

    @model_validator(mode="after")
    def _bounds(self) -> Autoscaling:
        if self.maxReplicas is not None and self.maxReplicas < self.minReplicas:
            raise ValueError(f"maxReplicas {self.maxReplicas} is below minReplicas {self.minReplicas}")
        return self


class ExposureConfig(_Strict):
    """Who may reach the server (issue #17): NetworkPolicy peers beyond the serving namespace and Prometheus, a
    LoadBalancer's source ranges (required for serviceType LoadBalancer / InternalLoadBalancer), an API key Secret."""

    allowNamespaces: list[str] = Field([], max_length=50)
    allowPodLabels: dict[str, str] = Field({}, max_length=20)
    allowCidrs: list[str] = Field([], max_length=50)
    loadBalancerSourceRanges: list[str] = Field([], max_length=50)
    apiKeySecret: str | None = Field(None, pattern=DNS_LABEL)

    @field_validator("allowNamespaces")
    @classmethod
    def _namespaces(cls, value: list[str]) -> list[str]:
        return [_check(checks.dns_label, v) for v in value]

    @field_validator("allowPodLabels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        return dict(_check(checks.label, f"{k}={v}") for k, v in value.items())

    @field_validator("allowCidrs", "loadBalancerSourceRanges")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        return [_check(checks.cidr, v) for v in value]

    def spec(self) -> Exposure:
        return Exposure(tuple(self.allowNamespaces), tuple(self.allowPodLabels.items()), tuple(self.allowCidrs),
                        tuple(self.loadBalancerSourceRanges), self.apiKeySecret or "")


class StackConfig(_Strict):
    model: str
    modelServer: Literal[tuple(SERVERS)] = VLLM.name  # type: ignore[valid-type]
    modelServerVersion: str = "latest"
    acceleratorType: str | None = None  # None: auto-select the cheapest profiled accelerator
    targetNtpotMs: TargetMs | None = None
    targetTtftMs: TargetMs | None = None
    targetItlMs: TargetMs | None = None
    targetCostPerMillionOutputTokens: PositiveFloat | None = None
    useCase: Literal[USE_CASES] = SHAREGPT.use_case  # type: ignore[valid-type]  # profiles compete within this workload only
    pricingModel: Literal[PRICING_MODELS] = "spot"  # type: ignore[valid-type]
    namespace: str = Field("default", pattern=DNS_LABEL)
    allowSystemNamespace: bool = False  # allow kube-system and the other namespaces of checks.SYSTEM_NAMESPACES
    cluster: Cluster = Cluster()
    capacity: str | None = Field(None, pattern=CAPACITY)  # None: spot for pricingModel spot, else on-demand
    modelSource: ModelSourceConfig = ModelSourceConfig()
    autoscaling: Autoscaling = Autoscaling()
    serviceType: Literal[SERVICE_TYPES] = "ClusterIP"  # type: ignore[valid-type]
    exposure: ExposureConfig = ExposureConfig()
    profilesDirs: list[str] = []  # extra profile directories (measured curves) read before the shipped ones
    enableApis: bool = True  # enable the APIs the stack needs (false: they are already enabled)
    network: str | None = Field(None, pattern=DNS_LABEL)  # existing VPC; unset: the program creates <cluster>-vpc
    subnetwork: str | None = Field(None, pattern=DNS_LABEL)  # existing subnet of `network` in gcp:region
    maintenance: Maintenance | None = None  # unset: GKE may upgrade at any time
    image: ImageConfig = ImageConfig()
    hfToken: Any = None  # a Pulumi secret; never read here

    @property
    def node_capacity(self) -> str:
        """How accelerator nodes are obtained; defaults to the pricing model's kind."""
        return self.capacity or ("spot" if self.pricingModel == "spot" else "on-demand")

    @field_validator("model")
    @classmethod
    def _known_model(cls, value: str) -> str:
        models = default_catalog().models
        if value not in models:
            raise ValueError(f"not a catalog model; closest: {', '.join(closest(value, models)) or 'none'}")
        return value

    @field_validator("acceleratorType")
    @classmethod
    def _known_accelerator(cls, value: str | None) -> str | None:
        accelerators = default_catalog().accelerators
        if value is not None and value not in accelerators:
            raise ValueError(f"not a GKE accelerator label; allowed: {', '.join(accelerators)}")
        return value

    @model_validator(mode="after")
    def _load_balancer_ranges(self) -> StackConfig:
        if self.serviceType != "ClusterIP" and not self.exposure.loadBalancerSourceRanges:
            raise ValueError(f"serviceType {self.serviceType} needs exposure.loadBalancerSourceRanges (CIDRs that may connect)")
        return self

    @model_validator(mode="after")
    def _not_a_system_namespace(self) -> StackConfig:
        if self.namespace in checks.SYSTEM_NAMESPACES and not self.allowSystemNamespace:
            raise ValueError(f"namespace {self.namespace} is a system namespace; pick your own (or set allowSystemNamespace: true)")
        return self

    @model_validator(mode="after")
    def _capacity_matches_pricing(self) -> StackConfig:
        spot_nodes, spot_prices = self.node_capacity == "spot", self.pricingModel == "spot"
        if spot_nodes != spot_prices:
            raise ValueError(f"capacity {self.node_capacity} with pricingModel {self.pricingModel}: costs would be priced "
                             "for capacity the nodes do not use; set both to spot, or neither")
        if self.cluster.mode == "autopilot" and self.node_capacity == "flex-start":
            raise ValueError("capacity flex-start needs cluster.mode standard (a flex-start node pool)")
        if self.cluster.upgradeStrategy == "BLUE_GREEN" and (self.cluster.mode == "autopilot" or self.cluster.existing):
            raise ValueError("cluster.upgradeStrategy BLUE_GREEN applies to the accelerator pools the program creates "
                             "(cluster.mode standard, no cluster.existing)")
        if self.cluster.upgradeStrategy == "BLUE_GREEN" and self.node_capacity == "flex-start":
            raise ValueError("cluster.upgradeStrategy BLUE_GREEN with capacity flex-start: a green pool would queue for "
                             "capacity and flex-start nodes are replaced within 7 days anyway; use SURGE (GKE's "
                             "SHORT_LIVED strategy is not accepted by the pulumi-gcp node-pool schema)")
        if (self.network is None) != (self.subnetwork is None):
            raise ValueError("network and subnetwork go together: name both (existing ones) or neither (the program "
                             "creates a VPC and subnet)")
        if self.cluster.existing and (self.network or self.maintenance):
            raise ValueError("network, subnetwork and maintenance apply to a cluster the program creates, not to "
                             f"cluster.existing {self.cluster.existing}")
        return self


class GcpConfig(_Strict):
    """The `gcp:*` provider keys the program reads."""

    project: str = Field(pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
    region: str = Field(pattern=r"^[a-z]+-[a-z]+[0-9]$")
    zone: str | None = Field(None, pattern=r"^[a-z]+-[a-z]+[0-9]-[a-z]$")


def _message(source: str, exc: ValidationError, ns: str = NS) -> str:
    parts = []
    for err in exc.errors():
        key = checks.shown(ns + ".".join(str(p) for p in err["loc"]), 120) if err["loc"] else ns.rstrip(":")
        value = err.get("input")
        secret = any(str(p) in SECRET_KEYS for p in err["loc"])
        shown = "" if isinstance(value, dict | list) or secret else f" value {checks.shown(repr(value))}:"
        text = checks.one_line(err["msg"].removeprefix("Value error, "), 300)
        if err["type"] == "extra_forbidden":  # never echo the value: a misspelt secret key would print the secret
            text, shown = "unknown key", ""
        parts.append(f"{key}:{shown} {text}")
    return f"{source}: " + "; ".join(parts)


def parse(values: dict[str, Any], source: str = "stack config") -> StackConfig:
    """Validate `gke-inference:*` values (namespace prefix already removed); UsageError on any problem."""
    given = [k for k in ("network", "subnetwork") if values.get(k) is not None]
    if len(given) == 1:
        other = ({"network", "subnetwork"} - set(given)).pop()
        raise UsageError(f"{source}: {NS}{given[0]}: value {values[given[0]]!r}: needs {other} too; name both (existing "
                         "ones) or neither (the program creates a VPC and subnet)")
    try:
        return StackConfig(**values)
    except ValidationError as exc:
        raise UsageError(_message(source, exc)) from None


def parse_gcp(values: dict[str, Any], source: str = "stack config") -> GcpConfig:
    """Validate the `gcp:*` values (prefix removed) the program reads; other gcp keys are the provider's."""
    try:
        gcp = GcpConfig(**{k: v for k, v in values.items() if k in GcpConfig.model_fields})
    except ValidationError as exc:
        raise UsageError(_message(source, exc, "gcp:")) from None
    if gcp.zone and not gcp.zone.startswith(gcp.region + "-"):
        raise UsageError(f"{source}: gcp:zone: value {gcp.zone!r}: not in gcp:region {gcp.region}")
    return gcp


def read_stack_file(path: Path) -> dict[str, Any]:
    """The raw `config:` map of a Pulumi.<stack>.yaml (keys with their namespace)."""
    if not path.exists():
        stacks = sorted(p.name.split(".")[1] for p in path.parent.glob("Pulumi.*.yaml"))
        raise UsageError(f"STACK: no stack file '{path.name}'; stacks: {', '.join(stacks)}")
    document = checks.load_yaml(checks.read_text(path, path.name, limit=1024 * 1024), path.name)
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise UsageError(f"{path.name}: must be a map with a config: key (found a {type(document).__name__})")
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise UsageError(f"{path.name}: config: must be a map of keys to values")
    return config


def namespace(config: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {k[len(prefix):]: v for k, v in config.items() if k.startswith(prefix)}


def load(root: Path, stack: str) -> StackConfig:
    """Read and validate the gke-inference keys of Pulumi.<stack>.yaml."""
    return parse(namespace(read_stack_file(root / f"Pulumi.{stack}.yaml"), NS), f"Pulumi.{stack}.yaml")
