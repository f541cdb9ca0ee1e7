"""The Cloud Storage FUSE CSI driver's side of a pod: mount options, the injected sidecar's resources (as pod
annotations) and where its file cache lives.

Facts (GoogleCloudPlatform/gcs-fuse-csi-driver, reference gke-tpu-gpu-vllm-facts.md section 5):
- `pkg/webhook/config.go`: a `gke-gcsfuse/*-limit` of "0" leaves that limit unset and keeps the default request; an
  unset request takes the limit's value. The driver's default requests are 250m CPU, 256Mi memory, 5Gi ephemeral
  storage (allocatable.GCSFUSE_SIDECAR).
- `docs/troubleshooting.md`: "0" is accepted on Standard clusters only; on Autopilot the limits must be explicit and
  larger; on Autopilot GPU nodes the sidecar cannot get more than 2 vCPU and 14 GiB of memory (known issue). A
  memory-backed cache volume is charged to the sidecar's memory, a disk emptyDir to its ephemeral storage; for TPU
  families and Autopilot the driver recommends a Balanced Persistent Disk (here: a generic ephemeral volume) for
  the file cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from profiles.gke.allocatable import GCSFUSE_SIDECAR

GCSFUSE_MOUNT_OPTIONS = (  # reference gke-tpu-gpu-vllm-facts.md 5.4 and giq-api-and-cli.md 6.1 (KES + ACP tuned set)
    "implicit-dirs",
    "file-cache:enable-parallel-downloads:true",
    "file-cache:parallel-downloads-per-file:100",
    "file-cache:max-parallel-downloads:-1",
    "file-cache:download-chunk-size-mb:10",
    "file-cache:max-size-mb:-1",
    "file-cache:cache-file-for-range-read:true",
    "metadata-cache:ttl-secs:-1",
    "metadata-cache:stat-cache-max-size-mb:-1",
    "metadata-cache:type-cache-max-size-mb:-1",
    "metadata-cache:negative-ttl-secs:0",
    "file-system:kernel-list-cache-ttl-secs:-1",
)
CACHE_VOLUME = "gke-gcsfuse-cache"  # a pod volume of this name replaces the sidecar's own cache emptyDir
DRIVER = "gcsfuse.csi.storage.gke.io"
INJECT = {"gke-gcsfuse/volumes": "true"}  # asks GKE's webhook for the sidecar
CACHE_STORAGE_CLASS = "gke-inference-gcsfuse-cache"  # created by the program: a disk of the node's boot-disk type


@dataclass(frozen=True)
class Sidecar:
    """Requests (= limits when explicit) of the injected gke-gcsfuse-sidecar container."""

    cpu_m: int
    memory_mib: int
    ephemeral_gib: int
    unlimited: bool = False  # Standard: limits "0" (unset), requests stay the driver's defaults


STANDARD_SIDECAR = Sidecar(*GCSFUSE_SIDECAR, unlimited=True)
# Autopilot: the largest the driver documents as accepted on Autopilot GPU nodes (2 vCPU, 14 GiB); a project choice
# to take that ceiling, since the tuned mount fetches up to 100 x 10 MiB chunks per file in parallel. Ephemeral
# storage stays the driver's default: the file cache is a pod volume, not the sidecar's own emptyDir.
AUTOPILOT_SIDECAR = Sidecar(2000, 14 * 1024, GCSFUSE_SIDECAR[2])
# A writer (the weights loader) stages each file in the sidecar's temp dir before the upload unless gcsfuse streams
# it; 50 GiB holds the largest safetensors shard of the catalog's checkpoints many times over (project estimate).
LOADER_STAGING_GIB = 50


def sidecar(autopilot: bool) -> Sidecar:
    return AUTOPILOT_SIDECAR if autopilot else STANDARD_SIDECAR


def annotations(size: Sidecar) -> dict[str, str]:
    """gke-gcsfuse/* pod annotations: injection, and the sidecar's resources."""
    notes = dict(INJECT)
    if size.unlimited:  # "0" (no limit) is accepted on Standard clusters only
        notes.update({"gke-gcsfuse/cpu-limit": "0", "gke-gcsfuse/memory-limit": "0", "gke-gcsfuse/ephemeral-storage-limit": "0"})
        return notes
    values = {"cpu": f"{size.cpu_m}m", "memory": f"{size.memory_mib}Mi", "ephemeral-storage": f"{size.ephemeral_gib}Gi"}
    for resource, value in values.items():
        notes[f"gke-gcsfuse/{resource}-request"] = value
        notes[f"gke-gcsfuse/{resource}-limit"] = value
    return notes


def cache_class_name(namespace: Any, name: str) -> str:
    """The cache StorageClass of one deployment: cluster-scoped, so two stacks sharing a cluster never own one object."""
    scope = f"{namespace}-" if isinstance(namespace, str) else ""
    return f"{CACHE_STORAGE_CLASS}-{scope}{name}"[:253]


def cache_volume(gib: int, placement: str, storage_class_name: str = CACHE_STORAGE_CLASS) -> dict[str, Any]:
    """The file cache: `memory` (emptyDir in RAM, charged to the sidecar), `disk` (boot-disk emptyDir) or `pvc` (a
    generic ephemeral volume on the deployment's cache StorageClass, created and deleted with the pod)."""
    if placement == "pvc":
        return {"name": CACHE_VOLUME, "ephemeral": {"volumeClaimTemplate": {
            "metadata": {"labels": {"app.kubernetes.io/part-of": "gke-inference"}},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": storage_class_name,
                     "resources": {"requests": {"storage": f"{gib}Gi"}}}}}}
    return {"name": CACHE_VOLUME, "emptyDir": {**({"medium": "Memory"} if placement == "memory" else {}), "sizeLimit": f"{gib}Gi"}}


def storage_class(disk_type: str, name: str = CACHE_STORAGE_CLASS) -> dict[str, Any]:
    """The cache disks' StorageClass: the node family's disk type (ct6e, a3-ultra and a4 attach Hyperdisk only),
    bound where the pod lands (WaitForFirstConsumer), deleted with the pod's claim."""
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": name, "labels": {"app.kubernetes.io/part-of": "gke-inference"}},
            "provisioner": "pd.csi.storage.gke.io", "parameters": {"type": disk_type},
            "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer", "allowVolumeExpansion": True}


def bucket_volume(name: str, bucket: Any, only_dir: str, read_only: bool, run_as: int) -> dict[str, Any]:
    """A gcsfuse CSI ephemeral volume; a writable one names the pod's uid/gid (the driver's non-root guidance)."""
    options = list(GCSFUSE_MOUNT_OPTIONS) if read_only else ["implicit-dirs", f"uid={run_as}", f"gid={run_as}",
                                                                 "file-mode=664", "dir-mode=775"]
    options += [f"only-dir:{only_dir}"] if only_dir else []
    return {"name": name, "csi": {"driver": DRIVER, "readOnly": read_only, "volumeAttributes": {
        "bucketName": bucket, "mountOptions": ",".join(options)}}}
