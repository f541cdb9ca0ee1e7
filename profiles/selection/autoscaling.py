"""HPA settings read from the server metrics at the operating point, the way GKE's autoscaling guidance says.

Metric (`auto`, the default): queue size (the server's queue gauge) when the mean queue at the operating point is a
usable signal (>= MIN_QUEUE_SIGNAL requests waiting: the queue grows there before the latency target is missed, and
queue-based scaling maximises throughput); otherwise batch size (the running-requests gauge), which GKE recommends
for latency targets tighter than the queue can guarantee. Either, or the KV-cache usage, can be named explicitly.
averageValue = (metric mean at the operating point) x (1 - buffer). The default buffer 0.2 covers
the HPA's own 10 % tolerance (it acts only above 1.1 x target) and leaves ~12 % of load growth for a
new replica to start: scaling starts at ≈ 0.8 x 1.1 = 0.88 x the operating-point value.
Initial replicas come from the expected peak QPS and the operating point's QPS.
Behaviour (GKE defaults made explicit): scale-up without stabilisation, scale-down after 300 s; a threshold under
FAST_SCALE_UP_BELOW (10) moves in whole requests, so a spike needs the faster scale-up policy (GKE: "for thresholds
under 10, fine-tune HPA scale-up settings").
Which gauges a server exports is the server's business (serving/servers/); here a metric is a name and the
profile-point field that holds its mean.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from profiles.errors import UsageError
from profiles.store.points import ProfilePoint

QUEUE_FIELD = "num_requests_waiting"  # the point field of a queue-length metric
DEFAULT_BUFFER = 0.2
DEFAULT_BURST_HEADROOM = 0.5
MIN_QUEUE_SIGNAL = 1.0  # a mean queue below one waiting request cannot trigger scaling reliably
FAST_SCALE_UP_BELOW = 10.0
AUTO = "auto"


@dataclass(frozen=True)
class HpaMetric:
    """A server gauge an HPA can target, and the ProfilePoint field holding its mean at a load point."""

    name: str  # as the server exports it, e.g. vllm:num_requests_waiting
    field: str


@dataclass(frozen=True)
class HpaSettings:
    metric: str
    average_value: float | None  # None: no HPA, see reason
    min_replicas: int
    max_replicas: int
    initial_replicas: int
    reason: str

    @property
    def enabled(self) -> bool:
        return self.average_value is not None

    @property
    def fast_scale_up(self) -> bool:
        """A threshold under 10 gets the faster scale-up policy."""
        return self.average_value is not None and self.average_value < FAST_SCALE_UP_BELOW


def pick_metric(point: ProfilePoint, queue: HpaMetric, batch: HpaMetric) -> tuple[HpaMetric, str]:
    """`auto`: queue size when the queue at the operating point is a usable signal, else batch size; and why."""
    waiting = getattr(point, queue.field)
    if waiting is not None and waiting >= MIN_QUEUE_SIGNAL:
        return queue, (f"queue size: {waiting:.2f} requests wait on average at the operating point (>= {MIN_QUEUE_SIGNAL:g}), "
                       "so the queue signals load before the target is missed and scaling on it maximises throughput")
    shown = "unknown" if waiting is None else f"{waiting:.2f}"
    return batch, (f"batch size: the mean queue at the operating point is {shown} (< {MIN_QUEUE_SIGNAL:g}), too small to "
                   "signal load, so the running batch is the signal (GKE: batch size for tighter latency targets)")


def qps_at(point: ProfilePoint) -> float | None:
    if point.qps:
        return point.qps
    if point.output_tps and point.output_length:
        return point.output_tps / point.output_length
    return None


def hpa_settings(point: ProfilePoint, metric: HpaMetric, buffer: float = DEFAULT_BUFFER, peak_qps: float | None = None,
                 min_replicas: int = 1, max_replicas: int | None = None, fallback: str = "", why: str = "") -> HpaSettings:
    """HPA metric target and replica bounds for one operating point; `fallback` is the metric to suggest when the
    queue gives no signal, `why` how the metric was picked (pick_metric)."""
    if not 0 <= buffer < 0.9:
        raise UsageError(f"--hpa-buffer: value '{buffer}' is not in [0, 0.9)")
    if min_replicas < 1 or (max_replicas is not None and max_replicas < min_replicas):
        raise UsageError(f"replicas: min {min_replicas} / max {max_replicas} must satisfy 1 <= min <= max")
    qps = qps_at(point)
    initial = min_replicas
    if peak_qps is not None:
        if peak_qps <= 0:
            raise UsageError(f"--peak-qps: value '{peak_qps}' must be positive")
        if qps:
            initial = max(min_replicas, math.ceil(peak_qps / qps))
    top = max_replicas if max_replicas is not None else max(initial, math.ceil(initial * (1 + DEFAULT_BURST_HEADROOM)), min_replicas + 1)
    initial = min(initial, top)
    value = getattr(point, metric.field)
    where = f"{point.provenance} point {point.source_id or ''}".strip()
    if value is None:
        reason = (f"not recommended: the operating point ({where}) has no mean of {metric.name}; "
                  "measure the endpoint with `benchmark run --metrics-url` to derive one")
        return HpaSettings(metric.name, None, min_replicas, top, initial, reason)
    if metric.field == QUEUE_FIELD and value < MIN_QUEUE_SIGNAL:
        reason = (f"not recommended on {metric.name}: the mean queue at the operating point is {value:.2f} (< {MIN_QUEUE_SIGNAL}), "
                  f"so the queue cannot signal load before the target is missed; use {fallback or 'another metric'}")
        return HpaSettings(metric.name, None, min_replicas, top, initial, reason)
    target = round(value * (1 - buffer), 3)
    reason = (f"{metric.name} mean {value:.3g} at the operating point ({where}) minus a {buffer:.0%} buffer for "
              f"HPA tolerance and scale-up delay -> averageValue {target:g}")
    if target < FAST_SCALE_UP_BELOW:
        reason += f" (< {FAST_SCALE_UP_BELOW:g}: faster scale-up policy)"
    if why:
        reason = f"{why}; {reason}"
    if peak_qps is not None and qps:
        reason += f"; {initial} initial replica(s) for {peak_qps:g} QPS peak at {qps:.3g} QPS per replica"
    return HpaSettings(metric.name, target, min_replicas, top, initial, reason)
