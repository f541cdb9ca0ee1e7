"""Run the Pulumi program (__main__.py) under Pulumi's own mock runtime and record what it registers.

The real SDK, pulumi-gcp and pulumi-kubernetes classes run; only the engine is replaced: each registration is
recorded (type, name, parent, dependencies, inputs with secrets kept as markers) and answered with plausible
outputs (a cluster endpoint, a service-account email, a project number). The stack plan the program computed
comes back with the run, so the offline plan (`make plan`) prints it without planning a second time.
Not a component: it lives beside them because it imports Pulumi, which profiles/ never does.
"""

from __future__ import annotations

import asyncio
import json
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

from profiles.stack.config import NS, namespace, parse, read_stack_file

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "gke-inference"
SECRET = "[secret]"
UNKNOWN = "(known after apply)"
FAKE_PROJECT_NUMBER = "123456789012"
PLACEHOLDER = "offline-plan-placeholder"  # stands in for an encrypted value; only ever seen as [secret]


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
    plan: Any = None  # the program's StackPlan (its module global `plan`)

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
        if args.token == "gcp:storage/getBucketObject:getBucketObject":  # the weights preflight: present
            return {"bucket": args.args.get("bucket"), "name": args.args.get("name"), "md5hash": "bW9jaw=="}
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
    _ensure_event_loop()
    run = Run()
    mocks = _Mocks(run)
    pulumi.runtime.set_all_config(config, secret_keys)
    ROOT_RESOURCE.set(None)  # a fresh stack resource per run, so outputs never carry over between runs in one process
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=True, monitor=_Monitor(mocks))
    program: dict[str, Any] = {}
    _sync_await(run_pulumi_func(lambda: program.update(runpy.run_path(str(ROOT / "__main__.py"), run_name="__pulumi_program__"))))
    run.plan = program.get("plan")
    run.outputs = {key: _sync_await(_resolve(value)) for key, value in get_root_resource().outputs.items()}
    return run


def _ensure_event_loop() -> None:
    """Pulumi's synchronous helpers use the thread's current event loop; after an `asyncio.run` there is none."""
    try:
        asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())


async def _resolve(value: Any) -> Any:
    """A stack output as plain data, '[secret]' when the output is secret."""
    output = pulumi.Output.from_input(value)
    if await output.is_secret():
        return SECRET
    return redact(await output.future())


def engine_config(raw: dict[str, Any], hf_token_key: str) -> tuple[dict[str, str], list[str], str]:
    """Stack-file values as the engine passes them (strings, objects as JSON), the secret keys, and the hfToken
    state as written: secret, plaintext or unset."""
    config, secrets, token = {}, [], "unset"
    for key, value in raw.items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[key], token = PLACEHOLDER, "secret" if key == hf_token_key else token
            secrets.append(key)
        else:
            config[key] = value if isinstance(value, str) else json.dumps(value)
            token = "plaintext" if key == hf_token_key else token
    return config, secrets, token


def offline_plan(stack_file: Path) -> tuple[Run, str]:
    """The program run for a Pulumi.<stack>.yaml, and its hfToken state. An unset token that the stack needs is
    planned with a placeholder secret (the summary says so; `pulumi up` refuses it); UsageError or pulumi.RunError
    (one line) when the stack is refused."""
    stack = stack_file.name.removeprefix("Pulumi.").removesuffix(".yaml")
    raw = read_stack_file(stack_file)
    config, secrets, token = engine_config(raw, NS + "hfToken")
    source = parse(namespace(raw, NS), stack_file.name).modelSource
    if token == "unset" and (source.type == "huggingface" or source.loader == "job"):
        config[NS + "hfToken"], secrets = PLACEHOLDER, [*secrets, NS + "hfToken"]
    return run_program(stack, config, secrets), token
