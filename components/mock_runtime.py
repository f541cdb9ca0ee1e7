"""Run the Pulumi program (__main__.py) under Pulumi's own mock runtime and record what it registers.

The real SDK, pulumi-gcp and pulumi-kubernetes classes run; only the engine is replaced: each registration is
recorded (type, name, parent, dependencies, inputs with secrets kept as markers) and answered with plausible
outputs (a cluster endpoint, a service-account email, a project number).
"""

from __future__ import annotations

import runpy
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.settings import ROOT as ROOT_RESOURCE
from pulumi.runtime.settings import get_root_resource
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "gke-inference"
SECRET = "[secret]"
UNKNOWN = "(known after apply)"
FAKE_PROJECT_NUMBER = "123456789012"


def redact(value: Any) -> Any:
    """Inputs as plain data; a Pulumi secret becomes '[secret]', whatever it wraps."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return SECRET
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Unknown) or value == rpc.UNKNOWN:
        return UNKNOWN
    return value


@dataclass
class Registration:
    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    dependencies: list[str]
    inputs: dict[str, Any]
    provider: str = ""


@dataclass
class Run:
    resources: list[Registration] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    invokes: list[str] = field(default_factory=list)

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str) -> Registration:
        found = self.of_type(type_)
        assert len(found) == 1, f"{len(found)} x {type_}"
        return found[0]

    def by_urn(self, urn: str) -> Registration | None:
        return next((r for r in self.resources if r.urn == urn), None)


class _Mocks(pulumi.runtime.Mocks):
    def __init__(self, run: Run):
        self.run = run

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        state = dict(args.inputs)
        if args.typ == "gcp:container/cluster:Cluster":
            state.update(endpoint="203.0.113.10", masterAuth={"clusterCaCertificate": "Q0EtUExBQ0VIT0xERVI="})
        elif args.typ == "gcp:serviceaccount/account:Account":
            state["email"] = f"{args.inputs['accountId']}@{args.inputs.get('project', 'p')}.iam.gserviceaccount.com"
        elif args.typ == "kubernetes:core/v1:Service":
            state["status"] = {"loadBalancer": {"ingress": [{"ip": "198.51.100.7"}]}}
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs):
        self.run.invokes.append(args.token)
        if args.token == "gcp:organizations/getProject:getProject":
            return {"number": FAKE_PROJECT_NUMBER, "projectId": args.args.get("projectId")}
        if args.token == "gcp:container/getCluster:getCluster":
            return {"name": args.args["name"], "endpoint": "203.0.113.20",
                    "masterAuths": [{"clusterCaCertificate": "Q0EtUExBQ0VIT0xERVI="}]}
        return {}


class _Monitor(MockMonitor):
    def __init__(self, mocks: _Mocks):
        super().__init__(mocks)
        self.run = mocks.run

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.run.resources.append(Registration(
                response.urn, request.type, request.name, request.parent, request.custom, list(request.dependencies),
                redact(rpc.deserialize_properties(request.object)), request.provider))
        return response

    def RegisterResourceOutputs(self, request):
        if "::pulumi:pulumi:Stack::" in request.urn:
            self.run.outputs = redact(rpc.deserialize_properties(request.outputs))
        return super().RegisterResourceOutputs(request)


def run_program(stack: str, config: dict[str, str], secret_keys: list[str]) -> Run:
    """Register the program for `stack` with `config` ({"ns:key": "value"}); raises what the program raises."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    run = Run()
    mocks = _Mocks(run)
    pulumi.runtime.set_all_config(config, secret_keys)
    ROOT_RESOURCE.set(None)  # a fresh stack resource per run, so outputs never carry over between runs in one process
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=True, monitor=_Monitor(mocks))
    _sync_await(run_pulumi_func(lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__pulumi_program__")))
    run.outputs = {key: _sync_await(_resolve(value)) for key, value in get_root_resource().outputs.items()}
    return run


async def _resolve(value: Any) -> Any:
    """A stack output as plain data, '[secret]' when the output is secret."""
    output = pulumi.Output.from_input(value)
    if await output.is_secret():
        return SECRET
    return redact(await output.future())
