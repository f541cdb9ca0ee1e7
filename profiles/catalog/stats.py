"""Latency statistics shared by the harness (measured requests) and the estimator (simulated ones)."""

from __future__ import annotations

import math

PERCENTILES = (50, 90, 99)


def percentile(values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default method); None for no values."""
    if not values:
        return None
    data = sorted(values)
    pos = (len(data) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def distribution(values_s: list[float]) -> dict[str, float | None]:
    """Seconds in, milliseconds out: mean and the PERCENTILES (None when there are no values)."""
    ms = [v * 1000 for v in values_s]
    out: dict[str, float | None] = {"mean": sum(ms) / len(ms) if ms else None}
    for q in PERCENTILES:
        out[f"p{q}"] = percentile(ms, q)
    return out
