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
    assert "a3-highgpu-2g" in prod.stdout and "NTPOT <= 100 ms" in prod.stdout


def test_unknown_stack_is_exit_2():
    r = plan("--stack", "staging")
    assert r.returncode == 2 and "no stack file 'Pulumi.staging.yaml'; stacks: dev, prod" in r.stderr
