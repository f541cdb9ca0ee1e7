"""The pod template of one replica: container, caches, probes and resources, sized from the serving plan.

The model server (serving/servers/) supplies command, arguments, environment, port, probe path and paths.
Design choices that remove known operator failures (reference benchmarking-and-security.md section 8):
- weights land where they fit: a disk emptyDir with a matching ephemeral-storage request when the download fits
  the node's boot-disk budget, else a memory-backed emptyDir counted into the memory request (no eviction of
  large models); from a bucket, a read-only GCS FUSE mount whose file cache is placed the same way on Standard GPU
  nodes, and on a per-pod disk (generic ephemeral volume) on TPU and Autopilot, as the CSI driver recommends
  (manifests/gcsfuse.py: a memory cache is charged to the sidecar, capped on Autopilot);
- a startupProbe with a budget sized to fetch + load + compile time, so liveness never kills a slow load;
- one XLA compile cache per pod (emptyDir): no two replicas ever write the same cache directory;
- /dev/shm is a memory emptyDir sized to the node, not the 64 MiB container default;
- non-root, read-only root filesystem, no capabilities, RuntimeDefault seccomp; every path the server, torch and
  Hugging Face write to is a writable emptyDir; the HF token is a mounted file, never an environment value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from profiles.errors import UsageError
from profiles.gke.allocatable import allocatable
from profiles.gke.node_pools import BOOT_DISK_GB
from profiles.manifests import gcsfuse, xla_cache
from profiles.serving.source import HF_SECRET, HF_SECRET_KEY, ModelSource

if TYPE_CHECKING:
    from profiles.serving.plan import ServingPlan

GIB = 2**30
RUN_AS = 10001  # a high, non-root UID (checkov CKV_K8S_40); no passwd entry needed, USER is set in the environment
NODE_SHARE = 0.8  # of the node's vCPU and RAM requested (at most its allocatable): the pod owns every accelerator
HOST_RUNTIME_GIB = 16  # vLLM process RAM besides caches (tokenizer, workers, pinned buffers) - estimate
EPHEMERAL_BUDGET_GIB = 70  # on-disk cache + work space; <= the 200 GB boot disk's allocatable minus the sidecar (tested)
WORK_GIB = 10  # /tmp + $HOME caches (torch compile, triton) per pod
XLA_CACHE_GIB = 10
CACHE_MARGIN = 1.1
HF_DOWNLOAD_GBPS, GCS_FETCH_GBPS, LOAD_GBPS = 0.2, 0.5, 1.0  # conservative fetch/load rates (estimates)
PROBE_PERIOD_S = 10
MIN_STARTUP_S = 600


@dataclass(frozen=True)
class PodSizing:
    """Resource numbers of one pod, kept together so comments can explain them."""

    cpu: int
    memory_gib: int
    ephemeral_gib: int
    shm_gib: int
    cache_gib: int
    cache_placement: str  # memory | disk (boot-disk emptyDir) | pvc (a per-pod disk for the GCS FUSE file cache)
    startup_budget_s: int
    sidecar: gcsfuse.Sidecar | None = None  # the GCS FUSE sidecar's resources when the pod mounts a bucket

    @property
    def cache_in_memory(self) -> bool:
        return self.cache_placement == "memory"

    @property
    def cache_where(self) -> str:
        return {"memory": "in memory", "disk": "on the boot disk", "pvc": "on a per-pod disk"}[self.cache_placement]


def download_gib(serving: ServingPlan) -> float:
    """Checkpoint size as stored (default dtype): what is fetched, whatever precision the server then runs."""
    return serving.model.weight_bytes() / GIB


def size_pod(serving: ServingPlan, source: ModelSource, autopilot: bool = False,
             others: tuple[int, int, int] = (0, 0, 0)) -> PodSizing:
    """CPU, memory, disk and probe budget for one replica; UsageError when the node cannot hold them. `others`:
    requests (millicores, MiB, GiB ephemeral) of the pod's containers besides the server and the GCS FUSE sidecar."""
    machine, weights = serving.machine, download_gib(serving)
    side = gcsfuse.sidecar(autopilot) if source.from_bucket else None
    taken = (others[0] + (side.cpu_m if side else 0), others[1] + (side.memory_mib if side else 0),
             others[2] + (side.ephemeral_gib if side else 0))
    room = allocatable(machine.vcpus, machine.memory_gb, BOOT_DISK_GB).for_pods(taken)
    node_mem = min(int(machine.memory_gb * 1e9 / GIB * NODE_SHARE), room.memory_mib // 1024)
    cpu = max(1, min(int(machine.vcpus * NODE_SHARE), room.cpu_m // 1000))
    cache = math.ceil(weights * CACHE_MARGIN)
    shm = max(8, min(160, int(machine.memory_gb * 1e9 / GIB * 0.1)))
    work = WORK_GIB + (XLA_CACHE_GIB if serving.platform == "tpu" else 0)
    placement = "disk" if cache + work <= EPHEMERAL_BUDGET_GIB else "memory"
    if placement == "memory" and source.from_bucket and (autopilot or serving.platform == "tpu"):
        placement = "pvc"  # the driver's advice for TPU and Autopilot; a memory cache would be charged to the sidecar
    memory = HOST_RUNTIME_GIB + shm + (cache if placement == "memory" else 0)
    if memory > node_mem:
        raise UsageError(f"accelerator: {machine.machine_type} has {machine.memory_gb:g} GB RAM; the {weights:.0f} GiB model "
                         f"cache in memory + {HOST_RUNTIME_GIB} GiB runtime + {shm} GiB /dev/shm need {memory} GiB > {node_mem} GiB")
    fetch = GCS_FETCH_GBPS if source.from_bucket else HF_DOWNLOAD_GBPS
    seconds = (weights * GIB / 1e9) * (1 / fetch + 1 / LOAD_GBPS) + serving.server.warmup_s(serving.platform)
    budget = max(MIN_STARTUP_S, math.ceil(seconds * 1.5 / 60) * 60)
    return PodSizing(cpu=cpu, memory_gib=node_mem, ephemeral_gib=work + (cache if placement == "disk" else 0),
                     shm_gib=shm, cache_gib=cache, cache_placement=placement, startup_budget_s=budget, sidecar=side)


def _empty_dir(name: str, gib: int, memory: bool = False) -> dict:
    return {"name": name, "emptyDir": {**({"medium": "Memory"} if memory else {}), "sizeLimit": f"{gib}Gi"}}


def _volumes(serving: ServingPlan, source: ModelSource, size: PodSizing, cache_class: str = gcsfuse.CACHE_STORAGE_CLASS
             ) -> tuple[list[dict], list[dict]]:
    paths = serving.server.paths
    volumes = [_empty_dir("dshm", size.shm_gib, memory=True), _empty_dir("tmp", WORK_GIB // 2),
               _empty_dir("home", WORK_GIB // 2)]
    mounts = [{"name": "dshm", "mountPath": "/dev/shm"}, {"name": "tmp", "mountPath": paths.tmp}, {"name": "home", "mountPath": paths.home}]
    if source.from_bucket:
        volumes.append(gcsfuse.bucket_volume("model", source.bucket, source.path, read_only=True, run_as=RUN_AS))
        volumes.append(gcsfuse.cache_volume(size.cache_gib, size.cache_placement, cache_class))
        volumes.append(_empty_dir("model-cache", 1))  # HF_HOME: tokenizer/config lookups only, offline
        mounts += [{"name": "model", "mountPath": paths.model, "readOnly": True}, {"name": "model-cache", "mountPath": paths.cache}]
    else:
        volumes.append(_empty_dir("model-cache", size.cache_gib, memory=size.cache_in_memory))
        volumes.append({"name": "hf-token", "secret": {"secretName": HF_SECRET, "defaultMode": 0o440,
                                                        "items": [{"key": HF_SECRET_KEY, "path": "token"}]}})
        mounts += [{"name": "model-cache", "mountPath": paths.cache},
                   {"name": "hf-token", "mountPath": paths.token_dir, "readOnly": True}]
    if serving.platform == "tpu":
        volumes.append(_empty_dir("xla-cache", XLA_CACHE_GIB))
        mounts.append({"name": "xla-cache", "mountPath": paths.compile_cache})
    return volumes, mounts


def _placement(serving: ServingPlan, spot: bool, reservation: str = "") -> tuple[dict, list[dict], dict]:
    """nodeSelector, tolerations and the accelerator resource of one replica."""
    shape = serving.fit.shape
    if serving.platform == "tpu":
        selector = {"cloud.google.com/gke-tpu-accelerator": shape.accelerator_type, "cloud.google.com/gke-tpu-topology": shape.tpu_topology}
        key, count = "google.com/tpu", shape.accelerator_count
    else:
        selector = {"cloud.google.com/gke-accelerator": shape.accelerator_type, "cloud.google.com/gke-gpu-driver-version": "latest"}
        key, count = "nvidia.com/gpu", shape.accelerator_count
    if spot:
        selector["cloud.google.com/gke-spot"] = "true"
    if reservation:  # Autopilot consumes a specific reservation only when the pod names it
        selector.update({"cloud.google.com/reservation-name": reservation, "cloud.google.com/reservation-affinity": "specific"})
    tolerations = [{"key": key, "operator": "Exists", "effect": "NoSchedule"}]
    if spot:
        tolerations.append({"key": "cloud.google.com/gke-spot", "operator": "Equal", "value": "true", "effect": "NoSchedule"})
    return selector, tolerations, {key: count}


def _probe(serving: ServingPlan, period: int, failures: int, timeout: int = 5) -> dict:
    server = serving.server
    return {"httpGet": {"path": server.health_path, "port": server.port}, "periodSeconds": period, "timeoutSeconds": timeout,
            "failureThreshold": failures}


def pod_annotations(source: ModelSource, autopilot: bool) -> dict:
    """The GCS FUSE sidecar's injection and resources (manifests/gcsfuse.py), when the pod mounts a bucket."""
    return gcsfuse.annotations(gcsfuse.sidecar(autopilot)) if source.from_bucket else {}


def pod_spec(serving: ServingPlan, source: ModelSource, service_account: Any, size: PodSizing, spot: bool = False,
             reservation: str = "", image: str = "", xla_prefix: str = "", cache_class: str = gcsfuse.CACHE_STORAGE_CLASS
             ) -> dict:
    """The PodSpec of one replica; `xla_prefix`: the bucket prefix of a shared TPU compile cache (xla_cache.py)."""
    server = serving.server
    volumes, mounts = _volumes(serving, source, size, cache_class)
    init = []
    if xla_prefix and serving.platform == "tpu" and source.from_bucket:
        volumes.append(xla_cache.bucket_volume(source.bucket, xla_prefix, RUN_AS))
        init.append(xla_cache.sync_container(image or serving.image.image, server.paths.compile_cache, server.port,
                                             server.health_path))
    selector, tolerations, accelerator = _placement(serving, spot, reservation)
    resources = {"cpu": str(size.cpu), "memory": f"{size.memory_gib}Gi", "ephemeral-storage": f"{size.ephemeral_gib}Gi"}
    container = {
        "name": server.container,
        "image": image or serving.image.image,
        "imagePullPolicy": "IfNotPresent",  # tags are pinned; Always would hit Docker Hub's rate limit through one NAT IP
        "command": server.command(),
        "args": server.args(serving.model, serving.fit, source),
        "env": server.env(serving.platform, source),
        "ports": [{"name": "http", "containerPort": server.port, "protocol": "TCP"}],
        "resources": {"requests": dict(resources), "limits": {**resources, **accelerator}},
        "startupProbe": _probe(serving, PROBE_PERIOD_S, size.startup_budget_s // PROBE_PERIOD_S),
        "readinessProbe": _probe(serving, PROBE_PERIOD_S, 3),
        "livenessProbe": _probe(serving, 30, 5, timeout=10),
        "volumeMounts": mounts,
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "privileged": False,
                            "capabilities": {"drop": ["ALL"]}},
    }
    return {
        "serviceAccountName": service_account,
        "automountServiceAccountToken": False,
        "securityContext": {"runAsNonRoot": True, "runAsUser": RUN_AS, "runAsGroup": RUN_AS, "fsGroup": RUN_AS,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "terminationGracePeriodSeconds": 60,
        "nodeSelector": selector,
        "tolerations": tolerations,
        **({"initContainers": init} if init else {}),
        "containers": [container],
        "volumes": volumes,
    }
