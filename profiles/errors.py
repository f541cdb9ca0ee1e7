"""One exception type for every kind of bad input, so the CLI can print one line and exit 2."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class UsageError(Exception):
    """Bad input from a flag, a stack config key or a data file; the message names key, value and what is allowed."""


class Stopped(Exception):
    """A command that ended early after writing what it had (a benchmark run interrupted by SIGINT/SIGTERM, or whose
    server went away): the message says what was kept; `code` is the exit status (130, 143, 1); `text` goes to stdout."""

    def __init__(self, message: str, code: int, text: str = ""):
        super().__init__(message)
        self.code, self.text = code, text


def closest(value: str, allowed: Iterable[str], n: int = 3) -> list[str]:
    """Closest valid names for a misspelt value (case-insensitive)."""
    allowed = list(allowed)
    lowered = {a.lower(): a for a in allowed}
    # a bare model name such as "gemma-2-27b-it" finds "google/gemma-2-27b-it" first
    hits = sorted((k for k in lowered if value.lower() in k), key=len)[:n]
    hits += [h for h in difflib.get_close_matches(value.lower(), list(lowered), n=n, cutoff=0.4) if h not in hits]
    return [lowered[h] for h in hits[:n]]


def unknown(key: str, value: object, allowed: Iterable[str]) -> UsageError:
    """UsageError for a value that is not one of the allowed names, with the closest ones."""
    allowed = sorted(set(allowed))
    near = closest(str(value), allowed)
    if near:
        hint = f"closest: {', '.join(near)}"
    elif len(allowed) <= 12:
        hint = f"allowed: {', '.join(allowed) or '(none)'}"
    else:
        hint = f"{len(allowed)} values are allowed; list them with the matching 'list' command"
    return UsageError(f"{key}: unknown value '{value}'; {hint}")
