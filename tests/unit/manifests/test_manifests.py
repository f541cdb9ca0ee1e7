"""The manifests builder: what each object carries, and the failure modes it designs out."""

from __future__ import annotations

import pytest
import yaml

from profiles.catalog.catalog import default_catalog
from profiles.errors import UsageError
from profiles.gke.adapter import metric_name
from profiles.manifests.gcsfuse import GCSFUSE_MOUNT_OPTIONS
from profiles.manifests.objects import Exposure, ManifestOptions, resolve
from profiles.manifests.pod import EPHEMERAL_BUDGET_GIB, MIN_STARTUP_S, size_pod
from profiles.manifests.render import comments, generated_on, render
from profiles.selection.ranking import Targets
from profiles.serving.source import ModelSource, parse_bucket_uri
from tests.support.manifest_cases import CASES, by_kind, case_objects, case_plan, hpa_store, objects_of, serving_plan

# The tutorial's (seed 002) tuned GCS FUSE options, verbatim.
SEED_MOUNT_OPTIONS = ("implicit-dirs,file-cache:enable-parallel-downloads:true,file-cache:parallel-downloads-per-file:100,"
                      "file-cache:max-parallel-downloads:-1,file-cache:download-chunk-size-mb:10,file-cache:max-size-mb:-1")


@pytest.fixture(scope="module")
def profiles_dir(tmp_path_factory):
    return hpa_store(tmp_path_factory.mktemp("measured"))


def pod(objects):
    return by_kind(objects)["Deployment"]["spec"]["template"]


def container(objects):
    return pod(objects)["spec"]["containers"][0]


def args_of(objects) -> dict[str, str]:
    return {k: v for k, _, v in (a.removeprefix("--").partition("=") for a in container(objects)["args"])}


def env_of(objects) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in container(objects)["env"]}


def volume(objects, name):
    return next(v for v in pod(objects)["spec"]["volumes"] if v["name"] == name)


def test_seed_002_tpu_from_bucket_carries_what_the_tutorial_manifest_carries():
    plan, opts, objects = case_objects("tpu-gcs-seed002")
    template, args = pod(objects), args_of(objects)
    assert args["tensor-parallel-size"] == "8" and args["max-model-len"] == "8192"
    assert template["spec"]["nodeSelector"] == {"cloud.google.com/gke-tpu-accelerator": "tpu-v6e-slice",
                                                "cloud.google.com/gke-tpu-topology": "2x4"}
    assert container(objects)["resources"]["limits"]["google.com/tpu"] == 8
    assert template["metadata"]["annotations"] == {"gke-gcsfuse/volumes": "true", "gke-gcsfuse/cpu-limit": "0",
                                                   "gke-gcsfuse/memory-limit": "0", "gke-gcsfuse/ephemeral-storage-limit": "0"}
    csi = volume(objects, "model")["csi"]
    assert csi["driver"] == "gcsfuse.csi.storage.gke.io" and csi["volumeAttributes"]["bucketName"] == "my-models"
    options = csi["volumeAttributes"]["mountOptions"].split(",")
    assert set(SEED_MOUNT_OPTIONS.split(",")) <= set(options) and "only-dir:llama-3.1-70b" in options
    assert csi["readOnly"] is True  # weights are read, never written, so bucket IAM can stay read-only
    assert args["model"] == "/models" and args["served-model-name"] == "meta-llama/Llama-3.1-70B"
    assert plan.image.image.startswith("docker.io/vllm/vllm-tpu:")


def test_xla_cache_is_per_pod_so_replicas_never_write_one_path():
    _, _, objects = case_objects("tpu-gcs-seed002")
    path = env_of(objects)["VLLM_XLA_CACHE_PATH"]
    mount = next(m for m in container(objects)["volumeMounts"] if m["mountPath"] == path)
    assert "emptyDir" in volume(objects, mount["name"])  # pod-local, not the shared bucket mount
    assert not path.startswith("/models")


def test_gpu_from_hugging_face_reads_the_token_from_a_file_and_caches_on_sized_disk():
    plan, _, objects = case_objects("gpu-hf-small")
    spec, c = pod(objects)["spec"], container(objects)
    assert spec["nodeSelector"] == {"cloud.google.com/gke-accelerator": "nvidia-l4", "cloud.google.com/gke-gpu-driver-version": "latest"}
    assert c["resources"]["limits"]["nvidia.com/gpu"] == plan.fit.shape.accelerator_count == int(args_of(objects)["tensor-parallel-size"])
    assert "/usr/local/nvidia/lib64" in env_of(objects)["LD_LIBRARY_PATH"]
    assert "secretKeyRef" not in yaml.safe_dump(objects)  # CKV_K8S_35: no secret in the environment
    token = volume(objects, "hf-token")["secret"]
    assert token["secretName"] == "hf-secret" and token["items"][0]["key"] == "hf_api_token"
    assert env_of(objects)["HF_TOKEN_PATH"].startswith("/var/run/secrets/huggingface/")
    cache = volume(objects, "model-cache")["emptyDir"]
    assert "medium" not in cache
    cache_gib = int(cache["sizeLimit"].removesuffix("Gi"))
    assert cache_gib >= 16 and int(c["resources"]["requests"]["ephemeral-storage"].removesuffix("Gi")) > cache_gib
    assert args_of(objects)["download-dir"].startswith(env_of(objects)["HF_HOME"])


def test_models_past_the_disk_budget_are_cached_in_memory_and_counted_in_the_memory_request():
    plan, _, objects = case_objects("gpu-hf-large")
    cache = volume(objects, "model-cache")["emptyDir"]
    assert cache["medium"] == "Memory"
    cache_gib = int(cache["sizeLimit"].removesuffix("Gi"))
    assert cache_gib > EPHEMERAL_BUDGET_GIB
    requests = container(objects)["resources"]["requests"]
    assert int(requests["memory"].removesuffix("Gi")) >= cache_gib + 16
    assert int(requests["ephemeral-storage"].removesuffix("Gi")) < EPHEMERAL_BUDGET_GIB


def test_a_node_too_small_for_a_memory_cache_is_refused_with_the_numbers():
    plan = case_plan("gpu-hf-large")
    from dataclasses import replace

    small = replace(plan, machine=replace(plan.machine, memory_gb=200))
    with pytest.raises(UsageError, match=r"has 200 GB RAM.*GiB"):
        size_pod(small, ModelSource())


def test_startup_probe_budget_grows_with_the_model_and_probes_have_no_initial_delay():
    budgets = {}
    for name in ("gpu-hf-small", "gpu-hf-large", "tpu-gcs-seed002"):
        _, _, objects = case_objects(name)
        c = container(objects)
        startup = c["startupProbe"]
        budgets[name] = startup["periodSeconds"] * startup["failureThreshold"]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert c[probe]["httpGet"] == {"path": "/health", "port": 8000} and "initialDelaySeconds" not in c[probe]
        deployment = by_kind(objects)["Deployment"]
        assert deployment["spec"]["progressDeadlineSeconds"] > budgets[name]
    assert MIN_STARTUP_S <= budgets["gpu-hf-small"] < budgets["gpu-hf-large"]
    assert budgets["tpu-gcs-seed002"] >= 1800  # first XLA compile alone takes 10-30 minutes


def test_pod_runs_non_root_read_only_with_no_capabilities_and_shm_in_memory():
    for name in CASES:
        if CASES[name].get("store"):
            continue
        _, _, objects = case_objects(name)
        spec, c = pod(objects)["spec"], container(objects)
        assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] >= 10000
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert spec["automountServiceAccountToken"] is False
        sc = c["securityContext"]
        assert sc["readOnlyRootFilesystem"] and not sc["allowPrivilegeEscalation"] and sc["capabilities"] == {"drop": ["ALL"]}
        writable = {m["mountPath"] for m in c["volumeMounts"] if not m.get("readOnly")}
        assert {"/tmp", env_of(objects)["HOME"], env_of(objects)["HF_HOME"], "/dev/shm"} <= writable
        assert volume(objects, "dshm")["emptyDir"]["medium"] == "Memory"
        assert int(volume(objects, "dshm")["emptyDir"]["sizeLimit"].removesuffix("Gi")) >= 8


def test_tpu7x_runs_two_tensor_parallel_ranks_per_device():
    _, _, objects = case_objects("tpu7x-hf")
    devices = container(objects)["resources"]["limits"]["google.com/tpu"]
    assert int(args_of(objects)["tensor-parallel-size"]) == 2 * devices


def test_hpa_targets_the_measured_queue_with_stabilization(profiles_dir):
    plan, _, objects = case_objects("gpu-hpa-measured", profiles_dir)
    hpa = by_kind(objects)["HorizontalPodAutoscaler"]
    metric = hpa["spec"]["metrics"][0]["pods"]
    assert metric["metric"]["name"] == metric_name("vllm:num_requests_waiting")
    assert metric["target"] == {"type": "AverageValue", "averageValue": "1200m"}  # 1.5 measured x (1 - 0.2)
    assert plan.point.source_id == "r8"  # highest throughput with NTPOT <= 40 ms
    behavior = hpa["spec"]["behavior"]
    assert behavior["scaleDown"]["stabilizationWindowSeconds"] == 300 and behavior["scaleUp"]["stabilizationWindowSeconds"] == 0
    assert {"type": "Percent", "value": 100, "periodSeconds": 15} in behavior["scaleUp"]["policies"]  # 1.2 < 10: fast
    assert hpa["spec"]["scaleTargetRef"]["name"] == by_kind(objects)["Deployment"]["metadata"]["name"]


@pytest.mark.parametrize("targets, why", [(Targets(ntpot_ms=1), "No profile meets NTPOT <= 1 ms"),
                                          (Targets(), "no latency target given")])
def test_no_hpa_without_an_achievable_target_and_the_comment_says_why(profiles_dir, targets, why):
    from tests.support.manifest_cases import HPA_ACC, HPA_MODEL

    plan = serving_plan(HPA_MODEL, HPA_ACC, profiles_dir, targets=targets)
    objects = objects_of(plan, ManifestOptions())
    assert "HorizontalPodAutoscaler" not in by_kind(objects)
    assert why in plan.hpa_note
    assert plan.hpa_note in comments(plan, resolve(plan, ManifestOptions()), size_pod(plan, ModelSource()), "2026-01-01")


def test_kv_cache_metric_gets_a_fractional_quantity(profiles_dir):
    from tests.support.manifest_cases import HPA_ACC, HPA_MODEL

    plan = serving_plan(HPA_MODEL, HPA_ACC, targets=Targets(ntpot_ms=40), hpa_metric="vllm:kv_cache_usage_perc",
                        profiles_dir=profiles_dir)
    target = by_kind(objects_of(plan, ManifestOptions()))["HorizontalPodAutoscaler"]["spec"]["metrics"][0]["pods"]["target"]
    assert target["averageValue"] == "360m"  # 0.45 x 0.8


def test_rollout_is_recreate_unless_spare_accelerators_exist():
    plan = case_plan("gpu-hf-small")
    assert by_kind(objects_of(plan, ManifestOptions()))["Deployment"]["spec"]["strategy"] == {"type": "Recreate"}
    strategy = by_kind(objects_of(plan, ManifestOptions(surge=1)))["Deployment"]["spec"]["strategy"]
    assert strategy == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}


def test_services_and_policies():
    plan = case_plan("gpu-hf-small")
    internal = by_kind(objects_of(plan, ManifestOptions(service_type="InternalLoadBalancer",
                                                        exposure=Exposure(load_balancer_source_ranges=("10.0.0.0/8",)))))
    assert internal["Service"]["spec"]["type"] == "LoadBalancer"
    assert internal["Service"]["metadata"]["annotations"] == {"networking.gke.io/load-balancer-type": "Internal"}
    plain = by_kind(objects_of(plan, ManifestOptions()))
    assert plain["Service"]["spec"]["type"] == "ClusterIP"
    assert plain["PodDisruptionBudget"]["spec"]["maxUnavailable"] == 1
    assert plain["NetworkPolicy"]["spec"]["ingress"] == [{"from": [
        {"podSelector": {}}, {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "gmp-system"}}}],
        "ports": [{"port": 8000, "protocol": "TCP"}]}]
    monitoring = plain["PodMonitoring"]["spec"]
    assert monitoring["endpoints"] == [{"port": 8000, "path": "/metrics", "interval": "15s"}]
    assert monitoring["selector"]["matchLabels"] == plain["Deployment"]["spec"]["selector"]["matchLabels"]
    with pytest.raises(UsageError, match="--service-type"):
        objects_of(plan, ManifestOptions(service_type="NodePort"))


def test_autopilot_sets_explicit_sidecar_resources():
    """Issue #16 item 5: Autopilot refuses "0" (unlimited); the sidecar gets explicit requests = limits, sized to the
    driver's Autopilot GPU-node ceiling (2 vCPU, 14 GiB), and the file cache is never a memory volume there."""
    _, _, objects = case_objects("gpu-gcs-autopilot")
    notes = pod(objects)["metadata"]["annotations"]
    assert notes == {"gke-gcsfuse/volumes": "true",
                     "gke-gcsfuse/cpu-request": "2000m", "gke-gcsfuse/cpu-limit": "2000m",
                     "gke-gcsfuse/memory-request": "14336Mi", "gke-gcsfuse/memory-limit": "14336Mi",
                     "gke-gcsfuse/ephemeral-storage-request": "5Gi", "gke-gcsfuse/ephemeral-storage-limit": "5Gi"}
    assert "0" not in notes.values()
    assert volume(objects, "gke-gcsfuse-cache").get("emptyDir", {}).get("medium") != "Memory"
    options = volume(objects, "model")["csi"]["volumeAttributes"]["mountOptions"].split(",")
    assert options == list(GCSFUSE_MOUNT_OPTIONS)  # no path: no only-dir


def test_caller_values_pass_through_untouched():
    """Pulumi Outputs are opaque objects: the builder must place them, never read or stringify them."""

    class Opaque:
        def __bool__(self):
            raise AssertionError("the builder tested an Output for truth")

        def __str__(self):
            raise AssertionError("the builder stringified an Output")

    ns, bucket, ksa = Opaque(), Opaque(), Opaque()
    plan = case_plan("gpu-hf-small")
    objects = objects_of(plan, ManifestOptions(namespace=ns, source=ModelSource(bucket, "m"), service_account=ksa))
    assert all(o["metadata"]["namespace"] is ns for o in objects)
    assert volume(objects, "model")["csi"]["volumeAttributes"]["bucketName"] is bucket
    assert pod(objects)["spec"]["serviceAccountName"] is ksa and by_kind(objects)["ServiceAccount"]["metadata"]["name"] is ksa


def test_infeasible_fit_is_refused_with_the_reason():
    with pytest.raises(UsageError, match=r"405B \(bf16\) on 8 x nvidia-l4 does not fit: 811\.7 GB weights"):
        serving_plan("meta-llama/Llama-3.1-405B", "nvidia-l4")


@pytest.mark.parametrize("uri, bucket, path", [("gs://my-models", "my-models", ""), ("gs://b-1/a/b/", "b-1", "a/b")])
def test_bucket_uri(uri, bucket, path):
    assert parse_bucket_uri(uri) == ModelSource(bucket, path)


@pytest.mark.parametrize("uri", ["s3://x/y", "gs://", "gs://UPPER/x", "my-models"])
def test_bad_bucket_uri(uri):
    with pytest.raises(UsageError, match="--model-bucket-uri"):
        parse_bucket_uri(uri)


def test_rendering_is_deterministic_and_outputs_are_separate():
    date = generated_on({"SOURCE_DATE_EPOCH": "1795000000"})
    assert date == "2026-11-18"
    plan, opts, objects = case_objects("tpu-gcs-seed002")
    lines = comments(plan, opts, size_pod(plan, opts.source), date)
    text = render(objects, lines, "all")
    assert text == render(*case_objects("tpu-gcs-seed002")[2:], lines, "all")
    assert f"\n---\n# Generated on {date} using: gke-inference" in text and text.startswith("---\n")  # comments last
    manifest = render(objects, lines, "manifest")
    assert "#" not in "".join(line[:1] for line in manifest.splitlines())  # gcloud's quirk fixed: no comments
    assert list(yaml.safe_load_all(manifest)) == objects
    assert "---" not in render(objects, lines, "comments")
    assert "add-iam-policy-binding gs://my-models" in text and "roles/storage.objectViewer" in text
    with pytest.raises(UsageError, match="SOURCE_DATE_EPOCH"):
        generated_on({"SOURCE_DATE_EPOCH": "yesterday"})


def test_images_come_from_the_catalog_pin():
    cat = default_catalog()
    for name in ("gpu-hf-small", "tpu-gcs-seed002"):
        plan, _, objects = case_objects(name)
        assert container(objects)["image"] == cat.image("vllm", plan.platform).image


def test_a_threshold_of_ten_or_more_scales_up_one_pod_a_minute(profiles_dir):
    from dataclasses import replace

    plan = case_plan("gpu-hpa-measured", profiles_dir)
    steady = replace(plan, hpa=replace(plan.hpa, average_value=12.0))
    hpa = by_kind(objects_of(steady, ManifestOptions()))["HorizontalPodAutoscaler"]
    assert hpa["spec"]["behavior"]["scaleUp"]["policies"] == [{"type": "Pods", "value": 1, "periodSeconds": 60}]
    assert hpa["spec"]["behavior"]["scaleUp"]["stabilizationWindowSeconds"] == 0
