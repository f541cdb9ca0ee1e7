"""Node-pool arguments: multi-host TPU slices get their placement policy; capacity settings reach the pool."""

from __future__ import annotations

from profiles.catalog.catalog import default_catalog
from profiles.gke.node_pools import accelerator_pools, pool_args


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
