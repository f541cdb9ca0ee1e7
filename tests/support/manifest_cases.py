"""Rendered-manifest variants shared by the builder, validation, checkov and vLLM-parser tests."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from profiles.manifests.objects import Exposure, ManifestOptions, build, resolve
from profiles.manifests.pod import size_pod
from profiles.selection.ranking import Targets
from profiles.serving.plan import ServingPlan, ServingRequest, plan_serving
from profiles.serving.source import ModelSource
from profiles.store.store import ProfileStore
from tests.support.points import curve, store_dir

HPA_MODEL, HPA_ACC = "meta-llama/Llama-3.1-8B-Instruct", "nvidia-h100-80gb"


def measured_curve() -> list:
    """A measured H100 curve with server metrics: the queue grows once throughput plateaus. Its throughput beats
    the shipped estimates of every H100 count at NTPOT <= 40 ms, so it is the cheapest curve and gets chosen."""
    points = curve([(1, 1950, 20), (4, 7600, 24), (8, 14000, 31), (16, 17000, 60), (32, 17500, 140)],
                   model=HPA_MODEL, accelerator_type=HPA_ACC, instance_type="a3-highgpu-1g")
    waiting = [0.0, 0.2, 1.5, 6.0, 30.0]
    kv = [0.05, 0.2, 0.45, 0.8, 0.97]
    return [replace(p, num_requests_waiting=w, kv_cache_usage_perc=k) for p, w, k in zip(points, waiting, kv, strict=True)]


def hpa_store(tmp: Path) -> Path:
    return store_dir(tmp, measured_curve(), "measured.csv")


def serving_plan(model: str, accelerator_type: str, profiles_dir: Path | None = None, **request) -> ServingPlan:
    """plan_serving for a request, over the shipped store (plus `profiles_dir`)."""
    return plan_serving(ServingRequest(model, accelerator_type, **request), ProfileStore.load([profiles_dir] if profiles_dir else []))


def objects_of(serving: ServingPlan, opts: ManifestOptions) -> list[dict]:
    """The builder's objects for one plan, the pod sized once as the CLI and the stack do."""
    return build(serving, opts, size_pod(serving, opts.source, autopilot=opts.autopilot))


CASES: dict[str, dict] = {
    # seed 002: Llama 3.1 70B on TPU Trillium 2x4, weights from a bucket
    "tpu-gcs-seed002": dict(plan=dict(model="meta-llama/Llama-3.1-70B", accelerator_type="tpu-v6e-slice"),
                            opts=dict(namespace="llm", source=ModelSource("my-models", "llama-3.1-70b"))),
    # the same from a bucket with the shared XLA cache (manifests/xla_cache.py) and a mirrored image
    "tpu-gcs-xla-bucket": dict(plan=dict(model="meta-llama/Llama-3.1-70B", accelerator_type="tpu-v6e-slice"),
                               opts=dict(namespace="llm", source=ModelSource("my-models", "llama-3.1-70b"),
                                         xla_prefix="xla-cache/llama/tpu-v6e-slice-2x4/0.32.0",
                                         image="us-central1-docker.pkg.dev/p/docker-hub/vllm/vllm-tpu:v0.32.0")),
    "gpu-hf-small": dict(plan=dict(model="meta-llama/Llama-3.1-8B-Instruct", accelerator_type="nvidia-l4"), opts={}),
    "gpu-hf-large": dict(plan=dict(model="meta-llama/Llama-3.3-70B-Instruct", accelerator_type="nvidia-h100-80gb"),
                         opts=dict(namespace="serving", service_type="InternalLoadBalancer", spot=True,
                                   exposure=Exposure(load_balancer_source_ranges=("10.0.0.0/8",)))),
    "gpu-gcs-autopilot": dict(plan=dict(model="google/gemma-2-27b-it", accelerator_type="nvidia-a100-80gb"),
                              opts=dict(namespace="ml", source=ModelSource("weights-bucket", ""), autopilot=True,
                                        service_type="LoadBalancer", surge=1,
                                        exposure=Exposure(load_balancer_source_ranges=("203.0.113.0/24",),
                                                          api_key_secret="vllm-api-key"))),
    "tpu7x-hf": dict(plan=dict(model="meta-llama/Llama-3.1-8B-Instruct", accelerator_type="tpu7x"), opts=dict(namespace="llm")),
    "gpu-hpa-measured": dict(plan=dict(model=HPA_MODEL, accelerator_type=HPA_ACC, targets=Targets(ntpot_ms=40)),
                             opts=dict(namespace="llm"), store=True),
}


def case_plan(name: str, profiles_dir: Path | None = None) -> ServingPlan:
    spec = CASES[name]
    return serving_plan(**spec["plan"], profiles_dir=profiles_dir if spec.get("store") else None)


def case_objects(name: str, profiles_dir: Path | None = None) -> tuple[ServingPlan, ManifestOptions, list[dict]]:
    serving = case_plan(name, profiles_dir)
    opts = resolve(serving, ManifestOptions(**CASES[name]["opts"], generated_by="test"))
    return serving, opts, objects_of(serving, opts)


def by_kind(objects: list[dict]) -> dict[str, dict]:
    return {o["kind"]: o for o in objects}
