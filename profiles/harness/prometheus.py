"""Server metrics from a Prometheus text endpoint (vLLM's /metrics), averaged over a benchmark stage.

Only the three gauges GIQ's curves carry are kept. A gauge exported once per engine (label `engine`)
is summed for the queue lengths and averaged for the cache usage, so the value is one replica's.
The stage mean is time-weighted: each scrape holds until the next one.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from profiles.serving.servers.vllm import VLLM

GAUGES = {g.name: g.combine for g in VLLM.gauges}  # name -> how per-engine series combine (sum | mean)
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)")


def parse_gauges(text: str, series: GaugeSeries | None = None) -> dict[str, float]:
    """The GAUGES present in one Prometheus text exposition; absent ones are simply missing. Out-of-range samples
    (negative or non-finite: no queue length or cache share is) are dropped and counted in `series.dropped`."""
    values: dict[str, list[float]] = {}
    for line in text.splitlines():
        if not line or line[0] == "#":
            continue
        match = _SAMPLE.match(line)
        if not match or match.group(1) not in GAUGES:
            continue
        try:
            number = float(match.group(3))
        except ValueError:
            continue
        if math.isfinite(number) and number >= 0:
            values.setdefault(match.group(1), []).append(number)
        elif series is not None:
            series.dropped += 1
    return {name: (sum(v) if GAUGES[name] == "sum" else sum(v) / len(v)) for name, v in values.items()}


@dataclass
class GaugeSeries:
    """Scrapes of one stage: (time, {gauge: value}) in time order."""

    samples: list[tuple[float, dict[str, float]]] = field(default_factory=list)
    errors: int = 0
    dropped: int = 0  # negative or non-finite samples left out

    def add(self, t: float, values: dict[str, float]) -> None:
        self.samples.append((t, values))

    def time_mean(self, name: str, start: float, end: float) -> float | None:
        """Mean of a gauge over [start, end], each scrape holding until the next; None without a scrape inside."""
        points = [(t, v[name]) for t, v in self.samples if name in v]
        if not points or end <= start:
            return None
        total = 0.0
        covered = 0.0
        for i, (t, value) in enumerate(points):
            t_next = points[i + 1][0] if i + 1 < len(points) else end
            lo, hi = max(t, start), min(t_next, end)
            if hi > lo:
                total += value * (hi - lo)
                covered += hi - lo
        return total / covered if covered else None

    def means(self, start: float, end: float) -> dict[str, float | None]:
        return {name: self.time_mean(name, start, end) for name in GAUGES}
