"""Catalog data: loads, carries sources, is internally consistent, and the sizing formulas hold."""

import csv
import json
import shutil

import pytest

from profiles.catalog.catalog import Catalog, default_catalog
from profiles.catalog.csvdata import DATA_DIR
from profiles.catalog.modelspec import kv_bytes_per_token, params_from_shape
from profiles.errors import UsageError

REQUIRED_MODELS = [
    # the 17 GIQ models (reference/giq-api-and-cli.md §7)
    "Qwen/Qwen3-32B", "deepseek-ai/DeepSeek-R1", "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", "google/gemma-2-27b-it",
    "google/gemma-2-2b-it", "google/gemma-3-27b-it", "google/gemma-3-4b-it", "meta-llama/Llama-3.2-1B-Instruct",
    "meta-llama/Llama-3.3-70B-Instruct", "meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8",
    "meta-llama/Llama-4-Scout-17B-16E-Instruct", "meta-llama/Meta-Llama-3-8B",
    "mistralai/Mistral-Small-24B-Instruct-2501", "mistralai/Mixtral-8x22B-Instruct-v0.1",
    "mistralai/Mixtral-8x7B-Instruct-v0.1", "openai/gpt-oss-120b", "openai/gpt-oss-20b",
    # issue #2's list
    "meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-70B-Instruct", "meta-llama/Llama-3.1-405B-Instruct",
    "meta-llama/Llama-2-70b-chat-hf", "Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-32B-Instruct", "Qwen/Qwen2.5-72B-Instruct",
    "google/gemma-2-9b-it", "google/gemma-2b-it", "EleutherAI/gpt-j-6b", "meta-llama/Meta-Llama-3-8B-Instruct",
    "meta-llama/Meta-Llama-3-70B-Instruct", "meta-llama/Llama-3.1-8B", "meta-llama/Llama-3.1-405B",
    "meta-llama/Llama-2-13b-chat-hf", "google/gemma-4-31B-it",
]
ACCELERATORS = ["nvidia-l4", "nvidia-tesla-a100", "nvidia-a100-80gb", "nvidia-h100-80gb", "nvidia-h100-mega-80gb",
                "nvidia-h200-141gb", "nvidia-b200", "tpu-v5-lite-podslice", "tpu-v5p-slice", "tpu-v6e-slice", "tpu7x"]


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return default_catalog()


def test_every_required_model_and_accelerator_is_catalogued(cat, shared_dir):
    assert set(REQUIRED_MODELS) <= set(cat.models)
    assert set(ACCELERATORS) == set(cat.accelerators)
    if shared_dir:
        with (shared_dir / "data" / "published_measurements_normalized.csv").open() as f:
            assert {r["model"] for r in csv.DictReader(f)} <= set(cat.models)


def test_every_data_row_names_a_source_and_confidence():
    for path in DATA_DIR.glob("*.csv"):
        with path.open() as f:
            for row in csv.DictReader(f):
                assert row["source"].strip(), f"{path.name}: row without source: {row}"
                if "confidence" in row:
                    assert row["confidence"] in ("V", "S", "U"), path.name


@pytest.mark.parametrize("model,total,active", [
    ("meta-llama/Llama-3.1-8B-Instruct", 8.03, 8.03), ("meta-llama/Llama-3.1-70B-Instruct", 70.55, 70.55),
    ("meta-llama/Llama-3.1-405B-Instruct", 405.85, 405.85), ("mistralai/Mixtral-8x7B-Instruct-v0.1", 46.70, 12.88),
    ("Qwen/Qwen2.5-72B-Instruct", 72.71, 72.71), ("google/gemma-2-27b-it", 27.23, 27.23),
])
def test_parameter_formula_reproduces_the_reference(cat, model, total, active):
    m = cat.models[model]
    got_total, got_active = params_from_shape(m.layers, m.hidden_size, m.attention_heads, m.kv_heads, m.head_dim,
                                              m.ffn_size, m.vocab_size, m.experts or 1, m.experts_per_token or 1,
                                              m.tied_embeddings)
    assert got_total / 1e9 == pytest.approx(total, rel=0.005)
    assert got_active / 1e9 == pytest.approx(active, rel=0.005)


def test_kv_bytes_match_the_shape_for_standard_attention(cat):
    checked = 0
    for m in cat.models.values():
        if m.architecture != "mla-moe" and m.kv_heads:
            assert m.kv_bytes_per_token == kv_bytes_per_token(m.layers, m.kv_heads, m.head_dim), m.model
            checked += 1
    assert checked > 30
    assert cat.models["meta-llama/Llama-3.3-70B-Instruct"].kv_bytes_per_token == 327_680  # reference §1 notation


def test_default_shapes(cat):
    v6e = cat.shape("tpu-v6e-slice", 8)
    assert (v6e.machine_type, v6e.tpu_topology, v6e.vms) == ("ct6e-standard-8t", "2x4", 1)
    multi = cat.shape("tpu-v6e-slice", 16)
    assert (multi.machine_type, multi.tpu_topology, multi.vms) == ("ct6e-standard-4t", "4x4", 4)
    assert cat.shape("nvidia-h100-80gb", 2).machine_type == "a3-highgpu-2g"
    assert cat.shape("nvidia-l4", 4).machine_type == "g2-standard-48"
    assert cat.shape("nvidia-h200-141gb", 1) is None  # GKE has only 8-GPU H200 machines


def test_prices_resolve_per_replica_and_missing_stays_missing(cat):
    p = cat.price("a3-highgpu-2g", 2, "on-demand")
    assert (p.usd_per_hour, p.region) == (22.12, "us-central1")  # A3 priced in us-central1, as GIQ
    assert cat.price("a3-highgpu-8g", 8, "spot", "us-east5").usd_per_hour == pytest.approx(8 * 4.66)
    assert cat.price("ct6e-standard-8t", 8, "on-demand").usd_per_hour == pytest.approx(21.6)
    assert cat.price("ct6e-standard-8t", 8, "spot") is None  # v6e spot price not published
    assert cat.price("a3-ultragpu-8g", 8, "on-demand") is None  # H200 price not in the data
    assert cat.price("g2-standard-12", 1, "spot", "us-east5") is None  # suspect value left out
    assert cat.default_region("ct6e-standard-8t") == "us-east5"
    assert cat.default_region("g2-standard-12") == "us-central1"  # g2 is not offered in us-east5


def test_config_json_model(tmp_path, cat):
    config = {"_name_or_path": "me/tiny", "num_hidden_layers": 2, "hidden_size": 256, "num_attention_heads": 4,
              "num_key_value_heads": 4, "intermediate_size": 512, "vocab_size": 1000, "max_position_embeddings": 512,
              "torch_dtype": "float32"}
    (tmp_path / "config.json").write_text(json.dumps(config))
    spec = cat.model(str(tmp_path))
    assert spec.model == "me/tiny" and spec.head_dim == 64 and spec.default_dtype == "fp32"
    assert spec.kv_bytes_per_token == 2 * 2 * 4 * 64 * 2
    assert spec.total_params_b * 1e9 == pytest.approx(2 * 1000 * 256 + 2 * (4 * 256 * 256 + 3 * 256 * 512 + 512) + 256, rel=1e-3)
    (tmp_path / "neg.json").write_text(json.dumps({**config, "num_hidden_layers": -5}))
    with pytest.raises(UsageError, match=r"has num_hidden_layers = -5; allowed: a whole number > 0"):
        cat.model(str(tmp_path / "neg.json"))
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(UsageError, match="not valid JSON"):
        cat.model(str(tmp_path / "bad.json"))
    with pytest.raises(UsageError, match="closest: meta-llama/Llama-3.3-70B-Instruct"):
        cat.model("Llama-3.3-70B")


def test_an_mla_config_json_caches_its_latent(tmp_path, cat):
    """DeepSeek-V3's config.json names experts n_routed_experts and caches kv_lora_rank + qk_rope_head_dim values."""
    config = {"_name_or_path": "me/mla", "num_hidden_layers": 61, "hidden_size": 7168, "num_attention_heads": 128,
              "num_key_value_heads": 128, "intermediate_size": 18432, "vocab_size": 129280, "n_routed_experts": 256,
              "num_experts_per_tok": 8, "kv_lora_rank": 512, "qk_rope_head_dim": 64}
    (tmp_path / "config.json").write_text(json.dumps(config))
    spec = cat.model(str(tmp_path))
    assert spec.architecture == "mla-moe" and spec.experts == 256
    assert spec.kv_bytes_per_token == cat.models["deepseek-ai/DeepSeek-R1"].kv_bytes_per_token == 61 * 576 * 2


@pytest.mark.parametrize("file,old,new,message", [
    ("machine_types.csv", "a3-highgpu-2g,nvidia-h100-80gb,2", "a3-highgpu-2g,nvidia-h100-80gb,two",
     "column 'accelerator_count' value 'two' is not an integer"),
    ("tpu_topologies.csv", "tpu-v6e-slice,2x4,8,ct6e-standard-8t", "tpu-v6e-slice,2x4,4,ct6e-standard-8t", "topology 2x4"),
    ("prices.csv", "a3-megagpu-8g,us-east5", "a3-gigagpu-8g,us-east5", "'a3-gigagpu-8g' is not in machine_types.csv"),
    ("models.csv", "openai/gpt-oss-20b,moe", "openai/gpt-oss-20b,sparse", "column 'architecture' value 'sparse'"),
])
def test_a_broken_data_file_names_file_line_column_and_value(tmp_path, file, old, new, message):
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    text = (data / file).read_text()
    assert old in text
    (data / file).write_text(text.replace(old, new))
    with pytest.raises(UsageError, match=message) as err:
        Catalog(data)
    assert f"{file}:" in str(err.value)


def test_pinned_vllm_images_for_gpu_and_tpu(cat):
    gpu, tpu = cat.image("vllm", "gpu"), cat.image("vllm", "tpu")
    assert gpu.image == f"docker.io/vllm/vllm-openai:v{gpu.version}"
    assert tpu.image == f"docker.io/vllm/vllm-tpu:v{tpu.version}" and tpu.version == gpu.version
    assert cat.image("tgi", "gpu") is None
    for image in (gpu, tpu):
        for acc in cat.accelerators.values():
            assert cat.scheduler_defaults(image.version, acc.accelerator_type).max_num_seqs > 0
