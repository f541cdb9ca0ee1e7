"""Model architecture facts used for sizing, from the catalog or from a local Hugging Face config.json."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from profiles import checks
from profiles.errors import UsageError

# Bytes per stored parameter, block scales included: mxfp4 = 4-bit values + one 8-bit scale per 32 (4.25 bits);
# nvfp4 = 4 bits + an fp8 scale per 16 (4.5 bits); int4 (GPTQ/AWQ, group 128) ~ 4.25 bits.
DTYPE_BYTES = {"fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0, "mxfp4": 4.25 / 8, "fp4": 4.5 / 8,
               "int4": 4.25 / 8}
QUANTIZED = ("fp8", "int8", "mxfp4", "fp4", "int4")


@dataclass(frozen=True)
class ModelSpec:
    """One model's shape; fields are None where the architecture is not known."""

    model: str
    architecture: str  # dense | moe | mla-moe
    total_params_b: float
    active_params_b: float
    layers: int | None
    hidden_size: int | None
    attention_heads: int | None
    kv_heads: int | None
    head_dim: int | None
    ffn_size: int | None
    vocab_size: int | None
    experts: int | None
    experts_per_token: int | None
    tied_embeddings: bool
    max_context: int | None
    kv_bytes_per_token: int | None  # bf16 KV cache, all layers
    default_dtype: str
    giq: bool
    source: str
    confidence: str

    def parts(self) -> tuple[float, float, float, float]:
        """(input embedding, lm_head, MoE experts, everything else) parameters; all 'else' when the shape is unknown."""
        total = self.total_params_b * 1e9
        if not (self.layers and self.hidden_size and self.vocab_size and self.ffn_size):
            return 0.0, 0.0, 0.0, total
        embed = float(self.vocab_size * self.hidden_size)
        head = 0.0 if self.tied_embeddings else embed
        experts = float(self.layers * (self.experts or 0) * 3 * self.hidden_size * self.ffn_size)
        heads, kv, dim = self.attention_heads or 0, self.kv_heads or self.attention_heads or 0, self.head_dim or 0
        attention = float(self.layers * self.hidden_size * dim * (2 * heads + 2 * kv))
        if embed + head + experts + attention > total:  # MoE on some layers only (Llama 4): the total decides
            experts = max(total - embed - head - attention, 0.0)
        return embed, head, experts, max(total - embed - head - experts, 0.0)

    def bytes_at(self, dtype: str, experts_fraction: float = 1.0, input_embedding: bool = True,
                 load_factor: float = 1.0) -> float:
        """A checkpoint's real composition: quantized formats cover the linear layers only (embeddings and lm_head
        stay bf16), and mxfp4 checkpoints of MoE models (gpt-oss) quantize only the experts: attention stays bf16.
        `load_factor` scales the quantized tensors to the size the serving kernels hold them at (padded layouts)."""
        embed, head, experts, other = self.parts()
        wide = DTYPE_BYTES[dtype] if dtype not in QUANTIZED else 2.0
        narrow = DTYPE_BYTES[dtype] * (load_factor if dtype in QUANTIZED else 1.0)
        other_bytes = wide if dtype == "mxfp4" and self.experts else narrow
        return (embed * input_embedding + head) * wide + experts * experts_fraction * narrow + other * other_bytes

    def weight_bytes(self, dtype: str | None = None) -> float:
        """Bytes of weights resident in memory at a precision (default: the checkpoint's own); all experts resident."""
        return self.bytes_at(dtype or self.default_dtype)

    def step_weight_bytes(self, dtype: str, tokens: float) -> float:
        """Weight bytes one engine step reads for `tokens` tokens: the input embedding is a lookup (not read whole),
        and a MoE layer reads only the experts its tokens route to, E·(1-(1-k/E)^tokens) of E on average."""
        fraction = 1.0
        if self.experts and self.experts_per_token:
            fraction = 1 - (1 - self.experts_per_token / self.experts) ** max(tokens, 1.0)
        return self.bytes_at(dtype, fraction, input_embedding=False)


def kv_bytes_per_token(layers: int, kv_heads: int, head_dim: int, dtype_bytes: float = 2.0) -> int:
    """K and V for every layer: 2 · layers · kv_heads · head_dim · bytes."""
    return int(2 * layers * kv_heads * head_dim * dtype_bytes)


def params_from_shape(
    layers: int,
    hidden: int,
    heads: int,
    kv_heads: int,
    head_dim: int,
    ffn: int,
    vocab: int,
    experts: int = 1,
    experts_per_token: int = 1,
    tied_embeddings: bool = False,
) -> tuple[float, float]:
    """(total, active) parameters of a gated-MLP decoder (Llama/Mistral/Qwen/Gemma shape).

    Formula from reference/gke-tpu-gpu-vllm-facts.md §7: embeddings (x2 if untied) + per layer
    [Q + K + V + O projections + experts · 3 · hidden · ffn + router + 2 norms] + final norm.
    """
    embed = vocab * hidden * (1 if tied_embeddings else 2)
    attn = hidden * heads * head_dim + 2 * hidden * kv_heads * head_dim + heads * head_dim * hidden
    mlp_one = 3 * hidden * ffn
    router = hidden * experts if experts > 1 else 0
    norms = 2 * hidden
    total = embed + layers * (attn + experts * mlp_one + router + norms) + hidden
    active = embed + layers * (attn + experts_per_token * mlp_one + router + norms) + hidden
    return total, active


def _int(config: dict, *keys: str) -> int | None:
    for key in keys:
        value = config.get(key)
        if isinstance(value, int) and value >= 0:
            return value
    return None


def from_config_json(path: Path) -> ModelSpec:
    """Build a ModelSpec from a Hugging Face config.json (a file, or a directory holding one)."""
    file = path / "config.json" if path.is_dir() else path
    try:
        config = json.loads(checks.read_text(file, "--model", limit=16 * 1024 * 1024))
    except json.JSONDecodeError as exc:
        raise UsageError(f"--model: '{file}' is not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(config, dict):
        raise UsageError(f"--model: '{file}' must hold a JSON object")
    config = config.get("text_config", config) if "num_hidden_layers" not in config else config
    layers = _int(config, "num_hidden_layers", "n_layer")
    hidden = _int(config, "hidden_size", "n_embd")
    heads = _int(config, "num_attention_heads", "n_head")
    missing = [k for k, v in (("num_hidden_layers", layers), ("hidden_size", hidden), ("num_attention_heads", heads)) if not v]
    bad = [k for k in missing if k in config]
    if bad:
        raise UsageError(f"--model: '{file}' has {bad[0]} = {checks.shown(json.dumps(config[bad[0]]))}; "
                         "allowed: a whole number > 0")
    if missing:
        raise UsageError(f"--model: '{file}' lacks {', '.join(missing)}; a decoder config.json is required")
    kv_heads = _int(config, "num_key_value_heads") or heads
    head_dim = _int(config, "head_dim") or hidden // heads
    ffn = _int(config, "intermediate_size", "n_inner") or 4 * hidden
    vocab = _int(config, "vocab_size") or 0
    experts = _int(config, "num_local_experts", "num_experts", "n_routed_experts") or 1
    latent = _int(config, "kv_lora_rank")  # MLA (DeepSeek V2/V3, Kimi K2): one compressed latent per token and layer
    kv_bytes = (layers * (latent + (_int(config, "qk_rope_head_dim") or 0)) * 2 if latent
                else kv_bytes_per_token(layers, kv_heads, head_dim))
    top_k = _int(config, "num_experts_per_tok", "experts_per_token") or 1
    tied = bool(config.get("tie_word_embeddings", False))
    total, active = params_from_shape(layers, hidden, heads, kv_heads, head_dim, ffn, vocab, experts, top_k, tied)
    dtype = {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32"}.get(str(config.get("torch_dtype", "bfloat16")), "bf16")
    name = str(config.get("_name_or_path") or file.parent.name or file.stem)
    return ModelSpec(
        model=name,
        architecture="mla-moe" if latent else "moe" if experts > 1 else "dense",
        total_params_b=round(total / 1e9, 6),
        active_params_b=round(active / 1e9, 6),
        layers=layers,
        hidden_size=hidden,
        attention_heads=heads,
        kv_heads=kv_heads,
        head_dim=head_dim,
        ffn_size=ffn,
        vocab_size=vocab,
        experts=experts if experts > 1 else None,
        experts_per_token=top_k if experts > 1 else None,
        tied_embeddings=tied,
        max_context=_int(config, "max_position_embeddings", "n_positions"),
        kv_bytes_per_token=kv_bytes,
        default_dtype=dtype,
        giq=False,
        source=f"local config.json {file}",
        confidence="V",
    )
