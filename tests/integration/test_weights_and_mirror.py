"""Issue #16 items 5, 6, 7 and 12 under Pulumi's mock runtime: the weights loader and its writer identity, the
preflight that stops `pulumi up`, the shared XLA cache's prefix-limited grant, blue-green pools and the image mirror."""

from __future__ import annotations

import pulumi
import pytest

from components import mock_runtime
from tests.support.pulumi_stacks import BUCKET_IAM, DEPLOYMENT, NODE_POOL, run_stack

PROD_GCP = {"gcp:project": "my-project-prod", "gcp:region": "us-central1", "gcp:zone": "us-central1-b"}
TPU = {"model": "meta-llama/Llama-3.1-70B", "acceleratorType": "tpu-v6e-slice", "pricingModel": "on-demand",
       "namespace": "llm", "cluster": {"mode": "standard", "name": "prod"}}


def _server(run):
    service = run.one("gke-inference:workload:VllmService")
    return next(r for r in run.of_type(DEPLOYMENT) if r.parent == service.urn)


def test_tpu_from_a_bucket_with_loader_shared_xla_cache_and_blue_green():
    run = run_stack({**TPU, "cluster": {**TPU["cluster"], "upgradeStrategy": "BLUE_GREEN",
                                         "blueGreen": {"batchPercentage": 0.5, "nodePoolSoakDuration": "1800s"}},
                     "modelSource": {"type": "gcs", "bucket": "prod-models", "path": "llama", "loader": "job",
                                     "xlaCache": "bucket"}}, PROD_GCP)
    grants = {(g.inputs["role"], g.inputs["member"].rsplit("/", 1)[-1]): g.inputs for g in run.of_type(BUCKET_IAM)}
    assert set(grants) == {("roles/storage.objectViewer", "vllm-llama-3-1-70b"), ("roles/storage.objectUser", "weights-loader"),
                           ("roles/storage.objectUser", "vllm-llama-3-1-70b")}
    cache = grants[("roles/storage.objectUser", "vllm-llama-3-1-70b")]["condition"]
    prefix = run.plan.options.xla_prefix
    assert prefix == "xla-cache/meta-llama-llama-3-1-70b/tpu-v6e-slice-2x4/0.32.0"
    assert cache["expression"] == f'resource.name.startsWith("projects/_/buckets/prod-models/objects/{prefix}/")'
    assert "condition" not in grants[("roles/storage.objectUser", "weights-loader")]  # the loader writes the weights
    job = run.one("kubernetes:batch/v1:Job")
    assert job.inputs["spec"]["template"]["spec"]["serviceAccountName"] == "weights-loader"
    assert job.urn in _server(run).dependencies
    (pool,) = [p.inputs for p in run.of_type(NODE_POOL) if "tpu" in p.name]
    assert pool["upgradeSettings"] == {"strategy": "BLUE_GREEN", "blueGreenSettings": {
        "standardRolloutPolicy": {"batchPercentage": 0.5}, "nodePoolSoakDuration": "1800s"}}
    assert run.one("kubernetes:storage.k8s.io/v1:StorageClass").inputs["parameters"] == {"type": "hyperdisk-balanced"}


def test_autopilot_gpu_from_a_bucket_sets_explicit_sidecar_resources_and_pulls_from_the_mirror():
    run = run_stack({"model": "meta-llama/Llama-3.1-8B-Instruct", "acceleratorType": "nvidia-l4", "namespace": "llm",
                     "cluster": {"mode": "autopilot", "name": "ap"}, "image": {"mirror": True},
                     "modelSource": {"type": "gcs", "bucket": "ap-models", "create": True, "loader": "job"}})
    deployment = _server(run).inputs["spec"]["template"]
    notes = deployment["metadata"]["annotations"]
    assert notes["gke-gcsfuse/cpu-limit"] == "2000m" and notes["gke-gcsfuse/memory-request"] == "14336Mi"
    image = deployment["spec"]["containers"][0]["image"]
    assert image == "us-central1-docker.pkg.dev/my-project-dev/docker-hub/vllm/vllm-openai:v0.32.0"
    repo = run.one("gcp:artifactregistry/repository:Repository").inputs
    assert repo["mode"] == "REMOTE_REPOSITORY" and repo["remoteRepositoryConfig"]["dockerRepository"] == {"publicRepository": "DOCKER_HUB"}
    reader = run.one("gcp:artifactregistry/repositoryIamMember:RepositoryIamMember").inputs
    assert reader["role"] == "roles/artifactregistry.reader"
    assert reader["member"] == "serviceAccount:ap-nodes@my-project-dev.iam.gserviceaccount.com"  # the nodes' account
    job = run.one("kubernetes:batch/v1:Job").inputs
    assert job["spec"]["template"]["spec"]["containers"][0]["image"] == image  # the loader pulls the same mirrored image
    assert "nodeSelector" not in job["spec"]["template"]["spec"]


def test_preflight_stops_before_anything_is_registered_when_config_json_is_missing(monkeypatch):
    original = mock_runtime._Mocks.call

    def missing(self, args):
        if args.token == "gcp:storage/getBucketObject:getBucketObject":
            self.run.invokes.append(args.token)
            return {}
        return original(self, args)

    created = []
    monkeypatch.setattr(mock_runtime._Mocks, "call", missing)
    monkeypatch.setattr(mock_runtime._Mocks, "new_resource", lambda self, args: created.append(args.typ) or ("id", {}))
    values = {**TPU, "modelSource": {"type": "gcs", "bucket": "prod-models", "path": "llama", "loader": "preflight"}}
    with pytest.raises(pulumi.RunError) as err:
        run_stack(values, PROD_GCP)
    message = str(err.value)
    assert "gke-inference:modelSource.loader preflight: gs://prod-models/llama/config.json does not exist" in message
    assert "huggingface-cli download meta-llama/Llama-3.1-70B" in message and "gcloud storage cp -r" in message
    assert "\n" not in message
    assert created == []  # nothing registered: the check runs before the first resource


def test_preflight_passes_when_the_weights_are_there():
    run = run_stack({**TPU, "modelSource": {"type": "gcs", "bucket": "prod-models", "path": "llama", "loader": "preflight"}},
                    PROD_GCP)
    assert "gcp:storage/getBucketObject:getBucketObject" in run.invokes
    assert run.of_type("kubernetes:batch/v1:Job") == []


def test_on_an_existing_standard_cluster_the_loader_is_not_pinned_to_a_pool_the_program_did_not_create():
    values = {**TPU, "cluster": {"mode": "standard", "existing": "shared"},
              "modelSource": {"type": "gcs", "bucket": "prod-models", "path": "llama", "loader": "job"}}
    run = run_stack(values, PROD_GCP)
    job = run.one("kubernetes:batch/v1:Job").inputs
    assert "nodeSelector" not in job["spec"]["template"]["spec"]
    created = run_stack({**values, "cluster": {"mode": "standard", "name": "prod"}}, PROD_GCP)
    assert created.one("kubernetes:batch/v1:Job").inputs["spec"]["template"]["spec"]["nodeSelector"]


def test_a_trailing_slash_in_the_path_checks_the_object_the_commands_upload(monkeypatch):
    looked_up = []
    original = mock_runtime._Mocks.call

    def record(self, args):
        if args.token == "gcp:storage/getBucketObject:getBucketObject":
            looked_up.append(dict(args.args))
        return original(self, args)

    monkeypatch.setattr(mock_runtime._Mocks, "call", record)
    run_stack({**TPU, "modelSource": {"type": "gcs", "bucket": "prod-models", "path": "llama/", "loader": "preflight"}},
              PROD_GCP)
    assert [a.get("name") for a in looked_up] == ["llama/config.json"]
