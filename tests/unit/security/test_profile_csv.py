"""Issue #17 (c): profile CSVs are checked row by row, and files are checked before they are opened."""

from __future__ import annotations

import os

import pytest

from profiles.errors import UsageError
from profiles.store.read import read_file
from profiles.store.store import ProfileStore
from profiles.store.write import write_file
from tests.support.cli import run_cli
from tests.support.points import point


def write(tmp_path, name="p.csv", **changes):
    path = tmp_path / name
    write_file(path, [point(load_value=1), point(**{"load_value": 2, "output_tps": 300.0, "qps": 1.5, **changes})])
    return path


@pytest.mark.parametrize("changes, message", [
    ({"output_tps": float("inf")}, "column 'Output Tokens/s' value 'inf' is not a finite number"),
    ({"output_tps": 0.0}, "column 'Output Tokens/s' value '0' is not empty or greater than 0"),
    ({"ntpot_ms": float("inf")}, "column 'NTPOT (ms)' value 'inf' is not a finite number"),
    ({"ttft_ms": 0.0}, "column 'TTFT (ms)' value '0' is not empty or greater than 0"),
    ({"instance_type": "g2-standard-12"},
     "column 'Instance Type' value 'g2-standard-12' is not a GKE machine type with 1 x nvidia-h100-80gb"),
    ({"accelerator_count": 1_000_000}, "column 'Accelerator Count' value '1000000' is not at most 256"),
    ({"accelerator_count": 2}, "is not a GKE machine type with 2 x nvidia-h100-80gb"),
    ({"accelerator_type": "nvidia-h900"}, "column 'Accelerator Type' value 'nvidia-h900' is not a catalog accelerator"),
])
def test_bad_rows_name_file_line_column(tmp_path, changes, message):
    path = write(tmp_path, **changes)
    with pytest.raises(UsageError) as err:
        read_file(path)
    assert str(err.value).startswith(f"{path}:3: ") and message in str(err.value), str(err.value)


def test_conflicting_duplicates_name_both_files(tmp_path):
    write_file(tmp_path / "a.csv", [point(load_value=1)])
    write_file(tmp_path / "b.csv", [point(load_value=1)])  # the same point twice: harmless
    ProfileStore.load([tmp_path])
    write_file(tmp_path / "c.csv", [point(load_value=1, output_tps=999.0)])
    with pytest.raises(UsageError) as err:
        ProfileStore.load([tmp_path])
    assert f"{tmp_path / 'c.csv'}:2: conflicts with {tmp_path / 'a.csv'}:2" in str(err.value)


def test_files_checked_before_reading(tmp_path):
    (tmp_path / "zero.csv").symlink_to("/dev/zero")
    with pytest.raises(UsageError, match="is not a regular file"):
        read_file(tmp_path / "zero.csv")
    os.mkfifo(tmp_path / "fifo.csv")
    with pytest.raises(UsageError, match="is not a regular file"):
        read_file(tmp_path / "fifo.csv")  # would block forever if opened


def test_over_long_field_and_bad_encoding(tmp_path):
    path = write(tmp_path)
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], lines[1].replace("test fixture", "x" * 200_000), *lines[2:]]) + "\n")
    with pytest.raises(UsageError, match=r":2: column 'Source' holds more than 16,384 characters"):
        read_file(path)
    path.write_bytes(path.read_bytes().replace(b"x" * 200_000, b"\xff\xfe"))
    with pytest.raises(UsageError, match="not a profile CSV"):
        read_file(path)


def test_cli_refuses_with_one_line(tmp_path):
    write(tmp_path, output_tps=float("inf"))
    run = run_cli("list", "--model", "test/model-8b", "--profiles-dir", str(tmp_path))
    assert run.returncode == 2 and run.stderr.count("\n") == 1 and "not a finite number" in run.stderr
