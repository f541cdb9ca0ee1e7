"""Issue #16 items 4, 9, 10, 11: the cluster's network, name rules, Dataplane V2, version minimums and the pool
names that let a capacity edit create the new pool before the old one is deleted."""

from __future__ import annotations

import pytest

from profiles.catalog.catalog import default_catalog
from profiles.gke.cluster import (
    CLUSTER_IGNORE_CHANGES,
    REQUIRED_APIS,
    ClusterSpec,
    MaintenanceSpec,
    NetworkSpec,
    cluster_args,
    nat_args,
    valid_cluster_name,
)
from profiles.gke.identity import node_sa_id
from profiles.gke.node_pools import accelerator_pools, boot_disk_type, pool_args
from profiles.gke.versions import below, required

NET = NetworkSpec("c-vpc", "c-subnet", create=True)


def test_required_apis_cover_iam_compute_and_resource_manager():
    assert {"iam.googleapis.com", "compute.googleapis.com", "cloudresourcemanager.googleapis.com"} <= set(REQUIRED_APIS)


def test_standard_cluster_runs_dataplane_v2_in_its_own_network_and_master_range():
    spec = ClusterSpec("c", "standard", "STABLE", True, True, network=NET, master_cidr="172.16.1.0/28")
    args = cluster_args(spec, "p", "us-central1", "sa", "vpc-id", "subnet-id")
    assert args["datapath_provider"] == "ADVANCED_DATAPATH"
    assert (args["network"], args["subnetwork"]) == ("vpc-id", "subnet-id")
    assert args["ip_allocation_policy"] == {"cluster_secondary_range_name": "pods", "services_secondary_range_name": "services"}
    assert args["private_cluster_config"]["master_ipv4_cidr_block"] == "172.16.1.0/28"
    assert "nodeConfig" in CLUSTER_IGNORE_CHANGES  # a cluster-level node_config edit must not replace the cluster
    router, _ = nat_args("us-central1", "vpc-id")
    assert router["network"] == "vpc-id"  # never the `default` network


def test_existing_network_maintenance_authorized_networks_and_version_reach_the_cluster():
    spec = ClusterSpec("c", "autopilot", "RAPID", True, False, network=NetworkSpec("shared", "sub", create=False),
                       min_master_version="1.33", private_endpoint=True,
                       maintenance=MaintenanceSpec("2026-01-03T03:00:00Z", "2026-01-03T09:00:00Z", "FREQ=WEEKLY;BYDAY=SA",
                                                   (("freeze", "2026-12-20T00:00:00Z", "2027-01-05T00:00:00Z", "NO_UPGRADES"),)),
                       authorized_networks=(("203.0.113.0/24", "office"),))
    args = cluster_args(spec, "p", "r", "sa")
    assert (args["network"], args["subnetwork"], args["ip_allocation_policy"]) == ("shared", "sub", {})
    assert args["min_master_version"] == "1.33" and args["private_cluster_config"]["enable_private_endpoint"] is True
    assert args["maintenance_policy"]["recurring_window"]["recurrence"] == "FREQ=WEEKLY;BYDAY=SA"
    assert args["maintenance_policy"]["maintenance_exclusions"][0]["exclusion_options"] == {"scope": "NO_UPGRADES"}
    assert args["master_authorized_networks_config"] == {"cidr_blocks": [{"cidr_block": "203.0.113.0/24", "display_name": "office"}]}
    assert "datapath_provider" not in args  # Autopilot always runs Dataplane V2


@pytest.mark.parametrize("name,ok", [("gke-inference", True), ("a" * 40, True), ("a" * 41, False), ("1cluster", False),
                                     ("c-", False), ("Cluster", False)])
def test_cluster_name_rules(name, ok):
    assert valid_cluster_name(name) is ok


@pytest.mark.parametrize("cluster", ["gke-inference-prod", "a" * 40, "abcdefghijklmnopqrstuvw-xyz", "c"])
def test_node_service_account_ids_follow_iams_rules(cluster):
    sa = node_sa_id(cluster)
    assert 6 <= len(sa) <= 30 and sa[0].isalpha() and not sa.endswith("-") and "--" not in sa[:-6] + "x"


def test_capacity_edit_renames_the_pool_so_it_is_created_before_the_old_is_deleted():
    shape = default_catalog().shape("tpu-v6e-slice", 8)
    on_demand = accelerator_pools(shape, "tpu", "on-demand", 1, 2, "z", "tpu")[0]
    spot = accelerator_pools(shape, "tpu", "spot", 1, 2, "z", "tpu")[0]
    assert on_demand.key == spot.key == "tpu-ct6e-standard-8t"  # same logical resource
    assert on_demand.name != spot.name and len(spot.name) <= 40  # a new physical pool, within GKE's 40 characters
    assert accelerator_pools(shape, "tpu", "on-demand", 1, 4, "z", "tpu")[0].name == on_demand.name  # bounds: in place


def test_upgrade_surge_and_boot_disk():
    shape = default_catalog().shape("tpu-v6e-slice", 8)
    surge = pool_args(accelerator_pools(shape, "tpu", "on-demand", 2, 4, "z", "tpu", max_surge=1)[0], "sa")
    assert surge["upgrade_settings"] == {"strategy": "SURGE", "max_surge": 1, "max_unavailable": 0}
    assert surge["node_config"]["disk_type"] == "hyperdisk-balanced"  # ct6e boots from Hyperdisk Balanced only
    assert boot_disk_type("g2-standard-12") == "pd-balanced"


def test_v6e_and_flex_start_version_minimums():
    assert required("tpu-v6e-slice", "tpu", "on-demand") == [("tpu-v6e-slice", "1.31.2-gke.1115000")]
    assert dict(required("nvidia-l4", "gpu", "flex-start")) == {"flex-start:gpu": "1.32.2-gke.1652000"}
    assert below("1.30", "1.31.2-gke.1115000") and below("1.31.2-gke.1000000", "1.31.2-gke.1115000")
    assert not below("1.31", "1.31.2-gke.1115000") and not below("1.33.1-gke.1", "1.31.2-gke.1115000")
