"""HPA settings read from the server metrics at the operating point.

averageValue = (metric mean at the operating point) x (1 - buffer). The default buffer 0.2 covers
the HPA's own 10 % tolerance (it acts only above 1.1 x target) and leaves ~12 % of load growth for a
new replica to start: scaling starts at ≈ 0.8 x 1.1 = 0.88 x the operating-point value.
Initial replicas come from the expected peak QPS and the operating point's QPS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from profiles.errors import UsageError
from profiles.store.store import ProfilePoint

HPA_METRICS = {"vllm:num_requests_waiting": "num_requests_waiting", "vllm:kv_cache_usage_perc": "kv_cache_usage_perc"}
DEFAULT_HPA_METRIC = "vllm:num_requests_waiting"
DEFAULT_BUFFER = 0.2
DEFAULT_BURST_HEADROOM = 0.5
MIN_QUEUE_SIGNAL = 0.5  # a mean queue below half a request cannot trigger scaling reliably


def metric_name(metric: str) -> str:
    """Cloud Monitoring name the custom-metrics adapter serves: prometheus.googleapis.com|NAME|gauge."""
    return f"prometheus.googleapis.com|{metric}|gauge"


@dataclass(frozen=True)
class HpaPlan:
    metric: str
    average_value: float | None  # None: no HPA, see reason
    min_replicas: int
    max_replicas: int
    initial_replicas: int
    reason: str

    @property
    def enabled(self) -> bool:
        return self.average_value is not None


def qps_at(point: ProfilePoint) -> float | None:
    if point.qps:
        return point.qps
    if point.output_tps and point.output_length:
        return point.output_tps / point.output_length
    return None


def recommend(point: ProfilePoint, metric: str = DEFAULT_HPA_METRIC, buffer: float = DEFAULT_BUFFER,
              peak_qps: float | None = None, min_replicas: int = 1, max_replicas: int | None = None) -> HpaPlan:
    """HPA metric target and replica bounds for one operating point."""
    if metric not in HPA_METRICS:
        raise UsageError(f"--hpa-metric: unknown value '{metric}'; allowed: {', '.join(HPA_METRICS)}")
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
    value = getattr(point, HPA_METRICS[metric])
    where = f"{point.provenance} point {point.source_id or ''}".strip()
    if value is None:
        reason = (f"not recommended: the operating point ({where}) has no mean of {metric}; "
                  "measure the endpoint with `benchmark run --metrics-url` to derive one")
        return HpaPlan(metric, None, min_replicas, top, initial, reason)
    if metric == "vllm:num_requests_waiting" and value < MIN_QUEUE_SIGNAL:
        reason = (f"not recommended on {metric}: the mean queue at the operating point is {value:.2f} (< {MIN_QUEUE_SIGNAL}), "
                  "so the queue cannot signal load before the target is missed; use vllm:kv_cache_usage_perc")
        return HpaPlan(metric, None, min_replicas, top, initial, reason)
    target = round(value * (1 - buffer), 3)
    reason = (f"{metric} mean {value:.3g} at the operating point ({where}) minus a {buffer:.0%} buffer for "
              f"HPA tolerance and scale-up delay -> averageValue {target:g}")
    if peak_qps is not None and qps:
        reason += f"; {initial} initial replica(s) for {peak_qps:g} QPS peak at {qps:.3g} QPS per replica"
    return HpaPlan(metric, target, min_replicas, top, initial, reason)
