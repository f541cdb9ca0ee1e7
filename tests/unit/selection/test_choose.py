"""The single choose step: the winner is the ranking's first candidate; with fallback, an unmet latency target
still yields a deployable choice and says what is achievable; without it, the refusal names the ranges."""

import pytest

from profiles.catalog.catalog import default_catalog
from profiles.errors import UsageError
from profiles.selection.choose import choose
from profiles.selection.ranking import Pricing, Targets
from tests.support.points import curve, curves_of

CAT = default_catalog()
ON_DEMAND = Pricing("on-demand")
L4 = curve([(1, 300, 20), (4, 1100, 30), (8, 1500, 90)], instance_type="g2-standard-12", accelerator_type="nvidia-l4")
H100 = curve([(1, 400, 15), (4, 1500, 18), (8, 2600, 25)])


def test_the_winner_heads_the_ranking_it_won():
    choice = choose(CAT, curves_of(L4 + H100), Targets(ntpot_ms=25), ON_DEMAND)
    assert choice.winner is choice.ranking.candidates[0]
    assert choice.winner.point.source_id == "r1" and choice.winner.point.accelerator_type == "nvidia-l4"  # cheaper per token
    assert [c.point.source_id for c in choice.ranking.candidates] == ["r1", "r8"]
    assert choice.unmet == "" and choice.explanation.startswith(f"Recommended {choice.winner.point.instance_type}")


def test_an_unmet_target_is_refused_with_what_each_configuration_achieves():
    with pytest.raises(UsageError) as err:
        choose(CAT, curves_of(L4 + H100), Targets(ntpot_ms=5), ON_DEMAND)
    assert "No profile meets NTPOT <= 5 ms" in str(err.value) and "\n" not in str(err.value)
    assert "NTPOT 20-90 ms" in str(err.value) and "NTPOT 15-25 ms" in str(err.value)


def test_fallback_keeps_a_deployable_choice_and_says_why():
    choice = choose(CAT, curves_of(L4), Targets(ntpot_ms=5), ON_DEMAND, fallback=True)
    assert choice.winner.rule == "inflection point" and "No profile meets NTPOT <= 5 ms" in choice.unmet
    met = choose(CAT, curves_of(L4), Targets(ntpot_ms=35), ON_DEMAND, fallback=True)
    assert met.unmet == "" and met.winner.point.source_id == "r4"


def test_fallback_ranks_a_fixed_accelerator_on_latency_not_cost():
    """Cost targets choose between accelerators; on one accelerator without a latency target they do not apply."""
    dear = Targets(cost_per_million_output=1e-6)
    with pytest.raises(UsageError, match=r"No profile meets \$/M output <= 1e-06"):
        choose(CAT, curves_of(L4), dear, ON_DEMAND)
    assert choose(CAT, curves_of(L4), dear, ON_DEMAND, fallback=True).winner.rule == "inflection point"
