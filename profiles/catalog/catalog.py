"""Hardware, price, model and model-server catalogs loaded from profiles/data (one fact, one file)."""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from pathlib import Path

from profiles.catalog.csvdata import DATA_DIR, Cell, read_rows
from profiles.catalog.modelspec import DTYPE_BYTES, ModelSpec, from_config_json
from profiles.errors import UsageError, unknown

PRICING_MODELS = ("on-demand", "spot", "1-year-cud", "3-years-cud")
CONFIDENCE = ("V", "S", "U")
ANY_REGION = "*"
# vllm_memory.csv: what vLLM keeps outside the KV cache (serving/sizing.py)
MEMORY_TERMS = ("non_torch_gib", "tp_non_torch_gib", "sampler_bytes_per_logit", "cuda_graph_gib", "tpu_runtime_gib")


@dataclass(frozen=True)
class Accelerator:
    accelerator_type: str
    kind: str  # gpu | tpu
    family: str
    memory_gb: float  # nominal capacity, decimal GB as sold
    runtime_memory_gib: float  # what the runtime sees (CUDA total / JAX bytes_limit): vLLM's memory budget base
    hbm_bandwidth_gbps: float
    bf16_tflops: float
    fp8_tflops: float | None
    int8_tops: float | None
    chips_per_device: int  # 2 on TPU7x (dual chiplet): vLLM TP = 2 x google.com/tpu
    source: str
    confidence: str
    arch: str = ""  # chip architecture (Ampere, Hopper, v6e, ...): the estimator's efficiencies are per arch

    @property
    def efficiency_group(self) -> str:
        return self.arch or self.family


@dataclass(frozen=True)
class MachineType:
    machine_type: str
    accelerator_type: str
    accelerator_count: int
    vcpus: int
    memory_gb: float
    regions: tuple[str, ...]
    default_for_count: bool
    source: str


@dataclass(frozen=True)
class TpuTopology:
    accelerator_type: str
    topology: str
    chips: int
    machine_type: str
    vms: int

    @property
    def multi_host(self) -> bool:
        return self.vms > 1


@dataclass(frozen=True)
class PriceRow:
    instance_types: tuple[str, ...]
    region: str
    per_accelerator_hour: dict[str, float | None]
    source: str
    confidence: str
    note: str


@dataclass(frozen=True)
class Price:
    """A resolved hourly price for a whole serving replica."""

    usd_per_hour: float
    region: str
    pricing_model: str
    row: PriceRow


@dataclass(frozen=True)
class ServerImage:
    model_server: str
    platform: str
    version: str  # the server version the image runs; manifests' arguments are tested against it
    image: str
    source: str
    confidence: str


FORMAT_MODES = ("native", "weight-only", "unsupported")


@dataclass(frozen=True)
class WeightFormat:
    """How one chip architecture runs one weight format in vLLM (data/weight_formats.csv)."""

    arch: str
    precision: str
    mode: str  # native: matmuls in that format | weight-only: stored so, computed in bf16 | unsupported: served bf16
    source: str
    confidence: str
    load_factor: float = 1.0  # quantized tensors as the kernels hold them / as the checkpoint stores them (padding)


@dataclass(frozen=True)
class SchedulerDefaults:
    """vLLM's own max-num-batched-tokens / max-num-seqs for the API server on one accelerator."""

    vllm_version: str
    accelerator_type: str
    max_num_batched_tokens: int
    max_num_seqs: int
    source: str


@dataclass(frozen=True)
class Shape:
    """How N accelerators of a type are provisioned: machine type and, for TPUs, topology."""

    machine_type: str
    accelerator_type: str
    accelerator_count: int
    tpu_topology: str
    vms: int


class Catalog:
    """All catalog files, validated once and indexed for lookups."""

    def __init__(self, data_dir: Path = DATA_DIR):
        self.data_dir = data_dir
        self.accelerators = {a.accelerator_type: a for a in self._accelerators()}
        self.machine_types = {m.machine_type: m for m in self._machine_types()}
        self.topologies = list(self._topologies())
        self.prices = list(self._prices())
        self.models = {m.model: m for m in self._models()}
        self.server_images = list(self._server_images())
        self.vllm_defaults = {(d.vllm_version, d.accelerator_type): d for d in self._vllm_defaults()}
        self.weight_formats = {(w.arch, w.precision): w for w in self._weight_formats()}
        self.memory_terms = self._memory_terms()

    # ---- loading -------------------------------------------------------------------------
    def _rows(self, name: str, required: tuple[str, ...]):
        path = self.data_dir / name
        for line, row in read_rows(path, required):
            yield Cell(path, line, row)

    def _accelerators(self, name: str = "accelerators.csv"):
        cols = ("accelerator_type", "kind", "family", "arch", "memory_gb", "runtime_memory_gib", "runtime_memory_confidence",
                "runtime_memory_source", "hbm_bandwidth_gbps", "bf16_tflops", "fp8_tflops", "int8_tops", "chips_per_device",
                "source", "confidence")
        for c in self._rows(name, cols):
            c.choice("runtime_memory_confidence", CONFIDENCE)
            c.text("runtime_memory_source")
            runtime = c.number("runtime_memory_gib")
            if not runtime:
                raise c.bad("runtime_memory_gib", "a positive number (GiB the runtime reports per device)")
            yield Accelerator(c.text("accelerator_type"), c.choice("kind", ("gpu", "tpu")), c.text("family"),
                              c.number("memory_gb") or 0.0, runtime, c.number("hbm_bandwidth_gbps") or 0.0,
                              c.number("bf16_tflops") or 0.0, c.number("fp8_tflops"), c.number("int8_tops"),
                              c.integer("chips_per_device") or 1, c.text("source"), c.choice("confidence", CONFIDENCE),
                              c.text("arch"))

    def _weight_formats(self):
        cols = ("arch", "precision", "mode", "load_factor", "source", "confidence")
        for c in self._rows("weight_formats.csv", cols):
            factor = c.number("load_factor")
            if factor is not None and not 1.0 <= factor <= 2.0:
                raise c.bad("load_factor", "empty or a number from 1 to 2 (loaded size / checkpoint size)")
            yield WeightFormat(c.text("arch"), c.text("precision"), c.choice("mode", FORMAT_MODES), c.text("source"),
                               c.choice("confidence", CONFIDENCE), factor or 1.0)

    def _memory_terms(self) -> dict[str, float]:
        cols = ("term", "value", "unit", "source", "confidence")
        terms = {}
        for c in self._rows("vllm_memory.csv", cols):
            c.choice("confidence", CONFIDENCE)
            c.text("source")
            value = c.number("value")
            if value is None:
                raise c.bad("value", "a non-negative number")
            terms[c.text("term")] = value
        missing = [t for t in MEMORY_TERMS if t not in terms]
        if missing:
            raise UsageError(f"{self.data_dir / 'vllm_memory.csv'}: missing term(s) {', '.join(missing)}; "
                             f"required: {', '.join(MEMORY_TERMS)}")
        return terms

    def _machine_types(self):
        cols = ("machine_type", "accelerator_type", "accelerator_count", "vcpus", "memory_gb", "regions",
                "default_for_count", "source")
        for c in self._rows("machine_types.csv", cols):
            acc = c.text("accelerator_type")
            if acc not in self.accelerators:
                raise UsageError(f"{c.path}:{c.line}: column 'accelerator_type' value '{acc}' is not in accelerators.csv")
            yield MachineType(c.text("machine_type"), acc, c.integer("accelerator_count") or 0, c.integer("vcpus") or 0,
                              c.number("memory_gb") or 0.0, tuple(c.text("regions").split()),
                              c.choice("default_for_count", ("yes", "no")) == "yes", c.text("source"))

    def _topologies(self):
        cols = ("accelerator_type", "topology", "chips", "machine_type", "vms", "source")
        for c in self._rows("tpu_topologies.csv", cols):
            topo = TpuTopology(c.text("accelerator_type"), c.text("topology"), c.integer("chips") or 0,
                               c.text("machine_type"), c.integer("vms") or 0)
            machine = self.machine_types.get(topo.machine_type)
            dims = [int(d) for d in topo.topology.split("x")]
            product = 1
            for d in dims:
                product *= d
            if machine is None or machine.accelerator_type != topo.accelerator_type:
                raise UsageError(f"{c.path}:{c.line}: machine type '{topo.machine_type}' is not a {topo.accelerator_type} machine")
            if product != topo.chips or machine.accelerator_count * topo.vms != topo.chips:
                raise UsageError(f"{c.path}:{c.line}: topology {topo.topology} = {product} chips, row says {topo.chips} "
                                 f"on {topo.vms} x {machine.accelerator_count}-chip VMs")
            yield topo

    def _prices(self):
        cols = ("instance_types", "region", "unit", *PRICING_MODELS, "source", "confidence", "note")
        for c in self._rows("prices.csv", cols):
            c.choice("unit", ("accelerator-hour",))
            types = tuple(c.text("instance_types").split())
            for t in types:
                if t not in self.machine_types:
                    raise UsageError(f"{c.path}:{c.line}: column 'instance_types' value '{t}' is not in machine_types.csv")
            yield PriceRow(types, c.text("region"), {p: c.number(p) for p in PRICING_MODELS}, c.text("source"),
                           c.choice("confidence", CONFIDENCE), c.text("note", required=False))

    def _models(self):
        cols = ("model", "architecture", "total_params_b", "active_params_b", "layers", "hidden_size",
                "attention_heads", "kv_heads", "head_dim", "ffn_size", "vocab_size", "experts", "experts_per_token",
                "tied_embeddings", "max_context", "kv_bytes_per_token", "default_dtype", "giq", "source", "confidence")
        for c in self._rows("models.csv", cols):
            yield ModelSpec(
                model=c.text("model"), architecture=c.choice("architecture", ("dense", "moe", "mla-moe")),
                total_params_b=c.number("total_params_b") or 0.0, active_params_b=c.number("active_params_b") or 0.0,
                layers=c.integer("layers", False), hidden_size=c.integer("hidden_size", False),
                attention_heads=c.integer("attention_heads", False), kv_heads=c.integer("kv_heads", False),
                head_dim=c.integer("head_dim", False), ffn_size=c.integer("ffn_size", False),
                vocab_size=c.integer("vocab_size", False), experts=c.integer("experts", False),
                experts_per_token=c.integer("experts_per_token", False),
                tied_embeddings=c.choice("tied_embeddings", ("yes", "no", "")) == "yes",
                max_context=c.integer("max_context", False), kv_bytes_per_token=c.integer("kv_bytes_per_token", False),
                default_dtype=c.choice("default_dtype", tuple(DTYPE_BYTES)), giq=c.choice("giq", ("yes", "no")) == "yes",
                source=c.text("source"), confidence=c.choice("confidence", CONFIDENCE))

    def _server_images(self):
        for c in self._rows("model_servers.csv", ("model_server", "platform", "version", "image", "source", "confidence")):
            image = ServerImage(c.text("model_server"), c.choice("platform", ("gpu", "tpu")), c.text("version"),
                                c.text("image"), c.text("source"), c.choice("confidence", CONFIDENCE))
            if ":" not in image.image.rsplit("/", 1)[-1] or image.image.endswith(":latest"):
                raise UsageError(f"{c.path}:{c.line}: column 'image' value '{image.image}' must carry a fixed tag, not latest")
            yield image

    def _vllm_defaults(self, name: str = "vllm_defaults.csv"):
        cols = ("vllm_version", "accelerator_type", "max_num_batched_tokens", "max_num_seqs", "source", "confidence")
        for c in self._rows(name, cols):
            acc = c.text("accelerator_type")
            if acc not in self.accelerators:
                raise UsageError(f"{c.path}:{c.line}: column 'accelerator_type' value '{acc}' is not in accelerators.csv")
            yield SchedulerDefaults(c.text("vllm_version"), acc, c.integer("max_num_batched_tokens") or 0,
                                    c.integer("max_num_seqs") or 0, c.text("source"))

    # ---- lookups -------------------------------------------------------------------------
    def accelerator(self, accelerator_type: str, key: str = "--accelerator-type") -> Accelerator:
        try:
            return self.accelerators[accelerator_type]
        except KeyError:
            raise unknown(key, accelerator_type, self.accelerators) from None

    def model(self, name: str, key: str = "--model") -> ModelSpec:
        """A catalog model by Hugging Face id, or a local config.json / model directory."""
        if name in self.models:
            return self.models[name]
        path = Path(name)
        try:
            local = path.suffix == ".json" or path.is_dir() or path.is_file()
        except (OSError, ValueError):  # a name too long for a path, or with a NUL byte: not a local file
            local = False
        if local:
            if not path.exists():
                raise UsageError(f"{key}: no such file '{name}'")
            return from_config_json(path)
        raise unknown(key, name, self.models)

    def shape(self, accelerator_type: str, count: int, machine_type: str = "") -> Shape | None:
        """The default machine type (and TPU topology) for `count` accelerators, None if GKE has none."""
        acc = self.accelerators.get(accelerator_type)
        if acc is None:
            return None
        if acc.kind == "tpu":
            topos = [t for t in self.topologies if t.accelerator_type == accelerator_type and t.chips == count
                     and (not machine_type or t.machine_type == machine_type)]
            if not topos:
                return None
            best = min(topos, key=lambda t: t.vms)  # prefer single-host
            return Shape(best.machine_type, accelerator_type, count, best.topology, best.vms)
        machines = [m for m in self.machine_types.values() if m.accelerator_type == accelerator_type
                    and m.accelerator_count == count and (m.machine_type == machine_type if machine_type else m.default_for_count)]
        return Shape(machines[0].machine_type, accelerator_type, count, "", 1) if machines else None

    def single_host_counts(self, accelerator_type: str) -> list[int]:
        """Accelerator counts one node holds: single-host TPU topologies, default GPU machine types."""
        return sorted({t.chips for t in self.topologies if t.accelerator_type == accelerator_type and not t.multi_host}
                      | {m.accelerator_count for m in self.machine_types.values()
                         if m.accelerator_type == accelerator_type and m.default_for_count})

    def default_region(self, machine_type: str) -> str:
        """GIQ's price region: us-east5, except A3 machines in us-central1; us-central1 where us-east5 lacks the type."""
        machine = self.machine_types[machine_type]
        if machine_type.startswith("a3-") or "us-east5" not in machine.regions:
            return "us-central1"
        return "us-east5"

    def price(self, machine_type: str, accelerator_count: int, pricing_model: str, region: str = "") -> Price | None:
        """Hourly price of one replica (unit price x accelerators), or None when unpublished."""
        if pricing_model not in PRICING_MODELS:
            raise unknown("--pricing-model", pricing_model, PRICING_MODELS)
        if machine_type not in self.machine_types:
            return None
        region = region or self.default_region(machine_type)
        rows = [r for r in self.prices if machine_type in r.instance_types]
        exact = [r for r in rows if r.region == region] or [r for r in rows if r.region == ANY_REGION]
        for row in exact:
            unit = row.per_accelerator_hour.get(pricing_model)
            if unit is not None:
                return Price(round(unit * accelerator_count, 6), region, pricing_model, row)
        return None

    def image(self, model_server: str, platform: str) -> ServerImage | None:
        return next((i for i in self.server_images if i.model_server == model_server and i.platform == platform), None)

    def weight_format(self, accelerator_type: str, precision: str) -> WeightFormat:
        """How the chip runs `precision` weights; a pair weight_formats.csv lacks is unsupported (served in bf16)."""
        acc = self.accelerator(accelerator_type)
        found = self.weight_formats.get((acc.efficiency_group, precision))
        if found is None and precision in ("bf16", "fp16", "fp32"):
            return WeightFormat(acc.efficiency_group, precision, "native", "bf16/fp16 run natively on every catalog chip", "V")
        return found or WeightFormat(acc.efficiency_group, precision, "unsupported",
                                     f"weight_formats.csv has no {acc.efficiency_group}/{precision} row", "U")

    def scheduler_defaults(self, vllm_version: str, accelerator_type: str) -> SchedulerDefaults:
        try:
            return self.vllm_defaults[(vllm_version, accelerator_type)]
        except KeyError:
            raise UsageError(f"vllm_defaults.csv: no row for vLLM {vllm_version} on {accelerator_type}") from None


    def with_calibration_hardware(self) -> Catalog:
        """A copy that also knows chips published rows were measured on but GKE does not offer (H100 PCIe), from
        calibration_accelerators.csv and calibration_vllm_defaults.csv: the estimator scores such a row against its own
        chip's figures instead of a GKE chip's. Never used to plan or rank."""
        other = copy.copy(self)
        other.accelerators = {**self.accelerators, **{a.accelerator_type: a for a in
                                                      self._accelerators("calibration_accelerators.csv")}}
        other.vllm_defaults = {**self.vllm_defaults, **{(d.vllm_version, d.accelerator_type): d for d in
                                                        other._vllm_defaults("calibration_vllm_defaults.csv")}}
        return other


@functools.cache
def default_catalog() -> Catalog:
    """The shipped catalog, parsed once per process."""
    return Catalog()
