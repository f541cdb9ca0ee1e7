"""Profile store: format, shipped data, precedence, version selection, bad files."""

import pytest

from profiles.errors import UsageError
from profiles.estimator.step_time import MODEL_VERSION
from profiles.store.dirs import SHIPPED_DIR
from profiles.store.frame import to_frame, to_points
from profiles.store.points import GCLOUD_BENCHMARK_HEADER, SETUP_FIELDS, SETUP_HEADER, STORE_HEADER, version_key
from profiles.store.read import load_file
from profiles.store.store import ProfileStore, apply_precedence, select_versions
from tests.support.points import point, store_dir


def precedence(points):
    return to_points(apply_precedence(to_frame(points)))


def versions(points, version):
    return to_points(select_versions(to_frame(points), version))


def test_store_header_starts_with_gclouds_benchmarks_header():
    assert STORE_HEADER[: len(GCLOUD_BENCHMARK_HEADER)] == GCLOUD_BENCHMARK_HEADER
    assert GCLOUD_BENCHMARK_HEADER[6] == "NTPOT (ms)"  # CSV spelling, with a space
    first_line = (SHIPPED_DIR / "published.csv").read_text().splitlines()[0]
    assert first_line == ",".join(STORE_HEADER)


def test_shipped_points_are_published_or_estimated_with_sources():
    store = ProfileStore.load()
    assert len(store) >= 25
    for p in store.points():
        expected = "estimated" if p.source_id.startswith("estimator-") else "published"
        assert p.provenance == expected and p.source and p.source_id
        assert expected == "published" or p.source.startswith(f"estimated by {MODEL_VERSION}")
        assert p.output_tps and p.output_tps > 0
        assert p.instance_type and p.accelerator_count >= 1


def test_shipped_file_matches_the_importer(shared_dir):
    if shared_dir is None:
        pytest.skip("../shared is not beside this checkout")
    from profiles.store.published import OUT, render

    text, _ = render(shared_dir)
    assert OUT.read_text() == text, "published.csv is stale: run `make import`"


def test_round_trip_through_the_file_format(tmp_path):
    p = point(num_requests_waiting=3.5, kv_cache_usage_perc=0.42, tpu_topology="", ttft_p90_ms=80.0)
    store_dir(tmp_path, [p])
    assert load_file(tmp_path / "profiles.csv") == [p]


def test_precedence_measured_over_published_over_estimated():
    measured, published, estimated = (point(provenance=k, source_id=k) for k in ("measured", "published", "estimated"))
    other = point(provenance="estimated", instance_type="a3-highgpu-2g", accelerator_count=2, source_id="other")
    kept = precedence([estimated, published, measured, other])
    assert {p.source_id for p in kept} == {"measured", "other"}
    assert {p.source_id for p in precedence([estimated, published])} == {"published"}


def test_user_directories_add_points_and_win(tmp_path, monkeypatch):
    shipped = next(p for p in ProfileStore.load().points() if p.source_id == "N03")
    mine = point(**{k: getattr(shipped, k) for k in ("model", "model_server", "instance_type", "accelerator_type",
                                                      "accelerator_count", "precision", "use_case", "input_length",
                                                      "output_length", *SETUP_FIELDS)},
                 provenance="measured", source_id="mine")
    store_dir(tmp_path / "a", [mine])
    ids = {p.source_id for p in ProfileStore.load([tmp_path / "a"]).points() if p.model == shipped.model}
    assert "mine" in ids and "N03" not in ids and "T09" in ids  # other configurations stay
    monkeypatch.setenv("GKE_INFERENCE_PROFILES_DIR", str(tmp_path / "a"))
    assert "mine" in {p.source_id for p in ProfileStore.load().points()}
    with pytest.raises(UsageError, match="is not a directory"):
        ProfileStore.load([tmp_path / "missing"])


def test_version_selection():
    pts = [point(model_server_version=v, source_id=v) for v in ("0.9.2", "0.10.0", "unknown")]
    assert [p.source_id for p in versions(pts, "latest")] == ["0.10.0"]
    assert len(versions(pts, "all")) == 3
    assert [p.source_id for p in versions(pts, "0.9.2")] == ["0.9.2"]
    assert version_key("v0.10.0") > version_key("0.9.2") > version_key("unknown")


@pytest.mark.parametrize("column,value,message", [
    ("Output Tokens/s", "fast", "is not a number"),
    ("Output Tokens/s", "-5", "is not a non-negative number"),
    ("Provenance", "guessed", "is not one of measured, published, estimated"),
    ("Load Type", "burst", "is not one of request_rate"),
    ("KV Cache Usage", "42", "is not a fraction"),
    ("KV Cache Dtype", "fp4", "is not empty or one of auto, bf16, fp16, fp8"),
    ("Prefix Caching", "yes", "is not empty or one of on, off, hits"),
    ("Max Num Seqs", "1.5", "is not empty or a whole number >= 1"),
    ("Data Parallel", "0", "is not empty or a whole number >= 1"),
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


def test_setup_round_trips_and_files_without_it_load_with_the_setup_unknown(tmp_path):
    measured = point(quantization="on-load", precision="fp8", kv_cache_dtype="fp8", max_num_seqs=64, prefix_caching="off")
    store_dir(tmp_path, [measured])
    assert load_file(tmp_path / "profiles.csv") == [measured]
    header, row = (tmp_path / "profiles.csv").read_text().splitlines()
    keep = len(STORE_HEADER) - len(SETUP_HEADER)  # a file written before the setup columns existed
    (tmp_path / "old.csv").write_text(",".join(header.split(",")[:keep]) + "\n" + ",".join(row.split(",")[:keep]) + "\n")
    old = load_file(tmp_path / "old.csv")[0]
    assert old.setup == dict.fromkeys(SETUP_FIELDS) and old.output_tps == measured.output_tps


def test_missing_column_is_reported(tmp_path):
    (tmp_path / "x.csv").write_text("Instance Type,Model Name\na3-highgpu-1g,m\n")
    with pytest.raises(UsageError, match="missing column"):
        load_file(tmp_path / "x.csv")


@pytest.mark.parametrize("cell,message", [("0", "is not at least 1"), ("-2", "is not a non-negative integer"),
                                          ("2.5", "is not an integer")])
def test_bad_accelerator_counts(tmp_path, cell, message):
    store_dir(tmp_path, [point(), point(source_id="t2")])
    path = tmp_path / "profiles.csv"
    lines = path.read_text().splitlines()
    cells = lines[2].split(",")
    cells[STORE_HEADER.index("Accelerator Count")] = cell
    path.write_text("\n".join([lines[0], lines[1], ",".join(cells)]) + "\n")
    with pytest.raises(UsageError, match=message) as err:
        load_file(path)
    assert f"{path}:3: column 'Accelerator Count' value '{cell}'" in str(err.value)


def test_the_first_bad_cell_is_reported_by_line_then_column(tmp_path):
    """Two bad rows, each with two bad cells: the earlier line wins, and within it the earlier field."""
    store_dir(tmp_path, [point(), point(source_id="t2"), point(source_id="t3")])
    path = tmp_path / "profiles.csv"
    header, first, second, third = path.read_text().splitlines()
    rows = []
    for row, bad in ((second, {"Output Tokens/s": "x", "Precision": "fp3"}), (third, {"Provenance": "guessed"})):
        cells = row.split(",")
        for column, value in bad.items():
            cells[STORE_HEADER.index(column)] = value
        rows.append(",".join(cells))
    path.write_text("\n".join([header, first, "", *rows]) + "\n")  # a blank line keeps the line count honest
    with pytest.raises(UsageError) as err:
        load_file(path)
    assert str(err.value) == f"{path}:4: column 'Precision' value 'fp3' is not one of bf16, fp16, fp8, int8, fp4, mxfp4, int4"


def test_whitespace_around_cells_is_ignored_and_nan_is_refused(tmp_path):
    store_dir(tmp_path, [point()])
    path = tmp_path / "profiles.csv"
    header, row = path.read_text().splitlines()
    cells = [f" {c} " if c else c for c in row.split(",")]
    path.write_text(header + "\n" + ",".join(cells) + "\n")
    assert load_file(path) == [point()]
    cells[STORE_HEADER.index("TTFT (ms)")] = "nan"
    path.write_text(header + "\n" + ",".join(cells) + "\n")
    with pytest.raises(UsageError, match="value 'nan' is not a non-negative number"):
        load_file(path)


def test_ragged_rows_and_empty_files(tmp_path):
    store_dir(tmp_path, [point()])
    path = tmp_path / "profiles.csv"
    path.write_text(path.read_text() + "a,b\n" + path.read_text().splitlines()[1] + ",extra\n")
    with pytest.raises(UsageError, match="not a profile CSV"):
        load_file(path)
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(UsageError, match="missing column"):
        load_file(tmp_path / "empty.csv")


def test_store_selections_are_pandas_frames_with_record_views():
    store = ProfileStore.load()
    llama = store.where(model="meta-llama/Llama-3.3-70B-Instruct", model_server="nim")
    assert len(llama) == 3 and set(llama.frame["source_id"]) == {"N01", "N03", "N05"}
    assert store.versions("meta-llama/Llama-3.3-70B-Instruct", "nim") == ["1.8.0"]
    [curve] = llama.curves()
    assert [p.source_id for p in curve.points] == ["N01", "N03", "N05"]
