"""Latency statistics shared by the harness (measured requests) and the estimator (simulated ones)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

PERCENTILES = (50, 90, 99)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default method); None for no values."""
    if len(values) == 0:
        return None
    return float(np.percentile(values, q))


def distribution(values_s: Sequence[float]) -> dict[str, float | None]:
    """Seconds in, milliseconds out: mean and the PERCENTILES (None when there are no values)."""
    if len(values_s) == 0:
        return {"mean": None, **{f"p{q}": None for q in PERCENTILES}}
    ms = np.asarray(values_s, dtype=float) * 1000
    return {"mean": float(ms.mean()), **{f"p{q}": float(v) for q, v in zip(PERCENTILES, np.percentile(ms, PERCENTILES), strict=True)}}
