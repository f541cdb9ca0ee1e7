"""Rendered manifests against external validators: Kubernetes schemas (strict) and the PodMonitoring CRD fields.
checkov's Kubernetes checks run in tests/live/test_checkov.py."""

from __future__ import annotations

import json

import jsonschema
import kubernetes_validate
import pytest
import yaml

from profiles.manifests.benchmark_job import JobOptions, build_job
from profiles.manifests.loader import loader_objects
from profiles.manifests.render import render
from tests.support.cli import ROOT
from tests.support.manifest_cases import CASES, case_objects, hpa_store

KUBERNETES_VERSIONS = ("1.33", "1.34", "1.35")
PODMONITORING_SCHEMA = json.loads((ROOT / "tests/schemas/podmonitoring-monitoring.googleapis.com-v1.json").read_text())


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, list[dict]]:
    store = hpa_store(tmp_path_factory.mktemp("measured"))
    return {name: case_objects(name, store)[2] for name in CASES}


def test_every_variant_is_covered(rendered):
    kinds = {o["kind"] for objects in rendered.values() for o in objects}
    assert kinds == {"ServiceAccount", "Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy", "PodMonitoring",
                     "HorizontalPodAutoscaler", "StorageClass"}


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_native_objects_pass_kubernetes_validate_strict(rendered, version):
    checked = 0
    for name, objects in rendered.items():
        for obj in objects:
            if obj["apiVersion"].startswith("monitoring.googleapis.com/"):
                continue
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(f"{name} {obj['kind']} on {version}: {'.'.join(map(str, exc.path))}: {exc.message}")
            checked += 1
    assert checked == sum(len(objects) - 1 for objects in rendered.values())  # all but PodMonitoring


@pytest.mark.parametrize("autopilot", [False, True], ids=["standard", "autopilot"])
def test_weights_loader_objects_pass_kubernetes_validate_strict(autopilot):
    objects = loader_objects("meta-llama/Llama-3.1-70B", "models", "llama", "llm", "docker.io/vllm/vllm-tpu:v0.32.0",
                             autopilot, 131.4)
    assert [o["kind"] for o in objects] == ["ServiceAccount", "Job"]
    for version in KUBERNETES_VERSIONS:
        for obj in objects:
            kubernetes_validate.validate(obj, version, strict=True)


def test_strict_validation_catches_a_misspelled_field(rendered):
    """Negative control: the validator really is strict about unknown fields."""
    deployment = next(o for o in rendered["gpu-hf-small"] if o["kind"] == "Deployment")
    broken = json.loads(json.dumps(deployment))
    broken["spec"]["template"]["spec"]["containers"][0]["startupprobe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[-1], strict=True)


def test_pod_monitoring_matches_the_crd_fields(rendered):
    for objects in rendered.values():
        for obj in objects:
            if obj["kind"] == "PodMonitoring":
                jsonschema.validate(obj, PODMONITORING_SCHEMA)


@pytest.mark.parametrize("mutate", [lambda s: s.pop("endpoints"), lambda s: s["endpoints"][0].update(interval="15 seconds"),
                                    lambda s: s["endpoints"][0].update(intervall="15s")])
def test_pod_monitoring_schema_rejects_bad_objects(rendered, mutate):
    obj = json.loads(json.dumps(next(o for o in rendered["gpu-hf-small"] if o["kind"] == "PodMonitoring")))
    mutate(obj["spec"])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(obj, PODMONITORING_SCHEMA)


def test_rendered_file_is_a_kubectl_apply_stream(rendered, tmp_path):
    text = render(rendered["tpu-gcs-seed002"], ["a comment"], "all")
    docs = [d for d in yaml.safe_load_all(text) if d is not None]
    assert [d["kind"] for d in docs] == [o["kind"] for o in rendered["tpu-gcs-seed002"]]


JOB_VARIANTS = {"bucket": dict(results_bucket="results", gcp_service_account="b@p.iam.gserviceaccount.com"),
                "pvc": dict(results_pvc="bench"), "emptydir": {}}


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("variant", sorted(JOB_VARIANTS))
def test_benchmark_job_passes_kubernetes_validate_strict(version, variant):
    """`benchmark job`'s objects (issue #19) against the same strict schemas as the model's manifests."""
    opts = JobOptions("meta-llama/Llama-3.1-8B-Instruct", "vllm-llama", "r.example/bench:0.1.0", namespace="llm",
                      run_args=("--sweep", "auto"), **JOB_VARIANTS[variant])
    objects = build_job(opts)
    assert [o["kind"] for o in objects] == ["ServiceAccount", "NetworkPolicy", "Job"]
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{variant} {obj['kind']} on {version}: {'.'.join(map(str, exc.path))}: {exc.message}")
