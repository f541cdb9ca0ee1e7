"""HPA target from the server metrics at the operating point."""

import pytest

from profiles.errors import UsageError
from profiles.gke.adapter import metric_name
from profiles.selection.autoscaling import hpa_settings
from profiles.serving.servers.vllm import VLLM
from tests.support.points import point


def recommend(p, metric: str = VLLM.default_hpa_metric, **kwargs):
    """HPA settings on one of vLLM's metrics, as the serving plan asks for them."""
    found = VLLM.hpa_metric(metric)
    return hpa_settings(p, found, fallback=VLLM.hpa_fallback(found), **kwargs)


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


def test_no_hpa_without_metrics_or_with_an_empty_queue():
    assert not recommend(point()).enabled  # published rows carry no server metrics
    empty = recommend(point(num_requests_waiting=0.1))
    assert not empty.enabled and "kv_cache_usage_perc" in empty.reason


def test_qps_falls_back_to_output_rate_over_length():
    plan = recommend(point(qps=None, output_tps=390.0, output_length=195, num_requests_waiting=2), peak_qps=7)
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
