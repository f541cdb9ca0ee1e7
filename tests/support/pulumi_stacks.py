"""Run the Pulumi program under the mock runtime with a config given as Python values."""

from __future__ import annotations

import json
from typing import Any

from components.mock_runtime import Run, run_program

DEV_GCP = {"gcp:project": "my-project-dev", "gcp:region": "us-central1"}
TOKEN = "hf_unit_test_token_value_1234"


def run_stack(values: dict[str, Any], gcp: dict[str, str] | None = None, token: str | None = TOKEN,
              stack: str = "test") -> Run:
    """`values` are gke-inference keys without the namespace; objects are passed as the engine does (JSON)."""
    config = {f"gke-inference:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}
    config.update(gcp or DEV_GCP)
    secrets = []
    if token is not None:
        config["gke-inference:hfToken"], secrets = token, ["gke-inference:hfToken"]
    return run_program(stack, config, secrets)


def inputs(run: Run, type_: str) -> dict:
    return run.one(type_).inputs


def children(run: Run, component_type: str) -> list:
    parent = run.one(component_type)
    return [r for r in run.resources if r.parent == parent.urn]


CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
SECRET = "kubernetes:core/v1:Secret"
BUCKET_IAM = "gcp:storage/bucketIAMMember:BucketIAMMember"
PROJECT_IAM = "gcp:projects/iAMMember:IAMMember"
