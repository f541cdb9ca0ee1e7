"""Pulumi.yaml declarations match the typed stack config; the shipped stacks use known keys; the PR workflow
previews every stack."""

from __future__ import annotations

import yaml

from profiles.stack.config import StackConfig
from tests.support.cli import ROOT

UNDECLARABLE = {"cluster", "modelSource", "autoscaling", "maintenance", "exposure", "image",  # objects and floats
                "targetCostPerMillionOutputTokens"}
PULUMI_TYPES = {"string", "integer", "boolean", "array"}


def test_pulumi_yaml_declares_every_scalar_key_with_a_valid_type():
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["name"] == "gke-inference" and project["runtime"]["options"]["virtualenv"] == ".venv"
    declared = project["config"]
    assert set(declared) == set(StackConfig.model_fields) - UNDECLARABLE
    for key, decl in declared.items():
        assert set(decl) <= {"type", "items", "description", "secret", "default"}, key
        assert decl["type"] in PULUMI_TYPES and decl.get("description"), key
        assert (decl["type"] == "array") == ("items" in decl), key
    assert declared["hfToken"]["secret"] is True


def test_shipped_stack_files_use_only_known_keys():
    for stack in ("dev", "prod"):
        config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
        for key in config:
            ns, name = key.split(":", 1)
            assert ns in ("gcp", "gke-inference"), key
            assert ns == "gcp" or name in StackConfig.model_fields, key


def test_pr_workflow_previews_every_stack():
    workflow = yaml.safe_load((ROOT / ".github/workflows/preview.yml").read_text())
    stacks = sorted(p.name.split(".")[1] for p in ROOT.glob("Pulumi.*.yaml"))
    jobs = workflow["jobs"]
    for job in ("offline-plan", "pulumi-preview"):
        assert sorted(jobs[job]["strategy"]["matrix"]["stack"]) == stacks
    action = next(s for s in jobs["pulumi-preview"]["steps"] if s.get("uses", "").startswith("pulumi/actions@"))
    assert action["with"]["command"] == "preview" and action["with"]["comment-on-pr"] is True
    assert any("make plan STACK=" in s.get("run", "") for s in jobs["offline-plan"]["steps"])
    assert all("@" in s["uses"] for job in jobs.values() for s in job["steps"] if "uses" in s), "pin action versions"
