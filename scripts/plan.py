"""Offline plan for a stack: read Pulumi.<stack>.yaml, select the profile, print why and what it costs.

The Pulumi resource tree (mock runtime) joins this output when the Pulumi program lands (issue #5);
until then this prints the selection part of the plan only and says so.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from profiles.errors import UsageError  # noqa: E402
from profiles.recommend import recommend  # noqa: E402
from profiles.selection import Pricing, Targets  # noqa: E402

NS = "gke-inference:"


def load_config(stack: str) -> dict:
    path = ROOT / f"Pulumi.{stack}.yaml"
    if not path.exists():
        stacks = sorted(p.name.split(".")[1] for p in ROOT.glob("Pulumi.*.yaml"))
        raise UsageError(f"STACK: no stack file '{path.name}'; stacks: {', '.join(stacks)}")
    config = (yaml.safe_load(path.read_text()) or {}).get("config", {})
    return {k[len(NS):]: v for k, v in config.items() if k.startswith(NS)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev")
    args = parser.parse_args()
    try:
        cfg = load_config(args.stack)
        if "model" not in cfg:
            raise UsageError(f"Pulumi.{args.stack}.yaml: key '{NS}model' is required")
        auto = cfg.get("autoscaling") or {}
        rec = recommend(
            cfg["model"],
            Targets(cfg.get("targetNtpotMs"), cfg.get("targetTtftMs"), cfg.get("targetItlMs"),
                    cfg.get("targetCostPerMillionOutputTokens")),
            Pricing(cfg.get("pricingModel", "spot")),
            model_server=cfg.get("modelServer"), accelerator_type=cfg.get("acceleratorType"),
            hpa_metric=auto.get("metric", "vllm:num_requests_waiting"), peak_qps=auto.get("peakQps"),
            min_replicas=auto.get("minReplicas", 1), max_replicas=auto.get("maxReplicas"),
        )
    except UsageError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    c, p = rec.choice, rec.choice.point
    cost = (f"${c.cost.per_million_output:.3f}/M output, ${c.cost.per_million_input:.3f}/M input"
            if c.cost else "N/A (no published price or input throughput)")
    print(f"Stack {args.stack}: {p.model} with {p.model_server} {p.model_server_version}")
    print(f"Chosen profile : {p.instance_type}, {p.accelerator_count} x {p.accelerator_type}"
          f"{' ' + p.tpu_topology if p.tpu_topology else ''}, {p.precision} ({p.provenance}:{p.source_id})")
    print(f"Price          : {f'${c.price.usd_per_hour:,.2f}/h {c.price.pricing_model} in {c.price.region}' if c.price else 'N/A'}")
    print(f"Token cost     : {cost}")
    print(f"Replicas       : min {rec.hpa.min_replicas}, initial {rec.hpa.initial_replicas}, max {rec.hpa.max_replicas}")
    print(f"HPA            : {rec.hpa.reason}")
    print(f"Why            : {rec.explanation}")
    print("Resource plan  : not available yet - the Pulumi program and its mock-runtime plan land with issue #5.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
