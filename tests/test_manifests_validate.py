"""Rendered manifests against external validators: Kubernetes schemas (strict), the PodMonitoring CRD
fields, and checkov's Kubernetes checks (allowed failures only from tests/checkov_skips.txt)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from profiles.manifests.render import render
from tests.manifest_cases import CASES, case_objects, hpa_store

ROOT = Path(__file__).resolve().parent.parent
KUBERNETES_VERSIONS = ("1.33", "1.34", "1.35")
PODMONITORING_SCHEMA = json.loads((ROOT / "tests/schemas/podmonitoring-monitoring.googleapis.com-v1.json").read_text())
SKIPS_FILE = ROOT / "tests/checkov_skips.txt"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, list[dict]]:
    store = hpa_store(tmp_path_factory.mktemp("measured"))
    return {name: case_objects(name, store)[2] for name in CASES}


def test_every_variant_is_covered(rendered):
    kinds = {o["kind"] for objects in rendered.values() for o in objects}
    assert kinds == {"ServiceAccount", "Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy", "PodMonitoring",
                     "HorizontalPodAutoscaler"}


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


def read_skips() -> dict[str, str]:
    skips = {}
    for line in SKIPS_FILE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            check, _, reason = line.partition(" ")
            assert reason.strip(), f"{SKIPS_FILE.name}: {check} has no reason"
            skips[check] = reason.strip()
    return skips


def checkov_binary() -> str:
    path = os.environ.get("CHECKOV", str(ROOT / ".venv-checkov/bin/checkov"))
    if not Path(path).exists():
        pytest.fail(f"checkov not found at {path}: run `make test` (it installs .venv-checkov)")
    return path


def test_checkov_fails_only_listed_checks(rendered, tmp_path):
    for name, objects in rendered.items():
        (tmp_path / f"{name}.yaml").write_text(render(objects, [], "manifest"))
    run = subprocess.run([checkov_binary(), "-d", str(tmp_path), "--framework", "kubernetes", "-o", "json", "--quiet",
                          "--skip-download"], capture_output=True, text=True, timeout=600)
    reports = json.loads(run.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed = {(f["check_id"], Path(f["file_path"]).stem) for r in reports for f in r["results"]["failed_checks"]}
    passed = sum(r["summary"]["passed"] for r in reports)
    skips = read_skips()
    unexpected = sorted(f"{check} in {case}" for check, case in failed if check not in skips)
    assert not unexpected, f"checkov failures not in {SKIPS_FILE.name}: {unexpected}"
    stale = set(skips) - {check for check, _ in failed}
    assert not stale, f"{SKIPS_FILE.name} lists checks that no longer fail: {sorted(stale)}"
    assert passed > 50 * len(rendered) // 2  # the checks really ran


def test_rendered_file_is_a_kubectl_apply_stream(rendered, tmp_path):
    text = render(rendered["tpu-gcs-seed002"], ["a comment"], "all")
    docs = [d for d in yaml.safe_load_all(text) if d is not None]
    assert [d["kind"] for d in docs] == [o["kind"] for o in rendered["tpu-gcs-seed002"]]
