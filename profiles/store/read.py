"""Reading one profile CSV into a typed, validated DataFrame (one row per load point).

pandas reads every cell as text (explicit dtypes, nothing guessed); numpy then converts the number and count
columns and checks every column with vectorised masks. The first bad cell, in row order and then in the order
ProfilePoint lists its fields, is reported with file, line, column and value. Cost columns are ignored: cost is
always recomputed from prices.csv.

Issue #17: the file must be a regular file under a size cap (no FIFO, device or huge file is opened); metrics are
finite, throughputs and latencies positive; the instance type, accelerator and count form a shape the catalog knows
(hardware not stated is written 'unknown' for both); a field longer than MAX_FIELD is refused.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from profiles import checks
from profiles.catalog.catalog import default_catalog
from profiles.errors import UsageError
from profiles.store.frame import to_points
from profiles.store.points import (
    CHOICES,
    COUNT_COLUMN,
    DERIVED_COLUMNS,
    NUMBER_COLUMNS,
    REQUIRED_TEXT,
    SETUP_HEADER,
    SETUP_INT_COLUMNS,
    SETUP_TEXT_COLUMNS,
    STORE_HEADER,
    TEXT_COLUMNS,
    ProfilePoint,
)

REQUIRED_COLUMNS = tuple(h for h in STORE_HEADER if h not in DERIVED_COLUMNS and h not in SETUP_HEADER)
MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_FIELD = 16_384  # characters in one cell
# empty, or > 0: a throughput or per-token latency of 0 would rank first at no cost (ITL may be 0: coalesced chunks;
# input tokens/s is 0 when a server reports no usage)
POSITIVE = ("load_value", "output_tps", "qps", "ntpot_ms", "ttft_ms", "ntpot_p90_ms", "ttft_p90_ms")
UNKNOWN_HARDWARE = "unknown"  # benchmark runs that did not say what they ran on
Bad = tuple[int, int, str, str, str]  # row, check order, column, value, what the value is not


def read_file(path: Path) -> pd.DataFrame:
    """The points of one store CSV as a DataFrame with ProfilePoint's field names; UsageError on any bad cell."""
    return read_file_lines(path)[0]


def read_file_lines(path: Path) -> tuple[pd.DataFrame, np.ndarray]:
    """read_file, and each row's line number in the file."""
    checks.regular_file(path, "profile file", MAX_FILE_BYTES)
    cells = _read_cells(path)
    lines = np.arange(len(next(iter(cells.values())))) + 2  # the header is line 1; blank lines are rows until dropped
    keep = np.logical_or.reduce([cells[c] != "" for c in REQUIRED_COLUMNS])
    cells, lines = {c: v[keep] for c, v in cells.items()}, lines[keep]
    columns, bad = _convert(cells)
    if not bad:
        bad = _hardware(columns, cells)
    if bad:
        line, _, column, value, allowed = min((lines[row], order, column, value, allowed) for row, order, column, value, allowed in bad)
        raise UsageError(f"{path}:{line}: column '{column}' value '{checks.shown(value)}' is not {allowed}")
    return pd.DataFrame(columns), lines


def _hardware(columns: dict[str, np.ndarray], cells: dict[str, np.ndarray]) -> list[Bad]:
    """The first row whose instance type, accelerator and count are not a catalog shape."""
    catalog = default_catalog()
    keys = zip(columns["instance_type"], columns["accelerator_type"], columns["accelerator_count"], strict=True)
    seen: dict[tuple, bool] = {}
    for row, key in enumerate(keys):
        if key not in seen:
            machine, accelerator, count = key
            if machine == accelerator == UNKNOWN_HARDWARE:
                seen[key] = True
            elif accelerator not in catalog.accelerators:
                return [(row, 0, "Accelerator Type", accelerator, "a catalog accelerator")]
            else:
                seen[key] = catalog.shape(accelerator, int(count), machine) is not None
        if not seen[key]:
            machine, accelerator, count = key
            return [(row, 0, "Instance Type", machine, f"a GKE machine type with {count} x {accelerator}")]
    return []


def load_file(path: Path) -> list[ProfilePoint]:
    """Every point in one store CSV, in file order."""
    return to_points(read_file(path))


def _read_cells(path: Path) -> dict[str, np.ndarray]:
    """Every required column as an object array of stripped text."""
    import csv

    if csv.field_size_limit() < MAX_FIELD * 4:
        csv.field_size_limit(MAX_FIELD * 4)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            text = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, skip_blank_lines=False,
                               index_col=False, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read profile file ({exc.strerror})") from None
    except pd.errors.EmptyDataError:  # not even a header
        text = pd.DataFrame()
    except (pd.errors.ParserError, pd.errors.ParserWarning, UnicodeDecodeError, ValueError, csv.Error) as exc:
        raise UsageError(f"{path}: not a profile CSV ({checks.shown(str(exc).strip().splitlines()[-1], 200)})") from None
    text.columns = [str(c).strip() for c in text.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in text.columns]
    if missing:
        raise UsageError(f"{path}: missing column(s) {', '.join(missing)}; required: {', '.join(REQUIRED_COLUMNS)}")
    for column in text.columns:
        long = np.flatnonzero(text[column].str.len().to_numpy() > MAX_FIELD)
        if len(long):
            raise UsageError(f"{path}:{int(long[0]) + 2}: column '{checks.shown(column)}' holds more than {MAX_FIELD:,} characters")
    blank = np.full(len(text), "", dtype=object)
    cells = {c: np.array([v.strip() for v in text[c].to_numpy(dtype=object)], dtype=object) for c in REQUIRED_COLUMNS}
    cells |= {c: np.array([v.strip() for v in text[c].to_numpy(dtype=object)], dtype=object) if c in text.columns else blank
              for c in SETUP_HEADER}  # optional: files written before the setup columns existed
    return cells


def _first(mask: np.ndarray) -> int | None:
    hits = np.flatnonzero(mask)
    return int(hits[0]) if len(hits) else None


def _convert(cells: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], list[Bad]]:
    """Typed columns under ProfilePoint's field names, and every check's first bad row (row, order, column, value, rule)."""
    columns: dict[str, np.ndarray] = {}
    bad: list[Bad] = []
    order = 0

    def flag(mask: np.ndarray, column: str, allowed: str) -> None:
        row = _first(mask)
        if row is not None:
            bad.append((row, order, column, cells[column][row], allowed))

    for field, column in TEXT_COLUMNS.items():
        values = cells[column]
        if field in CHOICES:
            flag(~np.isin(values, CHOICES[field]), column, f"one of {', '.join(CHOICES[field])}")
        elif field in REQUIRED_TEXT:
            flag(values == "", column, "allowed to be empty")
        columns[field] = values
        order += 1
    for field, column in NUMBER_COLUMNS.items():
        values, unparsed = _floats(cells[column])
        flag(unparsed, column, "a number")
        order += 1
        flag((values < 0) | (np.isnan(values) & (cells[column] != "")), column, "a non-negative number")
        order += 1
        flag(np.isinf(values), column, "a finite number")
        if field in POSITIVE:
            flag(values == 0, column, "empty or greater than 0")
        if field == "output_tps":
            flag(np.isnan(values), column, "a number greater than 0")
        order += 1
        columns[field] = values
    flag(columns["kv_cache_usage_perc"] > 1, NUMBER_COLUMNS["kv_cache_usage_perc"], "a fraction 0..1")
    order += 1
    field, column = COUNT_COLUMN
    counts, unparsed = _integers(cells[column])
    flag(unparsed, column, "an integer")
    flag(counts < 0, column, "a non-negative integer")
    flag((counts == 0) & ~unparsed, column, "at least 1")
    flag(counts > 256, column, "at most 256")
    columns[field] = counts
    order += 1
    for field, column in SETUP_TEXT_COLUMNS.items():
        if field in CHOICES:
            flag(~np.isin(cells[column], CHOICES[field]), column, f"empty or one of {', '.join(CHOICES[field][1:])}")
        columns[field] = cells[column]
        order += 1
    for field, column in SETUP_INT_COLUMNS.items():
        values, unparsed = _floats(cells[column])
        whole = np.isnan(values) | (values == np.round(np.nan_to_num(values)))
        flag(unparsed | ~whole | (values < 1), column, "empty or a whole number >= 1")
        columns[field] = values
        order += 1
    return columns, bad


def _floats(text: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parsed numbers (NaN where empty or unparseable) and the mask of unparseable cells."""
    filled = np.where(text == "", "nan", text)
    try:
        return filled.astype(float), np.zeros(len(text), dtype=bool)
    except ValueError:
        parsed = [_float(v) for v in filled]
        return np.array([np.nan if v is None else v for v in parsed]), np.array([v is None for v in parsed], dtype=bool)


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _integers(text: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parsed integers (0 where unparseable) and the mask of unparseable cells."""
    try:
        return text.astype(int), np.zeros(len(text), dtype=bool)
    except (ValueError, OverflowError):
        parsed = [_int(v) for v in text]
        return np.array([0 if v is None else v for v in parsed], dtype=int), np.array([v is None for v in parsed], dtype=bool)


def _int(text: str) -> int | None:
    try:
        value = int(text)
    except ValueError:
        return None
    return value if abs(value) < 2**62 else None
