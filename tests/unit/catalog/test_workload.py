"""Request-length workloads (GIQ's ShareGPT table, fixed lengths, dataset files) and the shared latency statistics."""

from __future__ import annotations

import random

import numpy as np
import pytest

from profiles.catalog.stats import distribution, percentile
from profiles.catalog.workload import SHAREGPT, SHAREGPT_TABLE, fixed, from_jsonl
from profiles.errors import UsageError


@pytest.mark.parametrize("side", ["input", "output"])
def test_sharegpt_lengths_reproduce_the_giq_table(side):
    index = 0 if side == "input" else 1
    values = np.array([pair[index] for pair in SHAREGPT.lengths(100_000, seed=3)])
    row = SHAREGPT_TABLE[side]
    assert values.min() == row["min"] and values.max() <= row["max"]
    assert abs(np.median(values) - row["median"]) <= 0.03 * row["median"]
    assert abs(values.mean() - row["mean"]) <= 0.02 * row["mean"]
    assert abs(np.percentile(values, 90) - row["p90"]) <= 0.03 * row["p90"]
    assert abs(np.percentile(values, 99) - row["p99"]) <= 0.03 * row["p99"]


def test_workload_is_seeded():
    assert SHAREGPT.lengths(50, seed=7) == SHAREGPT.lengths(50, seed=7)
    assert SHAREGPT.lengths(50, seed=7) != SHAREGPT.lengths(50, seed=8)
    assert fixed(10, 5).lengths(3, seed=1) == [(10, 5)] * 3


def test_dataset_file(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"input_length": 10, "output_length": 4}\n\n{"prompt": "two words", "output_length": 2}\n')
    workload = from_jsonl(str(path))
    assert sorted(workload.lengths(2, seed=0)) == [(2, 2), (10, 4)]
    path.write_text('{"input_length": 10}\n')
    with pytest.raises(UsageError, match=r"d.jsonl:1: needs a positive integer output_length"):
        from_jsonl(str(path))


def test_percentile_matches_numpy():
    rng = random.Random(1)
    values = [rng.random() for _ in range(101)]
    for q in (50, 90, 99):
        assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))
    assert percentile([], 50) is None


def test_distribution_is_milliseconds_with_nothing_as_none():
    assert distribution([]) == {"mean": None, "p50": None, "p90": None, "p99": None}
    values = distribution([0.01, 0.02, 0.03])
    assert values["mean"] == pytest.approx(20.0) and values["p50"] == pytest.approx(20.0)
