"""Building test points and store directories (test inputs, never shipped data)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from profiles.store.points import ProfilePoint
from profiles.store.store import ProfileStore
from profiles.store.write import write_file

BASE = ProfilePoint(
    model="test/model-8b", model_server="vllm", model_server_version="0.32.0", instance_type="a3-highgpu-1g",
    accelerator_type="nvidia-h100-80gb", accelerator_count=1, tpu_topology="", precision="bf16",
    use_case="Chatbot (ShareGPT)", input_length=226, output_length=195, load_type="request_rate", load_value=1,
    output_tps=195.0, input_tps=226.0, qps=1.0, ntpot_ms=20.0, ttft_ms=50.0, itl_ms=19.0, ntpot_p90_ms=None,
    ttft_p90_ms=None, itl_p90_ms=None, num_requests_waiting=None, kv_cache_usage_perc=None, num_requests_running=None,
    provenance="measured", source_id="t1", source="test fixture", derived="", date="2026-11-22",
    quantization="none", kv_cache_dtype="auto", max_num_seqs=256, max_num_batched_tokens=8192, max_model_len=8192,
    prefix_caching="on", speculative_decoding="none", tensor_parallel=1, data_parallel=1,
)


def point(**changes) -> ProfilePoint:
    """BASE with changes; tensor parallelism follows the accelerator count unless given (a deployable setup)."""
    changes.setdefault("tensor_parallel", changes.get("accelerator_count", BASE.accelerator_count))
    return replace(BASE, **changes)


def curve(rates_tps_ntpot: list[tuple[float, float, float]], **changes) -> list[ProfilePoint]:
    """Points of one configuration from (request rate, output tok/s, NTPOT ms) triples."""
    return [point(load_value=r, output_tps=t, input_tps=t * 226 / 195, qps=t / 195, ntpot_ms=n,
                  source_id=f"r{r:g}", **changes) for r, t, n in rates_tps_ntpot]


def store_dir(tmp_path: Path, points: list[ProfilePoint], name: str = "profiles.csv") -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    write_file(tmp_path / name, points)
    return tmp_path


def curves_of(points: list[ProfilePoint]) -> list:
    """The curves a list of points forms (as the store groups them)."""
    return ProfileStore.of(points).curves()
