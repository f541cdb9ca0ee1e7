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

from dataclasses import dataclass
from typing import Any

from profiles.catalog.catalog import Shape

CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
NODE_SA_ROLES = ("roles/container.defaultNodeServiceAccount",)  # GKE's least-privilege node role
BOOT_DISK_GB = 100  # accelerator node boot disk; the pod template sizes its ephemeral storage against it
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

    @property
    def multi_host(self) -> bool:
        return self.shape.vms > 1


def accelerator_pools(shape: Shape, platform: str, capacity: str, min_replicas: int, max_replicas: int, zone: str,
                      prefix: str) -> list[PoolSpec]:
    """Single-host: one autoscaled pool, a node per replica. Multi-host: one fixed slice pool per replica."""
    if shape.vms == 1:
        low = 0 if capacity == "flex-start" else min_replicas
        return [PoolSpec(f"{prefix}-{shape.machine_type}", shape, platform, capacity, low, max_replicas, zone)]
    return [PoolSpec(f"{prefix}-{shape.machine_type}-{i}", shape, platform, capacity, shape.vms, shape.vms, zone)
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


def _node_config(machine_type: str, node_sa: Any, role: str = "accelerator") -> dict[str, Any]:
    return {
        "machine_type": machine_type,
        "disk_size_gb": BOOT_DISK_GB,
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
        # accelerator capacity is scarce: a surge node may never arrive and stall the upgrade, so nodes are
        # replaced one at a time (the workload's PodDisruptionBudget allows one replica down)
        "upgrade_settings": {"strategy": "SURGE", "max_surge": 0, "max_unavailable": 1},
    }
    if pool.multi_host:
        args["node_count"] = pool.shape.vms
        args["placement_policy"] = {"type": "COMPACT", "tpu_topology": pool.shape.tpu_topology}
    else:
        args["initial_node_count"] = pool.min_nodes
        args["autoscaling"] = {"total_min_node_count": pool.min_nodes, "total_max_node_count": pool.max_nodes,
                               "location_policy": "ANY"}
    return args


def system_pool_args(machine_type: str, node_sa: Any) -> dict[str, Any]:
    low, high = SYSTEM_POOL_NODES
    return {"name": "system", "initial_node_count": low, "node_config": _node_config(machine_type, node_sa, "system"),
            "autoscaling": {"total_min_node_count": low, "total_max_node_count": high, "location_policy": "BALANCED"},
            "management": {"auto_repair": True, "auto_upgrade": True}}
