"""Issue #17 (a, b): stack configs: names, paths and numbers checked; YAML read safely; secrets never echoed."""

from __future__ import annotations

import math

import pytest

from profiles.errors import UsageError
from profiles.stack.config import parse, read_stack_file

M = "meta-llama/Llama-3.1-8B"


@pytest.mark.parametrize("values, expected", [
    ({"namespace": "kube-system"}, "system namespace"),
    ({"namespace": "llm\nkind: ConfigMap"}, "gke-inference:namespace"),
    ({"modelSource": {"type": "gcs", "bucket": "b-1", "path": "llama,uid=0,o=allow_other"}}, "gke-inference:modelSource.path"),
    ({"modelSource": {"type": "gcs", "bucket": "b-1", "path": "../other"}}, "gke-inference:modelSource.path"),
    ({"modelSource": {"type": "gcs", "bucket": "b-1", "path": "a\nb"}}, "gke-inference:modelSource.path"),
    ({"modelSource": {"type": "gcs", "bucket": "goog-x"}}, "gke-inference:modelSource.bucket"),
    ({"autoscaling": {"peakQps": math.nan}}, "gke-inference:autoscaling.peakQps"),
    ({"autoscaling": {"peakQps": math.inf}}, "gke-inference:autoscaling.peakQps"),
    ({"autoscaling": {"peakQps": 1e309}}, "gke-inference:autoscaling.peakQps"),
    ({"autoscaling": {"minReplicas": 1000000}}, "gke-inference:autoscaling.minReplicas"),
    ({"autoscaling": {"maxReplicas": 10**12}}, "gke-inference:autoscaling.maxReplicas"),
    ({"targetCostPerMillionOutputTokens": math.nan}, "gke-inference:targetCostPerMillionOutputTokens"),
    ({"targetCostPerMillionOutputTokens": -math.inf}, "gke-inference:targetCostPerMillionOutputTokens"),
    ({"targetNtpotMs": 10**15}, "gke-inference:targetNtpotMs"),
])
def test_bad_values_are_refused(values, expected):
    with pytest.raises(UsageError) as err:
        parse({"model": M, **values}, "Pulumi.t.yaml")
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_system_namespace_allowed_only_when_asked():
    assert parse({"model": M, "namespace": "kube-system", "allowSystemNamespace": True}).namespace == "kube-system"


def test_misspelt_secret_key_never_echoes_the_token():
    with pytest.raises(UsageError) as err:
        parse({"model": M, "hfTokn": "hf_SECRETVALUE", "hfToken": 5}, "Pulumi.t.yaml")
    assert "hfTokn: unknown key" in str(err.value) and "SECRETVALUE" not in str(err.value)


@pytest.mark.parametrize("text, expected", [
    (b"config:\n  a: &a [x, x, x, x]\n  b: [*a, *a, *a, *a]\n", "aliases"),
    (b"config:\n  gke-inference:model: a\n  gke-inference:model: b\n", "duplicate key 'gke-inference:model'"),
    (b"- just\n- a list\n", "must be a map"),
    (b"config: [1, 2]\n", "config: must be a map"),
    (b"config:\n  gke-inference:model: \xff\xfe\n", "not UTF-8"),
    (b"config: {a: [}\n", "not valid YAML"),
])
def test_stack_files_read_safely(tmp_path, text, expected):
    path = tmp_path / "Pulumi.t.yaml"
    path.write_bytes(text)
    with pytest.raises(UsageError, match="Pulumi.t.yaml") as err:
        read_stack_file(path)
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_stack_file_must_be_a_regular_file(tmp_path):
    import os

    fifo = tmp_path / "Pulumi.t.yaml"
    os.mkfifo(fifo)
    with pytest.raises(UsageError, match="not a regular file"):
        read_stack_file(fifo)
