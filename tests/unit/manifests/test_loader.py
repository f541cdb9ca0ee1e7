"""Issue #16 item 6: the weights-loader Job. Its script runs here against a stand-in huggingface_hub: it skips a
complete checkpoint, writes config.json last, and its pod fits the default system node."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from profiles.gke.allocatable import allocatable
from profiles.manifests import gcsfuse
from profiles.manifests.loader import CPU, EPHEMERAL_GIB, MEMORY_GIB, SCRIPT, deadline_s, loader_objects

FAKE_HUB = '''
import json, os
def snapshot_download(repo_id, local_dir, allow_patterns=None, ignore_patterns=None):
    with open(os.environ["CALLS"], "a") as f:
        f.write(json.dumps({"repo": repo_id, "allow": allow_patterns, "ignore": ignore_patterns}) + "\\n")
    names = ["config.json"] if allow_patterns else ["model-00001.safetensors", "tokenizer.json"]
    for name in names:
        open(os.path.join(local_dir, name), "w").close()
'''


def _run(tmp_path: Path, dest: Path) -> list[dict]:
    (tmp_path / "fake").mkdir(exist_ok=True)
    (tmp_path / "fake" / "huggingface_hub.py").write_text(FAKE_HUB)
    calls = tmp_path / "calls.jsonl"
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "fake"), "MODEL": "meta-llama/Llama-3.1-8B", "DEST": str(dest),
           "CALLS": str(calls)}
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in calls.read_text().splitlines()] if calls.exists() else []


def test_an_empty_bucket_is_filled_with_config_json_last(tmp_path):
    dest = tmp_path / "bucket"
    dest.mkdir()
    calls = _run(tmp_path, dest)
    assert [c["allow"] for c in calls] == [None, ["config.json"]]
    assert "config.json" in calls[0]["ignore"] and "original/*" in calls[0]["ignore"]
    assert (dest / "config.json").exists() and (dest / "model-00001.safetensors").exists()


def test_a_complete_checkpoint_is_skipped(tmp_path):
    dest = tmp_path / "bucket"
    dest.mkdir()
    (dest / "config.json").write_text("{}")
    assert _run(tmp_path, dest) == []


def test_the_job_writes_through_its_own_identity_and_reads_the_token_file():
    account, job = loader_objects("meta-llama/Llama-3.1-70B", "models", "llama", "llm", "img:1", False, 131.4)
    spec = job["spec"]["template"]["spec"]
    assert account["metadata"]["name"] == spec["serviceAccountName"] == "weights-loader"
    model = next(v for v in spec["volumes"] if v["name"] == "model")
    assert model["csi"]["readOnly"] is False and "only-dir:llama" in model["csi"]["volumeAttributes"]["mountOptions"]
    assert any(v.get("secret", {}).get("secretName") == "hf-secret" for v in spec["volumes"])
    assert spec["nodeSelector"] == {"gke-inference.dev/pool": "system"} and spec["restartPolicy"] == "Never"
    assert job["spec"]["activeDeadlineSeconds"] == deadline_s(131.4) >= 1800
    notes = job["spec"]["template"]["metadata"]["annotations"]
    assert notes["gke-gcsfuse/memory-limit"] == "0"  # Standard: unlimited


def test_on_autopilot_the_writer_sidecar_is_explicit_with_room_to_stage():
    _, job = loader_objects("meta-llama/Llama-3.1-8B", "models", "", "llm", "img:1", True, 15)
    notes = job["spec"]["template"]["metadata"]["annotations"]
    assert notes["gke-gcsfuse/ephemeral-storage-limit"] == f"{gcsfuse.LOADER_STAGING_GIB}Gi"
    assert "0" not in notes.values() and "nodeSelector" not in job["spec"]["template"]["spec"]


def test_the_loader_pod_fits_the_default_system_node():
    """e2-standard-4 (Compute Engine: 4 vCPU, 16 GB; stack default cluster.systemMachineType), boot disk 100 GB."""
    room = allocatable(4, 16, 100).for_pods(gcsfuse.GCSFUSE_SIDECAR)
    assert room.cpu_m >= CPU * 1000 and room.memory_mib >= MEMORY_GIB * 1024 and room.ephemeral_gib >= EPHEMERAL_GIB
