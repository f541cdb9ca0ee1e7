"""The typed stack config (`gke-inference:*` keys of Pulumi.<stack>.yaml), validated before anything is planned.

Pure pydantic: `make plan` and the Pulumi program (issue #5) read the same model. An error names the key
as written in the stack file, the value, and what is allowed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, ValidationError, field_validator, model_validator

from profiles.catalog import PRICING_MODELS, default_catalog
from profiles.errors import UsageError, closest
from profiles.hpa import DEFAULT_HPA_METRIC, HPA_METRICS

NS = "gke-inference:"
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Cluster(_Strict):
    mode: Literal["autopilot", "standard"] = "autopilot"
    name: str = Field("gke-inference", pattern=DNS_LABEL)
    existing: str | None = None  # name of a cluster to use instead of creating one
    releaseChannel: Literal["RAPID", "REGULAR", "STABLE"] = "REGULAR"
    privateNodes: bool = False
    deletionProtection: bool = True


class ModelSource(_Strict):
    type: Literal["huggingface", "gcs"] = "huggingface"
    bucket: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")
    path: str = ""
    create: bool = False  # create the bucket (else it must exist)

    @model_validator(mode="after")
    def _bucket_for_gcs(self) -> ModelSource:
        if self.type == "gcs" and not self.bucket:
            raise ValueError("bucket is required when type is gcs")
        if self.type == "huggingface" and (self.bucket or self.path):
            raise ValueError("bucket/path apply to type gcs only")
        return self


class Autoscaling(_Strict):
    minReplicas: PositiveInt = 1
    maxReplicas: PositiveInt | None = None
    metric: Literal[tuple(HPA_METRICS)] = DEFAULT_HPA_METRIC  # type: ignore[valid-type]
    peakQps: PositiveFloat | None = None

    @model_validator(mode="after")
    def _bounds(self) -> Autoscaling:
        if self.maxReplicas is not None and self.maxReplicas < self.minReplicas:
            raise ValueError(f"maxReplicas {self.maxReplicas} is below minReplicas {self.minReplicas}")
        return self


class StackConfig(_Strict):
    model: str
    modelServer: Literal["vllm"] = "vllm"
    modelServerVersion: str = "latest"
    acceleratorType: str | None = None  # None: auto-select the cheapest profiled accelerator
    targetNtpotMs: PositiveInt | None = None
    targetTtftMs: PositiveInt | None = None
    targetItlMs: PositiveInt | None = None
    targetCostPerMillionOutputTokens: PositiveFloat | None = None
    pricingModel: Literal[PRICING_MODELS] = "spot"  # type: ignore[valid-type]
    namespace: str = Field("default", pattern=DNS_LABEL)
    cluster: Cluster = Cluster()
    capacity: str = Field("on-demand", pattern=r"^(on-demand|spot|flex-start|reservation:[a-z0-9][-a-z0-9]*)$")
    modelSource: ModelSource = ModelSource()
    autoscaling: Autoscaling = Autoscaling()
    hfToken: Any = None  # a Pulumi secret; never read here

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


def _message(source: str, exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        key = NS + ".".join(str(p) for p in err["loc"]) if err["loc"] else NS.rstrip(":")
        value = err.get("input")
        shown = "" if isinstance(value, dict) else f" value {value!r}:"
        text = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            text = "unknown key"
        parts.append(f"{key}:{shown} {text}")
    return f"{source}: " + "; ".join(parts)


def parse(values: dict[str, Any], source: str = "stack config") -> StackConfig:
    """Validate `gke-inference:*` values (namespace prefix already removed); UsageError on any problem."""
    try:
        return StackConfig(**values)
    except ValidationError as exc:
        raise UsageError(_message(source, exc)) from None


def load(root: Path, stack: str) -> StackConfig:
    """Read and validate Pulumi.<stack>.yaml."""
    path = root / f"Pulumi.{stack}.yaml"
    if not path.exists():
        stacks = sorted(p.name.split(".")[1] for p in root.glob("Pulumi.*.yaml"))
        raise UsageError(f"STACK: no stack file '{path.name}'; stacks: {', '.join(stacks)}")
    try:
        config = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
    except yaml.YAMLError as exc:
        raise UsageError(f"{path.name}: not valid YAML ({str(exc).splitlines()[0]})") from None
    return parse({k[len(NS):]: v for k, v in config.items() if k.startswith(NS)}, path.name)
