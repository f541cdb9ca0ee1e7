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
    "autopilot-gpu-bucket-loader": ({"model": "meta-llama/Llama-3.1-8B-Instruct", "acceleratorType": "nvidia-l4",
                                     "namespace": "llm", "cluster": {"mode": "autopilot", "name": "ap"},
                                     "modelSource": {"type": "gcs", "bucket": "ap-models", "path": "llama", "create": True,
                                                     "loader": "job"}, "image": {"mirror": True}}, None),
    "standard-tpu-v6e-bucket": ({"model": "meta-llama/Llama-3.1-70B", "acceleratorType": "tpu-v6e-slice",
                                 "pricingModel": "on-demand", "namespace": "llm", "targetNtpotMs": 100,
                                 "cluster": {"mode": "standard", "name": "prod", "privateNodes": True,
                                             "upgradeStrategy": "BLUE_GREEN"},
                                 "modelSource": {"type": "gcs", "bucket": "prod-models", "path": "llama",
                                                 "loader": "job", "xlaCache": "bucket"}}, PROD_GCP),
    "standard-gpu-spot": ({"model": "meta-llama/Llama-3.1-8B-Instruct", "acceleratorType": "nvidia-l4",
                           "pricingModel": "spot", "namespace": "serve", "cluster": {"mode": "standard", "name": "gpu"},
                           "network": "shared-vpc", "subnetwork": "gke-subnet", "image": {"mirror": True}}, PROD_GCP),
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
    assert set(services) == set(run.plan.apis.apis) >= set(REQUIRED_APIS)
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


def _server(run: Run):
    """The model server's Deployment (the metrics adapter has one too)."""
    service = run.one("gke-inference:workload:VllmService")
    return next(r for r in run.of_type("kubernetes:apps/v1:Deployment") if r.parent == service.urn)


def test_the_weights_loader_job_waits_for_its_namespace_identity_grant_and_secret(run):
    """Issue #16 item 6: the Job runs only once its KSA, its objectUser grant (after the cluster's WI pool) and the
    HF token Secret exist; the serving Deployment is created only after the Job completed."""
    jobs = run.of_type("kubernetes:batch/v1:Job")
    if run.plan.loader is None:
        assert jobs == []
        return
    job = jobs[0]
    closure = _closure(run, job.urn)
    names = {run.by_urn(u).type + "::" + run.by_urn(u).name for u in closure if run.by_urn(u)}
    assert "kubernetes:core/v1:Namespace::namespace-llm" in names
    assert "kubernetes:core/v1:ServiceAccount::serviceaccount-llm-weights-loader" in names
    assert "kubernetes:core/v1:Secret::secret-llm-hf-secret" in names
    writer = next(r for r in run.of_type("gcp:storage/bucketIAMMember:BucketIAMMember") if r.inputs["role"] == "roles/storage.objectUser"
                  and "sa/weights-loader" in r.inputs["member"])
    assert writer.urn in job.dependencies
    assert all(c.urn in writer.dependencies for c in run.of_type(CLUSTER))
    deployment = _server(run)
    assert job.urn in deployment.dependencies


def test_the_image_mirror_waits_for_its_api_and_the_deployment_for_the_mirror(run):
    repos = run.of_type("gcp:artifactregistry/repository:Repository")
    if run.plan.mirror is None:
        assert repos == []
        return
    api = next(r.urn for r in run.of_type("gcp:projects/service:Service") if r.inputs["service"] == "artifactregistry.googleapis.com")
    assert api in repos[0].dependencies
    deployment = _server(run)
    assert repos[0].urn in deployment.dependencies
    readers = run.of_type("gcp:artifactregistry/repositoryIamMember:RepositoryIamMember")
    assert all(r.urn in deployment.dependencies for r in readers)
