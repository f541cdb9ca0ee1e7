"""Offline plan for a stack: run the Pulumi program under Pulumi's mock runtime with Pulumi.<stack>.yaml and
print the chosen profile, why, what it costs, and the resource tree; write the full plan to plans/<stack>.yaml.

No cloud, no Pulumi CLI: the same __main__.py that `pulumi up` runs registers its resources with a recording
mock engine. Secrets (hfToken, kubeconfig) appear as [secret].
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pulumi  # noqa: E402

from components.mock_runtime import SECRET, run_program  # noqa: E402
from profiles.errors import UsageError  # noqa: E402
from profiles.manifests.pod import size_pod  # noqa: E402
from profiles.stack.config import GCP, NS, namespace, parse, parse_gcp, read_stack_file  # noqa: E402
from profiles.stack.plan import StackPlan, plan_stack  # noqa: E402
from profiles.stack.render import document, tree_lines  # noqa: E402

PLACEHOLDER = "offline-plan-placeholder"  # stands in for an encrypted value; only ever seen as [secret]


def mock_config(raw: dict) -> tuple[dict[str, str], list[str], str]:
    """Stack-file values as the engine passes them (strings, objects as JSON) and the hfToken state."""
    config, secrets, token = {}, [], "unset"
    for key, value in raw.items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[key], token = PLACEHOLDER, "secret" if key == NS + "hfToken" else token
            secrets.append(key)
        else:
            config[key] = value if isinstance(value, str) else json.dumps(value)
            token = "plaintext" if key == NS + "hfToken" else token
    return config, secrets, token


def _money(value: float | None, unit: str) -> str:
    return "N/A" if value is None else f"${value:,.3f}{unit}"


def summary_lines(stack: str, plan: StackPlan, token: str) -> list[str]:
    s, out = plan.serving, plan.outputs()
    shape, size = s.fit.shape, size_pod(plan.serving, plan.options.source)
    cost, per_hour = out["costPerMillionTokens"], out["costPerHour"]
    src = plan.cfg.modelSource
    weights = f"gs://{src.bucket}/{src.path}" if plan.options.source.from_bucket else "Hugging Face"
    lines = [f"Stack {stack}: {s.model.model} with vllm {s.image.version} on GKE {plan.cfg.cluster.mode} "
             f"'{plan.cluster_name}'{' (existing)' if plan.cfg.cluster.existing else ''} in {plan.gcp.project}/{plan.gcp.region}"]
    if plan.recommendation:
        lines.append(f"Why            : {plan.recommendation.explanation}")
    else:
        lines.append(f"Accelerator    : {shape.accelerator_type} (set in the stack)")
    lines += [
        f"Chosen profile : {shape.machine_type}, {shape.accelerator_count} x {shape.accelerator_type}"
        f"{' ' + shape.tpu_topology if shape.tpu_topology else ''}, {s.fit.precision}, source {out['profile']['source']}",
        f"Basis          : {s.basis}",
        f"Price          : {_money(per_hour['perReplica'], '/h')} per replica ({plan.cfg.pricingModel}, {plan.gcp.region}); "
        f"{_money(per_hour['atMinReplicas'], '/h')} at min, {_money(per_hour['atMaxReplicas'], '/h')} at max replicas",
        f"Token cost     : {_money(cost['output'], '/M output')}, {_money(cost['input'], '/M input')}",
        f"Capacity       : {plan.cfg.node_capacity}" + (f"; node pools: {', '.join(p.name for p in plan.pools)}" if plan.pools else
                                                      " (Autopilot provisions the nodes)"),
        f"Replicas       : min {s.hpa.min_replicas}, initial {s.hpa.initial_replicas}, max {s.hpa.max_replicas}",
        f"HPA            : {s.hpa_note}",
        f"Serving shape  : TP {s.fit.tensor_parallel_size}, max-model-len {s.fit.max_model_len}; {s.fit.describe()}",
        f"Weights        : {weights}; cache {size.cache_gib} GiB {'in memory' if size.cache_in_memory else 'on disk'}; "
        f"startup budget {size.startup_budget_s // 60} min",
        f"HF token       : {'[secret]' if token == 'secret' else 'not set' if plan.needs_hf_token else 'not needed (bucket)'}",
    ]
    if token == "unset" and plan.needs_hf_token:
        lines.append("Before up      : pulumi config set --secret hfToken <token>   (the plan used a placeholder)")
    lines += [f"Note           : {note}" for note in plan.notes]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--output-dir", default=str(ROOT / "plans"))
    args = parser.parse_args()
    source = f"Pulumi.{args.stack}.yaml"
    try:
        raw = read_stack_file(ROOT, args.stack)
        config, secrets, token = mock_config(raw)
        # an unset token is planned as if set (the summary says it is missing); `pulumi up` refuses it
        plan = plan_stack(parse(namespace(raw, NS), source), parse_gcp(namespace(raw, GCP), source),
                          "secret" if token == "unset" else token)
        if token == "unset" and plan.needs_hf_token:
            config[NS + "hfToken"], secrets = PLACEHOLDER, [*secrets, NS + "hfToken"]
        run = run_program(args.stack, config, secrets)
    except (UsageError, pulumi.RunError) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    records = [vars(r) for r in run.resources]
    print("\n".join(summary_lines(args.stack, plan, token)))
    print(f"\nResources ({len(records)}, offline plan under Pulumi's mock runtime):")
    print("\n".join(tree_lines(records)))
    out_dir = Path(args.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{args.stack}.yaml"
    target.write_text(document(args.stack, plan.outputs(), records, run.outputs))
    print(f"\nFull plan (every input, secrets as {SECRET}): {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
