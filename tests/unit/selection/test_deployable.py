"""Deployable vs reference-only, and what the ranking does with reference-only curves."""

import pytest

from profiles.catalog.catalog import default_catalog
from profiles.selection.deployable import reference_reason
from profiles.selection.explain import explain
from profiles.selection.ranking import Pricing, Targets, rank
from profiles.store.store import ProfileStore
from tests.support.points import curve, curves_of, point

CAT = default_catalog()


def test_a_fully_recorded_vllm_setup_on_one_replica_is_deployable():
    assert reference_reason(CAT, point()) == ""
    assert reference_reason(CAT, point(quantization="on-load", precision="fp8")) == ""
    assert reference_reason(CAT, point(accelerator_type="tpu-v6e-slice", instance_type="ct6e-standard-4t",
                                       accelerator_count=4, tpu_topology="2x2")) == ""


@pytest.mark.parametrize("changes, why", [
    ({"model_server": "sglang"}, "no manifests for sglang on gpu"),
    ({"data_parallel": 8}, "measured on 8 data-parallel replicas"),
    ({"speculative_decoding": "MTP (5 draft tokens)"}, "speculative decoding (MTP (5 draft tokens))"),
    ({"prefix_caching": "hits"}, "prefix-cache hits across requests"),
    ({"quantization": "pre-quantized", "checkpoint": "nvidia FP8 ckpt"}, "pre-quantized checkpoint (nvidia FP8 ckpt)"),
    ({"quantization": "on-load", "precision": "int8"}, "int8 quantization on load"),
    ({"kv_cache_dtype": ""}, "KV-cache dtype not stated"),
    ({"max_num_seqs": None}, "max-num-seqs not stated"),
    ({"tensor_parallel": 2}, "tensor parallel 2 on 1 x nvidia-h100-80gb"),
])
def test_each_unreproducible_part_of_a_setup_makes_it_reference_only(changes, why):
    assert why in reference_reason(CAT, point(**changes))


def test_ranking_sets_reference_curves_aside_and_explain_names_them():
    cheap_reference = curve([(1, 9000, 20)], prefix_caching="hits", provenance="published")
    deployable = curve([(1, 2000, 20)], instance_type="a3-highgpu-2g", accelerator_count=2)
    ranking = rank(CAT, curves_of(cheap_reference + deployable), Targets(), Pricing("on-demand"))
    assert [c.point.instance_type for c in ranking.candidates] == ["a3-highgpu-2g"]
    assert len(ranking.set_aside) == 1 and "prefix-cache hits" in ranking.set_aside[0][1]
    assert "1 reference-only configuration(s) were set aside" in explain(ranking, Targets())
    everything = rank(CAT, curves_of(cheap_reference + deployable), Targets(), Pricing("on-demand"), reference=True)
    assert everything.candidates[0].point.prefix_caching == "hits"  # cheaper, ranked only when asked for


def test_shipped_published_rows_are_reference_only_and_estimated_ones_deployable():
    points = ProfileStore.load().points()
    published = [p for p in points if p.provenance == "published"]
    assert published and all(reference_reason(CAT, p) for p in published)
    k01 = next(p for p in published if p.source_id == "K01")
    assert (k01.data_parallel, k01.prefix_caching, k01.kv_cache_dtype, k01.quantization) == (8, "hits", "fp8", "pre-quantized")
    g01 = next(p for p in published if p.source_id == "G01")
    assert "speculative decoding" in reference_reason(CAT, g01)
    estimated = [p for p in points if p.provenance == "estimated" and p.model == "meta-llama/Llama-3.1-8B-Instruct"]
    assert estimated and not any(reference_reason(CAT, p) for p in estimated)
