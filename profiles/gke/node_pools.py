"""GKE node-pool arguments (pulumi-gcp input names, snake_case): accelerator pools and the system pool.

Pure data, so the components stay wiring and tests can read every choice without Pulumi:
- every pool runs the dedicated least-privilege node service account, GKE_METADATA (Workload Identity), shielded
  nodes with secure boot and gVNIC;
- accelerator pools keep the TPU triple consistent (machine type <-> topology <-> chips): single-host pools
  autoscale between the replica bounds (one replica per node); multi-host slices get placement COMPACT with
  `tpu_topology` (GKE ignores the topology without the policy) and one fixed-size pool per replica;
- capacity: spot, a specific reservation, or flex-start (queued, no reservation, min 0).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from profiles.catalog.catalog import Shape

CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
NODE_SA_ROLES = ("roles/container.defaultNodeServiceAccount",)  # GKE's least-privilege node role
BOOT_DISK_GB = 200  # accelerator node boot disk; its allocatable (gke/allocatable.py) bounds the pod's ephemeral storage
SYSTEM_POOL_NODES = (1, 3)
NODE_POOL_CREATE_TIMEOUT = "60m"  # GPU/TPU pools can take > 30 min (reference iac-conventions.md section 6)


@dataclass(frozen=True)
class PoolSpec:
    """One accelerator node pool."""

    name: str
    shape: Shape
    platform: str  # gpu | tpu
    capacity: str  # on-demand | spot | flex-start | reservation:NAME
    min_nodes: int
    max_nodes: int
    zone: str
    max_surge: int = 0  # spare nodes an upgrade may add; 0: one node at a time goes down (max_unavailable 1)
    key: str = ""  # stable logical name; `name` carries a hash of the settings whose change replaces the pool

    blue_green: BlueGreen | None = None  # set: BLUE_GREEN upgrades instead of SURGE

    @property
    def multi_host(self) -> bool:
        return self.shape.vms > 1


@dataclass(frozen=True)
class BlueGreen:
    """GKE blue-green node upgrades: a whole green pool comes up, the blue pool is drained in batches (each batch
    soaks), then the blue pool soaks before deletion, so a bad node image can be rolled back. Needs quota for a
    second pool of accelerator nodes while it runs."""

    batch_percentage: float | None = None  # share of the blue pool drained per batch, (0, 1]; None: GKE's default
    batch_soak: str | None = None  # after each batch, e.g. "300s"; None: GKE's default
    pool_soak: str | None = None  # after the whole blue pool is drained, before it is deleted; None: GKE's default


# settings a pool cannot change in place: a new value means a new pool. The physical name carries their hash, so
# Pulumi's default create-before-destroy brings the new pool up before the old one is deleted (a fixed name
# would collide, and delete-before-replace would take every replica down at once)
def _replacement_hash(shape: Shape, platform: str, capacity: str) -> str:
    text = "|".join([shape.machine_type, shape.accelerator_type, str(shape.accelerator_count), shape.tpu_topology or "",
                     platform, capacity, str(BOOT_DISK_GB), NODE_SA_ROLES[0]])
    return hashlib.sha256(text.encode()).hexdigest()[:6]


def accelerator_pools(shape: Shape, platform: str, capacity: str, min_replicas: int, max_replicas: int, zone: str,
                      prefix: str, max_surge: int = 0, blue_green: BlueGreen | None = None) -> list[PoolSpec]:
    """Single-host: one autoscaled pool, a node per replica. Multi-host: one fixed slice pool per replica.
    Names stay within GKE's 40 characters with the replacement hash appended."""
    tag = _replacement_hash(shape, platform, capacity)
    if shape.vms == 1:
        low = 0 if capacity == "flex-start" else min_replicas
        key = f"{prefix}-{shape.machine_type}"
        return [PoolSpec(f"{key[:33]}-{tag}", shape, platform, capacity, low, max_replicas, zone, max_surge, key, blue_green)]
    return [PoolSpec(f"{prefix}-{shape.machine_type}"[:30] + f"-{i}-{tag}", shape, platform, capacity, shape.vms, shape.vms,
                     zone, max_surge, f"{prefix}-{shape.machine_type}-{i}", blue_green)
            for i in range(max(min_replicas, 1))]


def _capacity_config(capacity: str) -> dict[str, Any]:
    if capacity == "spot":
        return {"spot": True}
    if capacity == "flex-start":
        return {"flex_start": True, "reservation_affinity": {"consume_reservation_type": "NO_RESERVATION"}}
    if capacity.startswith("reservation:"):
        return {"reservation_affinity": {"consume_reservation_type": "SPECIFIC_RESERVATION",
                                         "key": "compute.googleapis.com/reservation-name",
                                         "values": [capacity.split(":", 1)[1]]}}
    return {}


SYSTEM_BOOT_DISK_GB = 100
# families whose boot disk can only be Hyperdisk Balanced (GKE cluster-autoscaler machine catalog:
# supportedBootDiskTypes {hyperdisk-balanced} for ct6e, a3-ultragpu, a4); others get pd-balanced
HYPERDISK_BOOT = ("ct6e-", "a3-ultragpu-", "a4-")


def boot_disk_type(machine_type: str) -> str:
    return "hyperdisk-balanced" if machine_type.startswith(HYPERDISK_BOOT) else "pd-balanced"


def _node_config(machine_type: str, node_sa: Any, role: str = "accelerator") -> dict[str, Any]:
    return {
        "machine_type": machine_type,
        "disk_size_gb": BOOT_DISK_GB if role == "accelerator" else SYSTEM_BOOT_DISK_GB,
        "disk_type": boot_disk_type(machine_type),
        "service_account": node_sa,
        "oauth_scopes": [CLOUD_PLATFORM],
        "shielded_instance_config": {"enable_secure_boot": True, "enable_integrity_monitoring": True},
        "workload_metadata_config": {"mode": "GKE_METADATA"},
        "gvnic": {"enabled": True},
        "labels": {"gke-inference.dev/pool": role},
    }


def pool_args(pool: PoolSpec, node_sa: Any) -> dict[str, Any]:
    """pulumi-gcp NodePool arguments (without cluster, location, project)."""
    node_config = _node_config(pool.shape.machine_type, node_sa) | _capacity_config(pool.capacity)
    if pool.platform == "gpu":
        node_config["guest_accelerators"] = [{
            "type": pool.shape.accelerator_type, "count": pool.shape.accelerator_count,
            "gpu_driver_installation_config": {"gpu_driver_version": "LATEST"}}]  # the pods select driver "latest"
    args: dict[str, Any] = {
        "name": pool.name,
        "node_locations": [pool.zone],
        "node_config": node_config,
        "management": {"auto_repair": True, "auto_upgrade": True},
        "upgrade_settings": upgrade_settings(pool),
    }
    if pool.multi_host:
        args["node_count"] = pool.shape.vms
        args["placement_policy"] = {"type": "COMPACT", "tpu_topology": pool.shape.tpu_topology}
    else:
        args["initial_node_count"] = pool.min_nodes
        args["autoscaling"] = {"total_min_node_count": pool.min_nodes, "total_max_node_count": pool.max_nodes,
                               "location_policy": "ANY"}
    return args


def upgrade_settings(pool: PoolSpec) -> dict[str, Any]:
    """Surge or blue-green upgrades (pulumi-gcp 10.2 NodePoolUpgradeSettingsArgs: strategy, max_surge,
    max_unavailable, blue_green_settings.{standard_rollout_policy.{batch_percentage, batch_soak_duration},
    node_pool_soak_duration}).

    Default surge 0: accelerator capacity is scarce and a surge node may never arrive, so nodes are replaced one at a
    time (the PDB allows one replica down; with one replica that is an outage, and the plan says so).
    `cluster.acceleratorMaxSurge` N > 0: N spare nodes come up first and none goes down before (max_unavailable 0).
    `cluster.upgradeStrategy: BLUE_GREEN`: a green pool the size of the blue one first, then batched drains.
    GKE's API also has SHORT_LIVED, the strategy for flex-start / queued-provisioning pools, but the provider's
    node-pool schema (terraform-provider-google `upgrade_settings.strategy`, bridged by pulumi-gcp 10.2) accepts
    only SURGE and BLUE_GREEN, so flex-start pools keep SURGE (their nodes live at most 7 days anyway, and the config
    refuses BLUE_GREEN for them)."""
    if pool.blue_green is not None:
        bg = pool.blue_green
        rollout = {k: v for k, v in (("batch_percentage", bg.batch_percentage), ("batch_soak_duration", bg.batch_soak))
                   if v is not None}
        settings = {"standard_rollout_policy": rollout, **({"node_pool_soak_duration": bg.pool_soak} if bg.pool_soak else {})}
        return {"strategy": "BLUE_GREEN", "blue_green_settings": settings}
    if pool.max_surge > 0:
        return {"strategy": "SURGE", "max_surge": pool.max_surge, "max_unavailable": 0}
    return {"strategy": "SURGE", "max_surge": 0, "max_unavailable": 1}


def system_pool_args(machine_type: str, node_sa: Any) -> dict[str, Any]:
    low, high = SYSTEM_POOL_NODES
    return {"name": "system", "initial_node_count": low, "node_config": _node_config(machine_type, node_sa, "system"),
            "autoscaling": {"total_min_node_count": low, "total_max_node_count": high, "location_policy": "BALANCED"},
            "management": {"auto_repair": True, "auto_upgrade": True}}
