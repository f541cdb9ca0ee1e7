"""One call from a model and targets to a recommendation: the API the Pulumi program and `make plan` use."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from profiles.catalog.catalog import default_catalog
from profiles.errors import UsageError, unknown
from profiles.selection.autoscaling import DEFAULT_BUFFER, DEFAULT_HPA_METRIC, HpaPlan
from profiles.selection.autoscaling import recommend as recommend_hpa
from profiles.selection.explain import explain
from profiles.selection.ranking import Candidate, Pricing, Ranking, Targets, rank
from profiles.store.store import ProfileStore, select_versions


@dataclass(frozen=True)
class Recommendation:
    choice: Candidate
    ranking: Ranking
    hpa: HpaPlan
    explanation: str


def recommend(model: str, targets: Targets, pricing: Pricing, model_server: str | None = None,
              model_server_version: str = "latest", accelerator_type: str | None = None,
              hpa_metric: str = DEFAULT_HPA_METRIC, hpa_buffer: float = DEFAULT_BUFFER, peak_qps: float | None = None,
              min_replicas: int = 1, max_replicas: int | None = None,
              profiles_dirs: Iterable[str | Path] = ()) -> Recommendation:
    """Cheapest configuration meeting the targets, why it won, and its HPA settings; UsageError if none."""
    catalog, store = default_catalog(), ProfileStore.load(profiles_dirs)
    if model not in store.models():
        raise unknown("model", model, store.models()) if model not in catalog.models else UsageError(
            f"model: '{model}' is in the catalog but has no profiles yet; models with profiles: "
            f"`python -m profiles models list`")
    if accelerator_type:
        catalog.accelerator(accelerator_type, key="acceleratorType")
    points = [p for p in store.points if p.model == model
              and (model_server is None or p.model_server == model_server)
              and (accelerator_type is None or p.accelerator_type == accelerator_type)]
    if not points:
        raise UsageError(f"modelServer/acceleratorType: no profiles for {model} with server '{model_server}' "
                         f"and accelerator '{accelerator_type}'")
    ranking = rank(catalog, select_versions(points, model_server_version), targets, pricing)
    if not ranking.candidates:
        raise UsageError(explain(ranking, targets).replace("\n", " |"))
    choice = ranking.candidates[0]
    hpa = recommend_hpa(choice.point, hpa_metric, hpa_buffer, peak_qps, min_replicas, max_replicas)
    return Recommendation(choice, ranking, hpa, explain(ranking, targets))
