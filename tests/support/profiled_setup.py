"""Every deployable shipped profile of a sample of models, planned and rendered: the args must be its setup."""

from __future__ import annotations

from collections.abc import Iterator

from profiles.catalog.catalog import default_catalog
from profiles.selection.choose import choose
from profiles.selection.deployable import reference_reason
from profiles.selection.ranking import Pricing, Targets
from profiles.serving.plan import ServingPlan, ServingRequest, plan_serving
from profiles.serving.servers.vllm import VLLM
from profiles.serving.source import ModelSource
from profiles.store.points import ProfilePoint
from profiles.store.store import ProfileStore

SAMPLE_MODELS = ("meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-70B", "google/gemma-2-27b-it", "Qwen/Qwen3-32B")


def deployable_plans(models: tuple[str, ...] = SAMPLE_MODELS) -> Iterator[tuple[ProfilePoint, ServingPlan, list[str]]]:
    """(profile point, serving plan following it, rendered vLLM args) per deployable shipped configuration."""
    catalog, store = default_catalog(), ProfileStore.load()
    for model in models:
        for curve in store.where(model=model, model_server="vllm").select_versions().curves():
            if reference_reason(catalog, curve.head):
                continue
            choice = choose(catalog, [curve], Targets(), Pricing(), fallback=True)
            request = ServingRequest(model, curve.head.accelerator_type, use_case=curve.head.use_case)
            plan = plan_serving(request, store, catalog, choice)
            yield choice.winner.point, plan, VLLM.args(plan.model, plan.fit, ModelSource())


def expected_args(p: ProfilePoint) -> dict[str, str]:
    """The flags a profile's setup must render as (flag -> value, '' for a bare flag)."""
    out = {"--tensor-parallel-size": str(p.tensor_parallel), "--max-model-len": str(p.max_model_len),
           "--max-num-seqs": str(p.max_num_seqs), "--max-num-batched-tokens": str(p.max_num_batched_tokens),
           "--kv-cache-dtype": p.kv_cache_dtype,
           "--enable-prefix-caching" if p.prefix_caching != "off" else "--no-enable-prefix-caching": ""}
    if p.quantization == "on-load":
        out["--quantization"] = p.precision
    return out


def as_flags(args: list[str]) -> dict[str, str]:
    return {k: v for k, _, v in (a.partition("=") for a in args)}
