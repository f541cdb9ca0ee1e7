"""The vLLM pod template: container, arguments, caches, probes and resources, sized from the serving plan.

Design choices that remove known operator failures (reference benchmarking-and-security.md section 8):
- weights land where they fit: a disk emptyDir with a matching ephemeral-storage request when the download fits
  the node's boot-disk budget, else a memory-backed emptyDir counted into the memory request (no eviction of
  large models); from a bucket, a read-only GCS FUSE mount with a file cache placed the same way;
- a startupProbe with a budget sized to fetch + load + compile time, so liveness never kills a slow load;
- one XLA compile cache per pod (emptyDir): no two replicas ever write the same cache directory;
- /dev/shm is a memory emptyDir sized to the node, not the 64 MiB container default;
- non-root, read-only root filesystem, no capabilities, RuntimeDefault seccomp; every path vLLM, torch and
  Hugging Face write to is a writable emptyDir; the HF token is a mounted file, never an environment value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from profiles.errors import UsageError
from profiles.gke.node_pools import BOOT_DISK_GB
from profiles.serving.plan import ServingPlan

PORT = 8000
GIB = 2**30
RUN_AS = 10001  # a high, non-root UID (checkov CKV_K8S_40); no passwd entry needed, USER is set in the environment
NODE_SHARE = 0.8  # of the node's vCPU and RAM requested: the pod owns every accelerator of its node
HOST_RUNTIME_GIB = 16  # vLLM process RAM besides caches (tokenizer, workers, pinned buffers) - estimate
EPHEMERAL_BUDGET_GIB = BOOT_DISK_GB - 30  # minus images/system (~20 GB) and the ~10 % eviction threshold - estimate
WORK_GIB = 10  # /tmp + $HOME caches (torch compile, triton) per pod
XLA_CACHE_GIB = 10
CACHE_MARGIN = 1.1
HF_DOWNLOAD_GBPS, GCS_FETCH_GBPS, LOAD_GBPS = 0.2, 0.5, 1.0  # conservative fetch/load rates (estimates)
WARMUP_S = {"gpu": 300, "tpu": 1800}  # torch.compile + CUDA graphs; first XLA compile takes 10-30 min (vllm PR #7533)
PROBE_PERIOD_S = 10
MIN_STARTUP_S = 600
HF_SECRET, HF_SECRET_KEY = "hf-secret", "hf_api_token"
TOKEN_DIR, HOME, TMP, CACHE, MODEL_MOUNT, XLA_DIR = (
    "/var/run/secrets/huggingface", "/home/vllm", "/tmp", "/var/cache/models", "/models", "/var/cache/vllm-xla")
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


@dataclass(frozen=True)
class ModelSource:
    """Hugging Face (bucket None) or a GCS bucket + path holding config.json and weights."""

    bucket: Any = None  # a name, or any object (a Pulumi Output) passed through unchanged
    path: str = ""

    @property
    def from_bucket(self) -> bool:
        return self.bucket is not None


@dataclass(frozen=True)
class PodSizing:
    """Resource numbers of one pod, kept together so comments can explain them."""

    cpu: int
    memory_gib: int
    ephemeral_gib: int
    shm_gib: int
    cache_gib: int
    cache_in_memory: bool
    startup_budget_s: int


def download_gib(plan: ServingPlan) -> float:
    """Checkpoint size as stored (default dtype): what is fetched, whatever precision vLLM then runs."""
    return plan.model.weight_bytes() / GIB


def size_pod(plan: ServingPlan, source: ModelSource) -> PodSizing:
    """CPU, memory, disk and probe budget for one replica; UsageError when the node cannot hold them."""
    machine, weights = plan.machine, download_gib(plan)
    node_mem = int(machine.memory_gb * 1e9 / GIB * NODE_SHARE)
    cache = math.ceil(weights * CACHE_MARGIN)
    shm = max(8, min(160, int(machine.memory_gb * 1e9 / GIB * 0.1)))
    work = WORK_GIB + (XLA_CACHE_GIB if plan.platform == "tpu" else 0)
    disk_need = cache + work
    in_memory = disk_need > EPHEMERAL_BUDGET_GIB
    memory = HOST_RUNTIME_GIB + shm + (cache if in_memory else 0)
    if memory > node_mem:
        raise UsageError(f"accelerator: {machine.machine_type} has {machine.memory_gb:g} GB RAM; the {weights:.0f} GiB model "
                         f"cache in memory + {HOST_RUNTIME_GIB} GiB runtime + {shm} GiB /dev/shm need {memory} GiB > {node_mem} GiB")
    fetch = GCS_FETCH_GBPS if source.from_bucket else HF_DOWNLOAD_GBPS
    seconds = (weights * GIB / 1e9) * (1 / fetch + 1 / LOAD_GBPS) + WARMUP_S[plan.platform]
    budget = max(MIN_STARTUP_S, math.ceil(seconds * 1.5 / 60) * 60)
    return PodSizing(cpu=max(1, int(machine.vcpus * NODE_SHARE)), memory_gib=node_mem,
                     ephemeral_gib=work if in_memory else disk_need, shm_gib=shm, cache_gib=cache,
                     cache_in_memory=in_memory, startup_budget_s=budget)


def vllm_args(plan: ServingPlan, source: ModelSource) -> list[str]:
    """The server's command-line arguments, every one checked against the pinned vLLM's parser in tests."""
    fit = plan.fit
    args = [f"--model={MODEL_MOUNT if source.from_bucket else plan.model.model}"]
    if source.from_bucket:
        args.append(f"--served-model-name={plan.model.model}")
    else:
        args.append(f"--download-dir={CACHE}/hub")
    args += [f"--tensor-parallel-size={fit.tensor_parallel_size}", f"--max-model-len={fit.max_model_len}",
             f"--max-num-seqs={fit.max_num_seqs}", f"--max-num-batched-tokens={fit.max_num_batched_tokens}",
             f"--gpu-memory-utilization={fit.gpu_memory_utilization:.2f}", "--host=0.0.0.0", f"--port={PORT}"]
    if fit.precision != plan.model.default_dtype:
        if fit.precision != "fp8":
            raise UsageError(f"precision: the profile runs {fit.precision} on a {plan.model.default_dtype} checkpoint; "
                             "only on-the-fly fp8 quantization is supported by manifests")
        args.append("--quantization=fp8")
    return args


def _env(plan: ServingPlan, source: ModelSource) -> list[dict]:
    env = [{"name": "HOME", "value": HOME}, {"name": "USER", "value": "vllm"}, {"name": "HF_HOME", "value": CACHE},
           {"name": "VLLM_CACHE_ROOT", "value": f"{HOME}/.cache/vllm"}]
    if source.from_bucket:
        env.append({"name": "HF_HUB_OFFLINE", "value": "1"})
    else:
        env.append({"name": "HF_TOKEN_PATH", "value": f"{TOKEN_DIR}/token"})
    if plan.platform == "tpu":
        env.append({"name": "VLLM_XLA_CACHE_PATH", "value": XLA_DIR})
    else:
        env.append({"name": "LD_LIBRARY_PATH", "value": "/usr/local/nvidia/lib:/usr/local/nvidia/lib64"})
    return env


def _empty_dir(name: str, gib: int, memory: bool = False) -> dict:
    return {"name": name, "emptyDir": {**({"medium": "Memory"} if memory else {}), "sizeLimit": f"{gib}Gi"}}


def _volumes(plan: ServingPlan, source: ModelSource, size: PodSizing) -> tuple[list[dict], list[dict]]:
    volumes = [_empty_dir("dshm", size.shm_gib, memory=True), _empty_dir("tmp", WORK_GIB // 2),
               _empty_dir("home", WORK_GIB // 2)]
    mounts = [{"name": "dshm", "mountPath": "/dev/shm"}, {"name": "tmp", "mountPath": TMP}, {"name": "home", "mountPath": HOME}]
    if source.from_bucket:
        options = list(GCSFUSE_MOUNT_OPTIONS) + ([f"only-dir:{source.path}"] if source.path else [])
        volumes.append({"name": "model", "csi": {"driver": "gcsfuse.csi.storage.gke.io", "readOnly": True, "volumeAttributes": {
            "bucketName": source.bucket, "mountOptions": ",".join(options)}}})
        volumes.append(_empty_dir("gke-gcsfuse-cache", size.cache_gib, memory=size.cache_in_memory))
        volumes.append(_empty_dir("model-cache", 1))  # HF_HOME: tokenizer/config lookups only, offline
        mounts += [{"name": "model", "mountPath": MODEL_MOUNT, "readOnly": True}, {"name": "model-cache", "mountPath": CACHE}]
    else:
        volumes.append(_empty_dir("model-cache", size.cache_gib, memory=size.cache_in_memory))
        volumes.append({"name": "hf-token", "secret": {"secretName": HF_SECRET, "defaultMode": 0o440,
                                                        "items": [{"key": HF_SECRET_KEY, "path": "token"}]}})
        mounts += [{"name": "model-cache", "mountPath": CACHE}, {"name": "hf-token", "mountPath": TOKEN_DIR, "readOnly": True}]
    if plan.platform == "tpu":
        volumes.append(_empty_dir("xla-cache", XLA_CACHE_GIB))
        mounts.append({"name": "xla-cache", "mountPath": XLA_DIR})
    return volumes, mounts


def _placement(plan: ServingPlan, spot: bool, reservation: str = "") -> tuple[dict, list[dict], dict]:
    """nodeSelector, tolerations and the accelerator resource of one replica."""
    shape = plan.fit.shape
    if plan.platform == "tpu":
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


def _probe(path: str, period: int, failures: int, timeout: int = 5) -> dict:
    return {"httpGet": {"path": path, "port": PORT}, "periodSeconds": period, "timeoutSeconds": timeout, "failureThreshold": failures}


def pod_annotations(source: ModelSource, autopilot: bool) -> dict:
    if not source.from_bucket:
        return {}
    notes = {"gke-gcsfuse/volumes": "true"}
    if not autopilot:  # "0" (no limit) is accepted on Standard clusters only
        notes.update({"gke-gcsfuse/cpu-limit": "0", "gke-gcsfuse/memory-limit": "0", "gke-gcsfuse/ephemeral-storage-limit": "0"})
    return notes


def pod_spec(plan: ServingPlan, source: ModelSource, service_account: Any, size: PodSizing, spot: bool = False,
             reservation: str = "") -> dict:
    """The PodSpec of one vLLM replica."""
    volumes, mounts = _volumes(plan, source, size)
    selector, tolerations, accelerator = _placement(plan, spot, reservation)
    resources = {"cpu": str(size.cpu), "memory": f"{size.memory_gib}Gi", "ephemeral-storage": f"{size.ephemeral_gib}Gi"}
    container = {
        "name": "vllm",
        "image": plan.image.image,
        "imagePullPolicy": "Always",
        "command": ["python3", "-m", "vllm.entrypoints.openai.api_server"],
        "args": vllm_args(plan, source),
        "env": _env(plan, source),
        "ports": [{"name": "http", "containerPort": PORT, "protocol": "TCP"}],
        "resources": {"requests": dict(resources), "limits": {**resources, **accelerator}},
        "startupProbe": _probe("/health", PROBE_PERIOD_S, size.startup_budget_s // PROBE_PERIOD_S),
        "readinessProbe": _probe("/health", PROBE_PERIOD_S, 3),
        "livenessProbe": _probe("/health", 30, 5, timeout=10),
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
        "containers": [container],
        "volumes": volumes,
    }
