"""`python -m profiles manifests create` as a user runs it."""

from __future__ import annotations

import yaml

from tests.support.cli import run_cli

SEED = ("manifests", "create", "--model", "meta-llama/Llama-3.1-70B", "--model-server", "vllm",
        "--accelerator-type", "tpu-v6e-slice", "--model-bucket-uri", "gs://my-models/llama-3.1-70b", "--namespace", "llm")
EPOCH = {"SOURCE_DATE_EPOCH": "1795000000"}


def test_output_path_writes_an_appliable_file(tmp_path):
    target = tmp_path / "manifests.yaml"
    run = run_cli(*SEED, "--output", "manifest", "--output-path", str(target), env=EPOCH)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "" and f"Output saved to {target}" in run.stderr
    docs = list(yaml.safe_load_all(target.read_text()))
    # a TPU reading a bucket: the GCS FUSE file cache's StorageClass (cluster-scoped) first, then the namespaced objects
    assert [d["kind"] for d in docs][:4] == ["StorageClass", "ServiceAccount", "Deployment", "Service"]
    assert all(d["metadata"]["namespace"] == "llm" for d in docs[1:])
    assert "#" not in target.read_text().split("\n", 1)[0]


def test_all_output_is_reproducible_with_source_date_epoch():
    first, second = run_cli(*SEED, env=EPOCH), run_cli(*SEED, env=EPOCH)
    assert first.returncode == 0 and first.stdout == second.stdout
    assert first.stdout.startswith("---\n") and "\n---\n# Generated on 2026-11-18 using: gke-inference" in first.stdout
    assert first.stdout.splitlines()[-1].startswith("# ")  # gcloud appends the comments after the manifests
    deployment = next(d for d in yaml.safe_load_all(first.stdout) if d and d["kind"] == "Deployment")
    assert deployment["metadata"]["annotations"]["gke-inference.dev/version"].startswith("Generated on 2026-11-18")


def test_comments_only():
    run = run_cli(*SEED, "--output", "comments", env=EPOCH)
    assert run.returncode == 0 and all(line.startswith("# ") for line in run.stdout.splitlines())


def test_hpa_follows_the_estimated_profile_and_says_why():
    """70B on v6e: the estimated curve reaches saturation, so at the operating point (NTPOT <= 100 ms) requests queue and
    `auto` scales on the queue, saying why; batch size and KV-cache usage, asked for by name, give HPAs on those gauges."""
    auto = run_cli(*SEED, "--target-ntpot-milliseconds", "100", env=EPOCH)
    assert auto.returncode == 0 and "prometheus.googleapis.com|vllm:num_requests_waiting|gauge" in auto.stdout
    assert "# HPA: queue size:" in auto.stdout
    for metric in ("vllm:num_requests_running", "vllm:kv_cache_usage_perc"):
        run = run_cli(*SEED, "--target-ntpot-milliseconds", "100", "--hpa-metric", metric, env=EPOCH)
        assert run.returncode == 0 and "kind: HorizontalPodAutoscaler" in run.stdout
        assert f"prometheus.googleapis.com|{metric}|gauge" in run.stdout


def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path):
    cases = [
        (("--model-bucket-uri", "s3://x"), "--model-bucket-uri"),
        (("--accelerator-type", "nvidia-l5"), "--accelerator-type"),
        (("--output", "yaml"), "--output"),
        (("--output-path", str(tmp_path / "missing" / "m.yaml")), "--output-path"),
        (("--model-server", "tgi"), "--model-server"),
    ]
    for extra, key in cases:
        args = list(SEED)
        for flag, value in zip(extra[::2], extra[1::2], strict=True):
            if flag in args:
                args[args.index(flag) + 1] = value
            else:
                args += [flag, value]
        run = run_cli(*args)
        assert run.returncode == 2, (extra, run.stderr)
        assert run.stderr.count("\n") == 1 and key in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "missing").exists()


def test_infeasible_model_on_accelerator_exits_2():
    run = run_cli("manifests", "create", "--model", "meta-llama/Llama-3.1-405B", "--accelerator-type", "nvidia-l4")
    assert run.returncode == 2 and "does not fit" in run.stderr


def test_the_seeds_gemma_example_gets_an_hpa_its_adapter_and_a_pod_monitoring():
    base = ("manifests", "create", "--model", "google/gemma-2-27b-it", "--model-server", "vllm", "--accelerator-type",
            "nvidia-l4")
    run = run_cli(*base, "--target-ntpot-milliseconds", "250", "--output", "manifest", env=EPOCH)
    assert run.returncode == 0, run.stderr
    docs = [d for d in yaml.safe_load_all(run.stdout) if d]
    hpa = next(d for d in docs if d["kind"] == "HorizontalPodAutoscaler")
    assert hpa["spec"]["metrics"][0]["pods"]["metric"]["name"].startswith("prometheus.googleapis.com|vllm:num_requests_")
    assert any(d["kind"] == "PodMonitoring" for d in docs)
    assert any(d["kind"] == "APIService" and d["metadata"]["name"] == "v1beta1.custom.metrics.k8s.io" for d in docs)
    plain = run_cli(*base, "--output", "all", env=EPOCH)
    assert "# no HPA: no latency target given" in plain.stdout and "APIService" not in plain.stdout
