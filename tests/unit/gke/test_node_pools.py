"""Node-pool arguments: multi-host TPU slices get their placement policy; capacity settings reach the pool."""

from __future__ import annotations

from profiles.catalog.catalog import default_catalog
from profiles.gke.node_pools import BlueGreen, accelerator_pools, pool_args, upgrade_settings


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


def _provider_fields(args_class, value: dict) -> list[str]:
    """Keys of `value` that pulumi-gcp's *Args class does not take (nested dicts checked against their classes)."""
    import inspect

    import pulumi_gcp.container._inputs as inputs

    params = inspect.signature(args_class.__init__).parameters
    wrong = [k for k in value if k not in params]
    for key, sub in value.items():
        if isinstance(sub, dict) and key in params:
            nested = getattr(inputs, args_class.__name__.removesuffix("Args") + _camel(key) + "Args", None)
            wrong += [f"{key}.{w}" for w in _provider_fields(nested, sub)] if nested else [f"{key} (no {_camel(key)}Args)"]
    return wrong


def _camel(snake: str) -> str:
    return "".join(part.title() for part in snake.split("_"))


def test_blue_green_upgrade_settings_use_pulumi_gcp_field_names():
    """Issue #16 item 7: BLUE_GREEN with the standard rollout policy; every key exists in pulumi-gcp 10.2's schema."""
    from pulumi_gcp.container import NodePoolUpgradeSettingsArgs

    shape = default_catalog().shape("tpu-v6e-slice", 8)
    pool = accelerator_pools(shape, "tpu", "on-demand", 2, 4, "z", "tpu",
                             blue_green=BlueGreen(0.5, "300s", "3600s"))[0]
    settings = pool_args(pool, "sa")["upgrade_settings"]
    assert settings == {"strategy": "BLUE_GREEN", "blue_green_settings": {
        "standard_rollout_policy": {"batch_percentage": 0.5, "batch_soak_duration": "300s"},
        "node_pool_soak_duration": "3600s"}}
    assert _provider_fields(NodePoolUpgradeSettingsArgs, settings) == []
    defaults = upgrade_settings(accelerator_pools(shape, "tpu", "on-demand", 1, 1, "z", "tpu", blue_green=BlueGreen())[0])
    assert defaults == {"strategy": "BLUE_GREEN", "blue_green_settings": {"standard_rollout_policy": {}}}  # GKE's defaults
    surge = upgrade_settings(accelerator_pools(shape, "tpu", "on-demand", 1, 1, "z", "tpu", 2)[0])
    assert surge == {"strategy": "SURGE", "max_surge": 2, "max_unavailable": 0}
    assert _provider_fields(NodePoolUpgradeSettingsArgs, surge) == []


def test_flex_start_pools_keep_surge():
    """SHORT_LIVED (GKE's flex-start strategy) is not in the provider's accepted set; flex-start pools stay SURGE."""
    flex = accelerator_pools(default_catalog().shape("nvidia-l4", 1), "gpu", "flex-start", 1, 2, "z", "gpu")[0]
    assert upgrade_settings(flex)["strategy"] == "SURGE"
