"""The serving plan: from a model, an accelerator type and latency targets to everything one replica needs.

The accelerator count comes from the cheapest deployable profile of that model and server on that accelerator,
within the requested workload (default: the ShareGPT chatbot distribution), at the operating point for the targets
or the inflection point (selection.choose); without one, from the memory fit (sizing.py), and the plan says so.
The deployment reproduces the chosen profile's setup: weight quantization, KV-cache dtype, scheduler limits,
prefix caching, max-model-len and tensor parallelism come from it, and the memory fit reports that setup's KV
capacity. An HPA is planned only when a latency target is given, a profile point meets it and that point carries
the server metric the HPA reads (`auto`: queue or batch size, from the curve); otherwise `hpa_note` says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from profiles.catalog.catalog import Accelerator, Catalog, MachineType, ServerImage, Shape, default_catalog
from profiles.catalog.modelspec import ModelSpec
from profiles.catalog.workload import SHAREGPT
from profiles.errors import UsageError, unknown
from profiles.selection.autoscaling import DEFAULT_BUFFER, HpaSettings, hpa_settings
from profiles.selection.choose import Choice, choose
from profiles.selection.deployable import reference_reason
from profiles.selection.explain import set_aside
from profiles.selection.ranking import Candidate, Pricing, Ranking, Targets
from profiles.serving.servers import server as model_server
from profiles.serving.servers.base import ModelServer
from profiles.serving.sizing import Fit, fit, smallest_fit
from profiles.store.points import ProfilePoint

if TYPE_CHECKING:  # the store (pandas) is loaded by the caller
    from profiles.store.store import ProfileStore


@dataclass(frozen=True)
class ServingRequest:
    """What `manifests create` or the stack asks for: a model on an accelerator type, targets and autoscaling bounds."""

    model: str
    accelerator_type: str
    model_server: str = "vllm"
    model_server_version: str = "latest"
    targets: Targets = field(default_factory=Targets)
    pricing: Pricing = field(default_factory=Pricing)
    max_model_len: int | None = None
    hpa_metric: str = ""  # default: the server's own default metric
    hpa_buffer: float = DEFAULT_BUFFER
    peak_qps: float | None = None
    min_replicas: int = 1
    max_replicas: int | None = None
    use_case: str | None = None  # None: the ShareGPT chatbot distribution


@dataclass(frozen=True)
class ServingPlan:
    model: ModelSpec
    accelerator: Accelerator
    machine: MachineType
    fit: Fit
    server: ModelServer
    image: ServerImage
    point: ProfilePoint | None  # the profile point the plan follows; None when sized from memory only
    basis: str  # one line: where the accelerator count came from
    hpa: HpaSettings
    hpa_enabled: bool  # a target was given, a point meets it and carries the metric
    hpa_note: str  # why an HPA is or is not part of the plan

    @property
    def platform(self) -> str:
        return self.accelerator.kind


def _describe(c: Candidate) -> str:
    p = c.point
    where = f"{p.provenance} profile {p.source_id}".strip()
    return (f"{where} ({p.model_server} {p.model_server_version}, {p.instance_type}, {p.accelerator_count} x {p.accelerator_type}) "
            f"at the {c.rule}: {p.output_tps or 0:,.0f} output tok/s, NTPOT {p.ntpot_ms if p.ntpot_ms is not None else 'N/A'} ms")


def _choose(request: ServingRequest, store: ProfileStore, catalog: Catalog) -> tuple[Choice | None, str]:
    """The cheapest deployable profile of the model on the requested accelerator type and workload (None when it has
    none), and a note naming the reference-only profiles set aside when nothing deployable is left."""
    found = store.where(model=request.model, model_server=request.model_server, accelerator_type=request.accelerator_type,
                        use_case=request.use_case or SHAREGPT.use_case).select_versions(request.model_server_version)
    if request.model_server_version not in ("latest", "all") and not len(found):
        versions = store.versions(request.model, request.model_server) or ["none"]
        raise UsageError(f"--model-server-version: no {request.model_server} '{request.model_server_version}' profile of "
                         f"{request.model} on {request.accelerator_type}; versions with profiles: {', '.join(versions)}")
    curves = found.curves()
    deployable = [c for c in curves if not reference_reason(catalog, c.head)]
    if not deployable:
        aside = [(c, reference_reason(catalog, c.head)) for c in curves]
        return None, set_aside(Ranking([], [], aside))
    return choose(catalog, deployable, request.targets, request.pricing, fallback=True), ""


def profiled_fit(catalog: Catalog, spec: ModelSpec, shape: Shape, version: str, point: ProfilePoint,
                 max_model_len: int | None = None) -> Fit:
    """The memory fit of the profiled setup (KV-cache dtype, scheduler limits, max-model-len), as it will be deployed."""
    sized = fit(catalog, spec, shape, version, point.precision, max_model_len or point.max_model_len,
                kv_cache_dtype=point.kv_cache_dtype or "auto", max_num_seqs=point.max_num_seqs,
                max_num_batched_tokens=point.max_num_batched_tokens)
    return replace(sized, quantization=point.quantization or "none", prefix_caching=point.prefix_caching != "off")


def plan_serving(request: ServingRequest, store: ProfileStore, catalog: Catalog | None = None,
                 choice: Choice | None = None) -> ServingPlan:
    """Everything `manifests create` and the Pulumi program need to deploy the request; `choice` is a winner the
    caller already chose on this accelerator type (the stack's auto-selection), so nothing is ranked twice."""
    catalog = catalog or default_catalog()
    server = model_server(request.model_server)
    if request.model not in catalog.models:
        raise unknown("--model", request.model, catalog.models)
    spec, acc = catalog.models[request.model], catalog.accelerator(request.accelerator_type)
    if request.hpa_metric not in ("", "auto"):
        server.hpa_metric(request.hpa_metric)  # checked before anything is chosen
    image = catalog.image(server.name, acc.kind)
    if image is None:
        raise UsageError(f"model_servers.csv: no {server.name} image for {acc.kind}")
    aside = ""
    if choice is None:
        choice, aside = _choose(request, store, catalog)
    point, basis, hpa_note = None, "", ""
    if choice is not None:
        point, basis = choice.winner.point, _describe(choice.winner)
        if choice.unmet:
            hpa_note = "no HPA: " + choice.unmet.replace("\n", "; ")
        shape = catalog.shape(acc.accelerator_type, point.accelerator_count, point.instance_type)
        if shape is None:
            shape = catalog.shape(acc.accelerator_type, point.accelerator_count)
        if shape is None or shape.vms > 1:
            raise UsageError(f"--accelerator-type: profile {point.source_id} uses {point.accelerator_count} x {acc.accelerator_type}, "
                             "which needs a multi-host slice; a single Deployment cannot span hosts (use LeaderWorkerSet)")
        sized = profiled_fit(catalog, spec, shape, image.version, point, request.max_model_len)
    else:
        sized = smallest_fit(catalog, spec, acc.accelerator_type, image.version, "", request.max_model_len)
        basis = (f"no deployable {server.name} profile of {spec.model} on {acc.accelerator_type}: "
                 f"{sized.shape.accelerator_count} accelerator(s), the fewest that hold it (memory fit, see Memory)"
                 + (f". {aside}" if aside else ""))
        hpa_note = "no HPA: without a profile there is no measured server-metric value to target"
    if not request.targets.latency and not hpa_note:
        hpa_note = "no HPA: no latency target given (--target-ntpot/ttft/itl-milliseconds); replicas stay fixed"
    if point:
        metric, why = server.resolve_hpa_metric(request.hpa_metric, point)
        hpa = hpa_settings(point, metric, request.hpa_buffer, request.peak_qps, request.min_replicas, request.max_replicas,
                           fallback=server.hpa_fallback(metric), why=why)
    else:
        hpa = HpaSettings(request.hpa_metric or server.default_hpa_metric, None, request.min_replicas,
                          request.max_replicas or request.min_replicas, request.min_replicas, hpa_note)
    enabled = not hpa_note and hpa.enabled
    if not hpa_note:
        hpa_note = ("HPA: " if hpa.enabled else "no HPA: ") + hpa.reason
    return ServingPlan(spec, acc, catalog.machine_types[sized.shape.machine_type], sized, server, image, point, basis, hpa,
                       enabled, hpa_note)
