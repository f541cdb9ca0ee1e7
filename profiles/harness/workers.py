"""`--workers N`: one stage's load spread over N worker processes, one seeded schedule, one set of results.

One event loop carries ~600 req/s of 64-token streams on this repository's 2-core machine (README, client
capacity); an endpoint of many replicas streams more than one Python process can read. As inference-perf does,
the parent draws the whole schedule (the same Poisson offsets, prompts and lengths, from the same seeds, as a
single-process run) and hands request k to worker k mod N; each worker runs its own event loop and HTTP
connections, sleeps until each of its requests is due on the shared monotonic clock (CLOCK_MONOTONIC is one
clock for every process), and returns its records and its loop-lag samples. The parent scrapes the server's
metrics meanwhile and merges the records in schedule order, so summaries, files and the client-limited check
(profiles/harness/lag.py) see one stage. A concurrency stage splits its in-flight count over the workers.
Workers are spawned once per run (`spawn`: no inherited event loop or sockets) and warmed before the first stage.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import random
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

from profiles.catalog.workload import poisson_arrivals
from profiles.harness.client import Clock, Endpoint, Stage, StageResult, client, scrape, send
from profiles.harness.lag import LagMonitor
from profiles.harness.prompts import header
from profiles.harness.records import RequestRecord

LEAD_S = 0.25  # the stage starts this long after the parent hands out the schedule (pickling, worker wake-up)


def _ready() -> bool:
    return True


class WorkerPool:
    def __init__(self, workers: int):
        self.workers = workers
        self.executor = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))

    async def warm(self) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(self.executor, _ready) for _ in range(self.workers)))

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


def _schedule(stage: Stage, rng: random.Random) -> list[float]:
    """The same offsets run_stage draws for a request-rate stage."""
    horizon = stage.warmup_s + stage.duration_s
    return ([0.0] * stage.max_requests if stage.value == float("inf") and stage.max_requests
            else poisson_arrivals(stage.value, horizon, rng, stage.max_requests))


def _work(endpoint: Endpoint, stage: Stage, lengths: list[tuple[int, int]], prompts: list[str], t0: float, start: float,
          due: list[tuple[int, float]], slots: int, worker: int, workers: int) -> tuple[list[RequestRecord], list[float]]:
    """One worker process: its share of the stage; returns its records and loop-lag samples."""
    return asyncio.run(_work_async(endpoint, stage, lengths, prompts, t0, start, due, slots, worker, workers))


async def _work_async(endpoint, stage, lengths, prompts, t0, start, due, slots, worker, workers):
    clock = Clock()
    clock.t0 = t0  # the parent's time zero: one timeline for every process
    records: list[RequestRecord] = []
    monitor = LagMonitor().start()
    horizon = stage.warmup_s + stage.duration_s

    def new_record(k: int, scheduled: float | None) -> tuple[RequestRecord, str]:
        i, o = lengths[k % len(lengths)]
        rec = RequestRecord(stage=stage.index, index=k, send=0.0, input_length=i, output_length=o, scheduled=scheduled)
        records.append(rec)
        return rec, header(stage.index, k) + prompts[k % len(prompts)]

    async def tracked(rec: RequestRecord, prompt: str) -> None:
        rec.loop_lag = monitor.latest
        await send(http, endpoint, prompt, rec, clock)
        rec.warmup = rec.send - start < stage.warmup_s

    async with client() as http:
        if stage.load_type == "request_rate":
            tasks = []
            for k, offset in due:
                delay = start + offset - clock()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(tracked(*new_record(k, start + offset))))
            await asyncio.gather(*tasks)
        else:
            counter = iter(range(worker, 10**9, workers))  # worker w sends indices w, w + N, w + 2N, …
            delay = start - clock()
            if delay > 0:
                await asyncio.sleep(delay)

            async def loop() -> None:
                while clock() - start < horizon:
                    k = next(counter)
                    if stage.max_requests is not None and k >= stage.max_requests:
                        return
                    await tracked(*new_record(k, None))

            await asyncio.gather(*(loop() for _ in range(slots)))
    await monitor.stop()
    return records, monitor.samples


async def run_stage_workers(pool: WorkerPool, endpoint: Endpoint, stage: Stage, lengths: list[tuple[int, int]],
                            prompts: list[str], clock: Clock, rng: random.Random,
                            on_done: Callable[[RequestRecord], None] = lambda r: None) -> StageResult:
    """run_stage's result, the load sent by the pool's worker processes."""
    result = StageResult(stage, [])
    n = pool.workers
    stop = asyncio.Event()
    scraper = scrape_http = None
    if endpoint.metrics_url:
        interval = min(1.0, max(0.25, stage.duration_s / 40))
        scrape_http = client()
        scraper = asyncio.create_task(scrape(scrape_http, endpoint.metrics_url, result.gauges, clock, stop, interval))
    start = clock() + LEAD_S
    if stage.load_type == "request_rate":
        schedule = list(enumerate(_schedule(stage, rng)))
        shares = [(schedule[w::n], 0) for w in range(n)]
    else:
        slots = int(stage.value)
        shares = [([], slots // n + (w < slots % n)) for w in range(n)]
    loop = asyncio.get_running_loop()
    try:
        done = await asyncio.gather(*(loop.run_in_executor(pool.executor, _work, endpoint, stage, lengths, prompts, clock.t0,
                                                           start, due, slots, w, n)
                                      for w, (due, slots) in enumerate(shares) if due or slots))
    finally:
        stop.set()
        if scraper:
            with contextlib.suppress(Exception):
                await scraper
            await scrape_http.aclose()
    for records, lag in done:
        result.records.extend(records)
        result.loop_lag.extend(lag)
    result.records.sort(key=lambda r: (r.index, r.send))
    for rec in result.records:
        on_done(rec)
    return result
