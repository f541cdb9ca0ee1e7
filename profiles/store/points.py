"""One load point of one serving configuration, a curve of them, and the file columns they map to.

The file format is gcloud's `benchmarks list` CSV (its exact header first) followed by our extra columns, so a
`benchmarks list` dump, a harness run and the shipped data all load the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

GCLOUD_BENCHMARK_HEADER = (
    "Instance Type", "Accelerator Type", "Model Name", "Model Server Name", "Model Server Version",
    "Output Tokens/s", "NTPOT (ms)", "TTFT (ms)", "ITL (ms)", "QPS", "Cost/M Input Tokens", "Cost/M Output Tokens",
    "Use Case", "Average Input Length", "Average Output Length", "Serving Stack", "Serving Stack Version",
)
EXTRA_HEADER = (
    "Instance $/h", "Input Tokens/s", "NTPOT p90 (ms)", "TTFT p90 (ms)", "ITL p90 (ms)", "Accelerator Count",
    "TPU Topology", "Precision", "Load Type", "Load Value", "Num Requests Waiting", "KV Cache Usage",
    "Num Requests Running", "Provenance", "Source Id", "Source", "Derived", "Date",
)
# The serving setup a profile was measured with (appended last, so gcloud's header stays first). Optional on read:
# a file without them (an older measured run) loads with the setup unknown, which makes its rows reference-only.
SETUP_HEADER = (
    "Quantization", "Checkpoint", "KV Cache Dtype", "Max Num Seqs", "Max Num Batched Tokens", "Max Model Len",
    "Prefix Caching", "Speculative Decoding", "Tensor Parallel", "Data Parallel",
)
STORE_HEADER = GCLOUD_BENCHMARK_HEADER + EXTRA_HEADER + SETUP_HEADER
DERIVED_COLUMNS = ("Cost/M Input Tokens", "Cost/M Output Tokens", "Instance $/h")  # recomputed from prices.csv, never read
PROVENANCE_RANK = {"measured": 0, "published": 1, "estimated": 2}  # lower wins
LOAD_TYPES = ("request_rate", "concurrency", "offline")
PRECISIONS = ("bf16", "fp16", "fp8", "int8", "fp4", "mxfp4", "int4")
QUANTIZATIONS = ("none", "on-load", "pre-quantized")  # checkpoint dtype as stored / quantized by the server / quantized ckpt
KV_CACHE_DTYPES = ("auto", "bf16", "fp16", "fp8")  # vLLM --kv-cache-dtype; auto = the weights' unquantized dtype
PREFIX_CACHING = ("on", "off", "hits")  # hits: on, and the numbers depend on prefix-cache hits across requests

# ProfilePoint field <-> file column, in the order a bad row is checked (text, then numbers, then the count)
TEXT_COLUMNS = {"model": "Model Name", "model_server": "Model Server Name", "model_server_version": "Model Server Version",
                "instance_type": "Instance Type", "accelerator_type": "Accelerator Type", "tpu_topology": "TPU Topology",
                "precision": "Precision", "use_case": "Use Case", "load_type": "Load Type", "provenance": "Provenance",
                "source_id": "Source Id", "source": "Source", "derived": "Derived", "date": "Date",
                "serving_stack": "Serving Stack", "serving_stack_version": "Serving Stack Version"}
NUMBER_COLUMNS = {"input_length": "Average Input Length", "output_length": "Average Output Length", "load_value": "Load Value",
                  "output_tps": "Output Tokens/s", "input_tps": "Input Tokens/s", "qps": "QPS", "ntpot_ms": "NTPOT (ms)",
                  "ttft_ms": "TTFT (ms)", "itl_ms": "ITL (ms)", "ntpot_p90_ms": "NTPOT p90 (ms)", "ttft_p90_ms": "TTFT p90 (ms)",
                  "itl_p90_ms": "ITL p90 (ms)", "num_requests_waiting": "Num Requests Waiting",
                  "kv_cache_usage_perc": "KV Cache Usage", "num_requests_running": "Num Requests Running"}
COUNT_COLUMN = ("accelerator_count", "Accelerator Count")
SETUP_TEXT_COLUMNS = {"quantization": "Quantization", "checkpoint": "Checkpoint", "kv_cache_dtype": "KV Cache Dtype",
                      "prefix_caching": "Prefix Caching", "speculative_decoding": "Speculative Decoding"}
SETUP_INT_COLUMNS = {"max_num_seqs": "Max Num Seqs", "max_num_batched_tokens": "Max Num Batched Tokens",
                     "max_model_len": "Max Model Len", "tensor_parallel": "Tensor Parallel", "data_parallel": "Data Parallel"}
REQUIRED_TEXT = ("model", "model_server", "model_server_version", "instance_type", "accelerator_type", "source")
CHOICES = {"precision": PRECISIONS, "load_type": LOAD_TYPES, "provenance": tuple(PROVENANCE_RANK),
           "quantization": ("", *QUANTIZATIONS), "kv_cache_dtype": ("", *KV_CACHE_DTYPES), "prefix_caching": ("", *PREFIX_CACHING)}
# a different setup is a different configuration: a published fp8-KV row does not hide an estimated bf16-KV curve
CONFIG_FIELDS = ("model", "model_server", "instance_type", "accelerator_type", "accelerator_count", "tpu_topology", "precision",
                 "quantization", "kv_cache_dtype", "prefix_caching", "speculative_decoding")


SETUP_FIELDS = (*SETUP_TEXT_COLUMNS, *SETUP_INT_COLUMNS)


@dataclass(frozen=True, slots=True)
class ProfilePoint:
    """One load point of one serving configuration; None means "not published / not measured"."""

    model: str
    model_server: str
    model_server_version: str
    instance_type: str
    accelerator_type: str
    accelerator_count: int
    tpu_topology: str
    precision: str
    use_case: str
    input_length: float | None
    output_length: float | None
    load_type: str
    load_value: float | None
    output_tps: float | None
    input_tps: float | None
    qps: float | None
    ntpot_ms: float | None
    ttft_ms: float | None
    itl_ms: float | None
    ntpot_p90_ms: float | None
    ttft_p90_ms: float | None
    itl_p90_ms: float | None
    num_requests_waiting: float | None
    kv_cache_usage_perc: float | None
    num_requests_running: float | None
    provenance: str
    source_id: str
    source: str
    derived: str
    date: str
    serving_stack: str = ""
    serving_stack_version: str = ""
    # serving setup ("" / None: not recorded); speculative_decoding "none" when it was off
    quantization: str = ""
    checkpoint: str = ""  # the quantized checkpoint's id or description when pre-quantized
    kv_cache_dtype: str = ""
    max_num_seqs: int | None = None
    max_num_batched_tokens: int | None = None
    max_model_len: int | None = None
    prefix_caching: str = ""
    speculative_decoding: str = ""
    tensor_parallel: int | None = None
    data_parallel: int | None = None  # replicas the published numbers were measured on (1: one replica)

    @property
    def workload(self) -> str:
        """Workload key: a named use case, else the fixed lengths."""
        return workload_key(self.use_case, self.input_length, self.output_length)

    @property
    def setup(self) -> dict[str, object]:
        """The serving setup as a record (None where not recorded)."""
        return {f: (getattr(self, f) if getattr(self, f) not in ("", None) else None) for f in SETUP_FIELDS}

    @property
    def config_key(self) -> tuple:
        """Everything that makes two points the same serving configuration (version and provenance excluded)."""
        return (*(getattr(self, f) for f in CONFIG_FIELDS), self.workload)

    @property
    def load_order(self) -> tuple:
        """Sort key along a curve: offered load, with offline (infinite rate) last."""
        return (self.load_type == "offline", self.load_value or 0.0, self.output_tps or 0.0)


@dataclass(frozen=True)
class Curve:
    """The points of one configuration, one server version and one provenance, ordered by offered load."""

    points: tuple[ProfilePoint, ...]

    @property
    def head(self) -> ProfilePoint:
        return self.points[0]


def workload_key(use_case: str, input_length: float | None, output_length: float | None) -> str:
    """A named use case, else 'input/output' lengths ('?' where unknown)."""
    if use_case:
        return use_case
    return f"{_length(input_length)}/{_length(output_length)}"


def _length(value: float | None) -> str:
    return "?" if value is None else f"{value:g}"


_NUM = re.compile(r"\d+")


def version_key(version: str) -> tuple:
    """Order versions: semver-like by number, nightly/dated tags by their digits, unknown first."""
    if not version or version == "unknown":
        return (0,)
    return (1, tuple(int(n) for n in _NUM.findall(version)), version)
