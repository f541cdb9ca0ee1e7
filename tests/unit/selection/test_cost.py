"""The GIQ cost formula, checked against the rows Google published."""

import pytest

from profiles.catalog.catalog import default_catalog
from profiles.selection.cost import gcloud_amount, token_cost


def implied_input_tps(usd_per_hour: float, cost_per_m_output: float, output_tps: float, ratio: float = 4.0) -> float:
    """Invert $/output token = $/s / (in/ratio + out) for the input tokens/s a published row implies."""
    return ratio * (usd_per_hour / 3600 / (cost_per_m_output / 1e6) - output_tps)


def test_seed_example_gpt_oss_20b_on_a3_highgpu_1g():
    """Seed 000: a3-highgpu-1g, nvidia-h100-80gb, on-demand, 13335 output tok/s -> $0.035/M out, $0.009/M in.

    The price is our catalog's a3-highgpu-1g on-demand price ($11.06/h, us-central1, where GIQ prices A3).
    Those figures imply ≈ 297,800 input tokens/s (≈ 22x the output rate); with that input rate our
    function reproduces both published costs at gcloud's 3-decimal display.
    """
    price = default_catalog().price("a3-highgpu-1g", 1, "on-demand")
    assert price.usd_per_hour == 11.06 and price.region == "us-central1"
    input_tps = implied_input_tps(price.usd_per_hour, 0.035, 13335)
    assert input_tps == pytest.approx(297_772, rel=1e-4)
    assert input_tps / 13335 == pytest.approx(22.3, abs=0.05)
    cost = token_cost(price.usd_per_hour, 13335, input_tps)
    assert gcloud_amount(cost.per_million_output) == "0.035"
    assert gcloud_amount(cost.per_million_input) == "0.009"
    # The 3-decimal rounding leaves a band: any input rate in it reproduces the display too.
    low, high = implied_input_tps(11.06, 0.0355, 13335), implied_input_tps(11.06, 0.0345, 13335)
    for tps in (low + 1, high - 1):
        assert gcloud_amount(token_cost(11.06, 13335, tps).per_million_output) == "0.035"


def test_notebook_gemma_row_implies_the_reference_input_ratio():
    """NB row gemma-2-27b-it, a3-highgpu-1g, spot: 2050 tok/s, $0.222/M out -> input ≈ 11.5x output (reference §4)."""
    spot = default_catalog().price("a3-highgpu-1g", 1, "spot").usd_per_hour
    assert implied_input_tps(spot, 0.222, 2050) / 2050 == pytest.approx(11.5, abs=0.1)


def test_ratio_and_missing_values():
    base = token_cost(10.0, 1000, 4000, ratio=4.0)
    assert base.per_million_output == pytest.approx(10 / 3600 / 2000 * 1e6)
    assert base.per_million_input == pytest.approx(base.per_million_output / 4)
    two = token_cost(10.0, 1000, 4000, ratio=2.0)
    assert two.per_million_output < base.per_million_output  # input tokens weigh more at a lower ratio
    assert token_cost(None, 1000, 4000) is None
    assert token_cost(10.0, 1000, None) is None
    assert gcloud_amount(None) == "N/A"
    with pytest.raises(ValueError):
        token_cost(10.0, 1000, 4000, ratio=0)
