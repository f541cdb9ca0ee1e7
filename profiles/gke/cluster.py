"""GKE cluster arguments (pulumi-gcp input names, snake_case), the network it lives in and the Cloud NAT of
private clusters.

Standard clusters get Workload Identity, the GCS FUSE CSI driver, managed Prometheus, Dataplane V2 (so
NetworkPolicy is enforced), shielded nodes with secure boot, a release channel and a dedicated least-privilege node
service account; the default pool is removed and a small system pool (node_pools.py) runs kube-system, the metrics
adapter and GMP. Autopilot gets none of the node settings (pulumi-gcp #2247) and always runs Dataplane V2.
The cluster sits in a VPC and subnet the program creates (no reliance on the `default` network, which
`compute.skipDefaultNetworkCreation` removes) or in named existing ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from profiles.gke.node_pools import CLOUD_PLATFORM

# APIs the program's resources need: cluster and pools (container), the VPC, router and NAT (compute), the node
# service account (iam), project IAM bindings (cloudresourcemanager), the bucket (storage), managed Prometheus and
# the metrics adapter (monitoring)
REQUIRED_APIS = ("cloudresourcemanager.googleapis.com", "iam.googleapis.com", "compute.googleapis.com",
                 "container.googleapis.com", "storage.googleapis.com", "monitoring.googleapis.com")
API_OF_TYPE = {  # resource type prefix -> the API it needs enabled first
    "gcp:container/": "container.googleapis.com", "gcp:compute/": "compute.googleapis.com",
    "gcp:serviceaccount/": "iam.googleapis.com", "gcp:projects/iAMMember": "cloudresourcemanager.googleapis.com",
    "gcp:storage/": "storage.googleapis.com", "gcp:artifactregistry/": "artifactregistry.googleapis.com",
}
MASTER_CIDR = "172.16.0.32/28"  # default private control-plane range (Standard private clusters); one per VPC
CLUSTER_NAME = r"^[a-z](?:[-a-z0-9]{0,38}[a-z0-9])?$"  # GKE: <= 40 characters, a letter first, no trailing '-'
SUBNET_CIDR, PODS_CIDR, SERVICES_CIDR = "10.0.0.0/20", "10.4.0.0/14", "10.8.0.0/20"  # created subnet's ranges
PODS_RANGE, SERVICES_RANGE = "pods", "services"
DATAPLANE_V2 = "ADVANCED_DATAPATH"


@dataclass(frozen=True)
class NetworkSpec:
    """The VPC and subnet of the cluster: created by the program (`create`), or existing ones named."""

    network: str
    subnetwork: str
    create: bool
    subnet_cidr: str = SUBNET_CIDR
    pods_cidr: str = PODS_CIDR
    services_cidr: str = SERVICES_CIDR


@dataclass(frozen=True)
class MaintenanceSpec:
    """A recurring window (RFC 3339 start/end, RFC 5545 recurrence) and exclusions (name, start, end, scope)."""

    start: str
    end: str
    recurrence: str
    exclusions: tuple[tuple[str, str, str, str], ...] = ()


@dataclass(frozen=True)
class ClusterSpec:
    name: str
    mode: str  # autopilot | standard
    release_channel: str
    private_nodes: bool
    deletion_protection: bool
    network: NetworkSpec | None = None
    master_cidr: str = MASTER_CIDR
    min_master_version: str | None = None
    maintenance: MaintenanceSpec | None = None
    authorized_networks: tuple[tuple[str, str], ...] = ()  # (cidr, display name); empty: no restriction
    private_endpoint: bool = False
    notes: tuple[str, ...] = field(default=(), compare=False)


def network_args(net: NetworkSpec, region: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """pulumi-gcp Network and Subnetwork arguments (without project; the subnet's `network` is wired by the
    component): custom-mode VPC, Private Google Access, secondary ranges for pods and services."""
    vpc = {"name": net.network, "auto_create_subnetworks": False, "routing_mode": "REGIONAL"}
    subnet = {"name": net.subnetwork, "region": region, "ip_cidr_range": net.subnet_cidr, "private_ip_google_access": True,
              "secondary_ip_ranges": [{"range_name": PODS_RANGE, "ip_cidr_range": net.pods_cidr},
                                      {"range_name": SERVICES_RANGE, "ip_cidr_range": net.services_cidr}]}
    return vpc, subnet


def cluster_args(spec: ClusterSpec, project: str, region: str, node_sa: Any, network: Any = None,
                 subnetwork: Any = None) -> dict[str, Any]:
    """pulumi-gcp Cluster arguments. Autopilot gets no node_config (pulumi-gcp #2247: perpetual replace).
    `network`/`subnetwork` are the created resources' ids or the existing names."""
    args: dict[str, Any] = {
        "name": spec.name,
        "project": project,
        "location": region,
        "release_channel": {"channel": spec.release_channel},
        "deletion_protection": spec.deletion_protection,
        "networking_mode": "VPC_NATIVE",
        "ip_allocation_policy": {},
    }
    if spec.network is not None:
        args["network"] = network if network is not None else spec.network.network
        args["subnetwork"] = subnetwork if subnetwork is not None else spec.network.subnetwork
        if spec.network.create:
            args["ip_allocation_policy"] = {"cluster_secondary_range_name": PODS_RANGE,
                                            "services_secondary_range_name": SERVICES_RANGE}
    if spec.min_master_version:
        args["min_master_version"] = spec.min_master_version
    if spec.maintenance is not None:
        m = spec.maintenance
        args["maintenance_policy"] = {
            "recurring_window": {"start_time": m.start, "end_time": m.end, "recurrence": m.recurrence},
            **({"maintenance_exclusions": [{"exclusion_name": n, "start_time": s, "end_time": e,
                                            "exclusion_options": {"scope": scope}} for n, s, e, scope in m.exclusions]}
               if m.exclusions else {})}
    if spec.authorized_networks:
        args["master_authorized_networks_config"] = {
            "cidr_blocks": [{"cidr_block": c, "display_name": d} for c, d in spec.authorized_networks]}
    if spec.private_nodes:
        args["private_cluster_config"] = {"enable_private_nodes": True, "enable_private_endpoint": spec.private_endpoint,
                                          **({} if spec.mode == "autopilot" else {"master_ipv4_cidr_block": spec.master_cidr})}
    if spec.mode == "autopilot":
        args["enable_autopilot"] = True
        args["cluster_autoscaling"] = {"auto_provisioning_defaults": {"service_account": node_sa, "oauth_scopes": [CLOUD_PLATFORM]}}
        return args
    args.update({
        "remove_default_node_pool": True,
        "initial_node_count": 1,
        "datapath_provider": DATAPLANE_V2,  # Dataplane V2 enforces NetworkPolicy (no network-policy addon needed)
        "workload_identity_config": {"workload_pool": f"{project}.svc.id.goog"},
        "addons_config": {"gcs_fuse_csi_driver_config": {"enabled": True},
                          "horizontal_pod_autoscaling": {"disabled": False}},
        "monitoring_config": {"enable_components": ["SYSTEM_COMPONENTS"], "managed_prometheus": {"enabled": True}},
        "enable_shielded_nodes": True,
        "node_config": {"shielded_instance_config": {"enable_secure_boot": True, "enable_integrity_monitoring": True},
                        "workload_metadata_config": {"mode": "GKE_METADATA"}, "service_account": node_sa,
                        "oauth_scopes": [CLOUD_PLATFORM]},
    })
    return args


# Standard: the cluster-level node_config and initial_node_count only shape the default pool, which is removed;
# an edit of either would replace (or, with deletion protection, block) the cluster
CLUSTER_IGNORE_CHANGES = ("nodeConfig", "initialNodeCount")


def nat_args(region: str, network: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Cloud Router + NAT on the cluster's network: private nodes still pull images and reach Hugging Face."""
    router = {"region": region, "network": network}
    nat = {"region": region, "nat_ip_allocate_option": "AUTO_ONLY",
           "source_subnetwork_ip_ranges_to_nat": "ALL_SUBNETWORKS_ALL_IP_RANGES",
           "log_config": {"enable": True, "filter": "ERRORS_ONLY"}}
    return router, nat


def valid_cluster_name(name: str) -> bool:
    return re.fullmatch(CLUSTER_NAME, name) is not None
