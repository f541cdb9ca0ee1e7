"""The offline plan as a reviewer reads it: the summary (chosen profile, why, cost, HPA, shape), a resource tree
(type, name, key inputs) for the terminal, and a complete, deterministic YAML document (every input, secrets as
'[secret]') for snapshots and PR diffs."""

from __future__ import annotations

from typing import Any

import yaml

from profiles.serving.sizing import Fit
from profiles.stack.plan import StackPlan


def _money(value: float | None, unit: str) -> str:
    return "N/A" if value is None else f"${value:,.3f}{unit}"


def summary_lines(stack: str, plan: StackPlan, token: str) -> list[str]:
    """What `make plan` prints above the resource tree; `token` is the hfToken state as the stack file has it."""
    s, out, size = plan.serving, plan.outputs(), plan.pod
    shape = s.fit.shape
    cost, per_hour = out["costPerMillionTokens"], out["costPerHour"]
    src, cfg = plan.options.source, plan.cfg
    weights = f"gs://{src.bucket}/{src.path}" if src.from_bucket else "Hugging Face"
    needs_token = plan.hf_secret is not None
    lines = [f"Stack {stack}: {s.model.model} with {s.server.name} {s.image.version} on GKE {cfg.cluster.mode} "
             f"'{plan.cluster.name}'{' (existing)' if cfg.cluster.existing else ''} in {plan.gcp.project}/{plan.gcp.region}"]
    if plan.choice:
        lines.append(f"Why            : {plan.choice.explanation}")
    else:
        lines.append(f"Accelerator    : {shape.accelerator_type} (set in the stack)")
    lines += [
        f"Chosen profile : {shape.machine_type}, {shape.accelerator_count} x {shape.accelerator_type}"
        f"{' ' + shape.tpu_topology if shape.tpu_topology else ''}, {s.fit.precision}, source {out['profile']['source']}",
        f"Basis          : {s.basis}",
        f"Price          : {_money(per_hour['perReplica'], '/h')} per replica ({cfg.pricingModel}, {plan.gcp.region}); "
        f"{_money(per_hour['atMinReplicas'], '/h')} at min, {_money(per_hour['atMaxReplicas'], '/h')} at max replicas",
        f"Token cost     : {_money(cost['output'], '/M output')}, {_money(cost['input'], '/M input')}",
        f"Capacity       : {cfg.node_capacity}" + (f"; node pools: {', '.join(p.name for p in plan.cluster.pools)}"
                                                  if plan.cluster.pools else " (Autopilot provisions the nodes)"),
        f"Replicas       : min {s.hpa.min_replicas}, initial {s.hpa.initial_replicas}, max {s.hpa.max_replicas}",
        f"HPA            : {s.hpa_note}",
        f"Serving shape  : TP {s.fit.tensor_parallel_size}, max-model-len {s.fit.max_model_len}; {s.fit.describe()}",
        f"vLLM setup     : {setup_line(s.fit)} (the chosen profile's, rendered as its arguments)",
        f"Weights        : {weights}{' (filled by Job weights-loader)' if plan.loader else ''}; cache {size.cache_gib} GiB "
        f"{size.cache_where}; "
        f"startup budget {size.startup_budget_s // 60} min",
        f"HF token       : {'[secret]' if token == 'secret' else 'not set' if needs_token else 'not needed (bucket)'}",
    ]
    if token == "unset" and needs_token:
        lines.append("Before up      : pulumi config set --secret hfToken <token>   (the plan used a placeholder)")
    lines += [f"Note           : {note}" for note in plan.notes]
    return lines


KEY_INPUTS: dict[str, tuple[str, ...]] = {  # dotted input paths shown in the tree, per resource type
    "gcp:projects/service:Service": ("service",),
    "gcp:container/cluster:Cluster": ("location", "enableAutopilot", "releaseChannel.channel", "deletionProtection",
                                      "privateClusterConfig.enablePrivateNodes", "workloadIdentityConfig.workloadPool"),
    "gcp:container/nodePool:NodePool": ("nodeConfig.machineType", "nodeLocations", "autoscaling.totalMinNodeCount",
                                        "autoscaling.totalMaxNodeCount", "nodeCount", "placementPolicy",
                                        "nodeConfig.guestAccelerators", "nodeConfig.spot", "nodeConfig.flexStart",
                                        "nodeConfig.reservationAffinity.values", "upgradeSettings.strategy"),
    "gcp:serviceaccount/account:Account": ("accountId",),
    "gcp:projects/iAMMember:IAMMember": ("role", "member"),
    "gcp:storage/bucket:Bucket": ("name", "location", "publicAccessPrevention", "uniformBucketLevelAccess"),
    "gcp:storage/bucketIAMMember:BucketIAMMember": ("bucket", "role", "member", "condition.title"),
    "gcp:artifactregistry/repository:Repository": ("repositoryId", "location", "mode"),
    "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember": ("repository", "role", "member"),
    "gcp:compute/routerNat:RouterNat": ("region", "sourceSubnetworkIpRangesToNat"),
    "pulumi:providers:kubernetes": ("kubeconfig",),
    "kubernetes:core/v1:Secret": ("metadata.namespace", "stringData"),
    "kubernetes:apps/v1:Deployment": ("metadata.namespace", "spec.replicas", "spec.template.spec.containers.0.image",
                                      "spec.template.spec.containers.0.resources.limits",
                                      "spec.template.spec.nodeSelector"),
    "kubernetes:core/v1:Service": ("metadata.namespace", "spec.type"),
    "kubernetes:batch/v1:Job": ("metadata.namespace", "spec.activeDeadlineSeconds", "spec.template.spec.containers.0.image"),
    "kubernetes:storage.k8s.io/v1:StorageClass": ("provisioner", "parameters.type"),
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": ("spec.minReplicas", "spec.maxReplicas", "spec.metrics.0.pods"),
}


def dig(value: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return None
    return value


def _brief(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()
    return str(value)


def _label(path: str) -> str:
    return [p for p in path.split(".") if not p.isdigit()][-1]


def _key(record: dict) -> tuple:
    return (record["type"], record["name"])


def tree_lines(records: list[dict]) -> list[str]:
    """One line per resource, children indented under their component, key inputs after the name."""
    by_parent: dict[str, list[dict]] = {}
    urns = {r["urn"] for r in records}
    for record in records:
        parent = record["parent"] if record["parent"] in urns else ""
        by_parent.setdefault(parent, []).append(record)
    lines: list[str] = []

    def walk(parent: str, depth: int) -> None:
        for record in sorted(by_parent.get(parent, []), key=_key):
            shown = [f"{_label(path)}={_brief(v)}"
                     for path in KEY_INPUTS.get(record["type"], ()) if (v := dig(record["inputs"], path)) is not None]
            lines.append(f"{'  ' * depth}+ {record['type']}  {record['name']}" + (f"  ({', '.join(shown)})" if shown else ""))
            walk(record["urn"], depth + 1)

    walk("", 0)
    return lines


def _sorted(value: Any) -> Any:
    """Mappings in key order: registration order varies between runs, the document must not."""
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def document(stack: str, summary: dict[str, Any], records: list[dict], outputs: dict[str, Any]) -> str:
    """plans/<stack>.yaml: the summary, every resource (sorted, with all inputs) and the stack outputs."""
    urn_names = {r["urn"]: f"{r['type']}::{r['name']}" for r in records}
    resources = [{"type": r["type"], "name": r["name"], "parent": urn_names.get(r["parent"], "stack"),
                  "dependsOn": sorted(urn_names[d] for d in r["dependencies"] if d in urn_names),
                  "inputs": _sorted(r["inputs"])} for r in sorted(records, key=_key)]
    return yaml.safe_dump({"stack": stack, "summary": summary, "resources": resources, "outputs": _sorted(outputs)},
                          sort_keys=False, width=120, allow_unicode=True)


def setup_line(fit: Fit) -> str:
    """The profiled setup the Deployment reproduces, in vLLM's flag names."""
    quant = "--quantization=fp8 (on load)" if fit.quantization == "on-load" else f"weights as stored ({fit.precision})"
    return (f"{quant}, kv-cache-dtype {fit.kv_cache_dtype}, max-num-seqs {fit.max_num_seqs}, max-num-batched-tokens "
            f"{fit.max_num_batched_tokens}, prefix caching {'on' if fit.prefix_caching else 'off'}")
