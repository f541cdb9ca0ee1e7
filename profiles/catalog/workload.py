"""Request-length workloads: GIQ's ShareGPT length table as a seeded distribution, or fixed lengths.

GIQ's published profiles were measured with ShareGPT traffic whose lengths the GIQ overview page tabulates
(min / median / mean / P90 / P99 / max of input and output tokens). `SHAREGPT` reproduces that table
without the dataset: its quantile function passes exactly through min, median, P90, P99 and max, and
between those knots blends linear and geometric interpolation with one weight per side, solved so the
mean also matches. Sampling is by seeded inverse-CDF, so a seed always yields the same lengths.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace

# (quantile, tokens) knots from the GIQ overview page's ShareGPT table (seed 000/001, "Benchmarking").
_KNOT_QUANTILES = (0.0, 0.5, 0.9, 0.99, 1.0)
SHAREGPT_TABLE = {
    "input": {"min": 4, "median": 108, "mean": 226, "p90": 635, "p99": 887, "max": 1024},
    "output": {"min": 1, "median": 132, "mean": 195, "p90": 488, "p99": 778, "max": 1024},
}

# GIQ's use cases (gcloud --use-case); profiles compete only within one
USE_CASES = ("Advanced Customer Support", "Code Completion", "Text Summarization", "Chatbot (ShareGPT)",
             "Text Generation", "Code Generation", "Deep Research")


@dataclass(frozen=True)
class LengthDistribution:
    """A monotone quantile function through the table's knots whose mean equals the table's mean."""

    knots: tuple[float, ...]  # token counts at _KNOT_QUANTILES
    mean: float
    blend: float  # weight of linear vs geometric interpolation, solved for the mean

    @classmethod
    def from_table(cls, row: dict[str, float]) -> LengthDistribution:
        knots = (row["min"], row["median"], row["p90"], row["p99"], row["max"])
        linear, geometric = _segment_mean(knots, 1.0), _segment_mean(knots, 0.0)
        if not geometric <= row["mean"] <= linear:
            raise ValueError(f"mean {row['mean']} is outside what the knots allow ({geometric:.1f}..{linear:.1f})")
        blend = (row["mean"] - geometric) / (linear - geometric)
        return cls(knots=tuple(float(k) for k in knots), mean=float(row["mean"]), blend=blend)

    def quantile(self, u: float) -> float:
        """Token count at probability u in [0, 1]."""
        u = min(max(u, 0.0), 1.0)
        for i in range(len(_KNOT_QUANTILES) - 1):
            lo_q, hi_q = _KNOT_QUANTILES[i], _KNOT_QUANTILES[i + 1]
            if u <= hi_q:
                t = (u - lo_q) / (hi_q - lo_q)
                a, b = self.knots[i], self.knots[i + 1]
                return self.blend * (a + (b - a) * t) + (1 - self.blend) * a * (b / a) ** t
        return self.knots[-1]

    def sample(self, rng: random.Random) -> int:
        return max(1, round(self.quantile(rng.random())))


def _segment_mean(knots: tuple[float, ...], blend: float) -> float:
    """Exact mean of the quantile function for a given blend (closed form per segment)."""
    total = 0.0
    for i in range(len(knots) - 1):
        a, b, width = knots[i], knots[i + 1], _KNOT_QUANTILES[i + 1] - _KNOT_QUANTILES[i]
        geometric = a if a == b else (b - a) / math.log(b / a)
        total += width * (blend * (a + b) / 2 + (1 - blend) * geometric)
    return total


@dataclass(frozen=True)
class Sample:
    """One request of a dataset file: lengths, and the prompt text when the file gives one."""

    input_length: int
    output_length: int
    prompt: str | None = None


@dataclass(frozen=True)
class Workload:
    """Requests' lengths: the ShareGPT-like distribution, fixed lengths, or a dataset file's samples."""

    name: str
    input_dist: LengthDistribution | None = None
    output_dist: LengthDistribution | None = None
    input_length: int | None = None
    output_length: int | None = None
    samples: tuple[Sample, ...] = ()
    prompt_overhead: int = 0  # tokens the server adds to every prompt (a chat template's framing) that a client did not count

    @property
    def use_case(self) -> str:
        """The GIQ use case a curve of this workload is filed under ("" for fixed lengths or a file)."""
        return "Chatbot (ShareGPT)" if self.input_dist else ""

    def draw(self, count: int, seed: int) -> list[Sample]:
        """`count` requests, identical for the same seed (a file's samples in a seeded order, cycled)."""
        if self.prompt_overhead:  # lengths as the server prefills them; a file's prompt text no longer matches them
            extra = self.prompt_overhead
            return [Sample(s.input_length + extra, s.output_length) for s in replace(self, prompt_overhead=0).draw(count, seed)]
        rng = random.Random(seed)
        if self.samples:
            order = list(range(len(self.samples)))
            rng.shuffle(order)
            return [self.samples[order[k % len(order)]] for k in range(count)]
        if self.input_dist and self.output_dist:
            return [Sample(self.input_dist.sample(rng), self.output_dist.sample(rng)) for _ in range(count)]
        assert self.input_length and self.output_length
        return [Sample(self.input_length, self.output_length)] * count

    def longest_request(self) -> int:
        """Prompt + output tokens of the longest request this workload can send (what max-model-len must hold)."""
        if self.prompt_overhead:
            return self.prompt_overhead + replace(self, prompt_overhead=0).longest_request()
        if self.samples:
            return max(s.input_length + s.output_length for s in self.samples)
        if self.input_dist and self.output_dist:
            return round(self.input_dist.knots[-1] + self.output_dist.knots[-1])
        assert self.input_length and self.output_length
        return self.input_length + self.output_length

    def lengths(self, count: int, seed: int) -> list[tuple[int, int]]:
        return [(s.input_length, s.output_length) for s in self.draw(count, seed)]


def poisson_arrivals(rate: float, horizon_s: float, rng: random.Random, cap: int | None = None) -> list[float]:
    """Send offsets of a Poisson process at `rate` requests/s within [0, horizon).

    With a cap and no horizon (a fixed number of requests), the offsets are rescaled so the last one
    falls at cap / rate, as vllm bench serve does: the offered rate is then exactly `rate`, and the
    throughput of a short run does not carry the ±1/sqrt(N) noise of the sum of random gaps.
    """
    times, t = [], 0.0
    while True:
        t += rng.expovariate(rate)
        if t >= horizon_s or (cap is not None and len(times) >= cap):
            break
        times.append(t)
    if cap is not None and horizon_s == float("inf") and times:
        scale = (len(times) / rate) / times[-1]
        times = [x * scale for x in times]
    return times


SHAREGPT = Workload(
    name="sharegpt-like",
    input_dist=LengthDistribution.from_table(SHAREGPT_TABLE["input"]),
    output_dist=LengthDistribution.from_table(SHAREGPT_TABLE["output"]),
)


def fixed(input_length: int, output_length: int) -> Workload:
    return Workload(name=f"fixed-{input_length}/{output_length}", input_length=input_length, output_length=output_length)


def from_jsonl(path: str) -> Workload:
    """A dataset file: one JSON object per line with input_length (or prompt) and output_length."""
    import json
    from pathlib import Path

    from profiles import checks
    from profiles.errors import UsageError

    file = Path(path)
    try:
        lines = checks.read_text(file, "--dataset", limit=256 * 1024 * 1024).splitlines()
    except UsageError as exc:
        raise UsageError(f"{exc}; allowed: sharegpt-like or a .jsonl file") from None
    samples = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UsageError(f"--dataset: {path}:{number}: not JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            row = {}
        prompt, out = row.get("prompt"), row.get("output_length")
        inp = row.get("input_length", len(prompt.split()) if isinstance(prompt, str) else None)
        valid = isinstance(out, int) and out > 0 and isinstance(inp, int) and inp > 0
        if not valid or (prompt is not None and not isinstance(prompt, str)):
            raise UsageError(f"--dataset: {path}:{number}: needs a positive integer output_length and either a positive "
                             "integer input_length or a prompt string")
        samples.append(Sample(inp, out, prompt))
    if not samples:
        raise UsageError(f"--dataset: '{path}' has no requests")
    return Workload(name=f"dataset {file.name}", samples=tuple(samples))
