"""checkov's Kubernetes checks on every rendered variant: allowed failures only from tests/checkov_skips.txt."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from profiles.manifests.benchmark_job import JobOptions, build_job
from profiles.manifests.render import render
from tests.support.cli import ROOT
from tests.support.manifest_cases import CASES, case_objects, hpa_store

SKIPS_FILE = ROOT / "tests/checkov_skips.txt"
BENCH_IMAGE = "us-docker.pkg.dev/p/r/gke-inference-benchmark@sha256:" + "0" * 64


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, list[dict]]:
    store = hpa_store(tmp_path_factory.mktemp("measured"))
    cases = {name: case_objects(name, store)[2] for name in CASES}
    # `benchmark job` (issue #19): the in-cluster load generator passes the same checks
    cases["benchmark-job"] = build_job(JobOptions("meta-llama/Llama-3.1-8B-Instruct", "vllm-llama", BENCH_IMAGE, namespace="llm",
                                                  results_bucket="results", run_args=("--sweep", "auto")))
    return cases


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
