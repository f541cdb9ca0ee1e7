"""GKE Standard node allocatable resources: what a pod can request on a node of a machine type.

GKE's published reservation formula ("Plan GKE Standard node sizes", cloud.google.com/kubernetes-engine/docs/
concepts/plan-node-sizes#memory_and_cpu_reservations), applied per machine type:
- memory: 255 MiB under 1 GiB, else 25 % of the first 4 GiB, 20 % of the next 4, 10 % of the next 8, 6 % of the
  next 112 and 2 % above 128 GiB, plus a 100 MiB eviction threshold;
- CPU: 6 % of the first core, 1 % of the next, 0.5 % of the next 2 and 0.25 % of every core above 4;
- ephemeral storage (COS boot disk): min(50 %, 6 GiB + 35 %, 100 GiB) of the boot disk reserved, plus a 10 %
  eviction threshold (confidence S: the page's formula as recalled, check on a node with
  `kubectl get node NODE -o jsonpath='{.status.allocatable}'`).
System DaemonSets (kube-proxy, fluentbit, gke-metadata-server, netd, the device plugin, GMP) also request from the
allocatable; DAEMONSET_* is a budget for them (estimate, confidence U) and the GCS FUSE sidecar's requests (the
driver's defaults on Standard, the explicit Autopilot size: manifests/gcsfuse.py) are counted when the pod mounts a
bucket.
"""

from __future__ import annotations

from dataclasses import dataclass

GIB = 2**30
MIB = 2**20
MEMORY_TIERS = ((4, 0.25), (4, 0.20), (8, 0.10), (112, 0.06), (float("inf"), 0.02))  # (GiB in tier, share reserved)
CPU_TIERS = ((1, 0.06), (1, 0.01), (2, 0.005), (float("inf"), 0.0025))  # (cores in tier, share reserved)
EVICTION_MEMORY_MIB = 100
DAEMONSET_CPU_M, DAEMONSET_MEMORY_MIB = 1000, 2048  # system DaemonSets on an accelerator node (estimate)
GCSFUSE_SIDECAR = (250, 256, 5)  # the sidecar's default requests: millicores, MiB, GiB ephemeral (gcs-fuse-csi-driver)


@dataclass(frozen=True)
class Allocatable:
    cpu_m: int  # millicores
    memory_mib: int
    ephemeral_gib: float

    def for_pods(self, sidecar: tuple[int, int, float] = (0, 0, 0.0)) -> Allocatable:
        """What one workload container may request: allocatable minus the system DaemonSets and the pod's other
        containers (`sidecar`: millicores, MiB, GiB ephemeral; the GCS FUSE sidecar when the pod mounts a bucket)."""
        return Allocatable(self.cpu_m - DAEMONSET_CPU_M - sidecar[0], self.memory_mib - DAEMONSET_MEMORY_MIB - sidecar[1],
                           self.ephemeral_gib - sidecar[2])


def _tiered(total: float, tiers: tuple[tuple[float, float], ...]) -> float:
    reserved, left = 0.0, total
    for size, share in tiers:
        step = min(left, size)
        reserved += step * share
        left -= step
        if left <= 0:
            break
    return reserved


def reserved_memory_mib(memory_gib: float) -> float:
    if memory_gib < 1:
        return 255 + EVICTION_MEMORY_MIB
    return _tiered(memory_gib, MEMORY_TIERS) * 1024 + EVICTION_MEMORY_MIB


def reserved_cpu_m(vcpus: float) -> float:
    return _tiered(vcpus, CPU_TIERS) * 1000


def reserved_ephemeral_gib(boot_disk_gb: float) -> float:
    disk = boot_disk_gb * 1e9 / GIB
    return min(0.5 * disk, 6 + 0.35 * disk, 100) + 0.10 * disk


def allocatable(vcpus: int, memory_gb: float, boot_disk_gb: float) -> Allocatable:
    """A node's allocatable CPU (millicores), memory (MiB) and ephemeral storage (GiB); memory_gb is decimal GB
    as machine catalogs list it."""
    memory_gib = memory_gb * 1e9 / GIB
    return Allocatable(int(vcpus * 1000 - reserved_cpu_m(vcpus)),
                       int(memory_gib * 1024 - reserved_memory_mib(memory_gib)),
                       boot_disk_gb * 1e9 / GIB - reserved_ephemeral_gib(boot_disk_gb))
