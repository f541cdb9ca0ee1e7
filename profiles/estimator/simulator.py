"""Discrete-event simulation of vLLM V1's continuous batching, fast enough for whole curves.

Each iteration schedules the running sequences' decode tokens first, then prompt chunks FCFS within the
`max-num-batched-tokens` budget (chunked prefill); new requests are admitted FCFS while fewer than
`max-num-seqs` run and their prompt fits the free KV cache. When the KV cache cannot take the next decode
token, the most recently admitted request is preempted and later recomputed (vLLM V1's recompute mode).
Stretches where nothing changes but every sequence decodes one token are advanced in one jump (step time at
the mean context), so the cost grows with requests, not tokens. Seeded, deterministic.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from profiles.estimator.step_time import StepModel


class _Req:
    __slots__ = ("arrival", "prompt", "output", "prefill_left", "ctx", "generated", "alloc", "first", "end")

    def __init__(self, arrival: float, prompt: int, output: int):
        self.arrival, self.prompt, self.output = arrival, prompt, output
        self.prefill_left, self.ctx, self.generated, self.alloc = prompt, 0, 0, 0
        self.first: float | None = None
        self.end: float | None = None


@dataclass(frozen=True)
class SimLimits:
    max_num_seqs: int
    max_num_batched_tokens: int
    kv_capacity_tokens: int


@dataclass(frozen=True)
class SimResult:
    requests: list[tuple[float, float, float, int, int]]  # (arrival, first token, end, prompt, output)
    makespan: float
    mean_waiting: float
    mean_running: float
    mean_kv_usage: float


def simulate(model: StepModel, limits: SimLimits, lengths: list[tuple[int, int]], arrivals: list[float] | None,
             concurrency: int | None = None) -> SimResult:
    """Serve `lengths` arriving at `arrivals` (open loop) or with `concurrency` in flight (closed loop)."""
    n = len(lengths)
    if arrivals is None:  # closed loop: the first `concurrency` at t=0, each completion releases the next
        arrivals = [0.0] * min(n, concurrency or n)
    pending = deque(_Req(a, p, o) for a, (p, o) in zip(arrivals, lengths, strict=False))
    backlog = deque(lengths[len(pending):])
    waiting: deque[_Req] = deque()
    running: list[_Req] = []
    finished: list[_Req] = []
    t = 0.0
    kv_used = 0
    areas = [0.0, 0.0, 0.0]  # waiting, running, kv tokens (time integrals)
    cap = limits.kv_capacity_tokens
    while len(finished) < n:
        while pending and pending[0].arrival <= t:
            waiting.append(pending.popleft())
        if not running and not waiting:
            t = pending[0].arrival
            continue
        while waiting and len(running) < limits.max_num_seqs and kv_used + waiting[0].prefill_left + 1 <= cap:
            r = waiting.popleft()
            r.alloc = r.prefill_left  # the whole prompt's blocks, reserved on admission
            kv_used += r.alloc
            running.append(r)
        if not running:  # the head prompt cannot fit even alone: the caller's memory check should prevent this
            raise ValueError("a prompt does not fit the KV cache")
        decoders = [r for r in running if r.prefill_left == 0]
        d = len(decoders)
        budget = limits.max_num_batched_tokens - d
        chunks: list[tuple[_Req, int]] = []
        for r in running:
            if r.prefill_left and budget > 0:
                take = min(r.prefill_left, budget)
                chunks.append((r, take))
                budget -= take
        ctx_sum = sum(r.ctx for r in decoders)
        if chunks or d == 0:
            k = 1
            tokens = d + sum(c for _, c in chunks)
            prior = sum(r.ctx for r, _ in chunks)
            pairs = ctx_sum + sum(c * (r.ctx + c / 2) for r, c in chunks)
            dt = model.step_time(tokens, ctx_sum + prior + sum(c for _, c in chunks), pairs)
        else:
            if kv_used + d > cap:  # no room for one more token each: preempt the newest, recompute it later
                victim = running.pop()
                kv_used -= victim.alloc
                victim.prefill_left, victim.ctx, victim.alloc = victim.prompt + victim.generated, 0, 0
                waiting.appendleft(victim)
                continue
            k = min(r.output - r.generated for r in decoders)
            k = min(k, (cap - kv_used) // d)
            one = model.step_time(d, ctx_sum, ctx_sum)
            if pending and len(running) < limits.max_num_seqs:
                k = min(k, max(1, math.ceil((pending[0].arrival - t) / one)))
            k = max(k, 1)
            mid = ctx_sum + d * (k - 1) / 2
            dt = k * model.step_time(d, mid, mid)
        areas[0] += len(waiting) * dt
        areas[1] += len(running) * dt
        areas[2] += (kv_used + d * k / 2) * dt
        t += dt
        for r in decoders:
            r.generated += k
            r.ctx += k
            r.alloc += k
        kv_used += d * k
        for r, c in chunks:
            r.prefill_left -= c
            r.ctx += c
            if r.prefill_left == 0:
                if r.first is None:
                    r.first = t
                if r.generated == 0:
                    r.generated = 1
                    r.ctx += 1
                    r.alloc += 1
                    kv_used += 1
        still = []
        for r in running:
            if r.prefill_left == 0 and r.generated >= r.output:
                r.end = t
                kv_used -= r.alloc
                finished.append(r)
                if backlog:
                    p, o = backlog.popleft()
                    pending.append(_Req(t, p, o))
            else:
                still.append(r)
        running = still
    first = min(r.arrival for r in finished)
    span = max(r.end for r in finished) - first
    busy = t - first if t > first else 1e-12
    return SimResult([(r.arrival, r.first, r.end, r.prompt, r.output) for r in finished], span,
                     areas[0] / busy, areas[1] / busy, min(areas[2] / busy / cap, 1.0))
