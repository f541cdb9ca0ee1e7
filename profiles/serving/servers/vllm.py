"""vLLM's OpenAI-compatible API server: command, arguments, environment, probes, port and metrics.

Every argument is checked against the pinned vLLM's own parser in tests (the image and version come from
data/model_servers.csv). Scheduler limits are written out from the memory fit (vLLM's defaults for the pinned
version, data/vllm_defaults.csv), so a manifest never depends on a default that moves between releases.
"""

from __future__ import annotations

from profiles.catalog.modelspec import ModelSpec
from profiles.errors import UsageError
from profiles.selection.autoscaling import AUTO, HpaMetric, pick_metric
from profiles.serving.servers.base import Gauge, Paths
from profiles.serving.sizing import Fit
from profiles.serving.source import ModelSource
from profiles.store.points import ProfilePoint

QUEUE, RUNNING, KV_CACHE = "vllm:num_requests_waiting", "vllm:num_requests_running", "vllm:kv_cache_usage_perc"


class Vllm:
    """The vLLM implementation of servers.base.ModelServer."""

    name = "vllm"
    display_name = "vLLM"
    container = "vllm"
    port = 8000
    health_path = "/health"
    metrics_path = "/metrics"
    compile_cache_env = "VLLM_XLA_CACHE_PATH"
    paths = Paths(home="/home/vllm", tmp="/tmp", cache="/var/cache/models", model="/models",
                  compile_cache="/var/cache/vllm-xla", token_dir="/var/run/secrets/huggingface")
    # queue lengths are summed over engines (one replica's total), the cache usage averaged
    gauges = (Gauge(QUEUE, "num_requests_waiting", "sum"), Gauge(RUNNING, "num_requests_running", "sum"),
              Gauge(KV_CACHE, "kv_cache_usage_perc", "mean"))
    # queue size, batch size (the fallback when the queue gives no signal), KV-cache usage
    hpa_metrics = (HpaMetric(QUEUE, "num_requests_waiting"), HpaMetric(RUNNING, "num_requests_running"),
                   HpaMetric(KV_CACHE, "kv_cache_usage_perc"))
    default_hpa_metric = AUTO
    _warmup_s = {"gpu": 300, "tpu": 1800}  # torch.compile + CUDA graphs; first XLA compile takes 10-30 min (vllm PR #7533)

    def command(self) -> list[str]:
        return ["python3", "-m", "vllm.entrypoints.openai.api_server"]

    def args(self, model: ModelSpec, fit: Fit, source: ModelSource) -> list[str]:
        """The server's command-line arguments."""
        args = [f"--model={self.paths.model if source.from_bucket else model.model}"]
        if source.from_bucket:
            args.append(f"--served-model-name={model.model}")
        else:
            args.append(f"--download-dir={self.paths.cache}/hub")
        args += [f"--tensor-parallel-size={fit.tensor_parallel_size}", f"--max-model-len={fit.max_model_len}",
                 f"--max-num-seqs={fit.max_num_seqs}", f"--max-num-batched-tokens={fit.max_num_batched_tokens}",
                 f"--gpu-memory-utilization={fit.gpu_memory_utilization:.2f}", "--host=0.0.0.0", f"--port={self.port}"]
        args += [f"--kv-cache-dtype={fit.kv_cache_dtype}",
                 "--enable-prefix-caching" if fit.prefix_caching else "--no-enable-prefix-caching"]
        if fit.quantization == "on-load":
            if fit.precision != "fp8":
                raise UsageError(f"precision: the profile quantizes {model.model} to {fit.precision} on load; "
                                 "only on-the-fly fp8 quantization is supported by manifests")
            args.append("--quantization=fp8")
        elif fit.quantization != "none":
            raise UsageError(f"quantization: '{fit.quantization}' weights of {model.model} cannot be rendered; "
                             "allowed: none, on-load (fp8)")
        return args

    def env(self, platform: str, source: ModelSource) -> list[dict]:
        paths = self.paths
        env = [{"name": "HOME", "value": paths.home}, {"name": "USER", "value": "vllm"}, {"name": "HF_HOME", "value": paths.cache},
               {"name": "VLLM_CACHE_ROOT", "value": f"{paths.home}/.cache/vllm"}]
        if source.from_bucket:
            env.append({"name": "HF_HUB_OFFLINE", "value": "1"})
        else:
            env.append({"name": "HF_TOKEN_PATH", "value": f"{paths.token_dir}/token"})
        if platform == "tpu":
            env.append({"name": self.compile_cache_env, "value": paths.compile_cache})
        else:
            env.append({"name": "LD_LIBRARY_PATH", "value": "/usr/local/nvidia/lib:/usr/local/nvidia/lib64"})
        return env

    def warmup_s(self, platform: str) -> int:
        return self._warmup_s[platform]

    def hpa_metric(self, name: str, key: str = "--hpa-metric") -> HpaMetric:
        found = next((m for m in self.hpa_metrics if m.name == name), None)
        if found is None:
            raise UsageError(f"{key}: unknown value '{name}'; allowed: {', '.join(m.name for m in self.hpa_metrics)}")
        return found

    def resolve_hpa_metric(self, name: str, point: ProfilePoint, key: str = "--hpa-metric") -> tuple[HpaMetric, str]:
        """The metric `name` names, or for `auto` queue vs batch size picked from the operating point; and why."""
        if name in ("", AUTO):
            return pick_metric(point, self.hpa_metric(QUEUE), self.hpa_metric(RUNNING))
        return self.hpa_metric(name, key), ""

    def hpa_fallback(self, metric: HpaMetric) -> str:
        """The metric to suggest when `metric` (the queue) gives no signal at the operating point."""
        return next(m.name for m in self.hpa_metrics if m != metric)


VLLM = Vllm()
