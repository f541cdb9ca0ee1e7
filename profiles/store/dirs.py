"""Where profile CSVs are read from: the shipped data, then $GKE_INFERENCE_PROFILES_DIR, then --profiles-dir."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from profiles.catalog.csvdata import DATA_DIR
from profiles.errors import UsageError

PROFILES_ENV = "GKE_INFERENCE_PROFILES_DIR"
SHIPPED_DIR = DATA_DIR / "profiles"


def profile_dirs(extra: Iterable[str | Path] = ()) -> list[Path]:
    """Shipped data, then $GKE_INFERENCE_PROFILES_DIR (os.pathsep-separated), then --profiles-dir values."""
    dirs = [SHIPPED_DIR]
    env = os.environ.get(PROFILES_ENV, "")
    dirs += [Path(p) for p in env.split(os.pathsep) if p]
    dirs += [Path(p) for p in extra]
    for d in dirs[1:]:
        try:
            ok = d.is_dir()
        except (OSError, ValueError):  # too long, or a NUL byte
            ok = False
        if not ok:
            raise UsageError(f"--profiles-dir / {PROFILES_ENV}: '{str(d)[:200]}' is not a directory")
    return dirs
