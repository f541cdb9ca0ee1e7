"""ProfilePoint records <-> DataFrame rows (column names are the record's field names)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import fields

import pandas as pd

from profiles.store.points import NUMBER_COLUMNS, SETUP_INT_COLUMNS, ProfilePoint

FIELD_NAMES = tuple(f.name for f in fields(ProfilePoint))


def to_frame(points: Iterable[ProfilePoint]) -> pd.DataFrame:
    """Points as rows; missing numbers (None) become NaN (setup integers too: a float column with NaN)."""
    rows = [[getattr(p, name) for name in FIELD_NAMES] for p in points]
    frame = pd.DataFrame(rows, columns=list(FIELD_NAMES))
    for name in (*NUMBER_COLUMNS, *SETUP_INT_COLUMNS):
        frame[name] = pd.to_numeric(frame[name]).astype(float)
    frame["accelerator_count"] = frame["accelerator_count"].astype(int)
    return frame


def to_points(frame: pd.DataFrame) -> list[ProfilePoint]:
    """Rows as points, in frame order; NaN becomes None, numbers plain Python floats."""
    columns = []
    for name in FIELD_NAMES:
        values = frame[name].tolist()
        if name in NUMBER_COLUMNS:
            values = [None if v is None or math.isnan(v) else v for v in values]
        elif name in SETUP_INT_COLUMNS:
            values = [None if v is None or math.isnan(v) else int(v) for v in values]
        columns.append(values)
    return [ProfilePoint(*row) for row in zip(*columns, strict=True)]
