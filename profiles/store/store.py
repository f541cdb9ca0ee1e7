"""The profile store: every load point of the shipped data and the user's directories, in one DataFrame.

Precedence (measured > published > estimated per configuration), version selection and grouping into curves are
pandas operations on that frame; records (ProfilePoint, Curve) are built only for the rows a caller asks for.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from profiles.errors import UsageError
from profiles.store.dirs import profile_dirs
from profiles.store.frame import to_frame, to_points
from profiles.store.points import CONFIG_FIELDS, PROVENANCE_RANK, Curve, ProfilePoint, version_key, workload_key
from profiles.store.read import read_file_lines

POINT_KEY = (*CONFIG_FIELDS, "use_case", "input_length", "output_length", "model_server_version", "provenance", "load_type",
             "load_value")  # one load point of one configuration
METRICS = ("output_tps", "qps", "ntpot_ms", "ttft_ms", "itl_ms")


def load_frame(dirs: Iterable[Path]) -> pd.DataFrame:
    """Every *.csv of every directory, in directory order then file-name order; two rows for the same load point
    with different metrics are refused, naming both (issue #17: they used to merge silently)."""
    frames, origins = [], []
    for directory in dirs:
        for path in sorted(directory.glob("*.csv")):
            frame, lines = read_file_lines(path)
            if len(frame):
                frames.append(frame)
                origins += [f"{path}:{line}" for line in lines]
    if not frames:
        return to_frame([])
    frame = pd.concat(frames, ignore_index=True)
    _refuse_conflicts(frame, origins)
    return frame


def _refuse_conflicts(frame: pd.DataFrame, origins: list[str]) -> None:
    keys = frame[list(POINT_KEY)].astype(str)
    repeated = keys.duplicated(keep=False).to_numpy()
    if not repeated.any():
        return
    rows = np.flatnonzero(repeated)
    first: dict[tuple, int] = {}
    metrics = frame[list(METRICS)].astype(str).to_numpy()
    for row, key in zip(rows, map(tuple, keys.to_numpy()[rows]), strict=True):
        if key not in first:
            first[key] = row
        elif not (metrics[row] == metrics[first[key]]).all():
            a, b = first[key], row
            raise UsageError(f"{origins[b]}: conflicts with {origins[a]}: the same load point ({frame['model'].iat[a]}, "
                             f"{frame['accelerator_count'].iat[a]} x {frame['accelerator_type'].iat[a]}, "
                             f"{frame['provenance'].iat[a]}, {frame['load_type'].iat[a]} {frame['load_value'].iat[a]:g}) "
                             "with different metrics; remove one")


def workloads(frame: pd.DataFrame) -> pd.Series:
    """Each row's workload key: its use case, else 'input/output' lengths."""
    keys = frame["use_case"].to_numpy(dtype=object).copy()
    fixed = np.flatnonzero(keys == "")
    lengths = zip(frame["input_length"].to_numpy()[fixed], frame["output_length"].to_numpy()[fixed], strict=True)
    keys[fixed] = [workload_key("", _nan(i), _nan(o)) for i, o in lengths]
    return pd.Series(keys, index=frame.index, dtype=object)


def _nan(value: float) -> float | None:
    return None if value != value else float(value)


def _config_groups(frame: pd.DataFrame) -> list[pd.Series]:
    return [frame[f] for f in CONFIG_FIELDS] + [workloads(frame)]


def apply_precedence(frame: pd.DataFrame) -> pd.DataFrame:
    """Keep, per configuration, only the points of the best provenance: measured > published > estimated."""
    if frame.empty:
        return frame
    rank = frame["provenance"].map(PROVENANCE_RANK)
    best = rank.groupby(_config_groups(frame), sort=False).transform("min")
    return frame[rank == best]


def select_versions(frame: pd.DataFrame, version: str = "latest") -> pd.DataFrame:
    """'latest': newest version per configuration; 'all': every version; else that exact version."""
    if version == "all" or frame.empty:
        return frame
    if version != "latest":
        return frame[frame["model_server_version"] == version]
    keys = sorted({version_key(v) for v in frame["model_server_version"].unique()})
    order = {v: keys.index(version_key(v)) for v in frame["model_server_version"].unique()}
    rank = frame["model_server_version"].map(order)
    newest = rank.groupby(_config_groups(frame), sort=False).transform("max")
    return frame[rank == newest]


class ProfileStore:
    """Points as a DataFrame (columns = ProfilePoint fields) with the selections the CLI and the plan need."""

    def __init__(self, frame: pd.DataFrame):
        self.frame = frame

    @classmethod
    def load(cls, extra_dirs: Iterable[str | Path] = ()) -> ProfileStore:
        """The shipped profiles and the user's directories, precedence applied."""
        return cls(apply_precedence(load_frame(profile_dirs(extra_dirs))))

    @classmethod
    def of(cls, points: Iterable[ProfilePoint]) -> ProfileStore:
        """A store of these points as given (no precedence): tests and one measured run."""
        return cls(to_frame(points))

    def __len__(self) -> int:
        return len(self.frame)

    def points(self) -> list[ProfilePoint]:
        return to_points(self.frame)

    def models(self) -> list[str]:
        return sorted(self.frame["model"].unique())

    def model_servers(self, model: str) -> list[str]:
        return sorted(self.where(model=model).frame["model_server"].unique())

    def versions(self, model: str, model_server: str) -> list[str]:
        found = self.where(model=model, model_server=model_server).frame["model_server_version"].unique()
        return sorted(found, key=version_key, reverse=True)

    def where(self, **equal: object) -> ProfileStore:
        """Rows whose field equals each given value (None and "" mean "any")."""
        mask = np.ones(len(self.frame), dtype=bool)
        for field, value in equal.items():
            if value is not None and value != "":
                mask &= (self.frame[field] == value).to_numpy()
        return ProfileStore(self.frame[mask])

    def mask(self, keep: pd.Series) -> ProfileStore:
        return ProfileStore(self.frame[keep.to_numpy(dtype=bool)])

    def select_versions(self, version: str = "latest") -> ProfileStore:
        return ProfileStore(select_versions(self.frame, version))

    def curves(self) -> list[Curve]:
        """One curve per configuration, server version and provenance, each ordered by offered load (offline last);
        curves in the order of their key's text, so rankings and listings are stable."""
        frame = self.frame
        if frame.empty:
            return []
        order = pd.DataFrame({"offline": frame["load_type"] == "offline", "load": frame["load_value"].fillna(0.0),
                              "tps": frame["output_tps"].fillna(0.0)})
        frame = frame.iloc[np.lexsort((order["tps"], order["load"], order["offline"]))]
        points = to_points(frame)
        groups = frame.groupby([*_config_groups(frame), frame["model_server_version"], frame["provenance"]],
                               sort=False).indices
        curves = [Curve(tuple(points[i] for i in rows)) for rows in groups.values()]
        return sorted(curves, key=lambda c: str((c.head.config_key, c.head.model_server_version, c.head.provenance)))

