"""Output shapes modelled on gcloud's printers: aligned table, CSV, JSON and YAML."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass

FORMATS = ("table", "csv", "json", "yaml")
FORMAT_ALIASES = {"profile": "table", "csvprofile": "csv"}  # gcloud's own format names


@dataclass(frozen=True)
class Output:
    """What a verb returns: text for stdout and an optional note for stderr."""

    text: str
    note: str = ""


def render(rows: list[dict[str, str]], records: list[dict[str, object]], columns: Sequence[str], fmt: str) -> str:
    """Rows as a table or CSV, or the records as JSON / YAML."""
    if fmt == "table":
        return table(rows, columns) if rows else ""
    if fmt == "csv":
        return csv_text(rows, columns)
    return structured(records, fmt)


def table(rows: Sequence[dict[str, str]], columns: Sequence[str]) -> str:
    widths = [max([len(c)] + [len(r.get(c, "")) for r in rows]) for c in columns]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines += ["  ".join(r.get(c, "").ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines) + "\n"


def csv_text(rows: Sequence[dict[str, str]], columns: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def structured(records: Sequence[dict[str, object]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(list(records), indent=2) + "\n"
    import yaml  # only the yaml format pays for the import

    return "".join("---\n" + yaml.safe_dump(r, sort_keys=False) for r in records) if records else ""


def num(value: float | None, digits: int = 0) -> str:
    """Fixed-point display; missing data prints as N/A (never as 0)."""
    if value is None:
        return "N/A"
    return f"{value:.{digits}f}"
