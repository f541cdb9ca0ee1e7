"""Speed targets, measured (never asserted in timed tests): median wall time over repeated runs.

- `python -m profiles list …` as a whole process: target < 0.5 s
- loading the full default profile store in-process: target < 200 ms
- headroom: loading a 10,000-point store (the shipped rows repeated under other versions, in a temp
  dir, for timing only: never shipped) against the same 200 ms target, the size estimated curves will reach
- the estimator: a 10-point request-rate curve of one configuration (ShareGPT lengths): target < 2 s
- `make plan` / `make plan STACK=prod` (scripts/plan.py: the Pulumi program under the mock runtime, whole
  process, 5 runs): target < 3 s each
Exits 1 if a target is missed. Results also go to bench-results/bench.json.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RUNS = 15
LIST_CMD = [sys.executable, "-m", "profiles", "list", "--model", "meta-llama/Llama-3.3-70B-Instruct",
            "--pricing-model", "on-demand", "--target-ntpot-milliseconds", "100", "--format", "csv"]


def timed(fn, runs: int = RUNS) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def cli_once() -> None:
    subprocess.run(LIST_CMD, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def plan_once(stack: str):
    def run() -> None:
        subprocess.run([sys.executable, "scripts/plan.py", "--stack", stack, "--output-dir", tempfile.gettempdir()],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return run


def store_once() -> None:
    from profiles.store.store import ProfileStore

    ProfileStore.load()


def big_store_loader(tmp: Path, size: int = 10_000):
    from dataclasses import replace

    from profiles.store.store import ProfileStore
    from profiles.store.write import write_file

    shipped = ProfileStore.load().points()
    write_file(tmp / "timing-only.csv",
               [replace(shipped[i % len(shipped)], model_server_version=f"timing-{i}") for i in range(size)])
    return lambda: ProfileStore.load([tmp])


def estimator_curve() -> None:
    """A shipped curve of one configuration: its capacity, then 10 steady-state points to 200 % of it (target < 2 s)."""
    from profiles.catalog.catalog import default_catalog
    from profiles.estimator.curves import curve

    catalog = default_catalog()
    spec, shape = catalog.models["meta-llama/Llama-3.1-8B-Instruct"], catalog.shape("nvidia-h100-80gb", 1)
    assert len(curve(catalog, spec, shape, "bf16")) == 10


def main() -> int:
    results = []
    tmp = Path(tempfile.mkdtemp(prefix="bench-store-"))
    cases = (("profiles list (whole process)", cli_once, 0.5), ("load default profile store", store_once, 0.2),
             ("load store + 10,000 extra points", big_store_loader(tmp), 0.2),
             ("estimator: 10-point curve, Llama-3.1-8B on 1 x H100, ShareGPT", estimator_curve, 2.0),
             ("make plan STACK=dev (whole process)", plan_once("dev"), 3.0),
             ("make plan STACK=prod (whole process)", plan_once("prod"), 3.0))
    for name, fn, target in cases:
        fn()  # warm the page cache and .pyc files
        samples = timed(fn, 5 if name.startswith("make plan") else RUNS)
        median, worst = statistics.median(samples), max(samples)
        ok = median < target
        results.append({"name": name, "runs": len(samples), "median_s": round(median, 4), "max_s": round(worst, 4),
                        "target_s": target, "pass": ok})
        print(f"{name:38s} median {median * 1000:7.1f} ms  max {worst * 1000:7.1f} ms  "
              f"target < {target * 1000:.0f} ms  {'PASS' if ok else 'FAIL'}")
    shutil.rmtree(tmp)
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    (out / "bench.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0 if all(r["pass"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
