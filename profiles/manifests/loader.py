"""The one-shot weights loader (issue #16 item 6): a Job that fills an empty bucket path from Hugging Face, so a new
stack whose serving pods read `/models` offline and read-only does not crash-loop on an empty bucket.

It runs as its own KSA (granted roles/storage.objectUser on the bucket through Workload Identity; the serving KSA
stays a reader), reads the HF token Secret as a file, mounts the bucket path read-write through GCS FUSE and runs
huggingface_hub's snapshot_download from the server image (vLLM depends on huggingface_hub, so no other image is
pulled). Idempotent: config.json is written last and its presence means "done", so a rerun (a Job replaced, a
retry after a failure) skips a complete checkpoint and resumes an incomplete one. Runs on the system pool on
Standard (no accelerator needed) and on a general-purpose node on Autopilot.
"""

from __future__ import annotations

import math
from typing import Any

from profiles.manifests import gcsfuse
from profiles.manifests.pod import GIB, HF_DOWNLOAD_GBPS, RUN_AS
from profiles.serving.source import HF_SECRET, HF_SECRET_KEY

LOADER = "weights-loader"  # the Job and its KSA
MOUNT, TOKEN_DIR, HOME = "/models", "/var/run/secrets/huggingface", "/home/loader"
# one Python process moving files through the FUSE mount: project estimates, small enough for the default
# e2-standard-4 system node (4 vCPU, 16 GB) next to the GCS FUSE sidecar (tests/unit/manifests/test_loader.py)
CPU, MEMORY_GIB, EPHEMERAL_GIB = 1, 4, 10
MIN_DEADLINE_S = 1800
SYSTEM_POOL_LABEL = ("gke-inference.dev/pool", "system")  # the label gke/node_pools.py puts on the system pool

SCRIPT = """\
import os, sys
from huggingface_hub import snapshot_download
model, dest = os.environ["MODEL"], os.environ["DEST"]
if os.path.exists(os.path.join(dest, "config.json")):
    print(f"{model}: config.json present in the bucket; nothing to do", flush=True)
    sys.exit(0)
# everything but config.json first: its presence is the completion marker the serving side relies on
snapshot_download(model, local_dir=dest, ignore_patterns=["original/*", "config.json"])
snapshot_download(model, local_dir=dest, allow_patterns=["config.json"])
print(f"{model}: weights written", flush=True)
"""


def deadline_s(weights_gib: float) -> int:
    """The Job's activeDeadlineSeconds: three times the download at the conservative Hugging Face rate."""
    return max(MIN_DEADLINE_S, math.ceil(weights_gib * GIB / 1e9 / HF_DOWNLOAD_GBPS * 3 / 60) * 60)


def _empty_dir(name: str, gib: int) -> dict:
    return {"name": name, "emptyDir": {"sizeLimit": f"{gib}Gi"}}


def loader_sidecar(autopilot: bool) -> gcsfuse.Sidecar:
    """The writer's sidecar: unlimited on Standard; on Autopilot the explicit size with room to stage uploads."""
    base = gcsfuse.sidecar(autopilot)
    return base if base.unlimited else gcsfuse.Sidecar(base.cpu_m, base.memory_mib, gcsfuse.LOADER_STAGING_GIB)


def loader_objects(model: str, bucket: Any, path: str, namespace: Any, image: str, autopilot: bool,
                   weights_gib: float, system_pool: bool | None = None) -> list[dict]:
    """The loader's ServiceAccount and Job, in apply order. `system_pool`: the program created the Standard cluster's
    system pool, so the Job is pinned there (default: on Standard); on an existing cluster it runs wherever the
    scheduler puts it (accelerator nodes are tainted)."""
    labels = {"app.kubernetes.io/name": LOADER, "app.kubernetes.io/part-of": "gke-inference"}
    meta = {"name": LOADER, "namespace": namespace, "labels": labels}
    resources = {"cpu": str(CPU), "memory": f"{MEMORY_GIB}Gi", "ephemeral-storage": f"{EPHEMERAL_GIB}Gi"}
    container = {
        "name": LOADER, "image": image, "imagePullPolicy": "IfNotPresent",
        "command": ["python3", "-c", SCRIPT],
        "env": [{"name": "MODEL", "value": model}, {"name": "DEST", "value": MOUNT}, {"name": "HOME", "value": HOME},
                {"name": "HF_HOME", "value": f"{HOME}/.cache/huggingface"},
                {"name": "HF_TOKEN_PATH", "value": f"{TOKEN_DIR}/token"}],
        "resources": {"requests": dict(resources), "limits": dict(resources)},
        "volumeMounts": [{"name": "model", "mountPath": MOUNT}, {"name": "home", "mountPath": HOME},
                         {"name": "tmp", "mountPath": "/tmp"},
                         {"name": "hf-token", "mountPath": TOKEN_DIR, "readOnly": True}],
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "privileged": False,
                            "capabilities": {"drop": ["ALL"]}},
    }
    spec: dict[str, Any] = {
        "serviceAccountName": LOADER,
        "automountServiceAccountToken": False,
        "restartPolicy": "Never",
        "securityContext": {"runAsNonRoot": True, "runAsUser": RUN_AS, "runAsGroup": RUN_AS, "fsGroup": RUN_AS,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container],
        "volumes": [gcsfuse.bucket_volume("model", bucket, path, read_only=False, run_as=RUN_AS),
                    _empty_dir("home", EPHEMERAL_GIB // 2), _empty_dir("tmp", EPHEMERAL_GIB // 2),
                    {"name": "hf-token", "secret": {"secretName": HF_SECRET, "defaultMode": 0o440,
                                                    "items": [{"key": HF_SECRET_KEY, "path": "token"}]}}],
    }
    if (not autopilot) if system_pool is None else system_pool:
        spec["nodeSelector"] = dict([SYSTEM_POOL_LABEL])
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": {
        "backoffLimit": 3, "activeDeadlineSeconds": deadline_s(weights_gib),
        "template": {"metadata": {"labels": labels, "annotations": gcsfuse.annotations(loader_sidecar(autopilot))},
                     "spec": spec}}}
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": dict(meta), "automountServiceAccountToken": False}
    return [account, job]
