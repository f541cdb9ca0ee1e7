"""Issue #19: `benchmark job` renders a PSS-restricted Job running the harness in the cluster; its entrypoint runs here."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from profiles.errors import UsageError
from profiles.harness.capacity import FastServer
from profiles.manifests.benchmark_job import JobOptions, build_job, check_image
from tests.support.cli import ROOT, run_cli

DIGEST = "us-docker.pkg.dev/p/r/gke-inference-benchmark@sha256:" + "a" * 64
TAGGED = "us-docker.pkg.dev/p/r/gke-inference-benchmark:0.1.0"


def job_objects(*flags: str, image: str = DIGEST, model: str = "meta-llama/Llama-3.1-8B-Instruct") -> list[dict]:
    proc = run_cli("benchmark", "job", "--model", model, "--service", "vllm-llama-3-1-8b-instruct",
                   "--namespace", "llm", "--image", image, *flags)
    assert proc.returncode == 0, proc.stderr
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


def test_job_objects_and_restricted_pod():
    sa, policy, job = job_objects("--results-bucket", "my-results", "--gcp-service-account", "bench@p.iam.gserviceaccount.com",
                                  "--", "--sweep", "auto", "--accelerator-type", "nvidia-l4")
    assert [o["kind"] for o in (sa, policy, job)] == ["ServiceAccount", "NetworkPolicy", "Job"]
    assert sa["metadata"]["annotations"] == {"iam.gke.io/gcp-service-account": "bench@p.iam.gserviceaccount.com"}
    spec = job["spec"]["template"]["spec"]
    assert job["spec"]["backoffLimit"] == 0 and spec["restartPolicy"] == "Never" and spec["serviceAccountName"] == sa["metadata"]["name"]
    (c,) = spec["containers"]
    sec = c["securityContext"]  # Pod Security "restricted"
    assert sec["allowPrivilegeEscalation"] is False and sec["runAsNonRoot"] and sec["runAsUser"] >= 10000
    assert sec["capabilities"]["drop"] == ["ALL"] and sec["seccompProfile"]["type"] == "RuntimeDefault" and sec["readOnlyRootFilesystem"]
    assert c["resources"]["requests"] == c["resources"]["limits"] and c["image"] == DIGEST
    url = "http://vllm-llama-3-1-8b-instruct.llm.svc.cluster.local:8000"
    assert c["command"][:9] == ["python", "-m", "profiles", "benchmark", "run", "--endpoint", url, "--model",
                                "meta-llama/Llama-3.1-8B-Instruct"]
    assert c["command"][-4:] == ["--sweep", "auto", "--accelerator-type", "nvidia-l4"] and f"{url}/metrics" in c["command"]
    results = next(v for v in spec["volumes"] if v["name"] == "results")
    assert results["csi"]["volumeAttributes"]["bucketName"] == "my-results"
    assert job["spec"]["template"]["metadata"]["annotations"] == {"gke-gcsfuse/volumes": "true"}
    assert policy["spec"]["policyTypes"] == ["Ingress"] and "ingress" not in policy["spec"]


def test_pvc_and_default_results():
    pvc = job_objects("--results-pvc", "bench-results", "--", "--sweep", "auto")[2]["spec"]["template"]["spec"]["volumes"][1]
    assert pvc == {"name": "results", "persistentVolumeClaim": {"claimName": "bench-results"}}
    plain = job_objects("--", "--sweep", "auto")[2]["spec"]["template"]
    assert "emptyDir" in plain["spec"]["volumes"][1] and "annotations" not in plain["metadata"]


@pytest.mark.parametrize("image", ["vllm/x", "vllm/x:latest", "Bad Image:1", "x@sha256:short"])
def test_unpinned_images_are_refused(image):
    with pytest.raises(UsageError, match="not pinned"):
        check_image(image)
    assert check_image(TAGGED) == TAGGED and check_image(DIGEST) == DIGEST


@pytest.mark.parametrize(("flags", "message"), [
    (["--", "--endpoint", "http://x"], "--endpoint is set by the Job"),
    (["--", "--output=/x"], "--output is set by the Job"),
    (["--", "--request-rates", "0"], "must list numbers greater than 0"),
    (["--", "--sweep", "auto", "--concurrency", "2"], "cannot be combined with --concurrency"),
    (["--", "--profiles-dir", "x"], "--profiles-dir is written where the Job runs"),
    (["--results-bucket", "b", "--results-pvc", "c"], "not allowed with argument"),
    (["--name", "Bad_Name", "--", "--sweep", "auto"], "is not a DNS-1123 label"),
])
def test_bad_job_flags_exit_2(flags, message):
    proc = run_cli("benchmark", "job", "--model", "m", "--service", "s", "--image", TAGGED, *flags)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr


def test_build_job_refuses_two_result_places():
    with pytest.raises(UsageError, match="one place"):
        build_job(JobOptions("m", "s", TAGGED, results_bucket="b", results_pvc="c"))


def test_the_jobs_entrypoint_runs_against_a_local_server(tmp_path):
    """The container's command and env as the kubelet would run them, the Service URL pointed at a local server."""
    *_, job = job_objects("--", "--request-rates", "20", "--num-prompts", "30", "--warmup", "0",
                          "--input-length", "32", "--output-length", "16", "--no-plot", "--seed", "3",
                          model="m")  # the name the fast server serves
    (c,) = job["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e["value"] for e in c["env"]}
    env["RESULTS_DIR"] = str(tmp_path / "results")
    service = job["metadata"]["annotations"]["gke-inference.dev/endpoint"]
    with FastServer() as server:
        argv = [arg.replace(service, server.url).replace("$(RESULTS_DIR)", env["RESULTS_DIR"]) for arg in c["command"]]
        assert argv[0] == "python"
        run = subprocess.run([sys.executable, *argv[1:]], cwd=ROOT, capture_output=True, text=True, timeout=120,
                             env={**env, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert run.returncode == 0, run.stderr
    out = tmp_path / "results" / job["metadata"]["name"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stages"][0]["completed"] == 30 and summary["client_limited_stages"] == []
    assert summary["stages"][0]["mean_output_tokens"] == 16 and (out / "profile.csv").is_file()
    assert len((out / "requests.jsonl").read_text().splitlines()) == 30
