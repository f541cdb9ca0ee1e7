"""Is the client the limit? Send delay against the schedule and event-loop lag, per request and per stage.

A request-rate stage draws its Poisson schedule up front; each request records when it was due (`scheduled`)
and when its bytes were handed to the socket layer (`send`). A load generator that keeps up sends within a
millisecond or two of the schedule; one that cannot (CPU-bound, a blocked loop, too few workers) sends late,
and the server sees a lower rate than the stage claims. A monitor task sleeps LAG_INTERVAL_S at a time and
records how late it wakes up: the loop's lag, which also delays reading replies and so inflates TTFT and ITL.

A stage is **client-limited** when its median send delay exceeds 10 ms (inference-perf's health bound for its
`schedule_delay`) or its p90 loop lag exceeds 20 ms. A few late sends alone (the OS descheduling the client on a
shared machine) do not flag a stage; the p90 send delay is recorded alongside. Such a stage measured the
client, not the server: it is marked in the console, summary.json and profile.csv, and neither the inflection
point nor `--sweep auto` reads it as the server's saturation.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence

from profiles.catalog.stats import distribution

LAG_INTERVAL_S = 0.005
SEND_DELAY_P50_MS = 10.0
LOOP_LAG_P90_MS = 20.0


class LagMonitor:
    """Samples the event loop's wake-up lag every LAG_INTERVAL_S while running; `latest` is the newest sample (s)."""

    def __init__(self, interval_s: float = LAG_INTERVAL_S):
        self.interval_s = interval_s
        self.samples: list[float] = []
        self.latest = 0.0
        self._task: asyncio.Task | None = None

    def start(self) -> LagMonitor:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            due = time.monotonic() + self.interval_s
            await asyncio.sleep(self.interval_s)
            self.latest = max(time.monotonic() - due, 0.0)
            self.samples.append(self.latest)


def send_delays(records: Sequence) -> list[float]:
    return [max(r.send - r.scheduled, 0.0) for r in records if r.scheduled is not None and r.send]


def client_health(records: Sequence, loop_lag_s: Sequence[float]) -> tuple[dict, dict, str]:
    """Of a stage's RequestRecords: (send-delay distribution in ms, loop-lag distribution in ms, why the stage is client-limited or '')."""
    delay = distribution(send_delays(records))
    lag = distribution(list(loop_lag_s))
    reasons = []
    if delay["p50"] is not None and delay["p50"] > SEND_DELAY_P50_MS:
        reasons.append(f"median send {delay['p50']:.1f} ms behind schedule (bound {SEND_DELAY_P50_MS:g} ms)")
    if lag["p90"] is not None and lag["p90"] > LOOP_LAG_P90_MS:
        reasons.append(f"p90 event-loop lag {lag['p90']:.1f} ms (bound {LOOP_LAG_P90_MS:g} ms)")
    return delay, lag, "; ".join(reasons)
