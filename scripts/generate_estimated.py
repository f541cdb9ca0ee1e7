"""`make profiles`: regenerate the shipped estimated profiles (profiles/data/profiles/estimated.csv).

Every catalog model x configuration that fits (profiles/estimate_profiles.py), one ShareGPT request-rate sweep
each. Also writes estimated.sha256, the fingerprint of every input the curves depend on (estimator code,
coefficients, catalogs); tests fail when the fingerprint or a sample of curves no longer matches.
"""

from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from profiles.catalog import default_catalog  # noqa: E402
from profiles.csvdata import DATA_DIR  # noqa: E402
from profiles.estimate_profiles import configurations, curve  # noqa: E402
from profiles.store import SHIPPED_DIR, write_file  # noqa: E402

OUTPUT = SHIPPED_DIR / "estimated.csv"
FINGERPRINT = SHIPPED_DIR / "estimated.sha256"
INPUTS = [ROOT / "profiles" / name for name in ("estimate.py", "estimate_model.py", "estimate_sim.py", "estimate_profiles.py",
                                               "workload.py", "sizing.py", "modelspec.py")]
INPUTS += [DATA_DIR / name for name in ("estimator_coefficients.csv", "models.csv", "accelerators.csv", "machine_types.csv",
                                        "tpu_topologies.csv", "vllm_defaults.csv")]


def fingerprint() -> str:
    digest = hashlib.sha256()
    for path in INPUTS:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def main() -> int:
    catalog = default_catalog()
    start = time.perf_counter()
    points, fitted, skipped = [], 0, 0
    for spec, shape, precision in configurations(catalog):
        found = curve(catalog, spec, shape, precision)
        points += found
        fitted += bool(found)
        skipped += not found
    write_file(OUTPUT, points)
    FINGERPRINT.write_text(f"{fingerprint()}  inputs of estimated.csv (scripts/generate_estimated.py)\n", encoding="utf-8")
    print(f"{len(points)} points, {fitted} configurations ({skipped} do not fit) in {time.perf_counter() - start:.0f} s -> {OUTPUT}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
