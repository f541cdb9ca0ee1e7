"""Discrete-event simulation of vLLM V1's continuous batching, fast enough for whole curves past saturation.

Each iteration schedules the running sequences' decode tokens first, then prompt chunks FCFS within the
`max-num-batched-tokens` budget (chunked prefill); new requests are admitted FCFS while fewer than
`max-num-seqs` run and their prompt fits the free KV cache. When the KV cache cannot take the next decode
token, the most recently admitted request is preempted and later recomputed (vLLM V1's recompute mode).
Stretches where nothing changes but every sequence decodes one token are advanced in one jump (step time at
the mean context). Decoding sequences are tracked by offsets from one global decode counter and finish in a
heap, so a step costs O(log batch), not O(batch): 1024-sequence batches stay cheap. Seeded, deterministic.

The result keeps a cumulative timeline (output tokens, queue, batch and KV-cache integrals at each step end),
so a caller measures any window, e.g. the steady state between warm-up and drain (`steady_window`).
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from profiles.estimator.step_time import StepModel


class _Req:
    __slots__ = ("rid", "arrival", "prompt", "output", "prefill_left", "ctx", "generated", "alloc", "first", "end",
                 "admit", "g0", "c0", "a0", "live")

    def __init__(self, rid: int, arrival: float, prompt: int, output: int):
        self.rid, self.arrival, self.prompt, self.output = rid, arrival, prompt, output
        self.prefill_left, self.ctx, self.generated, self.alloc = prompt, 0, 0, 0
        self.first: float | None = None
        self.end: float | None = None
        self.admit: float | None = None
        self.g0 = self.c0 = self.a0 = 0  # decoder offsets: generated = G - g0, ctx = G + c0, alloc = G + a0
        self.live = 0  # bumped when a decoder is preempted: its heap entry goes stale


@dataclass(frozen=True)
class SimLimits:
    max_num_seqs: int
    max_num_batched_tokens: int
    kv_capacity_tokens: int


@dataclass(frozen=True)
class Window:
    """Rates and time averages over [start, end] of one simulation."""

    start: float
    end: float
    output_tps: float
    mean_waiting: float
    mean_running: float
    mean_kv_usage: float


@dataclass(frozen=True)
class SimResult:
    requests: list[tuple[float, float, float, int, int]]  # (arrival, first token, end, prompt, output)
    admits: list[float]  # first admission time of each request, same order
    makespan: float
    mean_waiting: float
    mean_running: float
    mean_kv_usage: float
    timeline: np.ndarray  # rows: step end time, cumulative output tokens, waiting·s, running·s, kv tokens·s
    kv_capacity_tokens: int
    gaps: np.ndarray  # per timeline entry: one iteration's seconds (the inter-token gap it gave)
    gap_tokens: np.ndarray  # per timeline entry: decode tokens that saw that gap (first tokens excluded)

    def window(self, start: float, end: float) -> Window:
        """Output tok/s and time-averaged queue, batch and KV use between two times (interpolated in steps)."""
        t, *cums = self.timeline
        span = max(end - start, 1e-12)
        out, wait, run, kv = (float(np.interp(end, t, c) - np.interp(start, t, c)) / span for c in cums)
        return Window(start, end, out, wait, run, min(kv / self.kv_capacity_tokens, 1.0))

    def token_itl(self, start: float = -math.inf, end: float = math.inf) -> dict[str, float]:
        """Inter-token latency over tokens, as `vllm bench serve` reports ITL (each gap between two streamed tokens is
        one sample), for the steps that ended in [start, end]: mean and p50, in seconds. A request's TPOT (its mean gap)
        weighs every request alike instead; in a burst the two differ by up to 2x."""
        t = self.timeline[0]
        mask = (t >= start) & (t <= end) & (self.gap_tokens > 0)
        gaps, weights = self.gaps[mask], self.gap_tokens[mask]
        if not weights.sum():
            return {"mean": 0.0, "p50": 0.0}
        order = np.argsort(gaps)
        cum = np.cumsum(weights[order])
        p50 = float(gaps[order][np.searchsorted(cum, cum[-1] / 2)])
        return {"mean": float((gaps * weights).sum() / weights.sum()), "p50": p50}

    def steady_window(self, warmup: float = 0.3) -> Window:
        """From the time `warmup` of the requests have finished to the last admission (after it the batch only drains)."""
        ends = sorted(e for _, _, e, _, _ in self.requests)
        start = ends[min(len(ends) - 1, int(warmup * len(ends)))]
        end = max(self.admits)
        if end <= start:  # everything admitted at once (a burst no larger than the batch): no steady state
            start, end = min(a for a, *_ in self.requests), max(ends)
        return self.window(start, end)


def simulate(model: StepModel, limits: SimLimits, lengths: list[tuple[int, int]], arrivals: list[float] | None,
             concurrency: int | None = None) -> SimResult:
    """Serve `lengths` arriving at `arrivals` (open loop) or with `concurrency` in flight (closed loop)."""
    n = len(lengths)
    if arrivals is None:  # closed loop: the first `concurrency` at t=0, each completion releases the next
        arrivals = [0.0] * min(n, concurrency or n)
    pending = deque(_Req(i, a, p, o) for i, (a, (p, o)) in enumerate(zip(arrivals, lengths, strict=False)))
    backlog = deque(lengths[len(pending):])
    waiting: deque[_Req] = deque()
    running: dict[int, _Req] = {}  # admission order: the last one is preempted first
    prefilling: list[_Req] = []
    heap: list[tuple[int, int, int, _Req]] = []  # (G at which it finishes, rid, live, request)
    finished: list[_Req] = []
    t, big_g, d, sum_c0, kv_used = 0.0, 0, 0, 0, 0
    cum = [0.0, 0.0, 0.0, 0.0]  # output tokens, waiting·s, running·s, kv·s
    line: list[tuple[float, float, float, float, float]] = [(0.0, 0.0, 0.0, 0.0, 0.0)]
    gaps: list[tuple[float, float]] = [(0.0, 0.0)]  # per line entry: one iteration's seconds, decode tokens given it
    cap, seqs, budget_max = limits.kv_capacity_tokens, limits.max_num_seqs, limits.max_num_batched_tokens
    next_id = len(pending)
    while len(finished) < n:
        while pending and pending[0].arrival <= t:
            waiting.append(pending.popleft())
        if not running and not waiting:
            t = pending[0].arrival
            line.append((t, *cum))
            gaps.append((0.0, 0.0))
            continue
        while waiting and len(running) < seqs and kv_used + waiting[0].prefill_left + 1 <= cap:
            r = waiting.popleft()
            r.alloc = r.prefill_left  # the whole prompt's blocks, reserved on admission
            kv_used += r.alloc
            if r.admit is None:
                r.admit = t
            running[r.rid] = r
            prefilling.append(r)
        if not running:  # the head prompt cannot fit even alone: the caller's memory check should prevent this
            raise ValueError("a prompt does not fit the KV cache")
        budget = budget_max - d
        chunks: list[tuple[_Req, int]] = []
        for r in prefilling:
            if budget <= 0:
                break
            take = min(r.prefill_left, budget)
            chunks.append((r, take))
            budget -= take
        ctx_sum = d * big_g + sum_c0
        if chunks or d == 0:
            k = 1
            chunk_tokens = sum(c for _, c in chunks)
            prior = sum(r.ctx for r, _ in chunks)
            pairs = ctx_sum + sum(c * (r.ctx + c / 2) for r, c in chunks)
            dt = model.step_time(d + chunk_tokens, ctx_sum + prior + chunk_tokens, pairs)
        else:
            while heap and heap[0][2] != heap[0][3].live:  # drop stale entries of preempted decoders
                heapq.heappop(heap)
            if kv_used + d > cap:  # no room for one more token each: preempt the newest, recompute it later
                _, victim = running.popitem()
                if victim.prefill_left:
                    prefilling.remove(victim)
                else:
                    victim.generated, victim.alloc = big_g - victim.g0, big_g + victim.a0
                    d, sum_c0, victim.live = d - 1, sum_c0 - victim.c0, victim.live + 1
                kv_used -= victim.alloc
                victim.prefill_left, victim.ctx, victim.alloc = victim.prompt + victim.generated, 0, 0
                waiting.appendleft(victim)
                continue
            k = min(heap[0][0] - big_g, (cap - kv_used) // d)
            one = model.step_time(d, ctx_sum, ctx_sum)
            if pending and len(running) < seqs:
                k = min(k, max(1, math.ceil((pending[0].arrival - t) / one)))
            k = max(k, 1)
            chunk_tokens = 0
            mid = ctx_sum + d * (k - 1) / 2
            dt = k * model.step_time(d, mid, mid)
        produced = decoded = d * k  # decoded: tokens of sequences already decoding (first tokens are not a gap)
        cum[1] += len(waiting) * dt
        cum[2] += len(running) * dt
        cum[3] += (kv_used + d * k / 2) * dt
        t += dt
        big_g += k
        kv_used += d * k
        for r, c in chunks:
            r.prefill_left -= c
            r.ctx += c
            if r.prefill_left == 0:
                if r.first is None:
                    r.first = t
                if r.generated == 0:
                    r.generated, r.ctx, r.alloc = 1, r.ctx + 1, r.alloc + 1
                    kv_used += 1
                    produced += 1
                r.g0, r.c0, r.a0 = big_g - r.generated, r.ctx - big_g, r.alloc - big_g
                heapq.heappush(heap, (r.g0 + r.output, r.rid, r.live, r))
                d, sum_c0 = d + 1, sum_c0 + r.c0
        if chunks:
            prefilling = [r for r in prefilling if r.prefill_left]
        cum[0] += produced
        line.append((t, *cum))
        gaps.append((dt / k, decoded))
        while heap and heap[0][0] <= big_g:
            _, _, live, r = heapq.heappop(heap)
            if live != r.live:
                continue
            r.end = t
            kv_used -= big_g + r.a0
            d, sum_c0 = d - 1, sum_c0 - r.c0
            del running[r.rid]
            finished.append(r)
            if backlog:
                p, o = backlog.popleft()
                pending.append(_Req(next_id, t, p, o))
                next_id += 1
    first = min(r.arrival for r in finished)
    busy = t - first if t > first else 1e-12
    return SimResult([(r.arrival, r.first, r.end, r.prompt, r.output) for r in finished], [r.admit for r in finished],
                     max(r.end for r in finished) - first, cum[1] / busy, cum[2] / busy, min(cum[3] / busy / cap, 1.0),
                     np.array(line).T, cap, *np.array(gaps).T)
