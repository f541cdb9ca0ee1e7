"""What a model server must provide for a deployment; vllm.py implements it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from profiles.catalog.modelspec import ModelSpec
from profiles.selection.autoscaling import HpaMetric
from profiles.serving.sizing import Fit
from profiles.serving.source import ModelSource
from profiles.store.points import ProfilePoint


@dataclass(frozen=True)
class Paths:
    """Where the container keeps things; the pod template mounts a writable volume at each."""

    home: str
    tmp: str
    cache: str  # HF_HOME: downloaded weights, tokenizer lookups
    model: str  # the bucket's read-only mount
    compile_cache: str  # XLA compile cache on TPU
    token_dir: str  # the mounted Hugging Face token


@dataclass(frozen=True)
class Gauge:
    """A server gauge the harness scrapes: the ProfilePoint field it fills, and how per-engine series combine."""

    name: str
    field: str
    combine: str  # sum | mean


class ModelServer(Protocol):
    name: str  # as profiles and model_servers.csv name it
    display_name: str
    container: str  # container name and app.kubernetes.io/name label
    port: int
    health_path: str
    metrics_path: str
    compile_cache_env: str  # the environment variable pointing the server at paths.compile_cache
    paths: Paths
    gauges: tuple[Gauge, ...]
    hpa_metrics: tuple[HpaMetric, ...]
    default_hpa_metric: str

    def command(self) -> list[str]: ...

    def args(self, model: ModelSpec, fit: Fit, source: ModelSource) -> list[str]: ...

    def env(self, platform: str, source: ModelSource) -> list[dict]: ...

    def warmup_s(self, platform: str) -> int: ...

    def hpa_metric(self, name: str, key: str = "--hpa-metric") -> HpaMetric: ...

    def resolve_hpa_metric(self, name: str, point: ProfilePoint, key: str = "--hpa-metric") -> tuple[HpaMetric, str]: ...

    def hpa_fallback(self, metric: HpaMetric) -> str: ...
