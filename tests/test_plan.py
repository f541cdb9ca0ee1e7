"""`make plan`'s script on the shipped stacks."""

import subprocess
import sys

from tests.conftest import ROOT


def plan(*args: str):
    return subprocess.run([sys.executable, "scripts/plan.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_dev_and_prod_plans_name_profile_cost_and_reason():
    dev = plan("--stack", "dev")
    assert dev.returncode == 0, dev.stderr
    assert "Chosen profile : g2-standard-12, 1 x nvidia-l4" in dev.stdout and "Token cost     : $" in dev.stdout
    prod = plan("--stack", "prod")
    assert prod.returncode == 0, prod.stderr
    assert "8 x tpu-v6e-slice on ct6e-standard-8t (2x4), TP 8" in prod.stdout
    assert "Weights        : gs://my-project-prod-models/meta-llama/Llama-3.1-70B" in prod.stdout
    assert "--tensor-parallel-size=8" in prod.stdout and "Deployment/vllm-llama-3-1-70b" in prod.stdout
    assert "Deployment/vllm-llama-3-1-8b-instruct" in dev.stdout and "nvidia-l4 on g2-standard-12" in dev.stdout


def test_unknown_stack_is_exit_2():
    r = plan("--stack", "staging")
    assert r.returncode == 2 and "no stack file 'Pulumi.staging.yaml'; stacks: dev, prod" in r.stderr
