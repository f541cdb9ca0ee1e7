"""HPA target from the server metrics at the operating point."""

import pytest

from profiles.errors import UsageError
from profiles.gke.adapter import metric_name
from profiles.selection.autoscaling import hpa_settings
from profiles.serving.servers.vllm import VLLM
from tests.support.points import point


def recommend(p, metric: str = VLLM.default_hpa_metric, **kwargs):
    """HPA settings on one of vLLM's metrics (or `auto`), as the serving plan asks for them."""
    found, why = VLLM.resolve_hpa_metric(metric, p)
    return hpa_settings(p, found, fallback=VLLM.hpa_fallback(found), why=why, **kwargs)


def test_queue_target_is_the_operating_point_mean_minus_the_buffer():
    plan = recommend(point(num_requests_waiting=5.0, qps=2.0), buffer=0.2, peak_qps=9)
    assert plan.enabled and plan.average_value == pytest.approx(4.0)
    assert plan.initial_replicas == 5  # ceil(9 / 2)
    assert plan.max_replicas >= plan.initial_replicas >= plan.min_replicas == 1


def test_kv_cache_metric_and_explicit_bounds():
    plan = recommend(point(kv_cache_usage_perc=0.9), metric="vllm:kv_cache_usage_perc", buffer=0.1,
                     min_replicas=2, max_replicas=6)
    assert plan.average_value == pytest.approx(0.81)
    assert (plan.min_replicas, plan.max_replicas) == (2, 6)
    assert metric_name(plan.metric) == "prometheus.googleapis.com|vllm:kv_cache_usage_perc|gauge"


def test_no_hpa_without_metrics_or_on_an_explicitly_chosen_empty_queue():
    assert not recommend(point()).enabled  # published rows carry no server metrics
    empty = recommend(point(num_requests_waiting=0.1), metric="vllm:num_requests_waiting")
    assert not empty.enabled and "vllm:num_requests_running" in empty.reason


def test_qps_falls_back_to_output_rate_over_length():
    plan = recommend(point(qps=None, output_tps=390.0, output_length=195, num_requests_waiting=2), peak_qps=7)
    assert plan.metric == "vllm:num_requests_waiting"
    assert plan.initial_replicas == 4  # 7 / (390 / 195) = 3.5


@pytest.mark.parametrize("kwargs,message", [
    ({"metric": "vllm:foo"}, "--hpa-metric: unknown value 'vllm:foo'"),
    ({"buffer": 1.5}, "--hpa-buffer"),
    ({"min_replicas": 3, "max_replicas": 2}, "1 <= min <= max"),
    ({"peak_qps": 0}, "--peak-qps"),
])
def test_bad_hpa_input(kwargs, message):
    with pytest.raises(UsageError, match=message):
        recommend(point(num_requests_waiting=3), **kwargs)


# ---- `auto`: the metric is chosen from the curve (synthetic curves, with and without a queue) ----------------
def saturating(waiting: list[float], running: list[float]):
    """A curve whose throughput plateaus; server means per point as given."""
    from dataclasses import replace

    from tests.support.points import curve

    points = curve([(1, 400, 20), (4, 1500, 25), (8, 2700, 32), (16, 3300, 70), (32, 3400, 150)])
    return [replace(p, num_requests_waiting=w, num_requests_running=r)
            for p, w, r in zip(points, waiting, running, strict=True)]


def test_auto_scales_on_the_queue_where_it_forms_at_the_operating_point():
    points = saturating([0.0, 0.1, 0.6, 7.5, 40.0], [2, 8, 20, 64, 64])
    plan = recommend(points[3], buffer=0.2)  # the operating point for a loose target: saturation, queue 7.5
    assert plan.metric == "vllm:num_requests_waiting" and plan.average_value == pytest.approx(6.0)
    assert plan.fast_scale_up and "queue size" in plan.reason


def test_auto_falls_back_to_batch_size_where_the_queue_is_empty():
    tight = saturating([0.0, 0.1, 0.6, 7.5, 40.0], [2, 8, 20, 64, 64])[2]  # a tight target: queue 0.6 < 1
    plan = recommend(tight, buffer=0.2)
    assert plan.metric == "vllm:num_requests_running" and plan.average_value == pytest.approx(16.0)
    assert not plan.fast_scale_up and "batch size" in plan.reason
    flat = saturating([0.0] * 5, [2, 8, 20, 30, 31])[-1]  # a curve that never queues (max-num-seqs admits all)
    assert recommend(flat).metric == "vllm:num_requests_running"


def test_kv_cache_usage_stays_selectable_and_is_always_a_fast_scale_up():
    plan = recommend(point(kv_cache_usage_perc=0.5, num_requests_waiting=9.0), metric="vllm:kv_cache_usage_perc")
    assert plan.metric == "vllm:kv_cache_usage_perc" and plan.average_value == pytest.approx(0.4) and plan.fast_scale_up
