"""Profile store: format, shipped data, precedence, version selection, bad files."""

import subprocess
import sys

import pytest

from profiles.errors import UsageError
from profiles.store.store import (
    GCLOUD_BENCHMARK_HEADER,
    SHIPPED_DIR,
    STORE_HEADER,
    ProfileStore,
    apply_precedence,
    load_file,
    select_versions,
    version_key,
)
from tests.conftest import ROOT
from tests.helpers import point, store_dir


def test_store_header_starts_with_gclouds_benchmarks_header():
    assert STORE_HEADER[: len(GCLOUD_BENCHMARK_HEADER)] == GCLOUD_BENCHMARK_HEADER
    assert GCLOUD_BENCHMARK_HEADER[6] == "NTPOT (ms)"  # CSV spelling, with a space
    first_line = (SHIPPED_DIR / "published.csv").read_text().splitlines()[0]
    assert first_line == ",".join(STORE_HEADER)


def test_shipped_points_are_published_or_estimated_with_sources():
    store = ProfileStore.load()
    assert len(store.points) >= 25
    for p in store.points:
        expected = "estimated" if p.source_id.startswith("estimator-") else "published"
        assert p.provenance == expected and p.source and p.source_id
        assert expected == "published" or p.source.startswith("estimated by estimator-v1")
        assert p.output_tps and p.output_tps > 0
        assert p.instance_type and p.accelerator_count >= 1


def test_shipped_file_matches_the_importer(shared_dir):
    if shared_dir is None:
        pytest.skip("../shared is not beside this checkout")
    result = subprocess.run([sys.executable, "scripts/import_published.py", "--shared", str(shared_dir), "--check"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_round_trip_through_the_file_format(tmp_path):
    p = point(num_requests_waiting=3.5, kv_cache_usage_perc=0.42, tpu_topology="", ttft_p90_ms=80.0)
    store_dir(tmp_path, [p])
    assert load_file(tmp_path / "profiles.csv") == [p]


def test_precedence_measured_over_published_over_estimated():
    measured, published, estimated = (point(provenance=k, source_id=k) for k in ("measured", "published", "estimated"))
    other = point(provenance="estimated", instance_type="a3-highgpu-2g", accelerator_count=2, source_id="other")
    kept = apply_precedence([estimated, published, measured, other])
    assert {p.source_id for p in kept} == {"measured", "other"}
    assert {p.source_id for p in apply_precedence([estimated, published])} == {"published"}


def test_user_directories_add_points_and_win(tmp_path, monkeypatch):
    shipped = next(p for p in ProfileStore.load().points if p.source_id == "N03")
    mine = point(**{k: getattr(shipped, k) for k in ("model", "model_server", "instance_type", "accelerator_type",
                                                      "accelerator_count", "precision", "use_case", "input_length",
                                                      "output_length")}, provenance="measured", source_id="mine")
    store_dir(tmp_path / "a", [mine])
    ids = {p.source_id for p in ProfileStore.load([tmp_path / "a"]).points if p.model == shipped.model}
    assert "mine" in ids and "N03" not in ids and "T09" in ids  # other configurations stay
    monkeypatch.setenv("GKE_INFERENCE_PROFILES_DIR", str(tmp_path / "a"))
    assert "mine" in {p.source_id for p in ProfileStore.load().points}
    with pytest.raises(UsageError, match="is not a directory"):
        ProfileStore.load([tmp_path / "missing"])


def test_version_selection():
    pts = [point(model_server_version=v, source_id=v) for v in ("0.9.2", "0.10.0", "unknown")]
    assert [p.source_id for p in select_versions(pts, "latest")] == ["0.10.0"]
    assert len(select_versions(pts, "all")) == 3
    assert [p.source_id for p in select_versions(pts, "0.9.2")] == ["0.9.2"]
    assert version_key("v0.10.0") > version_key("0.9.2") > version_key("unknown")


@pytest.mark.parametrize("column,value,message", [
    ("Output Tokens/s", "fast", "is not a number"),
    ("Output Tokens/s", "-5", "is not a non-negative number"),
    ("Provenance", "guessed", "is not one of measured, published, estimated"),
    ("Load Type", "burst", "is not one of request_rate"),
    ("KV Cache Usage", "42", "is not a fraction"),
])
def test_bad_store_rows_name_file_line_column_and_value(tmp_path, column, value, message):
    store_dir(tmp_path, [point()])
    path = tmp_path / "profiles.csv"
    header, row = path.read_text().splitlines()
    cells = row.split(",")
    cells[STORE_HEADER.index(column)] = value
    path.write_text(header + "\n" + ",".join(cells) + "\n")
    with pytest.raises(UsageError, match=message) as err:
        load_file(path)
    assert f"{path}:2: column '{column}' value '{value}'" in str(err.value)


def test_missing_column_is_reported(tmp_path):
    (tmp_path / "x.csv").write_text("Instance Type,Model Name\na3-highgpu-1g,m\n")
    with pytest.raises(UsageError, match="missing column"):
        load_file(tmp_path / "x.csv")


def test_fast_and_careful_row_parsers_agree(tmp_path):
    """load_file parses well-formed rows on a fast path; the careful path (used for error messages) must match it."""
    import csv

    from profiles.catalog.csvdata import Cell
    from profiles.store.store import _row_to_point

    p = point(num_requests_waiting=2.5, kv_cache_usage_perc=0.3, tpu_topology="2x4", derived="x = y")
    store_dir(tmp_path, [p])
    path = tmp_path / "profiles.csv"
    row = next(csv.DictReader(path.open()))
    assert load_file(path) == [_row_to_point(Cell(path, 2, row))] == [p]
