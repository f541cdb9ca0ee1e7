"""Deploy exactly what was profiled: rendered vLLM args equal the chosen profile's setup."""

from dataclasses import replace

from profiles.serving.servers.vllm import VLLM
from profiles.serving.source import ModelSource
from tests.support.profiled_setup import SAMPLE_MODELS, as_flags, deployable_plans, expected_args


def test_every_deployable_shipped_profile_of_the_sample_renders_its_setup():
    seen = set()
    for point, plan, args in deployable_plans():
        flags = as_flags(args)
        for flag, value in expected_args(point).items():
            assert flags.get(flag) == value, (point.model, point.instance_type, flag)
        assert "--quantization" not in flags or point.quantization == "on-load"
        assert f"{plan.fit.kv_capacity_tokens:,} tokens" in plan.fit.describe()
        seen.add(point.model)
    assert seen == set(SAMPLE_MODELS)  # every sample model has deployable profiles


def test_an_fp8_kv_cache_and_on_load_quantization_reach_the_args_and_the_kv_capacity():
    point, plan, _ = next(deployable_plans(("meta-llama/Llama-3.1-8B-Instruct",)))
    fp8 = replace(plan.fit, kv_cache_dtype="fp8", quantization="on-load", precision="fp8", prefix_caching=False)
    flags = as_flags(VLLM.args(plan.model, fp8, ModelSource()))
    assert flags["--kv-cache-dtype"] == "fp8" and flags["--quantization"] == "fp8" and "--no-enable-prefix-caching" in flags
    assert " fp8 KV cache" in fp8.describe()
