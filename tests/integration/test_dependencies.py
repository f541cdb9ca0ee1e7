"""Issue #16 items 2-3: the order `pulumi up` creates things in, read from the dependencies the program registers
under the mock runtime. Every Google resource depends directly on the enablement of the API it calls, every
namespaced object on its Namespace, and every Workload Identity binding on the cluster (whose creation makes
PROJECT.svc.id.goog exist). A depends_on given to a component alone would not show up here (pulumi/pulumi#8721)."""

from __future__ import annotations

import pytest

from components.mock_runtime import ROOT, Run, offline_plan
from profiles.gke.cluster import API_OF_TYPE, REQUIRED_APIS
from tests.support.pulumi_stacks import CLUSTER, run_stack

PROD_GCP = {"gcp:project": "my-project-prod", "gcp:region": "us-central1", "gcp:zone": "us-central1-b"}
VARIANTS = {
    "autopilot-gpu": ({"model": "meta-llama/Llama-3.1-8B-Instruct", "namespace": "llm",
                       "cluster": {"mode": "autopilot", "name": "ap"}}, None),
    "standard-tpu-v6e-bucket": ({"model": "meta-llama/Llama-3.1-70B", "acceleratorType": "tpu-v6e-slice",
                                 "pricingModel": "on-demand", "namespace": "llm", "targetNtpotMs": 100,
                                 "cluster": {"mode": "standard", "name": "prod", "privateNodes": True},
                                 "modelSource": {"type": "gcs", "bucket": "prod-models", "path": "llama"}}, PROD_GCP),
    "standard-gpu-spot": ({"model": "meta-llama/Llama-3.1-8B-Instruct", "acceleratorType": "nvidia-l4",
                           "pricingModel": "spot", "namespace": "serve", "cluster": {"mode": "standard", "name": "gpu"},
                           "network": "shared-vpc", "subnetwork": "gke-subnet"}, PROD_GCP),
    "existing-cluster": ({"model": "meta-llama/Llama-3.1-8B-Instruct", "acceleratorType": "nvidia-l4", "namespace": "llm",
                          "cluster": {"mode": "standard", "existing": "shared"}}, PROD_GCP),
}


def _runs():
    for name, (values, gcp) in VARIANTS.items():
        yield pytest.param(lambda v=values, g=gcp: run_stack(v, g), id=name)
    for stack in ("dev", "prod"):
        yield pytest.param(lambda s=stack: offline_plan(ROOT / f"Pulumi.{s}.yaml")[0], id=stack)


def _closure(run: Run, urn: str) -> set[str]:
    """Everything `urn` waits for: its dependencies and its provider's, transitively."""
    seen, todo = set(), [urn]
    while todo:
        r = run.by_urn(todo.pop())
        if r is None:
            continue
        nexts = list(r.dependencies) + ([r.provider.split("::" + r.provider.rsplit("::", 1)[-1])[0]] if r.provider else [])
        for d in nexts:
            if d not in seen:
                seen.add(d)
                todo.append(d)
    return seen


@pytest.fixture(scope="module", params=list(_runs()))
def run(request) -> Run:
    return request.param()


def test_every_google_resource_depends_on_its_api(run):
    services = {r.inputs["service"]: r.urn for r in run.of_type("gcp:projects/service:Service")}
    assert set(services) == set(REQUIRED_APIS)
    missing = []
    for r in run.resources:
        api = next((a for prefix, a in API_OF_TYPE.items() if r.type.startswith(prefix)), None)
        if api and services[api] not in r.dependencies:
            missing.append(f"{r.type} {r.name} does not wait for {api}")
    assert missing == []


def test_every_namespaced_object_depends_on_its_namespace(run):
    namespaces = {r.inputs["metadata"]["name"]: r.urn for r in run.of_type("kubernetes:core/v1:Namespace")}
    missing = []
    for r in run.resources:
        ns = r.inputs.get("metadata", {}).get("namespace") if r.type.startswith("kubernetes:") else None
        if ns in namespaces and namespaces[ns] not in _closure(run, r.urn):
            missing.append(f"{r.type} {r.name} does not wait for Namespace {ns}")
    assert missing == []


def test_workload_identity_bindings_wait_for_the_cluster(run):
    clusters = [r.urn for r in run.of_type(CLUSTER)]
    bindings = [r for r in run.resources if "workloadIdentityPools" in str(r.inputs.get("member", ""))]
    for binding in bindings:
        assert all(c in binding.dependencies for c in clusters), f"{binding.name} races the cluster's WI pool"


def test_the_kubernetes_provider_waits_for_every_node_pool(run):
    provider = next(r for r in run.resources if r.type == "pulumi:providers:kubernetes")
    pools = {r.urn for r in run.of_type("gcp:container/nodePool:NodePool")}
    assert pools <= set(provider.dependencies)
