"""A real vLLM (CPU build) on 127.0.0.1 serving a tiny random-weight Llama, for tests and the demo run.

No model can be downloaded here, so the model is built offline: a BPE tokenizer trained with `tokenizers`
on the harness's own prompt corpus and a 4-layer Llama (hidden 256, 4 heads of 64) with random weights,
both saved with `save_pretrained`. The server is a child process in its own process group and is always
stopped by its PID (SIGTERM, then SIGKILL), also when the caller fails.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from profiles.catalog.csvdata import DATA_DIR

CORPUS = DATA_DIR / "prompt_corpus.txt"
SERVED_NAME = "tiny-llama"
CHAT_TEMPLATE = "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}assistant:"


def build_tiny_model(out: Path, vocab_size: int = 2048, layers: int = 4) -> Path:
    """Tokenizer + random-weight Llama in `out` (skipped when already built)."""
    if (out / "config.json").exists() and (out / "tokenizer.json").exists():
        return out
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    out.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<unk>", "<s>", "</s>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS.read_text(encoding="utf-8").splitlines(), trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", bos_token="<s>", eos_token="</s>")
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(out)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=tok.get_vocab_size(), hidden_size=256, intermediate_size=512,
                         num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=4, head_dim=64,
                         max_position_embeddings=2048, bos_token_id=1, eos_token_id=2, torch_dtype="float32")
    LlamaForCausalLM(config).save_pretrained(out)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class VllmServer:
    """`python -m vllm.entrypoints.openai.api_server` on 127.0.0.1; use as a context manager."""

    def __init__(self, model_dir: Path, log_path: Path, max_num_seqs: int = 4, max_model_len: int = 1024,
                 served_name: str = SERVED_NAME, port: int | None = None, startup_timeout_s: float = 300):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.startup_timeout_s = startup_timeout_s
        self.argv = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(model_dir),
                     "--served-model-name", served_name, "--host", "127.0.0.1", "--port", str(self.port),
                     "--dtype", "float32", "--gpu-memory-utilization", "0.5", "--max-model-len", str(max_model_len),
                     "--max-num-seqs", str(max_num_seqs)]
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> VllmServer:
        # The engine computes on the last core only; the API server and the load generator share the rest, so
        # the client's work does not slow the engine's step and runs repeat within a few percent.
        last = (os.cpu_count() or 2) - 1
        env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1", "VLLM_CPU_OMP_THREADS_BIND": str(last), "VLLM_LOGGING_LEVEL": "WARNING",
               "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "VLLM_NO_USAGE_STATS": "1",
               "DO_NOT_TRACK": "1", "TOKENIZERS_PARALLELISM": "false"}
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        log.close()
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"vLLM exited with {self.proc.returncode}; log tail:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                pass
            time.sleep(1)
        raise TimeoutError(f"vLLM not healthy after {self.startup_timeout_s:.0f} s; log tail:\n{self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM the server's process group by PID, SIGKILL after 20 s."""
        if self.proc is None or self.proc.poll() is not None:
            return
        pgid = os.getpgid(self.proc.pid)
        os.killpg(pgid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            self.proc.wait(timeout=10)
