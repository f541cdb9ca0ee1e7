"""Prompts of a requested token length: real text cut from the prompt corpus with the model's tokenizer.

The corpus (profiles/data/prompt_corpus.txt, prose written for this project) is tokenized once, with the
server's `/tokenize` or a local `tokenizer.json`; each prompt is a window of its token ids at a seeded
offset (wrapping around), decoded back to text. The load generator puts a per-request header
("Request 3.12: ") in front of every prompt so no two share a prefix block (vLLM's prefix cache would
otherwise skip their prefill); the header's tokens are taken off the body's length.
Decoding and re-tokenizing can move the count by a token or two; the harness records the server's
own `usage.prompt_tokens`, never the requested length.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from pathlib import Path

from profiles.catalog.csvdata import DATA_DIR
from profiles.errors import UsageError

CORPUS_PATH = DATA_DIR / "prompt_corpus.txt"
HEADER_SAMPLE = "Request 12.345: "  # a typical header, counted once


def header(stage: int, index: int) -> str:
    return f"Request {stage}.{index}: "

Decode = Callable[[list[int]], Awaitable[str]]


class PromptSource:
    """Token ids of the corpus plus a decoder; `prompt()` builds one prompt text."""

    def __init__(self, corpus_ids: list[int], header_tokens: int, decode: Decode):
        if len(corpus_ids) < 16:
            raise UsageError("prompt corpus: fewer than 16 tokens after tokenization; the tokenizer looks wrong")
        self.corpus_ids = corpus_ids
        self.header_tokens = header_tokens
        self._decode = decode

    async def body(self, length: int, rng: random.Random) -> str:
        """Text of about `length` tokens once the request header is in front of it."""
        body_len = max(1, length - self.header_tokens)
        start = rng.randrange(len(self.corpus_ids))
        ids = [self.corpus_ids[(start + k) % len(self.corpus_ids)] for k in range(body_len)]
        return (await self._decode(ids)).strip()


def corpus_text() -> str:
    return CORPUS_PATH.read_text(encoding="utf-8")


def local_source(tokenizer_path: str) -> PromptSource:
    """PromptSource from a local tokenizer.json (a file or a model directory holding one)."""
    try:
        from tokenizers import Tokenizer
    except ImportError:  # pragma: no cover - tokenizers is in requirements.txt
        raise UsageError("--tokenizer: the 'tokenizers' package is not installed") from None
    path = Path(tokenizer_path)
    file = path / "tokenizer.json" if path.is_dir() else path
    if not file.is_file():
        raise UsageError(f"--tokenizer: '{tokenizer_path}' is not a tokenizer.json file or a directory holding one")
    try:
        tok = Tokenizer.from_file(str(file))
    except Exception as exc:  # tokenizers raises a bare Exception on a bad file
        raise UsageError(f"--tokenizer: '{file}' could not be loaded ({exc})") from None

    async def decode(ids: list[int]) -> str:
        return tok.decode(ids)

    header = len(tok.encode(HEADER_SAMPLE, add_special_tokens=False).ids)
    return PromptSource(tok.encode(corpus_text(), add_special_tokens=False).ids, header, decode)
