"""Issue #16 item 7: the TPU compile cache shared through the bucket. The sync sidecar's script runs here against
directories standing in for the bucket mount and the pod's emptyDir, with a local /health server."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

from profiles.manifests.xla_cache import SCRIPT, SEEDED, prefix
from tests.support.manifest_cases import case_objects


class _Health(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_seed_then_publish_without_overwriting(tmp_path):
    bucket, local = tmp_path / "bucket", tmp_path / "local"
    (bucket / "rank0").mkdir(parents=True)
    local.mkdir()
    (bucket / "rank0" / "graph-a").write_text("from the bucket")
    (bucket / "rank0" / "graph-c.part").write_text("a copy cut short")  # never taken for an entry
    server = HTTPServer(("127.0.0.1", 0), _Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    health = f"http://127.0.0.1:{server.server_port}/health"
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(bucket), str(local), health], stdout=subprocess.PIPE, text=True)
    try:
        assert "seeded 1 entries" in proc.stdout.readline()
        assert (local / "rank0" / "graph-a").read_text() == "from the bucket" and (local / SEEDED).exists()
        assert sorted(p.name for p in (local / "rank0").iterdir()) == ["graph-a"]  # no .part, nothing half-written
    finally:
        proc.kill()
        proc.wait()
    # vLLM compiled more (and rewrote graph-a locally); a second pod publishes only what the bucket lacks
    (local / "rank0" / "graph-b").write_text("compiled here")
    (local / "rank0" / "graph-a").write_text("changed locally")
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(bucket), str(local), health], stdout=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline(), proc.stdout.readline()]
        deadline = time.time() + 30
        while "published" not in lines[-1] and time.time() < deadline:
            lines.append(proc.stdout.readline())
        assert "published 1 new entries" in lines[-1]
    finally:
        proc.kill()
        proc.wait()
        server.shutdown()
    assert (bucket / "rank0" / "graph-b").read_text() == "compiled here"
    assert (bucket / "rank0" / "graph-a").read_text() == "from the bucket"  # never overwritten
    assert not (bucket / SEEDED).exists()


def test_the_cache_prefix_is_per_model_topology_and_image():
    assert prefix("meta-llama-llama-3-1-70b", "tpu-v6e-slice", "2x4", "0.32.0") == \
        "xla-cache/meta-llama-llama-3-1-70b/tpu-v6e-slice-2x4/0.32.0"


def test_vllm_keeps_its_pod_local_cache_and_a_native_sidecar_syncs_it():
    _, _, objects = case_objects("tpu-gcs-xla-bucket")
    spec = next(o for o in objects if o["kind"] == "Deployment")["spec"]["template"]["spec"]
    server = spec["containers"][0]
    env = {e["name"]: e.get("value") for e in server["env"]}
    assert env["VLLM_XLA_CACHE_PATH"] == "/var/cache/vllm-xla"  # per pod: no two replicas write one directory
    assert server["image"] == "us-central1-docker.pkg.dev/p/docker-hub/vllm/vllm-tpu:v0.32.0"
    (sync,) = spec["initContainers"]
    assert sync["restartPolicy"] == "Always" and sync["startupProbe"]["exec"]["command"][-1].endswith(SEEDED)
    bucket = next(v for v in spec["volumes"] if v["name"] == "xla-bucket")["csi"]
    assert bucket["readOnly"] is False
    assert "only-dir:xla-cache/llama/tpu-v6e-slice-2x4/0.32.0" in bucket["volumeAttributes"]["mountOptions"]
    model = next(v for v in spec["volumes"] if v["name"] == "model")["csi"]
    assert model["readOnly"] is True  # the weights stay read-only
    cache = next(v for v in spec["volumes"] if v["name"] == "gke-gcsfuse-cache")
    storage_class = next(o for o in objects if o["kind"] == "StorageClass")
    assert storage_class["parameters"] == {"type": "hyperdisk-balanced"}
    # cluster-scoped: named for this deployment, so two stacks on one cluster never own the same object
    deployment = next(o for o in objects if o["kind"] == "Deployment")["metadata"]
    assert cache["ephemeral"]["volumeClaimTemplate"]["spec"]["storageClassName"] == storage_class["metadata"]["name"]
    assert storage_class["metadata"]["name"].endswith(f"-{deployment['namespace']}-{deployment['name']}")
