"""`make plan`: the Pulumi program under the mock runtime on the shipped stacks; snapshots catch drift."""

import subprocess
import sys

import pytest

from tests.support.cli import ROOT


def plan(*args: str):
    return subprocess.run([sys.executable, "scripts/plan.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_plan_matches_the_snapshot(stack, tmp_path):
    run = plan("--stack", stack, "--output-dir", str(tmp_path))
    assert run.returncode == 0, run.stderr
    produced = (tmp_path / f"{stack}.yaml").read_text()
    snapshot = (ROOT / "tests" / "snapshots" / f"{stack}.yaml").read_text()
    assert produced == snapshot, f"plan of {stack} drifted from tests/snapshots/{stack}.yaml: review, then `make snapshots`"


def test_dev_and_prod_plans_name_profile_cost_and_resources(tmp_path):
    dev = plan("--stack", "dev", "--output-dir", str(tmp_path))
    assert dev.returncode == 0, dev.stderr
    assert "source estimated:estimator-" in dev.stdout and "Token cost     : $" in dev.stdout  # not kubeai's K01
    assert "HPA            : no HPA: no latency target given" in dev.stdout
    assert "gcp:container/cluster:Cluster  gke-inference-dev  (location=us-central1, enableAutopilot=True" in dev.stdout
    assert "stringData=[secret]" in dev.stdout and "pulumi config set --secret hfToken" in dev.stdout
    prod = plan("--stack", "prod", "--output-dir", str(tmp_path))
    assert prod.returncode == 0, prod.stderr
    assert "Chosen profile : ct6e-standard-8t, 8 x tpu-v6e-slice 2x4" in prod.stdout
    assert "HPA            : HPA: " in prod.stdout and "gke-inference:monitoring:CustomMetricsAdapter" in prod.stdout
    assert "gcp:container/nodePool:NodePool  gke-inference-prod-tpu-ct6e-standard-8t  (machineType=ct6e-standard-8t" in prod.stdout
    assert "Weights        : gs://my-project-prod-models/meta-llama/Llama-3.1-70B" in prod.stdout
    assert "kubeconfig: '[secret]'" in (tmp_path / "prod.yaml").read_text()


def test_unknown_stack_is_exit_2():
    r = plan("--stack", "staging")
    assert r.returncode == 2 and "no stack file 'Pulumi.staging.yaml'; stacks: dev, prod" in r.stderr


@pytest.mark.parametrize(("config", "message"), [
    ("  gcp:project: my-project-x\n  gcp:region: us-central1\n  gke-inference:model: meta-llama/Llama-3.1-8B\n"
     "  gke-inference:cluster:\n    mode: standard\n", "ERROR: gcp:zone: required when cluster.mode is standard"),
    ("  gke-inference:model: meta-llama/Llama-3.1-8B\n  gke-inference:autoscaling:\n    minReplicas: 0\n",
     "ERROR: Pulumi.bad.yaml: gke-inference:autoscaling.minReplicas: value 0: Input should be greater than 0"),
])
def test_refused_stack_is_one_line_exit_2(tmp_path, config, message):
    stack_file = tmp_path / "Pulumi.bad.yaml"
    stack_file.write_text("config:\n" + config)
    r = plan("--stack-file", str(stack_file), "--output-dir", str(tmp_path))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.startswith(message), r.stderr
    assert not (tmp_path / "bad.yaml").exists()
