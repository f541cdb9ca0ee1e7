"""The model-server seam: lookups by name, HPA metrics by name, and vLLM's container contract."""

import pytest

from profiles.errors import UsageError
from profiles.serving.servers import hpa_metric, hpa_metric_names, server
from profiles.serving.servers.vllm import VLLM
from profiles.serving.source import ModelSource
from tests.support.manifest_cases import case_plan


def test_servers_are_found_by_their_profile_name():
    assert server("vllm") is VLLM
    with pytest.raises(UsageError, match="--model-server: unknown value 'tgi'; allowed: vllm"):
        server("tgi")


def test_hpa_metrics_name_a_point_field_and_a_fallback():
    assert hpa_metric_names() == ("auto", "vllm:num_requests_waiting", "vllm:num_requests_running", "vllm:kv_cache_usage_perc")
    owner, queue = hpa_metric("vllm:num_requests_waiting")
    assert owner is VLLM and queue.field == "num_requests_waiting"
    assert VLLM.hpa_fallback(queue) == "vllm:num_requests_running"
    with pytest.raises(UsageError, match="--hpa-metric: unknown value 'gpu_util'; allowed: vllm:num_requests_waiting"):
        VLLM.hpa_metric("gpu_util")


def test_arguments_follow_the_fit_and_the_source():
    serving = case_plan("gpu-hf-small")
    hf = VLLM.args(serving.model, serving.fit, ModelSource())
    bucket = VLLM.args(serving.model, serving.fit, ModelSource("b", "p"))
    assert hf[0] == f"--model={serving.model.model}" and "--download-dir=/var/cache/models/hub" in hf
    assert bucket[:2] == ["--model=/models", f"--served-model-name={serving.model.model}"]
    assert f"--tensor-parallel-size={serving.fit.tensor_parallel_size}" in hf and f"--port={VLLM.port}" in hf


def test_environment_points_every_cache_at_a_writable_path():
    tpu = {e["name"]: e["value"] for e in VLLM.env("tpu", ModelSource("b", ""))}
    gpu = {e["name"]: e["value"] for e in VLLM.env("gpu", ModelSource())}
    assert tpu["VLLM_XLA_CACHE_PATH"] == VLLM.paths.compile_cache and tpu["HF_HUB_OFFLINE"] == "1"
    assert gpu["HF_TOKEN_PATH"] == f"{VLLM.paths.token_dir}/token" and "LD_LIBRARY_PATH" in gpu
    assert {tpu["HOME"], tpu["HF_HOME"]} == {VLLM.paths.home, VLLM.paths.cache}
