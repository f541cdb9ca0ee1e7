"""Offline plan for a stack: read Pulumi.<stack>.yaml, select the profile, print why, what it costs and the
Kubernetes objects the workload gets (from the same builder as `manifests create`).

The cloud resources (cluster, node pool, bucket, IAM) join this output with the Pulumi program (issue #5).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from profiles.errors import UsageError  # noqa: E402
from profiles.manifests import ManifestOptions, build, resolve  # noqa: E402
from profiles.manifests_pod import ModelSource, size_pod  # noqa: E402
from profiles.recommend import recommend  # noqa: E402
from profiles.selection import Pricing, Targets  # noqa: E402
from profiles.serving import ServingPlan, plan_serving  # noqa: E402
from profiles.stack_config import StackConfig, load  # noqa: E402


def model_source(cfg: StackConfig) -> ModelSource:
    source = cfg.modelSource
    return ModelSource(source.bucket, source.path) if source.type == "gcs" else ModelSource()


def workload_lines(plan: ServingPlan, source: ModelSource, namespace: str) -> list[str]:
    opts = resolve(plan, ManifestOptions(namespace=namespace, source=source))
    objects, size = build(plan, opts), size_pod(plan, source)
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    shape = plan.fit.shape
    where = f"{shape.accelerator_count} x {shape.accelerator_type} on {shape.machine_type}" + (
        f" ({shape.tpu_topology})" if shape.tpu_topology else "")
    return [
        f"Serving shape  : {where}, TP {plan.fit.tensor_parallel_size}, max-model-len {plan.fit.max_model_len}",
        f"Memory fit     : {plan.fit.describe()}",
        f"Image          : {plan.image.image}",
        f"Weights        : {'gs://' + str(source.bucket) + '/' + source.path if source.from_bucket else 'Hugging Face'}; "
        f"cache {size.cache_gib} GiB {'in memory' if size.cache_in_memory else 'on disk'}; "
        f"startup budget {size.startup_budget_s // 60} min",
        f"Workload       : {', '.join(o['kind'] + '/' + o['metadata']['name'] for o in objects)} in namespace {namespace}",
        f"vLLM args      : {' '.join(container['args'])}",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev")
    args = parser.parse_args()
    try:
        cfg = load(ROOT, args.stack)
        auto = cfg.autoscaling
        targets = Targets(cfg.targetNtpotMs, cfg.targetTtftMs, cfg.targetItlMs, cfg.targetCostPerMillionOutputTokens)
        pricing = Pricing(cfg.pricingModel)
        hpa = dict(hpa_metric=auto.metric, peak_qps=auto.peakQps, min_replicas=auto.minReplicas, max_replicas=auto.maxReplicas)
        accelerator = cfg.acceleratorType
        rec = None
        if not accelerator:  # auto-select: the cheapest profiled configuration meeting the targets
            rec = recommend(cfg.model, targets, pricing, model_server=cfg.modelServer,
                            model_server_version=cfg.modelServerVersion, **hpa)
            accelerator = rec.choice.point.accelerator_type
        plan = plan_serving(cfg.model, accelerator, cfg.modelServer, cfg.modelServerVersion, targets=targets,
                            pricing=pricing, **hpa)
        source = model_source(cfg)
        lines = workload_lines(plan, source, cfg.namespace)
    except UsageError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    print(f"Stack {args.stack}: {plan.model.model} with vllm {plan.image.version}")
    if rec is not None:
        c, p = rec.choice, rec.choice.point
        cost = (f"${c.cost.per_million_output:.3f}/M output, ${c.cost.per_million_input:.3f}/M input"
                if c.cost else "N/A (no published price or input throughput)")
        print(f"Chosen profile : {p.instance_type}, {p.accelerator_count} x {p.accelerator_type}"
              f"{' ' + p.tpu_topology if p.tpu_topology else ''}, {p.precision} ({p.provenance}:{p.source_id})")
        print(f"Price          : {f'${c.price.usd_per_hour:,.2f}/h {c.price.pricing_model} in {c.price.region}' if c.price else 'N/A'}")
        print(f"Token cost     : {cost}")
        print(f"Why            : {rec.explanation}")
    else:
        print(f"Accelerator    : {accelerator} (set in the stack)")
    print(f"Basis          : {plan.basis}")
    print(f"Replicas       : min {plan.hpa.min_replicas}, initial {plan.hpa.initial_replicas}, max {plan.hpa.max_replicas}")
    print(f"HPA            : {plan.hpa_note}")
    print("\n".join(lines))
    print("Cloud resources: not planned yet - the Pulumi program and its mock-runtime plan land with issue #5.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
