"""Issue #17 (f): the adversarial corpus (tests/unit/security/corpus.py) on stack configs, stack files and profile
CSV rows, plus hypothesis fuzzing of the checks: every input is accepted or refused with one line (UsageError),
never another exception. The CLI vectors run in tests/integration/test_cli_corpus.py."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from profiles import checks
from profiles.errors import UsageError
from profiles.stack.config import parse, read_stack_file
from profiles.store.read import read_file
from profiles.store.write import write_file
from tests.support.points import point
from tests.unit.security.corpus import CSV_VALUES, STACK_FILES, stack_vectors


def refused_cleanly(call) -> bool:
    """True when refused with a one-line UsageError, False when accepted; any other exception fails the test."""
    try:
        call()
    except UsageError as exc:
        assert "\n" not in str(exc), str(exc)
        return True
    return False


@pytest.mark.parametrize("config", stack_vectors(), ids=lambda c: repr(c)[:60])
def test_stack_config_vectors(config):
    refused = refused_cleanly(lambda: parse(config, "Pulumi.t.yaml"))
    assert refused or not any(v != v for v in _leaves(config))  # NaN is never accepted
    if "hfTokn" in repr(config):
        with pytest.raises(UsageError) as err:
            parse({**config, "hfTokn": "hf_SECRET"}, "Pulumi.t.yaml")
        assert "hf_SECRET" not in str(err.value)


def _leaves(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


@pytest.mark.parametrize("text", STACK_FILES, ids=lambda t: repr(t[:30]))
def test_stack_file_vectors(tmp_path, text):
    path = tmp_path / "Pulumi.t.yaml"
    path.write_bytes(text)

    def load():
        from profiles.stack.config import NS, namespace

        parse(namespace(read_stack_file(path), NS), path.name)

    assert refused_cleanly(load)  # every file of the corpus is bad in some way


def _csv_vectors():
    base = io.StringIO()
    columns = list(csv.reader(io.StringIO(_base_text())))[0]
    del base
    return [(c, v) for c in columns for v in CSV_VALUES]


def _base_text() -> str:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "p.csv"
        write_file(path, [point(load_value=1)])
        return path.read_text(encoding="utf-8")


BASE_CSV = _base_text()


@pytest.mark.parametrize("column, value", _csv_vectors(), ids=lambda x: repr(x)[:30])
def test_profile_csv_row_vectors(tmp_path, column, value):
    rows = list(csv.reader(io.StringIO(BASE_CSV)))
    rows[1][rows[0].index(column)] = value
    path = tmp_path / "p.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    refused = refused_cleanly(lambda: read_file(path))
    if value in ("nan", "inf", "-inf", "1e309", "-1") and column in ("Output Tokens/s", "NTPOT (ms)", "TTFT (ms)", "QPS"):
        assert refused


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_fuzz_name_checks(text):
    for check in (checks.dns_label, checks.namespace, checks.bucket_name, checks.object_path, checks.model_id,
                  checks.http_url, checks.cidr, checks.label):
        if not refused_cleanly(lambda c=check: c(text, "--flag")):  # accepted: never a line break, never a mount option
            assert not any(ch in text for ch in "\n\r\x00\u2028")
            assert "," not in text or check in (checks.http_url, checks.label)
    line = checks.one_line(text)
    assert "\n" not in line and "\r" not in line and "\u2028" not in line


@pytest.mark.parametrize("check", [checks.dns_label, checks.namespace, checks.bucket_name, checks.model_id, checks.object_path])
@pytest.mark.parametrize("text", ["llm\n", "llm\r\n", "llm\nkind: x", "my-bucket\n", "org/model\n", "a/b\n"])
def test_trailing_line_breaks_are_refused(check, text):
    assert refused_cleanly(lambda: check(text, "--flag"))


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.floats(), st.integers(), st.text(max_size=20), st.none(), st.booleans()))
def test_fuzz_numbers(value):
    if not refused_cleanly(lambda: checks.finite(value, "--x", 0, 1e6)):
        assert 0 <= float(value) <= 1e6


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(["model", "namespace", "targetNtpotMs", "autoscaling", "modelSource", "exposure",
                                        "serviceType", "hfToken", "capacity"]),
                       st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=30),
                                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner,
                                                                                                max_size=3),
                                    max_leaves=6)))
def test_fuzz_stack_configs(values):
    refused_cleanly(lambda: parse(values, "Pulumi.t.yaml"))


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
def test_fuzz_stack_files(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("s") / "Pulumi.t.yaml"
    path.write_bytes(data)
    refused_cleanly(lambda: read_stack_file(path))
