"""From a model, an accelerator type and latency targets to everything a vLLM deployment needs.

The accelerator count comes from the cheapest vLLM profile of that model on that accelerator (at the
operating point for the targets, or the inflection point); without a vLLM profile, from the memory fit
(sizing.py), and the manifest says so. An HPA is planned only when a latency target is given, a profile
point meets it and that point carries the server metric the HPA reads; otherwise `hpa_note` says why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from profiles.catalog.catalog import Accelerator, Catalog, MachineType, ServerImage, default_catalog
from profiles.catalog.modelspec import ModelSpec
from profiles.errors import UsageError, unknown
from profiles.selection.autoscaling import DEFAULT_BUFFER, DEFAULT_HPA_METRIC, HpaPlan
from profiles.selection.autoscaling import recommend as recommend_hpa
from profiles.selection.explain import no_match
from profiles.selection.ranking import Candidate, Pricing, Targets, rank
from profiles.serving.sizing import Fit, fit, smallest_fit
from profiles.store.store import ProfilePoint, ProfileStore, select_versions

SUPPORTED_SERVERS = ("vllm",)
NO_TARGETS, SPOT = Targets(), Pricing()


@dataclass(frozen=True)
class ServingPlan:
    model: ModelSpec
    accelerator: Accelerator
    machine: MachineType
    fit: Fit
    image: ServerImage
    point: ProfilePoint | None  # the profile point the plan follows; None when sized from memory only
    basis: str  # one line: where the accelerator count came from
    hpa: HpaPlan
    hpa_enabled: bool  # a target was given, a point meets it and carries the metric
    hpa_note: str  # why an HPA is or is not part of the plan

    @property
    def platform(self) -> str:
        return self.accelerator.kind


def _profile_points(store: ProfileStore, model: str, server: str, accelerator_type: str, version: str,
                    use_case: str | None) -> list[ProfilePoint]:
    points = [p for p in store.points if p.model == model and p.model_server == server and p.accelerator_type == accelerator_type
              and (use_case is None or p.use_case == use_case)]
    return select_versions(points, version) if points else []


def _describe(c: Candidate) -> str:
    p = c.point
    where = f"{p.provenance} profile {p.source_id}".strip()
    return (f"{where} ({p.model_server} {p.model_server_version}, {p.instance_type}, {p.accelerator_count} x {p.accelerator_type}) "
            f"at the {c.rule}: {p.output_tps or 0:,.0f} output tok/s, NTPOT {p.ntpot_ms if p.ntpot_ms is not None else 'N/A'} ms")


def plan_serving(model: str, accelerator_type: str, model_server: str = "vllm", model_server_version: str = "latest",
                 targets: Targets = NO_TARGETS, pricing: Pricing = SPOT, max_model_len: int | None = None,
                 hpa_metric: str = DEFAULT_HPA_METRIC, hpa_buffer: float = DEFAULT_BUFFER, peak_qps: float | None = None,
                 min_replicas: int = 1, max_replicas: int | None = None, profiles_dirs: Iterable[str | Path] = (),
                 use_case: str | None = None, catalog: Catalog | None = None) -> ServingPlan:
    """Everything `manifests create` and the Pulumi program need to deploy `model` on `accelerator_type`."""
    catalog = catalog or default_catalog()
    if model_server not in SUPPORTED_SERVERS:
        raise unknown("--model-server", model_server, SUPPORTED_SERVERS)
    if model not in catalog.models:
        raise unknown("--model", model, catalog.models)
    spec, acc = catalog.models[model], catalog.accelerator(accelerator_type)
    image = catalog.image(model_server, acc.kind)
    if image is None:
        raise UsageError(f"model_servers.csv: no {model_server} image for {acc.kind}")
    store = ProfileStore.load(profiles_dirs)
    points = _profile_points(store, model, model_server, accelerator_type, model_server_version, use_case)
    if model_server_version not in ("latest", "all") and not points:
        versions = store.versions(model, model_server) or ["none"]
        raise UsageError(f"--model-server-version: no {model_server} '{model_server_version}' profile of {model} on "
                         f"{accelerator_type}; versions with profiles: {', '.join(versions)}")
    point, basis, hpa_note = None, "", ""
    if points:
        untargeted = rank(catalog, points, Targets(), pricing).candidates
        ranking = rank(catalog, points, targets, pricing) if targets.latency else None
        chosen = ranking.candidates[0] if ranking and ranking.candidates else untargeted[0]
        point, basis = chosen.point, _describe(chosen)
        if ranking is not None and not ranking.candidates:
            hpa_note = "no HPA: " + no_match(ranking, targets).replace("\n", "; ")
        shape = catalog.shape(accelerator_type, point.accelerator_count, point.instance_type)
        if shape is None:
            shape = catalog.shape(accelerator_type, point.accelerator_count)
        if shape is None or shape.vms > 1:
            raise UsageError(f"--accelerator-type: profile {point.source_id} uses {point.accelerator_count} x {accelerator_type}, "
                             "which needs a multi-host slice; a single Deployment cannot span hosts (use LeaderWorkerSet)")
        sized = fit(catalog, spec, shape, image.version, point.precision, max_model_len)
    else:
        sized = smallest_fit(catalog, spec, accelerator_type, image.version, "", max_model_len)
        basis = (f"no {model_server} profile of {model} on {accelerator_type}: "
                 f"{sized.shape.accelerator_count} accelerator(s), the fewest that hold it (memory fit, see Memory)")
        hpa_note = "no HPA: without a profile there is no measured server-metric value to target"
    if not targets.latency and not hpa_note:
        hpa_note = "no HPA: no latency target given (--target-ntpot/ttft/itl-milliseconds); replicas stay fixed"
    hpa = recommend_hpa(point, hpa_metric, hpa_buffer, peak_qps, min_replicas, max_replicas) if point else \
        HpaPlan(hpa_metric, None, min_replicas, max_replicas or min_replicas, min_replicas, hpa_note)
    enabled = not hpa_note and hpa.enabled
    if not hpa_note:
        hpa_note = ("HPA: " if hpa.enabled else "no HPA: ") + hpa.reason
    return ServingPlan(spec, acc, catalog.machine_types[sized.shape.machine_type], sized, image, point, basis, hpa,
                       enabled, hpa_note)
