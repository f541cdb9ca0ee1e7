"""Issue #17 (a): nothing a user or a profile file supplies becomes YAML structure.

Manifests are rendered from hostile values (flags and a profile CSV whose Source/Source Id hold newlines and YAML);
the parsed document list must be exactly the objects the builder makes, every comment line one line."""

from __future__ import annotations

from dataclasses import replace

import pytest
import yaml

from profiles.checks import SYSTEM_NAMESPACES, load_yaml, namespace, object_path
from profiles.errors import UsageError
from profiles.store.store import ProfileStore
from profiles.store.write import write_file
from tests.support.cli import run_cli

MODEL, ACCEL = "meta-llama/Llama-3.1-8B-Instruct", "nvidia-l4"
EPOCH = {"SOURCE_DATE_EPOCH": "1795000000"}
INJECTED = "x\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pwned\n  namespace: kube-system\n---\n# "
EXPECTED = ["ServiceAccount", "Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy", "PodMonitoring"]


def _kinds(text: str) -> list[str]:
    return [d["kind"] for d in yaml.safe_load_all(text) if d]


def hostile_profiles(tmp_path):
    """The shipped curve for MODEL on L4, as a measured profile whose text columns carry YAML."""
    store = ProfileStore.load().where(model=MODEL, accelerator_type=ACCEL).select_versions()
    points = [replace(p, provenance="measured", source_id="s\r\n" + INJECTED, source=INJECTED + "\u2028 more",
                      derived=INJECTED) for c in store.curves() if c.head.provenance == "estimated" for p in c.points]
    write_file(tmp_path / "hostile.csv", points)
    return tmp_path


def test_profile_text_never_becomes_an_object(tmp_path):
    run = run_cli("manifests", "create", "--model", MODEL, "--accelerator-type", ACCEL, "--namespace", "llm",
                  "--profiles-dir", str(hostile_profiles(tmp_path)), env=EPOCH)
    assert run.returncode == 0, run.stderr
    assert "Basis: measured profile s x apiVersion: v1 kind: ConfigMap" in run.stdout  # the hostile curve was followed
    assert _kinds(run.stdout) == EXPECTED
    header = run.stdout.split("---\n", 1)[0]
    assert all(line.startswith("# ") for line in header.splitlines())
    docs = [d for d in yaml.safe_load_all(run.stdout) if d]
    assert {d["metadata"]["namespace"] for d in docs} == {"llm"}


@pytest.mark.parametrize("flags", [
    ["--namespace", "llm\napiVersion: v1\nkind: ConfigMap"],
    ["--namespace", "kube-system"],
    ["--namespace", "llm\n"],
    ["--name", "vllm\n"],
    ["--namespace", "LLM"],
    ["--namespace", "a" * 64],
    ["--name", "vllm\nkind: Secret"],
    ["--name", "x: y"],
    ["--model-bucket-uri", "gs://b/llama,uid=0,o=allow_other"],
    ["--model-bucket-uri", "gs://bucket/../other"],
    ["--model-bucket-uri", "gs://bucket/a\nkind: ConfigMap"],
    ["--model-bucket-uri", "gs://goog-bucket/x"],
    ["--model-bucket-uri", "gs://b\n/x"],
    ["--model", "meta-llama/Llama\napiVersion: v1"],
])
def test_hostile_flags_are_refused_with_one_line(flags):
    run = run_cli("manifests", "create", "--model", MODEL, "--accelerator-type", ACCEL, *flags, env=EPOCH)
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.startswith("ERROR: ") and run.stderr.count("\n") == 1, run.stderr
    assert "Traceback" not in run.stderr


def test_system_namespace_only_when_forced():
    assert namespace("llm") == "llm"
    for ns in SYSTEM_NAMESPACES:
        with pytest.raises(UsageError, match="system namespace"):
            namespace(ns)
        assert namespace(ns, allow_system=True) == ns
    run = run_cli("manifests", "create", "--model", MODEL, "--accelerator-type", ACCEL, "--namespace", "kube-system",
                  "--allow-system-namespace", env=EPOCH)
    assert run.returncode == 0 and _kinds(run.stdout) == EXPECTED


@pytest.mark.parametrize("path", ["a,b", "a/../b", "..", "a/./b", "/abs", "a//b", "a\nb", 'a"b', "x" * 1100])
def test_object_paths_refused(path):
    with pytest.raises(UsageError):
        object_path(path, "path")


def test_yaml_loader_refuses_aliases_and_duplicate_keys():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b]\n"
    with pytest.raises(UsageError, match="aliases"):
        load_yaml(bomb, "f.yaml")
    with pytest.raises(UsageError, match="duplicate key 'a'"):
        load_yaml("a: 1\na: 2\n", "f.yaml")
    assert load_yaml("a: [1, 2]\n", "f.yaml") == {"a": [1, 2]}
