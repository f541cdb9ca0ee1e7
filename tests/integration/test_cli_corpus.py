"""Issue #17 (f): every CLI vector of the adversarial corpus (tests/unit/security/corpus.py) exits 0, or 2 with one
`ERROR:` line: no traceback, no hang (30 s per vector), no output on a refusal."""

from __future__ import annotations

import signal

from tests.support.cli import run_cli
from tests.unit.security.corpus import cli_vectors

HANG_S = 30


class Hang(Exception):
    pass


def _alarm(*_: object) -> None:
    raise Hang


def test_every_cli_vector_exits_0_or_2_with_one_line():
    problems, refused = [], 0
    previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        for argv in cli_vectors():
            signal.alarm(HANG_S)
            try:
                run = run_cli(*argv)
            except Hang:
                problems.append(f"hang: {argv[-2:]!r}")
                continue
            except BaseException as exc:  # noqa: BLE001 - a traceback is what this test looks for
                problems.append(f"{type(exc).__name__}: {argv[-2:]!r}")
                continue
            finally:
                signal.alarm(0)
            if run.returncode == 2:
                refused += 1
                if not (run.stderr.startswith("ERROR: ") and run.stderr.count("\n") == 1 and run.stdout == ""):
                    problems.append(f"not one line: {argv[-2:]!r}: {run.stderr[:200]!r}")
            elif run.returncode != 0:
                problems.append(f"exit {run.returncode}: {argv[-2:]!r}")
    finally:
        signal.signal(signal.SIGALRM, previous)
    assert not problems, "\n".join(p[:300] for p in problems[:20])
    assert refused > len(cli_vectors()) // 2
