"""`python -m profiles` as a user runs it: output shapes, exit codes, one-line errors."""

import csv
import io
import json
import re

import pytest
import yaml

from profiles.cli.giq import PROFILE_TABLE_COLUMNS, amount_value
from profiles.estimator.step_time import MODEL_VERSION
from profiles.selection.cost import token_cost
from profiles.store.points import GCLOUD_BENCHMARK_HEADER
from tests.support.cli import run_cli
from tests.support.points import curve, store_dir

LLAMA70 = "meta-llama/Llama-3.3-70B-Instruct"


def test_done_when_list_csv_rows_meet_the_target_sorted_by_cost_and_recomputable():
    r = run_cli("list", "--model", LLAMA70, "--pricing-model", "on-demand", "--target-ntpot-milliseconds", "100",
                "--format", "csv", "--show-extras")
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert rows, "expected at least one qualifying profile"
    costs = []
    priced = [row for row in rows if row["Instance $/h"] != ""]
    assert priced and all(row["Cost/M Output Tokens"] == "N/A" for row in rows[len(priced):]), "unpriced rows sort last"
    for row in priced:
        assert float(row["NTPOT (ms)"]) <= 100
        out_tps, in_tps = float(row["Output Tokens/s"]), float(row["Input Tokens/s"])
        recomputed = token_cost(float(row["Instance $/h"]), out_tps, in_tps)
        # printed tokens/s carry 6 significant digits, costs 3 decimals
        slack = 1e-5
        for kind, printed in (("output", row["Cost/M Output Tokens"]), ("input", row["Cost/M Input Tokens"])):
            value = getattr(recomputed, f"per_million_{kind}")
            assert abs(value - float(printed)) <= 0.0005 + value * slack, (kind, value, printed)
        costs.append(float(row["Cost/M Output Tokens"]))
    assert costs == sorted(costs)


def test_table_has_gclouds_columns_then_ours_with_show_extras():
    r = run_cli("list", "--model", LLAMA70, "--pricing-model", "on-demand")
    header = re.split(r"\s{2,}", r.stdout.splitlines()[0])
    assert tuple(header) == PROFILE_TABLE_COLUMNS  # GIQ's profile printer: 16 columns, same labels, same order
    r = run_cli("list", "--model", LLAMA70, "--pricing-model", "on-demand", "--show-extras")
    header = re.split(r"\s{2,}", r.stdout.splitlines()[0])
    assert tuple(header) == PROFILE_TABLE_COLUMNS + ("$/h", "Input Tokens/s", "Precision", "Workload", "Source", "Deployable")


def test_json_and_yaml_carry_provenance_and_na_as_null():
    r = run_cli("list", "--format", "json", "--pricing-model", "on-demand")
    records = json.loads(r.stdout)
    ext = [rec["extension"] for rec in records]
    assert all(e["provenance"] in ("published", "estimated") and e["source"] for e in ext)
    assert {e["provenance"] for e in ext} == {"published", "estimated"}
    assert any("cost" not in rec["performanceStats"][0] for rec in records)  # H200/B200: no published price
    docs = list(yaml.safe_load_all(run_cli("list", "--format", "yaml", "--model", LLAMA70).stdout))
    assert {d["modelServerInfo"]["model"] for d in docs} == {LLAMA70}


def test_ratio_flag_changes_costs():
    base = json.loads(run_cli("list", "--model", LLAMA70, "--format", "json", "--pricing-model", "on-demand").stdout)
    two = json.loads(run_cli("list", "--model", LLAMA70, "--format", "json", "--pricing-model", "on-demand",
                             "--output-input-cost-ratio", "2").stdout)
    def out_cost(r):
        cost = r["performanceStats"][0].get("cost")
        return amount_value(cost[0]["costPerMillionOutputTokens"]) if cost else None

    by_id = {(r["extension"].get("sourceId"), r["instanceType"]): out_cost(r) for r in base}
    priced = [r for r in two if out_cost(r) is not None]
    assert priced and all(out_cost(r) < by_id[(r["extension"].get("sourceId"), r["instanceType"])] for r in priced)
    assert all(r["performanceStats"][0]["cost"][0]["outputInputCostRatio"] == 2 for r in priced)


def test_benchmarks_list_csv_header_and_rows():
    r = run_cli("benchmarks", "list", "--model", LLAMA70, "--model-server", "nim", "--pricing-model", "on-demand")
    assert r.returncode == 0
    assert r.stdout.splitlines()[0] == ",".join(GCLOUD_BENCHMARK_HEADER)  # gcloud's 17 columns exactly
    extras = run_cli("benchmarks", "list", "--model", LLAMA70, "--model-server", "nim", "--pricing-model", "on-demand",
                     "--show-extras")
    assert extras.stdout.splitlines()[0].startswith(",".join(GCLOUD_BENCHMARK_HEADER) + ",")
    rows = list(csv.DictReader(io.StringIO(extras.stdout)))
    assert [row["Source Id"] for row in rows] == ["N01", "N03", "N05"]


def test_models_servers_and_versions():
    models = run_cli("models", "list").stdout.splitlines()
    assert models[0] == "Supported models:" and f"-  {LLAMA70}" in models  # gcloud's Display
    assert LLAMA70 in json.loads(run_cli("models", "list", "--format", "json").stdout)
    catalog = run_cli("models", "list", "--catalog", "--format", "csv").stdout
    assert "openai/gpt-oss-20b" in catalog and "google/gemma-4-31B-it" in catalog
    servers = run_cli("model-servers", "list", "--model", LLAMA70).stdout.splitlines()
    assert servers == ["Supported model servers:", "-  nim", "-  tensorrt-llm", "-  vllm"]  # vllm: estimated
    versions = run_cli("model-server-versions", "list", "--model", LLAMA70, "--model-server", "nim", "--format", "value")
    assert versions.stdout.split() == ["1.8.0"]


def test_catalog_model_answers_from_estimated_profiles():
    r = run_cli("list", "--model", "Qwen/Qwen3-32B", "--show-extras")  # no published row: the estimated curves answer
    assert r.returncode == 0 and f"estimated:{MODEL_VERSION}-r" in r.stdout
    r = run_cli("list", "--model", LLAMA70, "--model-server", "sglang")  # sglang exists, but not for this model
    assert r.returncode == 2 and "allowed: nim, tensorrt-llm, vllm" in r.stderr


def test_no_match_prints_the_achievable_range():
    r = run_cli("list", "--model", LLAMA70, "--target-ntpot-milliseconds", "5")
    assert r.returncode == 0 and r.stdout == ""
    assert "No profile meets NTPOT <= 5 ms" in r.stderr and re.search(r"\[Chatbot \(ShareGPT\)\]: NTPOT \d+-\d+ ms", r.stderr)


def test_explain_names_the_winner_and_hpa():
    r = run_cli("list", "--model", LLAMA70, "--pricing-model", "on-demand", "--target-ntpot-milliseconds", "100",
                "--explain")
    winner, runner_up = (line.split()[0] for line in r.stdout.splitlines()[1:3])
    assert f"Recommended {winner}" in r.stderr and f"The runner-up, {runner_up}" in r.stderr and "HPA:" in r.stderr


def test_measured_profiles_dir_changes_the_answer(tmp_path):
    mine = curve([(1, 300, 20), (4, 1100, 22), (8, 1900, 30), (16, 8000, 95)], model=LLAMA70,
                 instance_type="a3-highgpu-2g", accelerator_count=2, num_requests_waiting=4.0)
    store_dir(tmp_path, mine)
    r = run_cli("list", "--model", LLAMA70, "--pricing-model", "on-demand", "--target-ntpot-milliseconds", "100",
                "--format", "json", "--profiles-dir", str(tmp_path))
    first = json.loads(r.stdout)[0]["extension"]
    assert (first["provenance"], first["sourceId"]) == ("measured", "r16")
    env = run_cli("list", "--model", LLAMA70, "--format", "json", env={"GKE_INFERENCE_PROFILES_DIR": str(tmp_path)})
    assert any(rec["extension"]["provenance"] == "measured" for rec in json.loads(env.stdout))


def test_workload_flags():
    r = run_cli("list", "--use-case", "chatbot", "--format", "json")
    assert {rec["workloadSpec"]["useCase"] for rec in json.loads(r.stdout)} == {"Chatbot (ShareGPT)"}
    r = run_cli("list", "--target-input-length", "5000", "--target-output-length", "500", "--format", "json")
    specs = {(rec["workloadSpec"]["averageInputLength"], rec["workloadSpec"]["averageOutputLength"])
             for rec in json.loads(r.stdout)}
    assert specs == {(5000, 500)}


@pytest.mark.parametrize("args,fragment", [
    (["list", "--model", "llama-3.3-70b"], "closest: meta-llama/Llama-3.3-70B-Instruct"),
    (["list", "--pricing-model", "cheap"], "allowed: on-demand, spot, 1-year-cud, 3-years-cud"),
    (["list", "--target-ntpot-milliseconds", "0"], "must be greater than 0"),
    (["list", "--target-ttft-milliseconds", "fast"], "is not a whole number"),
    (["list", "--accelerator-type", "nvidia-h100"], "closest: nvidia-h100-80gb"),
    (["list", "--region", "mars-1"], "--region: unknown value 'mars-1'"),
    (["list", "--target-input-length", "100"], "only works alongside"),
    (["list", "--format", "xml"], "format [xml] is not supported"),
    (["list", "--format", "table[box](instanceType)"], "printer attribute [box] is not supported"),
    (["list", "--format", "value(name.basename())"], "transform basename() is not supported"),
    (["list", "--filter", "acceleratorType:(nvidia"], "--filter"),
    (["list", "--filter", "nvidia-l4"], "global restrictions"),
    (["list", "--uri"], "--uri is not supported"),
    (["list", "--limit", "0"], "must be greater than 0"),
    (["list", "--use-case", "poetry"], "allowed: Advanced Customer Support"),
    (["list", "--model-server", "tgi"], "--model-server: unknown value 'tgi'"),
    (["list", "--model", LLAMA70, "--model-server-version", "9.9"], "unknown version '9.9'; known for this selection: 0.32.0"),
    (["benchmarks", "list", "--model", LLAMA70], "required: --model-server"),
    (["model-server-versions", "list", "--model", LLAMA70, "--model-server", "sglang"], "allowed: nim, tensorrt-llm, vllm"),
    (["models", "describe", "--model", "/nonexistent/config.json"], "no such file"),
    (["list", "--profiles-dir", "/nonexistent"], "is not a directory"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_input_is_one_line_and_exit_2(args, fragment):
    r = run_cli(*args)
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert fragment in r.stderr


def test_bad_data_file_in_a_profiles_dir_is_exit_2(tmp_path):
    (tmp_path / "bad.csv").write_text("Instance Type\nx\n")
    r = run_cli("list", "--profiles-dir", str(tmp_path))
    assert r.returncode == 2 and "missing column" in r.stderr and "Traceback" not in r.stderr


def test_a_model_without_sharegpt_profiles_names_its_workloads(tmp_path):
    """A measured fixed-length sweep is not in the default (ShareGPT) ranking; `list` says which workloads exist."""
    from dataclasses import replace

    mine = [replace(p, use_case="", input_length=128, output_length=32)
            for p in curve([(1, 100, 20), (2, 190, 22)], model="tiny/served", accelerator_type="nvidia-l4",
                           instance_type="g2-standard-12")]
    store_dir(tmp_path, mine)
    r = run_cli("list", "--model", "tiny/served", "--profiles-dir", str(tmp_path))
    assert r.returncode == 0 and "tiny/served has profiles for: 128/32" in r.stderr
    fixed = run_cli("list", "--model", "tiny/served", "--profiles-dir", str(tmp_path), "--format", "json",
                    "--target-input-length", "128", "--target-output-length", "32")
    assert len(json.loads(fixed.stdout)) == 1
    other = run_cli("list", "--model", "tiny/served", "--profiles-dir", str(tmp_path), "--use-case", "Code Completion")
    assert other.returncode == 0 and "tiny/served has profiles for: 128/32" in other.stderr, other.stderr


def test_a_version_only_other_workloads_have_is_named_with_the_flags_that_list_it(tmp_path):
    """model-server-versions list shows every workload's versions; list ranks one workload, so a version found only in
    another workload is refused with where it is, not as if it did not exist."""
    from dataclasses import replace

    mine = [replace(p, use_case="", input_length=128, output_length=32, model_server_version="0.9.1")
            for p in curve([(1, 100, 20), (2, 190, 22)], model="tiny/served", accelerator_type="nvidia-l4",
                           instance_type="g2-standard-12")]
    store_dir(tmp_path, mine)
    r = run_cli("list", "--model", "tiny/served", "--profiles-dir", str(tmp_path), "--model-server-version", "0.9.1")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "unknown version '0.9.1'" in r.stderr and "for other workloads (128/32)" in r.stderr
    ok = run_cli("list", "--model", "tiny/served", "--profiles-dir", str(tmp_path), "--model-server-version", "0.9.1",
                 "--use-case", "all", "--format", "json")
    assert ok.returncode == 0 and len(json.loads(ok.stdout)) == 1, ok.stderr
