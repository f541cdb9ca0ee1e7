"""A recommendation is a promise: an estimated profile on a chip no published vLLM run calibrates says so in the plan."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

from profiles.catalog.catalog import default_catalog
from profiles.estimator.curves import OUTPUT
from profiles.stack.plan import _calibration_notes
from profiles.store.read import load_file

CATALOG = default_catalog()
POINTS = load_file(OUTPUT)


def _plan(accelerator_type: str, count: int, provenance: str = "estimated") -> SimpleNamespace:
    point = next(p for p in POINTS if p.accelerator_type == accelerator_type and p.accelerator_count == count)
    return SimpleNamespace(point=replace(point, provenance=provenance), accelerator=CATALOG.accelerator(accelerator_type))


def test_an_uncalibrated_chip_is_called_out_with_its_unmeasured_link():
    (note,) = _calibration_notes(_plan("nvidia-l4", 2))
    assert "no published vLLM V1 (0.8 or later) measurement on nvidia-l4" in note and "link figure is unmeasured" in note
    assert "ran the V0 engine" in note  # kubeai's vLLM 0.6.2 row on one L4 calibrates only vllm-v0
    (single,) = _calibration_notes(_plan("nvidia-l4", 1))
    assert "link" not in single


def test_calibrated_chips_and_measured_profiles_carry_no_such_note():
    assert _calibration_notes(_plan("nvidia-h100-80gb", 1)) == []  # Hopper has its own vLLM rows
    assert _calibration_notes(_plan("nvidia-tesla-a100", 1)) == []  # Ampere shares them between 40 and 80 GB
    assert _calibration_notes(_plan("nvidia-l4", 2, provenance="published")) == []


def test_shipped_rows_say_when_their_coefficients_come_from_other_chips():
    l4 = next(p for p in POINTS if p.accelerator_type == "nvidia-l4")
    h100 = next(p for p in POINTS if p.accelerator_type == "nvidia-h100-80gb")
    assert "no vllm row on this one" in l4.source and "*/vllm" in l4.source
    assert "on this one" not in h100.source and "Hopper/vllm" in h100.source
