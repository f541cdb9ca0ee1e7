"""Issue #17 (e): who may reach the server: NetworkPolicy peers, LoadBalancer source ranges, an API key Secret, 0644."""

from __future__ import annotations

import os
import stat

import pytest
import yaml

from profiles.errors import UsageError
from profiles.stack.config import parse
from tests.support.cli import run_cli

BASE = ("manifests", "create", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--accelerator-type", "nvidia-l4",
        "--namespace", "llm")


def objects(*flags: str) -> dict[str, dict]:
    run = run_cli(*BASE, *flags)
    assert run.returncode == 0, run.stderr
    return {d["kind"]: d for d in yaml.safe_load_all(run.stdout) if d}


def test_network_policy_admits_only_the_namespace_prometheus_and_what_is_configured():
    default = objects()["NetworkPolicy"]["spec"]["ingress"][0]["from"]
    assert default == [{"podSelector": {}},
                       {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "gmp-system"}}}]
    peers = objects("--allow-from-namespace", "apps", "--allow-from-pod-label", "app=gateway",
                    "--allow-from-cidr", "10.1.2.3/16")["NetworkPolicy"]["spec"]["ingress"][0]["from"]
    assert peers[2:] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "apps"}}},
                         {"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "gateway"}}},
                         {"ipBlock": {"cidr": "10.1.0.0/16"}}]


def test_load_balancer_requires_source_ranges():
    run = run_cli(*BASE, "--service-type", "LoadBalancer")
    assert run.returncode == 2 and "--load-balancer-source-range" in run.stderr and run.stderr.count("\n") == 1
    found = objects("--service-type", "LoadBalancer", "--load-balancer-source-range", "203.0.113.0/24")
    assert found["Service"]["spec"]["loadBalancerSourceRanges"] == ["203.0.113.0/24"]
    assert found["Service"]["spec"]["externalTrafficPolicy"] == "Local"
    assert {"ipBlock": {"cidr": "203.0.113.0/24"}} in found["NetworkPolicy"]["spec"]["ingress"][0]["from"]


def test_api_key_comes_from_a_secret_never_the_command_line():
    run = run_cli(*BASE, "--api-key-secret", "vllm-api-key")
    deployment = next(d for d in yaml.safe_load_all(run.stdout) if d and d["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "VLLM_API_KEY", "valueFrom": {"secretKeyRef": {"name": "vllm-api-key", "key": "api-key"}}} in container["env"]
    assert not any("api-key" in a for a in container["args"])
    assert "kubectl create secret generic vllm-api-key --from-literal=api-key=" in run.stdout


@pytest.mark.parametrize("flags", [["--allow-from-cidr", "10.0.0.0"], ["--allow-from-cidr", "10.0.0.0/33"],
                                   ["--allow-from-pod-label", "app"], ["--allow-from-pod-label", "a=b\nc"],
                                   ["--allow-from-namespace", "Apps"], ["--api-key-secret", "k\nkind: x"],
                                   ["--service-type", "LoadBalancer", "--load-balancer-source-range", "anywhere"]])
def test_bad_exposure_flags(flags):
    run = run_cli(*BASE, *flags)
    assert run.returncode == 2 and run.stderr.startswith("ERROR: ") and run.stderr.count("\n") == 1


def test_stack_exposure():
    with pytest.raises(UsageError, match="needs exposure.loadBalancerSourceRanges"):
        parse({"model": "meta-llama/Llama-3.1-8B", "serviceType": "LoadBalancer"})
    cfg = parse({"model": "meta-llama/Llama-3.1-8B", "serviceType": "LoadBalancer",
                 "exposure": {"loadBalancerSourceRanges": ["203.0.113.9/24"], "allowPodLabels": {"app": "gw"},
                              "apiKeySecret": "vllm-api-key"}})
    assert cfg.exposure.spec().load_balancer_source_ranges == ("203.0.113.0/24",)
    with pytest.raises(UsageError, match="exposure.allowCidrs"):
        parse({"model": "meta-llama/Llama-3.1-8B", "exposure": {"allowCidrs": ["x"]}})


def test_manifest_file_is_0644(tmp_path):
    target = tmp_path / "m.yaml"
    assert run_cli(*BASE, "--output-path", str(target)).returncode == 0
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask
