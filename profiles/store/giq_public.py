"""GIQ's own public rows (four profiles Google has printed in docs and notebooks) as published profile points.

Source rows: data/giq_public_rows.csv, one source each; `make import` writes data/profiles/giq-public.csv.
They keep GIQ's version strings ("v0.7.2", "gptoss") and are ShareGPT chat profiles (GIQ benchmarks with
ShareGPT). Each is one point, GIQ's inflection point, with no load value and no serving setup published: they
rank like any other profile but are reference-only (nothing says which vLLM flags produced them).
"""

from __future__ import annotations

import csv

from profiles.catalog.catalog import default_catalog
from profiles.catalog.csvdata import DATA_DIR
from profiles.catalog.workload import SHAREGPT
from profiles.errors import UsageError
from profiles.store.dirs import SHIPPED_DIR
from profiles.store.points import ProfilePoint
from profiles.store.write import render_csv

ROWS = DATA_DIR / "giq_public_rows.csv"
OUT = SHIPPED_DIR / "giq-public.csv"


def _point(row: dict[str, str]) -> ProfilePoint:
    machine = default_catalog().machine_types.get(row["instance_type"])
    if machine is None or machine.accelerator_type != row["accelerator_type"]:
        raise UsageError(f"{ROWS.name}: row {row['row_id']}: instance_type '{row['instance_type']}' is not a catalog "
                         f"machine of {row['accelerator_type']}")
    ttft = float(row["ttft_ms"]) if row["ttft_ms"] else None
    return ProfilePoint(
        model=row["model"], model_server=row["model_server"], model_server_version=row["model_server_version"],
        instance_type=machine.machine_type, accelerator_type=machine.accelerator_type,
        accelerator_count=machine.accelerator_count, tpu_topology="", precision=row["precision"], use_case=SHAREGPT.use_case,
        input_length=None, output_length=None, load_type="request_rate", load_value=None,
        output_tps=float(row["output_tok_s"]), input_tps=None, qps=None, ntpot_ms=float(row["ntpot_ms"]), ttft_ms=ttft,
        itl_ms=None, ntpot_p90_ms=None, ttft_p90_ms=None, itl_p90_ms=None, num_requests_waiting=None,
        kv_cache_usage_perc=None, num_requests_running=None, provenance="published", source_id=row["row_id"],
        source=row["source"], derived="", date="")


def render() -> str:
    with ROWS.open(newline="", encoding="utf-8") as handle:
        return render_csv([_point(r) for r in csv.DictReader(handle)])
