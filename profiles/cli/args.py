"""argparse pieces every verb shares: a parser that raises instead of exiting, value converters, common flags."""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence

from profiles.catalog.catalog import PRICING_MODELS
from profiles.catalog.workload import USE_CASES
from profiles.cli.printers import FORMAT_ALIASES, FORMATS
from profiles.errors import UsageError
from profiles.selection.cost import DEFAULT_OUTPUT_INPUT_COST_RATIO
from profiles.store.dirs import PROFILES_ENV


class Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting, so every error is one line."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(f"({self.prog}) {message}")


MAX_INT, MAX_FLOAT = 10**9, 1e9  # every count and quantity flag is bounded (issue #17): no overflow further on
MAX_REPLICAS = 1000


def _plain(text: str) -> str:
    """ASCII digits only: Python's int()/float() also take '1_0' and other scripts' digits."""
    if not text.isascii() or "_" in text:
        raise ValueError(text)
    return text


def positive(kind: type, high: float | None = None):
    """A finite number > 0 and <= `high` (default MAX_INT / MAX_FLOAT)."""
    high = high if high is not None else (MAX_INT if kind is int else MAX_FLOAT)

    def convert(text: str):
        try:
            value = kind(_plain(text))
        except ValueError:
            raise argparse.ArgumentTypeError(f"value '{text}' is not a {'whole ' if kind is int else ''}number") from None
        if not math.isfinite(value):  # float() accepts nan and inf
            raise argparse.ArgumentTypeError(f"value '{text}' is not a finite number")
        if value <= 0:
            raise argparse.ArgumentTypeError(f"value '{text}' must be greater than 0")
        if value > high:
            raise argparse.ArgumentTypeError(f"value '{text}' must be at most {high:g}")
        return value
    convert.__name__ = f"positive {kind.__name__}"
    return convert


def bounded_int(low: int, high: int):
    """A whole number in [low, high]."""
    def convert(text: str) -> int:
        try:
            value = int(_plain(text))
        except ValueError:
            raise argparse.ArgumentTypeError(f"value '{text}' is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"value '{text}' is out of range; allowed: {low} to {high}")
        return value
    convert.__name__ = "whole number"
    return convert


def _finite_in(text: str, inside, allowed: str) -> float:  # noqa: ANN001 - a predicate on the value
    """A finite number for which `inside` holds; the error names the range allowed."""
    try:
        value = float(_plain(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"value '{text}' is not a number; allowed: {allowed}") from None
    if not (math.isfinite(value) and inside(value)):
        raise argparse.ArgumentTypeError(f"value '{text}' is out of range; allowed: {allowed}")
    return value


def buffer(text: str) -> float:
    """The HPA buffer: a finite share in [0, 0.9)."""
    return _finite_in(text, lambda v: 0 <= v < 0.9, "0 <= x < 0.9")


def fraction(text: str) -> float:
    """A share in (0, 1], such as vLLM's --gpu-memory-utilization."""
    return _finite_in(text, lambda v: 0 < v <= 1, "0 < x <= 1")


def choice(allowed: Sequence[str], aliases: dict[str, str] | None = None, fold: bool = False):
    def convert(text: str) -> str:
        value = (aliases or {}).get(text, text)
        if fold:
            value = next((a for a in allowed if a.lower() == value.lower() or a.lower().startswith(value.lower() + " ")), value)
        if value not in allowed:
            raise argparse.ArgumentTypeError(f"value '{text}' is not allowed; allowed: {', '.join(allowed)}")
        return value
    return convert


ALL_WORKLOADS = "all"


def use_case_flag(p: argparse.ArgumentParser, every: bool = False, **kwargs) -> None:
    """--use-case; `every` also allows `all` (no workload filter)."""
    allowed = (*USE_CASES, ALL_WORKLOADS) if every else USE_CASES
    p.add_argument("--use-case", type=choice(allowed, {"chatbot": "Chatbot (ShareGPT)"}, fold=True), **kwargs)


def store_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--profiles-dir", action="append", default=[], metavar="DIR",
                   help=f"extra profile CSV directory (repeatable; also ${PROFILES_ENV}); measured > published > estimated")


def format_flag(p: argparse.ArgumentParser, default: str) -> None:
    p.add_argument("--format", type=choice(FORMATS, FORMAT_ALIASES), default=default,
                   help=f"{' | '.join(FORMATS)} (gcloud's profile / csvprofile accepted); default {default}")


def pricing_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pricing-model", type=choice(PRICING_MODELS), default="spot",
                   help="on-demand, spot, 1-year-cud, 3-years-cud (default spot, as the GIQ API)")
    p.add_argument("--region", help="price region (default: us-east5, A3 machines us-central1, as GIQ)")
    p.add_argument("--output-input-cost-ratio", type=positive(float), default=DEFAULT_OUTPUT_INPUT_COST_RATIO,
                   help="how many times an output token costs an input token (default 4.0)")


def verbs(command: argparse.ArgumentParser):
    """The verbs of a command group (`models list`, `manifests create`, …) are added to the returned subparsers."""
    return command.add_subparsers(dest="verb", required=True, parser_class=Parser)


def _format_text(text: str) -> str:
    from profiles.cli.resources import parse_format

    parse_format(text)  # syntax checked before any data loads
    return text


def list_flags(p: argparse.ArgumentParser, default: str, extras: bool = False) -> None:
    """gcloud's list flags: --format NAME[ATTRS](PROJECTION), --filter, --limit, --sort-by, --page-size, --uri."""
    p.add_argument("--format", type=_format_text, default=None, metavar="FORMAT",
                   help=f"table | csv | value | json | yaml | flattened | profile | csvprofile | none, with gcloud's "
                        f"[attributes] and (projection), e.g. 'table(instanceType, acceleratorType)'; default {default}")
    p.add_argument("--filter", metavar="EXPRESSION", help="gcloud filter on resource keys, e.g. 'acceleratorType:nvidia-l4'")
    p.add_argument("--limit", type=positive(int), help="at most this many resources (after --sort-by and --filter)")
    p.add_argument("--sort-by", action="append", default=[], metavar="[~]KEY,…", help="sort keys; ~ for descending")
    p.add_argument("--page-size", type=positive(int), help="accepted for gcloud compatibility (offline: one page)")
    p.add_argument("--uri", action="store_true", help="gcloud's --uri (GIQ resources have none: exit 2)")
    if extras:
        p.add_argument("--show-extras", action="store_true",
                       help="append this tool's columns (price, precision, source, deployable …) to the default printers")


def resolve_version(requested: str, versions: set[str]) -> str:
    """A model server version as GIQ users spell it -> the store's spelling.

    `latest` and `all` pass through; `v0.7.2` and `0.7.2` name the same version; tags (`gptoss`, nightly builds)
    match ignoring case. Unknown -> UsageError listing the versions the selection holds.
    """
    from profiles.store.points import version_key

    if requested.lower() in ("latest", "all"):
        return requested.lower()
    if requested in versions:
        return requested

    def norm(v: str) -> str:
        v = v.strip().lower()
        return v[1:] if v[:1] == "v" and v[1:2].isdigit() else v

    matches = sorted((v for v in versions if norm(v) == norm(requested)), key=version_key)
    if matches:
        return matches[-1]
    known = ", ".join([*sorted(versions, key=version_key, reverse=True), "latest", "all"])
    raise UsageError(f"--model-server-version: unknown version '{requested}'; known for this selection: {known}")
