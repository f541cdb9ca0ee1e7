"""Fuzzed bad stack configs stop the program under the mock runtime with one clear message and register nothing."""

from __future__ import annotations

import pulumi
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.pulumi_stacks import run_stack

BAD_VALUES = {
    "model": st.sampled_from(["llama", "", "meta-llama/Llama-9-1T"]),
    "acceleratorType": st.sampled_from(["nvidia-l5", "tpu-v9", "L4"]),
    "targetNtpotMs": st.sampled_from([0, -5, "fast"]),
    "pricingModel": st.sampled_from(["cheap", "SPOT", "reserved"]),
    "namespace": st.sampled_from(["Prod_NS", "-x", "a" * 70]),
    "capacity": st.sampled_from(["reserved", "reservation:", "preemptible"]),
    "cluster": st.sampled_from([{"mode": "hybrid"}, {"releaseChannel": "BETA"}, {"name": "UPPER"}, {"nodes": 3},
                                {"name": "9lives"}, {"name": "c" * 41}, {"masterCidr": "10.0.0.0/20"}]),
    "network": st.sampled_from(["Shared_VPC", "vpc-only-no-subnet"]),
    "maintenance": st.sampled_from([{"recurrence": "sundays"}, {"start": "tomorrow"}]),
    "modelSource": st.sampled_from([{"type": "gcs"}, {"type": "s3"}, {"type": "huggingface", "bucket": "b-1"}]),
    "autoscaling": st.sampled_from([{"minReplicas": 0}, {"minReplicas": 3, "maxReplicas": 2}, {"metric": "gpu_util"}]),
    "serviceType": st.sampled_from(["NodePort", "clusterip"]),
    "image": st.sampled_from([{"mirror": "maybe"}, {"repository": "UPPER"}, {"registry": "x"}]),
    "typoKey": st.just(1),
}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from(sorted(BAD_VALUES)), data=st.data())
def test_fuzzed_bad_config_one_message_zero_resources(key, data):
    values = {"model": "meta-llama/Llama-3.1-8B-Instruct", "acceleratorType": "nvidia-l4", "pricingModel": "spot"}
    values[key] = data.draw(BAD_VALUES[key])
    registered = []
    try:
        run = run_stack(values)
        registered = run.resources
        raise AssertionError(f"{key}={values[key]!r} was accepted")
    except pulumi.RunError as exc:
        message = str(exc)
    assert registered == []
    assert "\n" not in message and "Traceback" not in message
    assert f"gke-inference:{key}" in message, message


