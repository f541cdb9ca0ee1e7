"""Writing points in the store format: gcloud's `benchmarks list` header first, then ours."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

from profiles.store.points import (
    COUNT_COLUMN,
    NUMBER_COLUMNS,
    SETUP_INT_COLUMNS,
    SETUP_TEXT_COLUMNS,
    STORE_HEADER,
    TEXT_COLUMNS,
    ProfilePoint,
)


def point_to_row(p: ProfilePoint) -> dict[str, str]:
    """A point as one store CSV row (cost columns left empty: they are derived, never stored)."""
    row = dict.fromkeys(STORE_HEADER, "")
    row.update({column: getattr(p, field) for field, column in TEXT_COLUMNS.items()})
    for field, column in NUMBER_COLUMNS.items():
        value = getattr(p, field)
        row[column] = "" if value is None else f"{value:.6g}"
    row[COUNT_COLUMN[1]] = str(p.accelerator_count)
    row.update({column: getattr(p, field) for field, column in SETUP_TEXT_COLUMNS.items()})
    row.update({column: "" if getattr(p, field) is None else str(getattr(p, field)) for field, column in SETUP_INT_COLUMNS.items()})
    return row


def render_csv(points: Iterable[ProfilePoint]) -> str:
    """Points in the store format."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=STORE_HEADER, lineterminator="\n")
    writer.writeheader()
    writer.writerows(point_to_row(p) for p in points)
    return buffer.getvalue()


def write_file(path: Path, points: Iterable[ProfilePoint]) -> None:
    path.write_text(render_csv(points), encoding="utf-8")
