"""Typed reading of the CSV data files, with errors that name file, line, column and value."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from profiles.errors import UsageError

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
SHARED_DIR = DATA_DIR.parents[2] / "shared"  # ../shared beside the checkout: published measurements


def read_rows(path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, row) after checking the header has every required column."""
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read data file ({exc.strerror})") from None
    with handle:
        reader = csv.DictReader(handle)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise UsageError(f"{path}: missing column(s) {', '.join(missing)}; required: {', '.join(required)}")
        for row in reader:
            yield reader.line_num, {k: (v or "").strip() for k, v in row.items() if k is not None}


class Cell:
    """Converters for one row, so that a bad value reports where it is."""

    def __init__(self, path: Path, line: int, row: dict[str, str]):
        self.path, self.line, self.row = path, line, row

    def bad(self, column: str, allowed: str) -> UsageError:
        """Error naming file, line, column and value."""
        return UsageError(f"{self.path}:{self.line}: column '{column}' value '{self.row.get(column, '')}' is not {allowed}")

    def text(self, column: str, required: bool = True) -> str:
        value = self.row.get(column, "")
        if required and not value:
            raise self.bad(column, "allowed to be empty")
        return value

    def number(self, column: str) -> float | None:
        """A float, or None for an empty cell (missing data stays missing)."""
        value = self.row.get(column, "")
        if value == "":
            return None
        try:
            result = float(value)
        except ValueError:
            raise self.bad(column, "a number") from None
        if result != result or result < 0:  # NaN or negative
            raise self.bad(column, "a non-negative number")
        return result

    def integer(self, column: str, required: bool = True) -> int | None:
        value = self.row.get(column, "")
        if value == "" and not required:
            return None
        try:
            result = int(value)
        except ValueError:
            raise self.bad(column, "an integer") from None
        if result < 0:
            raise self.bad(column, "a non-negative integer")
        return result

    def choice(self, column: str, allowed: tuple[str, ...]) -> str:
        value = self.row.get(column, "")
        if value not in allowed:
            raise self.bad(column, f"one of {', '.join(allowed)}")
        return value
