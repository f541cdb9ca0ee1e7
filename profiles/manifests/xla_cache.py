"""The TPU XLA compile cache kept in the model bucket (`modelSource.xlaCache: bucket`), safe with several replicas.

GKE's vLLM-on-TPU tutorial points VLLM_XLA_CACHE_PATH at a read-write GCS FUSE mount. With more than one replica
that directory has several writers at once, and GKE's docs warn that concurrent writes fail with "RuntimeError:
filesystem error: cannot create directories" (reference giq-api-and-cli.md 6.2, benchmarking-and-security.md 8).
So vLLM keeps its per-pod emptyDir (VLLM_XLA_CACHE_PATH unchanged, vLLM's own per-rank subdirectories inside) and a
native sidecar, `xla-cache-sync`, moves entries between it and the bucket:
- before vLLM starts (its startupProbe holds the server container back) it copies the bucket prefix into the
  emptyDir: a restart or a new replica starts from compiled graphs;
- once vLLM answers /health (the warm-up compiled everything) it copies entries the bucket lacks, never
  overwriting; a replica racing another on the same new entry loses that one copy, logs it and goes on.
The prefix is per model, accelerator + topology (the JAX/XLA cache key includes the topology) and image tag
(a new vLLM compiles differently): xla-cache/<model>/<accelerator>-<topology>/<tag>. The serving KSA can write
there and only there (profiles/gke/identity.py: objectUser with an IAM condition on the prefix).
The sidecar reads the bucket before the server starts, so the GCS FUSE sidecar must be injected as a native
sidecar too (GKE injects it so from 1.29; the v6e minimum 1.31.2 is above that).
"""

from __future__ import annotations

from typing import Any

from profiles.manifests import gcsfuse

PREFIX = "xla-cache"
VOLUME, MOUNT = "xla-bucket", "/var/cache/vllm-xla-bucket"
SYNC = "xla-cache-sync"
# a copy loop and an HTTP poll: project estimates, counted in the pod's requests (manifests/pod.size_pod `others`)
CPU_M, MEMORY_MIB, EPHEMERAL_GIB = 500, 1024, 1
SEEDED = ".seeded"  # written into the local cache once the bucket's entries are copied

SCRIPT = """\
import os, shutil, sys, time, urllib.request
bucket, local, health = sys.argv[1], sys.argv[2], sys.argv[3]
PUBLISH_EVERY_S = 600
def copy(src, dst):
    done = 0
    for root, _, files in os.walk(src):
        for name in files:
            if name == ".seeded" or name.endswith(".part"):
                continue
            target = os.path.join(dst, os.path.relpath(os.path.join(root, name), src))
            if os.path.exists(target):
                continue
            try:
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.copyfile(os.path.join(root, name), target + ".part")
                os.replace(target + ".part", target)  # a copy cut short never looks like an entry
                done += 1
            except OSError as exc:  # another replica published it first, or the entry vanished
                print(f"skipped {target}: {exc}", flush=True)
    return done
seeded = copy(bucket, local)
open(os.path.join(local, ".seeded"), "w").close()  # the startup probe's signal: written before anything is announced
print(f"seeded {seeded} entries from the bucket", flush=True)
while True:
    try:
        if urllib.request.urlopen(health, timeout=5).status == 200:
            break
    except Exception:
        pass
    time.sleep(30)
print(f"published {copy(local, bucket)} new entries to the bucket", flush=True)
while True:  # graphs compiled later (new shapes, a restarted server) are published too
    time.sleep(PUBLISH_EVERY_S)
    if (count := copy(local, bucket)):
        print(f"published {count} new entries to the bucket", flush=True)
"""


def prefix(model_slug: str, accelerator: str, topology: str, tag: str) -> str:
    return f"{PREFIX}/{model_slug}/{accelerator}-{topology}/{tag}"


def sync_container(image: str, local: str, port: int, health_path: str) -> dict[str, Any]:
    """The native sidecar (an init container with restartPolicy Always) that seeds and publishes the cache."""
    resources = {"cpu": f"{CPU_M}m", "memory": f"{MEMORY_MIB}Mi", "ephemeral-storage": f"{EPHEMERAL_GIB}Gi"}
    return {
        "name": SYNC, "image": image, "imagePullPolicy": "IfNotPresent", "restartPolicy": "Always",
        "command": ["python3", "-c", SCRIPT, MOUNT, local, f"http://127.0.0.1:{port}{health_path}"],
        "resources": {"requests": dict(resources), "limits": dict(resources)},
        "startupProbe": {"exec": {"command": ["test", "-f", f"{local}/{SEEDED}"]}, "periodSeconds": 10,
                         "failureThreshold": 360},  # an hour to copy the bucket's entries
        "volumeMounts": [{"name": VOLUME, "mountPath": MOUNT}, {"name": "xla-cache", "mountPath": local}],
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "privileged": False,
                            "capabilities": {"drop": ["ALL"]}},
    }


def bucket_volume(bucket: Any, path: str, run_as: int) -> dict[str, Any]:
    return gcsfuse.bucket_volume(VOLUME, bucket, path, read_only=False, run_as=run_as)
