"""The Pulumi program under Pulumi's mock runtime (real SDK, pulumi-gcp and pulumi-kubernetes classes):
types, wiring, secrets and the stack variants of issue #5."""

from __future__ import annotations

import json

import pytest

from profiles.catalog.catalog import default_catalog
from profiles.gke.adapter import metric_name
from tests.support.manifest_cases import HPA_ACC, HPA_MODEL, hpa_store
from tests.support.pulumi_stacks import (
    BUCKET_IAM,
    CLUSTER,
    DEPLOYMENT,
    HPA,
    NODE_POOL,
    PROJECT_IAM,
    SECRET,
    TOKEN,
    children,
    inputs,
    run_stack,
)

PROD_GCP = {"gcp:project": "my-project-prod", "gcp:region": "us-central1", "gcp:zone": "us-central1-b"}
PRINCIPAL = ("principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/"
             "{project}.svc.id.goog/subject/ns/{ns}/sa/{ksa}")


def vllm_deployment(run) -> dict:
    service = run.one("gke-inference:workload:VllmService")
    return next(r for r in run.of_type(DEPLOYMENT) if r.parent == service.urn)


def pod(run) -> dict:
    return vllm_deployment(run).inputs["spec"]["template"]["spec"]


def test_autopilot_gpu_from_hugging_face_with_spot():
    run = run_stack({"model": "meta-llama/Llama-3.1-8B-Instruct", "pricingModel": "spot", "namespace": "llm",
                     "cluster": {"mode": "autopilot", "name": "ap"}})
    cluster = inputs(run, CLUSTER)
    assert cluster["enableAutopilot"] is True and "nodeConfig" not in cluster  # pulumi-gcp #2247: no perpetual replace
    assert run.of_type(NODE_POOL) == [] and run.of_type(HPA) == []
    spec = pod(run)
    assert spec["nodeSelector"]["cloud.google.com/gke-spot"] == "true"
    chosen = run.outputs["profile"]  # the cheapest deployable ShareGPT profile, never a reference-only row
    assert spec["nodeSelector"]["cloud.google.com/gke-accelerator"] == chosen["acceleratorType"]
    assert chosen["source"].startswith("estimated:")
    secret = inputs(run, SECRET)
    assert secret["metadata"] == {"name": "hf-secret", "namespace": "llm", "labels": {"app.kubernetes.io/part-of": "gke-inference"}}
    assert secret["stringData"] == "[secret]"
    assert not [r for r in run.resources if r.type.startswith("gke-inference:monitoring")]


def test_standard_tpu_pool_matches_the_deployment():
    run = run_stack({"model": "meta-llama/Llama-3.1-70B", "acceleratorType": "tpu-v6e-slice", "pricingModel": "on-demand",
                     "namespace": "llm", "cluster": {"mode": "standard", "name": "prod", "privateNodes": True},
                     "modelSource": {"type": "gcs", "bucket": "prod-models", "path": "llama"}}, PROD_GCP, token=None)
    cluster = inputs(run, CLUSTER)
    assert cluster["workloadIdentityConfig"] == {"workloadPool": "my-project-prod.svc.id.goog"}
    assert cluster["addonsConfig"]["gcsFuseCsiDriverConfig"] == {"enabled": True}
    assert cluster["monitoringConfig"]["managedPrometheus"] == {"enabled": True}
    assert cluster["enableShieldedNodes"] is True and cluster["deletionProtection"] is True
    assert cluster["privateClusterConfig"]["enablePrivateNodes"] is True
    assert run.of_type("gcp:compute/routerNat:RouterNat"), "private nodes need NAT to pull images"
    pools = {p.name: p.inputs for p in run.of_type(NODE_POOL)}
    tpu = pools["prod-tpu-ct6e-standard-8t"]
    spec = pod(run)
    machine = default_catalog().machine_types[tpu["nodeConfig"]["machineType"]]
    chips = int(spec["containers"][0]["resources"]["limits"]["google.com/tpu"])
    assert machine.accelerator_count == chips == 8
    assert spec["nodeSelector"]["cloud.google.com/gke-tpu-topology"] == "2x4"
    assert "placementPolicy" not in tpu, "single-host pools get no placement policy"
    assert tpu["nodeLocations"] == ["us-central1-b"]
    bounds = (run.outputs["hpa"]["minReplicas"], run.outputs["hpa"]["maxReplicas"])  # the plan's replica bounds
    assert (tpu["autoscaling"]["totalMinNodeCount"], tpu["autoscaling"]["totalMaxNodeCount"]) == bounds  # one node per replica
    assert tpu["nodeConfig"]["shieldedInstanceConfig"]["enableSecureBoot"] is True
    assert tpu["nodeConfig"]["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
    reader = inputs(run, BUCKET_IAM)
    assert reader["role"] == "roles/storage.objectViewer" and reader["bucket"] == "prod-models"
    assert reader["member"] == PRINCIPAL.format(project="my-project-prod", ns="llm", ksa="vllm-llama-3-1-70b")
    assert run.of_type(SECRET) == [], "weights from a bucket need no Hugging Face secret"
    assert run.of_type("gcp:storage/bucket:Bucket") == [], "an existing bucket is not created"


def test_standard_gpu_pool_installs_the_driver_the_pods_select():
    run = run_stack({"model": "meta-llama/Llama-3.1-8B-Instruct", "acceleratorType": "nvidia-l4", "pricingModel": "spot",
                     "cluster": {"mode": "standard"}, "autoscaling": {"minReplicas": 1, "maxReplicas": 3}},
                    {"gcp:project": "p-gpu-test", "gcp:region": "us-central1", "gcp:zone": "us-central1-a"})
    pool = next(p.inputs for p in run.of_type(NODE_POOL) if p.name.endswith(run.outputs["profile"]["instanceType"]))
    accel = pool["nodeConfig"]["guestAccelerators"][0]
    assert (accel["type"], accel["count"]) == ("nvidia-l4", run.outputs["profile"]["acceleratorCount"])
    assert accel["gpuDriverInstallationConfig"] == {"gpuDriverVersion": "LATEST"}
    assert pod(run)["nodeSelector"]["cloud.google.com/gke-gpu-driver-version"] == "latest"
    assert pool["nodeConfig"]["spot"] is True
    assert (pool["autoscaling"]["totalMinNodeCount"], pool["autoscaling"]["totalMaxNodeCount"]) == (1, 3)


def test_existing_cluster_is_read_not_created():
    run = run_stack({"model": "meta-llama/Llama-3.1-8B-Instruct", "acceleratorType": "nvidia-l4", "pricingModel": "spot",
                     "cluster": {"mode": "standard", "existing": "shared-gke"}},
                    {"gcp:project": "p-shared", "gcp:region": "us-central1", "gcp:zone": "us-central1-a"})
    assert run.of_type(CLUSTER) == [] and "gcp:container/getCluster:getCluster" in run.invokes
    assert {p.inputs["cluster"] for p in run.of_type(NODE_POOL)} == {"shared-gke"}
    assert run.outputs["clusterName"] == "shared-gke" and run.outputs["kubeconfig"] == "[secret]"


def test_created_bucket_is_private_and_uniform():
    run = run_stack({"model": "meta-llama/Llama-3.1-8B-Instruct", "acceleratorType": "nvidia-l4", "pricingModel": "spot",
                     "modelSource": {"type": "gcs", "bucket": "new-weights", "create": True}}, token=None)
    bucket = inputs(run, "gcp:storage/bucket:Bucket")
    assert bucket["uniformBucketLevelAccess"] is True and bucket["publicAccessPrevention"] == "enforced"
    assert bucket["forceDestroy"] is False and bucket["location"] == "US-CENTRAL1"


def test_hpa_with_adapter_from_a_measured_curve(tmp_path):
    store = hpa_store(tmp_path)
    run = run_stack({"model": HPA_MODEL, "acceleratorType": HPA_ACC, "pricingModel": "on-demand", "targetNtpotMs": 40,
                     "namespace": "llm", "profilesDirs": [str(store)]})
    hpa = inputs(run, HPA)
    assert hpa["spec"]["metrics"][0]["pods"]["metric"]["name"] == metric_name("vllm:num_requests_waiting")
    assert hpa["spec"]["scaleTargetRef"]["name"] == vllm_deployment(run).inputs["metadata"]["name"]
    adapter = children(run, "gke-inference:monitoring:CustomMetricsAdapter")
    assert len(adapter) == 14  # IAM binding + the 13 upstream objects
    viewer = next(r.inputs for r in adapter if r.type == PROJECT_IAM)
    assert viewer["role"] == "roles/monitoring.viewer"
    assert viewer["member"] == PRINCIPAL.format(project="my-project-dev", ns="custom-metrics", ksa="custom-metrics-stackdriver-adapter")
    images = [r.inputs["spec"]["template"]["spec"]["containers"][0]["image"] for r in adapter if r.type == DEPLOYMENT]
    assert images == ["gcr.io/gke-release/custom-metrics-stackdriver-adapter:v0.16.9-gke.0"]
    apiservices = {r.urn for r in adapter if r.type == "kubernetes:apiregistration.k8s.io/v1:APIService"}
    assert len(apiservices) == 3 and apiservices <= set(vllm_deployment(run).dependencies)
    assert run.outputs["hpa"]["enabled"] is True and run.outputs["hpa"]["metric"] == "vllm:num_requests_waiting"


def test_no_hpa_and_no_adapter_when_the_target_is_unachievable(tmp_path):
    store = hpa_store(tmp_path)
    run = run_stack({"model": HPA_MODEL, "acceleratorType": HPA_ACC, "pricingModel": "on-demand", "targetNtpotMs": 1,
                     "profilesDirs": [str(store)]})
    assert run.of_type(HPA) == [] and not [r for r in run.resources if r.type.startswith("gke-inference:monitoring")]
    assert run.outputs["hpa"]["enabled"] is False and "no HPA" in run.outputs["hpa"]["reason"]


def test_workload_waits_for_namespace_secret_and_bucket_grant():
    run = run_stack({"model": "meta-llama/Llama-3.1-8B-Instruct", "acceleratorType": "nvidia-l4", "pricingModel": "spot",
                     "namespace": "llm"})
    deps = {run.by_urn(u).type for u in vllm_deployment(run).dependencies if run.by_urn(u)}
    assert {"kubernetes:core/v1:Namespace", SECRET} <= deps, deps
    provider = run.one("pulumi:providers:kubernetes")
    assert provider.inputs["kubeconfig"] == "[secret]"
    assert all(r.provider.startswith(provider.urn) for r in run.resources if r.type.startswith("kubernetes:"))


def test_the_token_never_appears_in_inputs_outputs_or_plan():
    run = run_stack({"model": "meta-llama/Llama-3.1-8B-Instruct", "acceleratorType": "nvidia-l4", "pricingModel": "spot"})
    dumped = json.dumps([vars(r) for r in run.resources]) + json.dumps(run.outputs)
    assert TOKEN not in dumped and "[secret]" in dumped


@pytest.mark.parametrize("values, key", [
    ({"model": "meta-llama/Llama-3.1-8B-Instruct", "pricingModel": "spot", "cluster": {"mode": "standard"}}, "gcp:zone"),
    ({"model": "meta-llama/Llama-3.1-8B-Instruct", "pricingModel": "on-demand", "capacity": "spot"}, "gke-inference"),
    ({"model": "meta-llama/Llama-3.1-8B-Instruct", "acceleratorType": "nvidia-l4"}, "gke-inference:hfToken"),
])
def test_refusals_register_nothing(values, key):
    import pulumi

    token = None if "hfToken" in key else "hf_x"
    with pytest.raises(pulumi.RunError, match=key):
        run_stack(values, token=token)


def test_autopilot_reservation_is_selected_by_the_pods():
    run = run_stack({"model": "meta-llama/Llama-3.1-8B-Instruct", "acceleratorType": "nvidia-l4", "pricingModel": "on-demand",
                     "capacity": "reservation:l4-res"})
    selector = pod(run)["nodeSelector"]
    assert selector["cloud.google.com/reservation-name"] == "l4-res"
    assert selector["cloud.google.com/reservation-affinity"] == "specific" and "cloud.google.com/gke-spot" not in selector
