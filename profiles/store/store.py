"""Profile store: benchmark points (one row per load point) from shipped and user CSV directories.

The file format is gcloud's `benchmarks list` CSV (its exact header first) followed by our extra
columns, so a `benchmarks list` dump, a harness run and the shipped data all load the same way.
Cost columns in a file are ignored on load: cost is always recomputed from prices.csv.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from profiles.catalog.csvdata import DATA_DIR, Cell
from profiles.errors import UsageError

PROFILES_ENV = "GKE_INFERENCE_PROFILES_DIR"
SHIPPED_DIR = DATA_DIR / "profiles"

GCLOUD_BENCHMARK_HEADER = (
    "Instance Type", "Accelerator Type", "Model Name", "Model Server Name", "Model Server Version",
    "Output Tokens/s", "NTPOT (ms)", "TTFT (ms)", "ITL (ms)", "QPS", "Cost/M Input Tokens", "Cost/M Output Tokens",
    "Use Case", "Average Input Length", "Average Output Length", "Serving Stack", "Serving Stack Version",
)
EXTRA_HEADER = (
    "Instance $/h", "Input Tokens/s", "NTPOT p90 (ms)", "TTFT p90 (ms)", "ITL p90 (ms)", "Accelerator Count",
    "TPU Topology", "Precision", "Load Type", "Load Value", "Num Requests Waiting", "KV Cache Usage",
    "Num Requests Running", "Provenance", "Source Id", "Source", "Derived", "Date",
)
STORE_HEADER = GCLOUD_BENCHMARK_HEADER + EXTRA_HEADER
PROVENANCE_RANK = {"measured": 0, "published": 1, "estimated": 2}  # lower wins
LOAD_TYPES = ("request_rate", "concurrency", "offline")
PRECISIONS = ("bf16", "fp16", "fp8", "int8", "fp4", "mxfp4", "int4")


@dataclass(frozen=True, slots=True)
class ProfilePoint:
    """One load point of one serving configuration; None means "not published / not measured"."""

    model: str
    model_server: str
    model_server_version: str
    instance_type: str
    accelerator_type: str
    accelerator_count: int
    tpu_topology: str
    precision: str
    use_case: str
    input_length: float | None
    output_length: float | None
    load_type: str
    load_value: float | None
    output_tps: float | None
    input_tps: float | None
    qps: float | None
    ntpot_ms: float | None
    ttft_ms: float | None
    itl_ms: float | None
    ntpot_p90_ms: float | None
    ttft_p90_ms: float | None
    itl_p90_ms: float | None
    num_requests_waiting: float | None
    kv_cache_usage_perc: float | None
    num_requests_running: float | None
    provenance: str
    source_id: str
    source: str
    derived: str
    date: str
    serving_stack: str = ""
    serving_stack_version: str = ""

    @property
    def workload(self) -> str:
        """Workload key: a named use case, else the fixed lengths."""
        if self.use_case:
            return self.use_case
        return f"{_fmt_len(self.input_length)}/{_fmt_len(self.output_length)}"

    @property
    def config_key(self) -> tuple:
        """Everything that makes two points the same serving configuration (version and provenance excluded)."""
        return (self.model, self.model_server, self.instance_type, self.accelerator_type, self.accelerator_count,
                self.tpu_topology, self.precision, self.workload)

    @property
    def load_order(self) -> tuple:
        """Sort key along a curve: offered load, with offline (infinite rate) last."""
        return (self.load_type == "offline", self.load_value or 0.0, self.output_tps or 0.0)


def _fmt_len(value: float | None) -> str:
    return "?" if value is None else f"{value:g}"


_TEXT = {"model": "Model Name", "model_server": "Model Server Name", "model_server_version": "Model Server Version",
         "instance_type": "Instance Type", "accelerator_type": "Accelerator Type", "tpu_topology": "TPU Topology",
         "precision": "Precision", "use_case": "Use Case", "load_type": "Load Type", "provenance": "Provenance",
         "source_id": "Source Id", "source": "Source", "derived": "Derived", "date": "Date",
         "serving_stack": "Serving Stack", "serving_stack_version": "Serving Stack Version"}
_NUMBER = {"input_length": "Average Input Length", "output_length": "Average Output Length", "load_value": "Load Value",
           "output_tps": "Output Tokens/s", "input_tps": "Input Tokens/s", "qps": "QPS", "ntpot_ms": "NTPOT (ms)",
           "ttft_ms": "TTFT (ms)", "itl_ms": "ITL (ms)", "ntpot_p90_ms": "NTPOT p90 (ms)", "ttft_p90_ms": "TTFT p90 (ms)",
           "itl_p90_ms": "ITL p90 (ms)", "num_requests_waiting": "Num Requests Waiting",
           "kv_cache_usage_perc": "KV Cache Usage", "num_requests_running": "Num Requests Running"}
_REQUIRED_TEXT = ("model", "model_server", "model_server_version", "instance_type", "accelerator_type", "source")
_CHOICES = {"precision": PRECISIONS, "load_type": LOAD_TYPES, "provenance": tuple(PROVENANCE_RANK)}


def _row_to_point(cell: Cell) -> ProfilePoint:
    """Careful parse of one row: the first bad cell raises a UsageError naming file, line, column and value."""
    values: dict[str, object] = {}
    for field, column in _TEXT.items():
        values[field] = (cell.choice(column, _CHOICES[field]) if field in _CHOICES
                         else cell.text(column, required=field in _REQUIRED_TEXT))
    for field, column in _NUMBER.items():
        values[field] = cell.number(column)
    if (values["kv_cache_usage_perc"] or 0) > 1:
        raise cell.bad("KV Cache Usage", "a fraction 0..1")
    values["accelerator_count"] = cell.integer("Accelerator Count")
    if not values["accelerator_count"]:
        raise cell.bad("Accelerator Count", "at least 1")
    return ProfilePoint(**values)


def _fast_point(row: list[str], text_cols: list[tuple[str, int]], number_cols: list[tuple[str, int]],
                count_col: int) -> ProfilePoint:
    """Parse a well-formed row quickly; any doubt raises, and the caller re-parses slowly for the message."""
    values: dict[str, object] = {f: row[i].strip() for f, i in text_cols}
    for field, i in number_cols:
        text = row[i]
        number = float(text) if text else None
        if number is not None and not number >= 0:  # negative or NaN
            raise ValueError(field)
        values[field] = number
    values["accelerator_count"] = count = int(row[count_col])
    if (count < 1 or values["precision"] not in PRECISIONS or values["load_type"] not in LOAD_TYPES
            or values["provenance"] not in PROVENANCE_RANK or not all(values[f] for f in _REQUIRED_TEXT)
            or (values["kv_cache_usage_perc"] or 0) > 1):
        raise ValueError("invalid row")
    for field in _TEXT:
        values.setdefault(field, "")
    for field in _NUMBER:
        values.setdefault(field, None)
    return ProfilePoint(**values)


def load_file(path: Path) -> list[ProfilePoint]:
    """Every point in one store CSV; a bad cell raises UsageError naming file, line and column."""
    required = tuple(h for h in STORE_HEADER if not h.startswith("Cost/M") and h != "Instance $/h")
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read profile file ({exc.strerror})") from None
    points = []
    with handle:
        reader = csv.reader(handle)
        header = [h.strip() for h in next(reader, [])]
        missing = [c for c in required if c not in header]
        if missing:
            raise UsageError(f"{path}: missing column(s) {', '.join(missing)}; required: {', '.join(required)}")
        index = {name: i for i, name in enumerate(header)}
        text_cols = [(f, index[c]) for f, c in _TEXT.items() if c in index]
        number_cols = [(f, index[c]) for f, c in _NUMBER.items() if c in index]
        count_col = index["Accelerator Count"]
        for row in reader:
            if not row:
                continue
            try:
                points.append(_fast_point(row, text_cols, number_cols, count_col))
            except (ValueError, IndexError):
                cell = Cell(path, reader.line_num, {h: (row[i].strip() if i < len(row) else "") for h, i in index.items()})
                points.append(_row_to_point(cell))  # raises the precise UsageError
    return points


def profile_dirs(extra: Iterable[str | Path] = ()) -> list[Path]:
    """Shipped data, then $GKE_INFERENCE_PROFILES_DIR (os.pathsep-separated), then --profiles-dir values."""
    dirs = [SHIPPED_DIR]
    env = os.environ.get(PROFILES_ENV, "")
    dirs += [Path(p) for p in env.split(os.pathsep) if p]
    dirs += [Path(p) for p in extra]
    for d in dirs[1:]:
        if not d.is_dir():
            raise UsageError(f"--profiles-dir / {PROFILES_ENV}: '{d}' is not a directory")
    return dirs


def load_points(dirs: Iterable[Path]) -> list[ProfilePoint]:
    points: list[ProfilePoint] = []
    for directory in dirs:
        for path in sorted(directory.glob("*.csv")):
            points.extend(load_file(path))
    return points


def apply_precedence(points: list[ProfilePoint]) -> list[ProfilePoint]:
    """Keep, per configuration, only the points of the best provenance: measured > published > estimated."""
    keys = [p.config_key for p in points]
    best: dict[tuple, int] = {}
    for key, p in zip(keys, points, strict=True):
        rank = PROVENANCE_RANK[p.provenance]
        if rank < best.get(key, 99):
            best[key] = rank
    return [p for key, p in zip(keys, points, strict=True) if PROVENANCE_RANK[p.provenance] == best[key]]


_NUM = re.compile(r"\d+")


def version_key(version: str) -> tuple:
    """Order versions: semver-like by number, nightly/dated tags by their digits, unknown first."""
    if not version or version == "unknown":
        return (0,)
    return (1, tuple(int(n) for n in _NUM.findall(version)), version)


def select_versions(points: list[ProfilePoint], version: str = "latest") -> list[ProfilePoint]:
    """'latest': newest version per configuration; 'all': every version; else that exact version."""
    if version == "all":
        return points
    if version != "latest":
        return [p for p in points if p.model_server_version == version]
    newest: dict[tuple, tuple] = {}
    for p in points:
        key = version_key(p.model_server_version)
        if p.config_key not in newest or key > newest[p.config_key]:
            newest[p.config_key] = key
    return [p for p in points if version_key(p.model_server_version) == newest[p.config_key]]


class ProfileStore:
    """Loaded, precedence-resolved points with the lookups the CLI and the Pulumi program need."""

    def __init__(self, points: list[ProfilePoint]):
        self.points = apply_precedence(points)

    @classmethod
    def load(cls, extra_dirs: Iterable[str | Path] = ()) -> ProfileStore:
        return cls(load_points(profile_dirs(extra_dirs)))

    def models(self) -> list[str]:
        return sorted({p.model for p in self.points})

    def model_servers(self, model: str) -> list[str]:
        return sorted({p.model_server for p in self.points if p.model == model})

    def versions(self, model: str, model_server: str) -> list[str]:
        found = {p.model_server_version for p in self.points if p.model == model and p.model_server == model_server}
        return sorted(found, key=version_key, reverse=True)



def point_to_row(p: ProfilePoint) -> dict[str, str]:
    """A point as one store CSV row (cost columns left empty: they are derived, never stored)."""
    row = dict.fromkeys(STORE_HEADER, "")
    row.update({column: getattr(p, field) for field, column in _TEXT.items()})
    for field, column in _NUMBER.items():
        value = getattr(p, field)
        row[column] = "" if value is None else f"{value:.6g}"
    row["Accelerator Count"] = str(p.accelerator_count)
    return row


def render_csv(points: Iterable[ProfilePoint]) -> str:
    """Points in the store format (gcloud's benchmarks-list header first)."""
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=STORE_HEADER, lineterminator="\n")
    writer.writeheader()
    writer.writerows(point_to_row(p) for p in points)
    return buffer.getvalue()


def write_file(path: Path, points: Iterable[ProfilePoint]) -> None:
    path.write_text(render_csv(points), encoding="utf-8")
