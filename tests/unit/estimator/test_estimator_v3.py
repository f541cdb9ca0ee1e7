"""estimator-v3's additions: token-level ITL, the GEMM-size ramp, the MoE factor, calibration hardware and chip refits."""

from __future__ import annotations

import dataclasses

import pytest

from profiles.catalog.catalog import default_catalog
from profiles.catalog.workload import SHAREGPT, fixed
from profiles.estimator import calibrate
from profiles.estimator.estimate import Load, coefficients, efficiency, estimate
from profiles.estimator.step_time import GEMM_HALF_TOKENS, step_model

CATALOG = default_catalog()
LLAMA_8B = CATALOG.models["meta-llama/Llama-3.1-8B-Instruct"]
GPT_OSS = CATALOG.models["openai/gpt-oss-20b"]
H100 = CATALOG.accelerator("nvidia-h100-80gb")


def test_token_itl_differs_from_request_tpot_in_a_burst():
    """A burst's short requests decode while long prompts prefill (slow steps); long requests decode later on fast
    steps. Per token, the long requests dominate: vllm bench's ITL mean sits well below the mean of requests' TPOT."""
    e = estimate(CATALOG, LLAMA_8B, CATALOG.shape("nvidia-h100-80gb", 1), "bf16", SHAREGPT, Load("offline"), requests=400)
    assert e.itl_token_ms["mean"] < 0.9 * e.itl_ms["mean"]


def test_token_itl_equals_tpot_when_every_step_is_alike():
    """One request alone, fixed lengths: every gap is one decode step, so per-token and per-request figures agree."""
    e = estimate(CATALOG, LLAMA_8B, CATALOG.shape("nvidia-h100-80gb", 1), "bf16", fixed(128, 64), Load("concurrency", 1),
                 requests=3)
    assert e.itl_token_ms["p50"] == pytest.approx(e.itl_ms["p50"], rel=0.02)
    assert e.itl_token_ms["mean"] == pytest.approx(e.itl_ms["mean"], rel=0.02)


def test_small_gemms_pay_the_ramp_and_large_ones_barely_do():
    """M/(M + M_HALF): a 1-token compute term costs (1 + M_HALF)x, an 8k-token chunk under 1 % more."""
    eff = efficiency("Hopper", "vllm")
    on = step_model(LLAMA_8B, H100, 1, "bf16", eff)
    off = dataclasses.replace(on, gemm_half_tokens=0.0)
    compute = on.flops_per_token / on.compute_rate
    assert GEMM_HALF_TOKENS > 0
    big_on, big_off = (m.step_time(8192, 0, 0) for m in (on, off))
    assert big_on - big_off == pytest.approx(compute * GEMM_HALF_TOKENS, rel=1e-6)
    assert (big_on - big_off) / big_off < 0.01


def test_the_moe_factor_slows_only_expert_gemms():
    eff = efficiency("Hopper", "vllm")
    slow, fast = (step_model(GPT_OSS, H100, 1, "mxfp4", dataclasses.replace(eff, moe=m), mode="weight-only")
                  for m in (0.5, 1.0))
    assert slow.step_time(8192, 0, 0) > 1.2 * fast.step_time(8192, 0, 0)  # compute-bound: experts dominate
    dense = (step_model(LLAMA_8B, H100, 1, "bf16", dataclasses.replace(eff, moe=m)) for m in (0.5, 1.0))
    assert len({m.step_time(8192, 0, 0) for m in dense}) == 1


def test_pcie_rows_are_scored_against_the_pcie_card(shared_dir):
    if shared_dir is None:
        pytest.skip("../shared/data is not beside the checkout")
    rows = {r.row_id: r for r in calibrate.load_rows()[0]}
    assert rows["I01"].args[1].accelerator_type == "nvidia-h100-pcie-80gb"  # IOG: 2x NVIDIA-H100-PCIe
    assert rows["X11"].args[1].accelerator_type == "nvidia-h100-80gb"  # vLLM's blog: SXM
    pcie = calibrate.calibration_catalog().accelerator("nvidia-h100-pcie-80gb")
    assert pcie.hbm_bandwidth_gbps < H100.hbm_bandwidth_gbps and pcie.efficiency_group == H100.efficiency_group
    assert "nvidia-h100-pcie-80gb" not in CATALOG.accelerators  # never offered for planning


def test_a_chip_refit_keeps_the_engines_step_overhead(shared_dir):
    """The per-step overhead is the host's: an architecture's refit never moves it, and the shipped table agrees."""
    if shared_dir is None:
        pytest.skip("../shared/data is not beside the checkout")
    ada = tuple(r for r in calibrate.load_rows()[0] if r.arch == "Ada")
    start = {**calibrate.START, "overhead_ms": 16}
    params, _ = calibrate.fit_params(ada, tuple(start[k] for k in calibrate.PARAMS), calibrate.CHIP_PARAMS)
    assert params["overhead_ms"] == 16
    table = coefficients()
    for (arch, engine), e in table.items():
        if arch != "*":
            assert e.overhead_ms == table[("*", engine)].overhead_ms, (arch, engine)


def test_sharegpt_runs_keep_the_spread_unless_outputs_were_overridden(shared_dir):
    if shared_dir is None:
        pytest.skip("../shared/data is not beside the checkout")
    rows = {r.row_id: r for r in calibrate.load_rows()[0]}
    assert rows["X26"].args[3] is SHAREGPT  # GPUStack: ShareGPT_V3, the dataset's own lengths
    assert rows["X03"].args[3] is not SHAREGPT  # --sharegpt-output-len 256: fixed at the run's means
    assert rows["X03"].args[3].lengths(3, 0) == [(224, 133)] * 3
