"""A benchmark run: stages at given request rates / concurrencies, or an automatic sweep past saturation.

`--sweep auto` first sends a burst (every request at once) to measure the saturation request rate, then
spreads Poisson stages from 15 % to 150 % of it. If the top stage still gains throughput (the burst was
too small to fill the server's batch), it adds stages at 1.5x the top rate until throughput stops growing,
three extra stages at most.
"""

from __future__ import annotations

import asyncio
import math
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from profiles.catalog.workload import Sample, Workload
from profiles.errors import UsageError
from profiles.harness.client import (
    Clock,
    Endpoint,
    Stage,
    StageResult,
    check_endpoint,
    client,
    run_stage,
    scrub,
    server_source,
)
from profiles.harness.prompts import PromptSource, local_source
from profiles.harness.records import RequestRecord, StageSummary, summarize
from profiles.harness.setup import ServerSetup, reported_setup

SWEEP_LOW, SWEEP_HIGH = 0.15, 1.5
PLATEAU_GAIN = 1.08  # the top stage "still grows" when it beats the one below by more than 8 %
MAX_EXTENSIONS = 3
MAX_PROMPTS_PER_STAGE = 2000


@dataclass(frozen=True)
class RunConfig:
    endpoint: Endpoint
    workload: Workload
    request_rates: tuple[float, ...] = ()
    concurrencies: tuple[int, ...] = ()
    sweep_auto: bool = False
    sweep_points: int = 8
    probe_requests: int = 64
    duration_s: float = 120.0
    warmup_s: float = 10.0
    seed: int = 0
    tokenizer: str | None = None
    num_prompts: int | None = None  # request-rate stages send exactly this many (no time horizon)
    workers: int = 1  # load-generator processes (profiles/harness/workers.py)
    server_setup: ServerSetup = ServerSetup()  # what the user states (--server-* flags); wins over what the server reports

    def rate_stage(self, index: int, rate: float) -> Stage:
        if self.num_prompts:
            return Stage(index, "request_rate", rate, math.inf, self.warmup_s, max_requests=self.num_prompts)
        return Stage(index, "request_rate", rate, self.duration_s, self.warmup_s)


@dataclass
class RunResult:
    server_version: str
    probe: tuple[StageResult, StageSummary] | None
    stages: list[tuple[StageResult, StageSummary]] = field(default_factory=list)
    reported_setup: ServerSetup = field(default_factory=ServerSetup)  # what /metrics and /v1/models said
    partial: StageResult | None = None  # the stage a stop request cut short: its requests are kept, not its summary
    failed_stages: list[dict] = field(default_factory=list)  # {"stage", "load", "reason"} of stages that could not run
    stopped: bool = False  # a stop request (SIGINT/SIGTERM) ended the run early

    @property
    def records(self) -> list[RequestRecord]:
        """Every request of the run, the probe's (stage 0) first, a partial stage's last."""
        done = [r for result, _ in ([self.probe] if self.probe else []) + self.stages for r in result.records]
        return done + (self.partial.records if self.partial else [])


STAGE_FAULTS = (httpx.HTTPError, UsageError, TimeoutError, ValueError)  # the server went away or answered nonsense


def sweep_rates(saturation_qps: float, points: int) -> list[float]:
    """`points` request rates spread linearly from 15 % to 150 % of the saturation rate (3 significant digits)."""
    if points == 1:
        return [float(f"{saturation_qps:.3g}")]
    step = (SWEEP_HIGH - SWEEP_LOW) / (points - 1)
    return [float(f"{saturation_qps * (SWEEP_LOW + i * step):.3g}") for i in range(points)]


def still_growing(summaries: list[StageSummary]) -> bool:
    """True when the top rate's throughput beats the previous stage's by more than PLATEAU_GAIN. Never past a
    client-limited stage: a higher rate would only measure the client harder (profiles/harness/lag.py)."""
    if len(summaries) < 2 or summaries[-2].output_tps <= 0 or summaries[-1].client_limited:
        return False
    return summaries[-1].output_tps > PLATEAU_GAIN * summaries[-2].output_tps


class Progress:
    """A one-line progress bar on stderr (a plain line per stage when stderr is not a terminal)."""

    def __init__(self, stream=None, width: int = 30):
        self.stream, self.width = stream or sys.stderr, width  # sys.stderr when called (redirections apply)
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.label, self.total, self.done, self.failed = "", 0, 0, 0

    def start(self, label: str, total: int) -> None:
        self.label, self.total, self.done, self.failed = label, max(total, 1), 0, 0
        self._draw()

    def update(self, rec: RequestRecord) -> None:
        self.done += 1
        self.failed += not rec.ok
        if self.tty:
            self._draw()

    def finish(self, summary: StageSummary) -> None:
        short = f" ({summary.short_outputs} cut short by the server)" if summary.short_outputs else ""
        line = (f"{self.label}: {summary.completed}/{summary.requests} ok{short}, {summary.failed + summary.timed_out} failed, "
                f"{summary.output_tps:.1f} output tok/s, p50 TTFT {_ms(summary.p('ttft'))}, p50 NTPOT {_ms(summary.p('ntpot'))}")
        if summary.client_limited:
            line += f"\n  CLIENT-LIMITED: {summary.client_limited}; this stage measured the load generator, not the server"
        self.stream.write(("\r\033[K" if self.tty else "") + line + "\n")
        self.stream.flush()

    def warn(self, text: str) -> None:
        self.stream.write(("\r\033[K" if self.tty else "") + f"WARNING: {text}\n")
        self.stream.flush()

    def _draw(self) -> None:
        if not self.tty:
            return
        filled = min(self.width, int(self.width * self.done / self.total))
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r\033[K{self.label} [{bar}] {self.done}/~{self.total}" + (f" {self.failed} failed" if self.failed else ""))
        self.stream.flush()


def _ms(value: float | None) -> str:
    return "N/A" if value is None else f"{value:.1f} ms"


async def _bodies(source: PromptSource, samples: list[Sample], rng: random.Random) -> list[str]:
    """Prompt text per request: the dataset's own prompt, else corpus text of the sampled length."""
    sem = asyncio.Semaphore(16)
    offsets = [rng.random() for _ in samples]  # drawn up front: gather's order must not change the prompts

    async def one(sample: Sample, u: float) -> str:
        if sample.prompt is not None:
            return sample.prompt
        async with sem:
            return await source.body(sample.input_length, random.Random(u))

    return list(await asyncio.gather(*(one(s, u) for s, u in zip(samples, offsets, strict=True))))


async def _stage(http, cfg: RunConfig, source: PromptSource, stage: Stage, clock: Clock, progress: Progress,
                 label: str, stop: asyncio.Event | None = None, grace_s: float = 10.0) -> tuple[StageResult, StageSummary]:
    if stage.max_requests is not None:
        expected = stage.max_requests
    elif stage.load_type == "request_rate":
        horizon = stage.warmup_s + stage.duration_s
        expected = math.ceil(stage.value * horizon * 1.3 + 8)
    else:
        expected = math.ceil(stage.value * 8)
    count = min(expected, MAX_PROMPTS_PER_STAGE)
    samples = cfg.workload.draw(count, seed=cfg.seed * 1000 + stage.index)
    lengths = [(s.input_length, s.output_length) for s in samples]
    rng = random.Random(cfg.seed * 7919 + stage.index)
    prompts = await _bodies(source, samples, rng)
    progress.start(label, expected if stage.load_type != "request_rate" or stage.max_requests
                   else round(stage.value * (stage.warmup_s + stage.duration_s)))
    if http.workers is not None:  # --workers N: the same schedule, sent by N processes (profiles/harness/workers.py)
        from profiles.harness.workers import run_stage_workers

        result = await run_stage_workers(http.workers, cfg.endpoint, stage, lengths, prompts, clock, rng, progress.update)
    else:
        result = await run_stage(http, cfg.endpoint, stage, lengths, prompts, clock, rng, progress.update, stop, grace_s)
    measured = [r for r in result.records if not r.warmup]
    window = (min((r.send for r in measured), default=0.0), max((r.end or 0.0 for r in measured), default=0.0))
    summary = summarize(stage.index, stage.load_type, stage.value, result.records, result.gauges.means(*window),
                        result.loop_lag)
    progress.finish(summary)
    if result.gauges.dropped:
        progress.warn(f"{label}: {result.gauges.dropped} server metric sample(s) were negative or not finite; left out")
    return result, summary


async def run(cfg: RunConfig, progress: Progress | None = None,
              on_stage: Callable[[RunResult], None] = lambda r: None, stop: asyncio.Event | None = None,
              grace_s: float = 10.0) -> RunResult:
    """Run every stage of `cfg` against its endpoint. `on_stage` sees the result after every finished stage (to write
    it); `stop` ends the run early: sending stops, requests in flight get `grace_s`, the partial stage is kept apart.
    A stage that cannot run (the server went away, a malformed tokenizer reply) fails with the ones after it."""
    progress = progress or Progress()
    stop = stop or asyncio.Event()
    async with client() as http:
        version = await check_endpoint(http, cfg.endpoint)
        source = local_source(cfg.tokenizer) if cfg.tokenizer else await server_source(http, cfg.endpoint)
        if cfg.workers > 1:
            from profiles.harness.workers import WorkerPool

            http.workers = WorkerPool(cfg.workers)
            await http.workers.warm()
        clock = Clock()
        result = RunResult(server_version=version, probe=None, reported_setup=await reported_setup(
            http, cfg.endpoint.base_url, cfg.endpoint.metrics_url, cfg.endpoint.model))

        async def one(stage: Stage, label: str) -> bool:
            """Run a stage into `result`; False when the run must end (stopped, or the stage could not run)."""
            if stop.is_set():
                result.stopped = True
                return False
            try:
                done = await _stage(http, cfg, source, stage, clock, progress, label, stop, grace_s)
            except STAGE_FAULTS as exc:
                reason = f"{type(exc).__name__}: {exc}" if not isinstance(exc, UsageError) else str(exc)
                result.failed_stages.append({"stage": stage.index, "load": _label(stage, 0).split(": ", 1)[1],
                                             "reason": scrub(reason)[:300]})
                return False
            if done[0].interrupted:
                result.partial, result.stopped = done[0], True
                return False
            if stage.index == 0:
                result.probe = done
            else:
                result.stages.append(done)
            on_stage(result)
            return True

        index = 0
        if cfg.sweep_auto:
            probe = Stage(0, "request_rate", float("inf"), duration_s=0.0, max_requests=cfg.probe_requests)
            if not await one(probe, f"probe: burst of {cfg.probe_requests}"):
                return result
            rates = sweep_rates(max(result.probe[1].qps, 1e-3), cfg.sweep_points)
            stages = [cfg.rate_stage(i + 1, r) for i, r in enumerate(rates)]
        else:
            stages = [cfg.rate_stage(i + 1, r) for i, r in enumerate(cfg.request_rates)]
            stages += [Stage(len(stages) + i + 1, "concurrency", c, cfg.duration_s, cfg.warmup_s)
                       for i, c in enumerate(cfg.concurrencies)]
        for position, stage in enumerate(stages):
            index = stage.index
            if not await one(stage, _label(stage, len(stages))):
                _fail_rest(result, stages[position + 1:])
                return result
        extensions = 0
        while cfg.sweep_auto and extensions < MAX_EXTENSIONS and still_growing([s for _, s in result.stages]):
            extensions += 1
            index += 1
            top = result.stages[-1][0].stage.value
            stage = cfg.rate_stage(index, float(f"{top * 1.5:.3g}"))
            if not await one(stage, _label(stage, index) + " (extending: throughput still growing)"):
                return result
    return result


def _fail_rest(result: RunResult, stages: list[Stage]) -> None:
    """The stages after a failed one did not run (after a stop request they were never meant to)."""
    why = "not run: the run was stopped" if result.stopped else "not run: an earlier stage could not run"
    result.failed_stages += [{"stage": s.index, "load": _label(s, 0).split(": ", 1)[1], "reason": why} for s in stages]


def _label(stage: Stage, total: int) -> str:
    unit = "req/s" if stage.load_type == "request_rate" else "in flight"
    return f"stage {stage.index}/{total}: {stage.value:g} {unit}"
