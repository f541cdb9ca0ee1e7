"""Minimum GKE versions per accelerator and capacity (data/gke_min_versions.csv, one row per requirement with its
source) and the check of a stack's `cluster.minMasterVersion` against them."""

from __future__ import annotations

import csv
import functools
import re

from profiles.catalog.csvdata import DATA_DIR

VERSIONS_FILE = DATA_DIR / "gke_min_versions.csv"
FLEX_START_MAX_DAYS = 7  # flex-start nodes live at most seven days, then GKE removes them


@functools.cache
def minimums() -> dict[str, str]:
    with VERSIONS_FILE.open(newline="") as f:
        return {row["requirement"]: row["min_version"] for row in csv.DictReader(f)}


def version_key(version: str, missing: int = 10**9) -> tuple[int, ...]:
    """1.31.2-gke.1115000 -> (1, 31, 2, 1115000). A missing part (`1.31`: GKE picks that minor's newest patch) sorts
    as the newest, so a prefix is accepted when that minor can satisfy the minimum."""
    m = re.fullmatch(r"(\d+)\.(\d+)(?:\.(\d+)(?:-gke\.(\d+))?)?", version)
    if m is None:
        raise ValueError(f"not a GKE version: {version}")
    return tuple(int(p) if p is not None else missing for p in m.groups())


def required(accelerator_type: str, platform: str, capacity: str) -> list[tuple[str, str]]:
    """(requirement, minimum) pairs that apply to this accelerator and capacity."""
    table = minimums()
    keys = [accelerator_type] + ([f"flex-start:{platform}"] if capacity == "flex-start" else [])
    return [(k, table[k]) for k in keys if k in table]


def below(version: str, minimum: str) -> bool:
    return version_key(version) < version_key(minimum, missing=0)
