"""Stack config edge: Pulumi.yaml declarations match the typed model; fuzzed bad configs stop with one clear
message and register nothing; multi-host TPU pools get their placement policy."""

from __future__ import annotations

import pulumi
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from profiles.catalog.catalog import default_catalog
from profiles.gke.node_pools import accelerator_pools, pool_args
from profiles.stack.config import StackConfig
from tests.conftest import ROOT
from tests.pulumi_stacks import run_stack

UNDECLARABLE = {"cluster", "modelSource", "autoscaling", "targetCostPerMillionOutputTokens"}  # objects and floats
PULUMI_TYPES = {"string", "integer", "boolean", "array"}


def test_pulumi_yaml_declares_every_scalar_key_with_a_valid_type():
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["name"] == "gke-inference" and project["runtime"]["options"]["virtualenv"] == ".venv"
    declared = project["config"]
    assert set(declared) == set(StackConfig.model_fields) - UNDECLARABLE
    for key, decl in declared.items():
        assert set(decl) <= {"type", "items", "description", "secret", "default"}, key
        assert decl["type"] in PULUMI_TYPES and decl.get("description"), key
        assert (decl["type"] == "array") == ("items" in decl), key
    assert declared["hfToken"]["secret"] is True


def test_shipped_stack_files_use_only_known_keys():
    for stack in ("dev", "prod"):
        config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
        for key in config:
            ns, name = key.split(":", 1)
            assert ns in ("gcp", "gke-inference"), key
            assert ns == "gcp" or name in StackConfig.model_fields, key


BAD_VALUES = {
    "model": st.sampled_from(["llama", "", "meta-llama/Llama-9-1T"]),
    "acceleratorType": st.sampled_from(["nvidia-l5", "tpu-v9", "L4"]),
    "targetNtpotMs": st.sampled_from([0, -5, "fast"]),
    "pricingModel": st.sampled_from(["cheap", "SPOT", "reserved"]),
    "namespace": st.sampled_from(["Prod_NS", "-x", "a" * 70]),
    "capacity": st.sampled_from(["reserved", "reservation:", "preemptible"]),
    "cluster": st.sampled_from([{"mode": "hybrid"}, {"releaseChannel": "BETA"}, {"name": "UPPER"}, {"nodes": 3}]),
    "modelSource": st.sampled_from([{"type": "gcs"}, {"type": "s3"}, {"type": "huggingface", "bucket": "b-1"}]),
    "autoscaling": st.sampled_from([{"minReplicas": 0}, {"minReplicas": 3, "maxReplicas": 2}, {"metric": "gpu_util"}]),
    "serviceType": st.sampled_from(["NodePort", "clusterip"]),
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


def test_multi_host_slice_pools_get_compact_placement_and_topology():
    shape = default_catalog().shape("tpu-v6e-slice", 16)
    assert shape.vms == 4 and shape.machine_type == "ct6e-standard-4t"
    pools = accelerator_pools(shape, "tpu", "on-demand", 2, 3, "us-east5-b", "tpu")
    assert len(pools) == 2  # one fixed slice per replica
    args = pool_args(pools[0], "sa@p.iam.gserviceaccount.com")
    assert args["placement_policy"] == {"type": "COMPACT", "tpu_topology": "4x4"}
    assert args["node_count"] == 4 and "autoscaling" not in args
    single = pool_args(accelerator_pools(default_catalog().shape("tpu-v6e-slice", 8), "tpu", "spot", 1, 2, "z-a", "tpu")[0], "sa")
    assert "placement_policy" not in single and single["node_config"]["spot"] is True


def test_capacity_variants_reach_the_pool():
    shape = default_catalog().shape("nvidia-l4", 1)
    reserved = pool_args(accelerator_pools(shape, "gpu", "reservation:l4-res", 1, 2, "z", "gpu")[0], "sa")
    assert reserved["node_config"]["reservation_affinity"] == {
        "consume_reservation_type": "SPECIFIC_RESERVATION", "key": "compute.googleapis.com/reservation-name", "values": ["l4-res"]}
    flex = accelerator_pools(shape, "gpu", "flex-start", 1, 2, "z", "gpu")[0]
    args = pool_args(flex, "sa")
    assert flex.min_nodes == 0 and args["node_config"]["flex_start"] is True
    assert args["node_config"]["reservation_affinity"] == {"consume_reservation_type": "NO_RESERVATION"}


def test_pr_workflow_previews_every_stack():
    workflow = yaml.safe_load((ROOT / ".github/workflows/preview.yml").read_text())
    stacks = sorted(p.name.split(".")[1] for p in ROOT.glob("Pulumi.*.yaml"))
    jobs = workflow["jobs"]
    for job in ("offline-plan", "pulumi-preview"):
        assert sorted(jobs[job]["strategy"]["matrix"]["stack"]) == stacks
    action = next(s for s in jobs["pulumi-preview"]["steps"] if s.get("uses", "").startswith("pulumi/actions@"))
    assert action["with"]["command"] == "preview" and action["with"]["comment-on-pr"] is True
    assert any("make plan STACK=" in s.get("run", "") for s in jobs["offline-plan"]["steps"])
    assert all("@" in s["uses"] for job in jobs.values() for s in job["steps"] if "uses" in s), "pin action versions"
