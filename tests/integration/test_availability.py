"""Issue #16 items 7, 8, 9, 11, 12 under the mock runtime: the HPA owns replicas, pulls are IfNotPresent, the
version guard refuses a v6e cluster too old for it, and the plan says when one replica means downtime."""

from __future__ import annotations

import pulumi
import pytest

from tests.support.pulumi_stacks import CLUSTER, DEPLOYMENT, NODE_POOL, inputs, run_stack

PROD_GCP = {"gcp:project": "my-project-prod", "gcp:region": "us-central1", "gcp:zone": "us-central1-b"}
TPU = {"model": "meta-llama/Llama-3.1-70B", "acceleratorType": "tpu-v6e-slice", "pricingModel": "on-demand",
       "namespace": "llm", "targetNtpotMs": 100, "targetTtftMs": 2000,
       "modelSource": {"type": "gcs", "bucket": "prod-models", "path": "llama"}}


def _deployment(run):
    return next(r for r in run.of_type(DEPLOYMENT) if r.inputs["metadata"]["namespace"] == "llm").inputs


def test_hpa_owns_replicas_and_images_are_pulled_if_not_present():
    run = run_stack({**TPU, "cluster": {"mode": "standard", "name": "prod"}}, PROD_GCP, token=None)
    assert run.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
    spec = _deployment(run)["spec"]
    assert "replicas" not in spec  # an apply never resets what the HPA scaled to (pulumi-kubernetes#2491)
    assert spec["template"]["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    assert inputs(run, CLUSTER)["datapathProvider"] == "ADVANCED_DATAPATH"  # NetworkPolicy enforced on Standard


def test_without_hpa_replicas_stay_in_the_manifest():
    run = run_stack({"model": "meta-llama/Llama-3.1-8B-Instruct", "namespace": "llm", "cluster": {"name": "ap"},
                     "autoscaling": {"minReplicas": 2, "maxReplicas": 2}})
    assert _deployment(run)["spec"]["replicas"] == 2
    assert not any("one replica" in n for n in run.plan.notes)


def test_one_replica_is_called_out_and_surge_reaches_the_pool():
    run = run_stack({**TPU, "cluster": {"mode": "standard", "name": "prod", "acceleratorMaxSurge": 1,
                                        "minMasterVersion": "1.33"}}, PROD_GCP, token=None)
    assert any(n.startswith("one replica:") for n in run.plan.notes)
    tpu = next(p for p in run.of_type(NODE_POOL) if "ct6e" in p.name)
    assert tpu.inputs["upgradeSettings"] == {"strategy": "SURGE", "maxSurge": 1, "maxUnavailable": 0}
    assert inputs(run, CLUSTER)["minMasterVersion"] == "1.33"


@pytest.mark.parametrize("version", ["1.30", "1.31.1", "1.31.2-gke.1000000"])
def test_a_master_version_below_the_v6e_minimum_is_refused(version):
    with pytest.raises(pulumi.RunError) as err:
        run_stack({**TPU, "cluster": {"mode": "standard", "name": "prod", "minMasterVersion": version}}, PROD_GCP, token=None)
    assert f"gke-inference:cluster.minMasterVersion: value '{version}': tpu-v6e-slice needs GKE >= 1.31.2-gke.1115000" in str(err.value)


def test_maintenance_window_and_exclusions_reach_the_cluster():
    run = run_stack({"model": "meta-llama/Llama-3.1-8B-Instruct", "namespace": "llm", "cluster": {"name": "ap"},
                     "maintenance": {"exclusions": [{"name": "launch", "start": "2026-03-01T00:00:00Z",
                                                     "end": "2026-03-08T00:00:00Z"}]}})
    policy = inputs(run, CLUSTER)["maintenancePolicy"]
    assert policy["recurringWindow"]["recurrence"] == "FREQ=WEEKLY;BYDAY=SA,SU"
    assert policy["maintenanceExclusions"][0]["exclusionOptions"] == {"scope": "NO_MINOR_OR_NODE_UPGRADES"}
    assert not any(n.startswith("no maintenance window") for n in run.plan.notes)


def test_a_bucket_source_says_exactly_how_to_fill_it():
    run = run_stack({**TPU, "cluster": {"mode": "standard", "name": "prod"}}, PROD_GCP, token=None)
    note = next(n for n in run.plan.notes if n.startswith("weights:"))
    assert "huggingface-cli download meta-llama/Llama-3.1-70B --local-dir ./Llama-3.1-70B" in note
    assert "gcloud storage cp -r ./Llama-3.1-70B/* gs://prod-models/llama/" in note
