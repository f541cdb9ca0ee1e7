from __future__ import annotations

import pytest

from profiles.files import atomic_path, write_atomically


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "profile.csv"
    write_atomically(target, "old\n")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["profile.csv"]
    write_atomically(target, "new\n")
    assert target.read_text() == "new\n" and len(list(tmp_path.iterdir())) == 1
