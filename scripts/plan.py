"""`make plan`: the Pulumi program under Pulumi's mock runtime for one stack file, offline. Prints the chosen
profile, why, what it costs and the resource tree; writes every input of every resource to plans/<stack>.yaml.
Secrets (hfToken, kubeconfig) appear as [secret]."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pulumi  # noqa: E402

from components.mock_runtime import SECRET, offline_plan  # noqa: E402
from profiles.errors import UsageError  # noqa: E402
from profiles.files import write_atomically  # noqa: E402
from profiles.stack.render import document, summary_lines, tree_lines  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev", help="plans Pulumi.<STACK>.yaml beside the program")
    parser.add_argument("--stack-file", type=Path, help="plans this stack file instead (its name gives the stack)")
    parser.add_argument("--output-dir", default=str(ROOT / "plans"))
    args = parser.parse_args()
    stack_file = args.stack_file or ROOT / f"Pulumi.{args.stack}.yaml"
    stack = stack_file.name.removeprefix("Pulumi.").removesuffix(".yaml")
    try:
        run, token = offline_plan(stack_file)
    except (UsageError, pulumi.RunError) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    records = [vars(r) for r in run.resources]
    print("\n".join(summary_lines(stack, run.plan, token)))
    print(f"\nResources ({len(records)}, offline plan under Pulumi's mock runtime):")
    print("\n".join(tree_lines(records)))
    out_dir = Path(args.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{stack}.yaml"
    write_atomically(target, document(stack, run.plan.outputs(), records, run.outputs))
    print(f"\nFull plan (every input, secrets as {SECRET}): {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
