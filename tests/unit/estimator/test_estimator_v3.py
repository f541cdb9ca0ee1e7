"""estimator-v3's additions: token-level ITL, the GEMM-size ramp, the MoE factor, calibration hardware and chip refits."""

from __future__ import annotations

import dataclasses
import statistics

import pytest

from profiles.catalog.catalog import default_catalog
from profiles.catalog.workload import SHAREGPT, fixed
from profiles.errors import UsageError
from profiles.estimator import calibrate, curves
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
    assert rows["X26"].args[3].input_dist is SHAREGPT.input_dist  # GPUStack: ShareGPT_V3, the dataset's own lengths
    assert rows["X03"].args[3] is not SHAREGPT  # --sharegpt-output-len 256: fixed at the run's means
    assert rows["X03"].args[3].lengths(3, 0) == [(224, 133)] * 3


def test_rows_of_vllm_before_0_8_calibrate_the_v0_engine_not_the_deployed_one(shared_dir):
    """V0's host overhead must not be read as the chip's inefficiency: Lambda's 0.5.4 and SGLang's vLLM 0.6.0 rows fit
    'vllm-v0', which no deployment or `estimate --model-server` reads."""
    if shared_dir is None:
        pytest.skip("../shared/data is not beside the checkout")
    rows = {r.row_id: r for r in calibrate.load_rows()[0]}
    assert {rows[k].engine for k in ("L01", "X05", "K05", "X03")} == {calibrate.VLLM_V0}  # 0.5.4, 0.6.0, 0.6.2, Feb 2025 TPU
    # 0.8.5, 0.11.0, and the 2026 blog's run (its text names only the versions it compares: 0.10.2 and 0.19.1)
    assert {rows[k].engine for k in ("I01", "X42", "X26", "X11")} == {"vllm"}
    assert [calibrate.vllm_engine(v) for v in ("v0.7.2", "0.6", "gptoss", "0.8.5", "v0.11.0", "0.32.0")] == \
        [calibrate.VLLM_V0, calibrate.VLLM_V0, "vllm", "vllm", "vllm", "vllm"]
    spellings = ("vllm==0.6.3", "image vllm/vllm-openai:v0.6.3", "vLLM version 0.6.3", "vLLM (v0.7.3)", "vLLM 0.6",
                 "vllm-0.6.3", "vllm/vllm-tpu:v0.7.3", "vLLM, release 0.6.3")
    assert {calibrate._engine("R", text) for text in spellings} == {calibrate.VLLM_V0}
    v1 = ("vLLM V1 engine", "VLLM_USE_V1=1", "vLLM v0.10.2", "vLLM 0.5x slower than before")
    assert {calibrate._engine("R", text) for text in v1} == {"vllm"}
    for both in ("vLLM 0.6.0 compared with vLLM 0.11.0", "unlike the vLLM V0 engine, vLLM 0.11.0"):
        with pytest.raises(UsageError, match="R: .*both engines.*allowed"):
            calibrate._engine("R", both)
    table = coefficients()
    assert {e for _, e in table} >= {"vllm", calibrate.VLLM_V0}
    pools = [table[("*", e)] for e in {e for _, e in table} - {"*", calibrate.VLLM_V0}]
    assert table[("*", "*")].mbu == statistics.median(p.mbu for p in pools)  # the fallback ignores V0
    # no shipped curve reads V0's coefficients
    assert "vllm-v0" not in curves.OUTPUT.read_text(encoding="utf-8")


def test_chat_endpoint_rows_prefill_the_chat_templates_framing(shared_dir):
    """GPUStack's client counted raw ShareGPT prompts while the server applied the chat template: gpt-oss's harmony
    header (67 tokens) is prefilled with every prompt; a completions-endpoint row adds nothing."""
    if shared_dir is None:
        pytest.skip("../shared/data is not beside the checkout")
    rows = {r.row_id: r for r in calibrate.load_rows()[0]}
    assert [rows[k].args[3].prompt_overhead for k in ("X26", "X36", "X39")] == [67, 8, 3]
    assert rows["I01"].args[3].prompt_overhead == rows["X11"].args[3].prompt_overhead == 0
    chat, plain = rows["X26"].args[3], SHAREGPT
    assert [p - q for (p, _), (q, _) in zip(chat.lengths(50, 3), plain.lengths(50, 3), strict=True)] == [67] * 50
    assert chat.longest_request() == plain.longest_request() + 67


@pytest.mark.parametrize(("line", "message"), [("openai/gpt-oss-20b,lots,somewhere,V,", "line 2.*'lots'"),
                                                ("Qwen/Qwen3-32B,8,somewhere,V,", "X16: .*no row for openai/gpt-oss-120b")])
def test_a_bad_or_missing_chat_template_row_is_a_data_error(shared_dir, tmp_path, monkeypatch, line, message):
    if shared_dir is None:
        pytest.skip("../shared/data is not beside the checkout")
    bad = tmp_path / "chat_template_tokens.csv"
    bad.write_text(f"model,tokens,source,confidence,note\n{line}\n", encoding="utf-8")
    monkeypatch.setattr(calibrate, "CHAT_TEMPLATE_TOKENS", bad)
    calibrate.chat_template_tokens.cache_clear()
    try:
        with pytest.raises(UsageError, match=message):
            calibrate.load_rows()
    finally:
        calibrate.chat_template_tokens.cache_clear()


def test_an_own_fit_on_a_grid_bound_keeps_the_pools_value():
    """Ampere's vLLM V1 rows fit MBU 0.9, the grid's top: rows asking for more than a chip gives are not evidence of
    an efficiency, so the shipped Ampere MBU is the pool's, and the source says why."""
    table = coefficients()
    ampere, pool = table[("Ampere", "vllm")], table[("*", "vllm")]
    assert "mbu 0.9 at a grid bound" in ampere.source
    assert ampere.mbu == pool.mbu
