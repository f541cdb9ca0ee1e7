"""`make demo-benchmark`: the README's sample run, end to end on this machine's CPU.

Builds the tiny random-weight Llama, serves it with the real vLLM on 127.0.0.1 (`--max-num-seqs 4`),
runs `python -m profiles benchmark run --sweep auto` against it and keeps the plot, CSV and summary in
docs/benchmark-sample/. The server is stopped by PID at the end, also on failure.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from profiles.harness.local_vllm import SERVED_NAME, VllmServer, build_tiny_model  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmark-sample"))
    parser.add_argument("--duration", default="20s")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="demo-benchmark-"))
    try:
        model = build_tiny_model(work / "tiny-llama")
        with VllmServer(model, work / "vllm.log", max_num_seqs=4) as server:
            argv = [sys.executable, "-m", "profiles", "benchmark", "run", "--endpoint", server.url, "--model", SERVED_NAME,
                    "--metrics-url", f"{server.url}/metrics", "--sweep", "auto", "--sweep-points", "8", "--probe-requests", "32",
                    "--duration", args.duration, "--warmup", "2s", "--input-length", "128", "--output-length", "64",
                    "--target-ntpot-milliseconds", "40", "--output", str(work / "run"), "--seed", "1"]
            proc = subprocess.run(argv, cwd=ROOT)
            if proc.returncode:
                return proc.returncode
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for name in ("plot.png", "profile.csv", "summary.json"):
            shutil.copy(work / "run" / name, out / name)
        print(f"sample written to {out}")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
