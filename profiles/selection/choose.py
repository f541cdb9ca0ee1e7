"""The single choose step: from curves and targets to the winning configuration, the ranking it won and why.

The stack plan calls it once, over every accelerator, when the stack names none; the serving plan calls it for
one accelerator type (the stack's, or `manifests create --accelerator-type`). Nothing else ranks for a plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from profiles.catalog.catalog import Catalog
from profiles.errors import UsageError
from profiles.selection.explain import explain, no_match
from profiles.selection.ranking import Candidate, Pricing, Ranking, Targets, rank
from profiles.store.points import Curve


@dataclass(frozen=True)
class Choice:
    winner: Candidate
    ranking: Ranking
    explanation: str  # the --explain paragraph: why it won, the runner-up, what was left out
    unmet: str = ""  # with fallback: no point met the latency targets; what each configuration can achieve


def choose(catalog: Catalog, curves: Sequence[Curve], targets: Targets, pricing: Pricing, fallback: bool = False) -> Choice:
    """The cheapest curve at its operating point that meets every target; UsageError saying what is achievable
    when none does.

    `fallback` is for one fixed accelerator type: without a latency target its curves are ranked at their inflection
    points (cost targets choose between accelerators, they do not size one); when no point meets the latency
    targets, the cheapest inflection point is returned with `unmet` saying why, so a deployment can still be
    written (without an HPA).
    """
    if not fallback:
        ranking = rank(catalog, curves, targets, pricing)
        if not ranking.candidates:
            raise UsageError(explain(ranking, targets).replace("\n", " |"))
        return Choice(ranking.candidates[0], ranking, explain(ranking, targets))
    unmet = ""
    if targets.latency:
        ranking = rank(catalog, curves, targets, pricing)
        if ranking.candidates:
            return Choice(ranking.candidates[0], ranking, explain(ranking, targets))
        unmet = no_match(ranking, targets)
    untargeted = rank(catalog, curves, Targets(), pricing)
    if not untargeted.candidates:
        raise UsageError(explain(untargeted, Targets()).replace("\n", " |"))
    return Choice(untargeted.candidates[0], untargeted, explain(untargeted, Targets()), unmet)
