"""`make plan` is one pass: the profile store is loaded once, the winner chosen once, the pod sized once, and the
summary printed from the plan the program itself computed."""

from __future__ import annotations

import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from components.mock_runtime import offline_plan
from profiles.manifests.pod import size_pod
from profiles.selection.choose import choose
from profiles.selection.ranking import rank
from profiles.stack.plan import StackPlan
from profiles.store.store import ProfileStore
from tests.support.cli import ROOT

WATCHED = {"ProfileStore.load": ProfileStore.load.__func__, "choose": choose, "rank": rank, "size_pod": size_pod}


@contextmanager
def call_counts(functions: dict[str, Callable]) -> Iterator[Counter]:
    """Calls of each function, however it was imported (matched by code object, in every thread)."""
    codes = {f.__code__: name for name, f in functions.items()}
    counts: Counter = Counter()

    def profile(frame, event, _arg):
        if event == "call" and frame.f_code in codes:
            counts[codes[frame.f_code]] += 1

    previous = sys.getprofile()
    sys.setprofile(profile)
    threading.setprofile(profile)
    try:
        yield counts
    finally:
        sys.setprofile(previous)
        threading.setprofile(None)


@pytest.mark.parametrize(("stack", "ranked"), [("dev", 1), ("prod", 1)])
def test_one_store_load_one_choice_one_pod_sizing(stack, ranked):
    """dev auto-selects the accelerator (one ranking over every accelerator); prod names it (one ranking on it)."""
    with call_counts(WATCHED) as counts:
        run, _ = offline_plan(ROOT / f"Pulumi.{stack}.yaml")
    assert isinstance(run.plan, StackPlan) and run.resources
    assert counts["ProfileStore.load"] == 1, counts
    assert counts["choose"] == 1 and counts["rank"] == ranked, counts
    assert counts["size_pod"] == 1, counts


def test_the_program_and_the_summary_share_one_plan():
    run, _ = offline_plan(ROOT / "Pulumi.prod.yaml")
    deployment = next(r for r in run.resources if r.type == "kubernetes:apps/v1:Deployment" and "vllm" in r.name)
    assert deployment.inputs["spec"]["template"]["spec"]["containers"][0]["args"] == \
        next(o for o in run.plan.service.objects if o["kind"] == "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]
    assert run.outputs["profile"] == run.plan.outputs()["profile"]
