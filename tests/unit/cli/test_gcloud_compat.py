"""A GIQ user's gcloud command lines, with `gcloud container ai profiles` replaced by `python -m profiles`.

Every `gcloud container ai profiles …` line in the seeds (../shared/seeds, the GKE Inference Quickstart guide) and in
the reference's examples (../shared/reference/giq-api-and-cli.md §5, gcloud's help examples, gke-mcp) runs: exit 0,
or exit 2 where gcloud itself refuses the line before calling the API (a required flag missing); and what it prints
has gcloud's headers and keys.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

from profiles.cli.giq import PROFILE_TABLE_COLUMNS
from profiles.store.points import GCLOUD_BENCHMARK_HEADER
from tests.support.cli import ROOT, run_cli

GPT20 = "openai/gpt-oss-20b"
PREFIX = "gcloud container ai profiles "

# (command line as documented, expected exit status); 2 = gcloud's own argument error (required flag missing)
SEED_COMMANDS = [
    ("gcloud container ai profiles models list", 0),
    ("gcloud container ai profiles list --model=openai/gpt-oss-20b --pricing-model=on-demand --target-ttft-milliseconds=300", 0),
    ("gcloud container ai profiles benchmarks list --model=deepseek-ai/DeepSeek-R1-Distill-Qwen-7B --model-server=vllm "
     "--pricing-model=on-demand", 0),
    ("gcloud container ai profiles benchmarks list", 2),  # the guide's `benchmarks list > profiles.csv`: flags required
    ("gcloud container ai profiles manifests create", 2),  # the guide's bare line: --model, --accelerator-type required
    ("gcloud container ai profiles manifests create --model=google/gemma-2-27b-it --model-server=vllm "
     "--model-server-version=v0.7.2 --accelerator-type=nvidia-l4 --target-ntpot-milliseconds=200", 0),
    ("gcloud container ai profiles manifests create --model deepseek-ai/DeepSeek-R1-Distill-Qwen-7B --model-server vllm "
     "--accelerator-type=nvidia-tesla-a100 --output=manifest --output-path /tmp/manifests.yaml", 0),
    ("gcloud container ai profiles manifests create --model=google/gemma-2-27b-it --model-server=vllm "
     "--accelerator-type=nvidia-l4 --model-bucket-uri=gs://BUCKET_NAME --output-path=manifests.yaml", 0),
    ("gcloud container ai profiles manifests create --model=google/gemma-2-27b-it --accelerator-type=nvidia-l4 "
     "--target-ntpot-milliseconds=250", 0),
]
REFERENCE_COMMANDS = [
    ("gcloud container ai profiles benchmarks list --model=google/gemma-2-27b-it --model-server=vllm --pricing-model=spot", 0),
    ("gcloud container ai profiles model-servers list --model=deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", 0),
    ("gcloud container ai profiles model-server-versions list --model=deepseek-ai/DeepSeek-R1-Distill-Qwen-7B "
     "--model-server=vllm", 0),
    ("gcloud container ai profiles use-case list", 0),
    ("gcloud container ai profiles list --format=csvprofile", 0),
    ("gcloud container ai profiles list --model=google/gemma-2-27b-it --format=yaml", 0),
    # gke-mcp's tool descriptions
    ("gcloud container ai profiles list --format='table(modelServerInfo.model,modelServerInfo.modelServer,"
     "modelServerInfo.modelServerVersion,acceleratorType)'", 0),
    ("gcloud container ai profiles list --model=openai/gpt-oss-20b --format='table(modelServerInfo.model,"
     "modelServerInfo.modelServer,modelServerInfo.modelServerVersion,acceleratorType)'", 0),
    # the done-when lines
    ("gcloud container ai profiles list --model openai/gpt-oss-20b --pricing-model on-demand "
     "--format 'table(instanceType, acceleratorType, performanceStats[0].outputTokensPerSecond)'", 0),
    ("gcloud container ai profiles list --model openai/gpt-oss-20b --pricing-model on-demand --format 'value(instanceType)' "
     "--limit 3", 0),
    ("gcloud container ai profiles list --model openai/gpt-oss-20b --pricing-model on-demand "
     "--filter 'acceleratorType:nvidia-l4'", 0),
    ("gcloud container ai profiles list --model openai/gpt-oss-20b --pricing-model on-demand "
     "--sort-by ~performanceStats[0].outputTokensPerSecond", 0),
    ("gcloud container ai profiles list --model openai/gpt-oss-20b --pricing-model on-demand --format csvprofile", 0),
]


def argv(line: str, tmp_path: Path) -> list[str]:
    assert line.startswith(PREFIX)
    args = shlex.split(line[len(PREFIX):].replace("BUCKET_NAME", "my-models"))  # the guide: "replace BUCKET_NAME"
    out = []
    for arg in args:  # files the guide writes go to the test's directory
        if arg.startswith("--output-path="):
            arg = f"--output-path={tmp_path / Path(arg.split('=', 1)[1]).name}"
        elif out and out[-1] == "--output-path":
            arg = str(tmp_path / Path(arg).name)
        out.append(arg)
    return out


@pytest.mark.parametrize(("line", "code"), SEED_COMMANDS + REFERENCE_COMMANDS, ids=lambda v: v if isinstance(v, int) else
                         re.sub(r"\W+", "-", v[len(PREFIX):])[:80])
def test_documented_gcloud_lines_run(line, code, tmp_path):
    r = run_cli(*argv(line, tmp_path))
    assert r.returncode == code, r.stderr
    assert "Traceback" not in r.stderr
    if code == 2:
        assert "required" in r.stderr and r.stdout == ""


def test_every_gcloud_line_in_the_seeds_is_covered():
    seeds = sorted((ROOT.parent / "shared" / "seeds").glob("*.txt"))
    if not seeds:
        pytest.skip("../shared/seeds not present in this checkout")
    covered = {re.sub(r"\s+", " ", line) for line, _ in SEED_COMMANDS + REFERENCE_COMMANDS}
    for seed in seeds:
        text = re.sub(r"\\\n\s*", " ", seed.read_text(encoding="utf-8"))
        for raw in text.splitlines():
            line = re.sub(r"\s+", " ", raw.strip())
            if line.startswith(PREFIX):
                assert line in covered, f"{seed.name}: {line}"


def list_args(*extra: str) -> list[str]:
    return ["list", "--model", GPT20, "--pricing-model", "on-demand", *extra]


def test_projection_table_value_filter_sort_and_csvprofile():
    r = run_cli(*list_args("--format", "table(instanceType, acceleratorType, performanceStats[0].outputTokensPerSecond)"))
    lines = r.stdout.splitlines()
    assert r.returncode == 0 and lines[0].split() == ["INSTANCE_TYPE", "ACCELERATOR_TYPE", "OUTPUT_TOKENS_PER_SECOND"]
    assert all(re.fullmatch(r"\S+\s+nvidia-\S+\s+\d+", line) for line in lines[1:]) and len(lines) > 3

    r = run_cli(*list_args("--format", "value(instanceType)", "--limit", "3"))
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 3 and all(" " not in x for x in r.stdout.splitlines())

    r = run_cli(*list_args("--filter", "acceleratorType:nvidia-l4", "--format", "json"))
    profiles = json.loads(r.stdout)
    assert profiles and {p["acceleratorType"] for p in profiles} == {"nvidia-l4"}

    r = run_cli(*list_args("--sort-by", "~performanceStats[0].outputTokensPerSecond", "--format",
                           "value(performanceStats[0].outputTokensPerSecond)"))
    tps = [int(x) for x in r.stdout.split()]
    assert tps == sorted(tps, reverse=True) and len(tps) > 3

    r = run_cli(*list_args("--format", "csvprofile"))
    rows = list(csv.reader(io.StringIO(r.stdout)))
    assert tuple(rows[0]) == GCLOUD_BENCHMARK_HEADER and len(rows) > 3 and all(len(row) == 17 for row in rows)


def test_default_outputs_are_gclouds():
    r = run_cli(*list_args("--target-ttft-milliseconds", "300"))
    assert tuple(re.split(r"\s{2,}", r.stdout.splitlines()[0])) == PROFILE_TABLE_COLUMNS
    assert "gptoss" in r.stdout  # GIQ's own published row, with its version tag, is listed
    r = run_cli("benchmarks", "list", "--model", "google/gemma-2-27b-it", "--model-server", "vllm")
    assert r.stdout.splitlines()[0] == ",".join(GCLOUD_BENCHMARK_HEADER)
    assert run_cli("models", "list").stdout.startswith("Supported models:\n-  ")
    r = run_cli("use-case", "list")
    assert r.stdout.splitlines()[0].split() == ["USE_CASE", "AVERAGE_INPUT_LENGTH", "AVERAGE_OUTPUT_LENGTH"]
    assert "Chatbot (ShareGPT)" in r.stdout


def test_yaml_and_json_are_giq_profile_objects():
    docs = list(yaml.safe_load_all(run_cli(*list_args("--format", "yaml")).stdout))
    for doc in docs:
        assert set(doc) <= {"acceleratorType", "instanceType", "modelServerInfo", "performanceStats", "resourcesUsed",
                            "tpuTopology", "workloadSpec", "servingStack", "extension"}
        assert set(doc["modelServerInfo"]) == {"model", "modelServer", "modelServerVersion"}
        stats = doc["performanceStats"][0]
        assert isinstance(stats["outputTokensPerSecond"], int) and isinstance(stats["ntpotMilliseconds"], int)
        for cost in stats.get("cost", []):
            money = cost["costPerMillionOutputTokens"]
            assert money["currencyCode"] == "USD" and isinstance(money["units"], int) and isinstance(money["nanos"], int)
            assert cost["pricingModel"] == "on-demand"
        assert {"provenance", "source", "precision", "setup", "deployable"} <= set(doc["extension"])
    published = [d for d in docs if d["modelServerInfo"]["modelServerVersion"] == "gptoss"]
    assert published and published[0]["extension"]["deployable"] is False
    benchmarks = json.loads(run_cli("benchmarks", "list", "--model", "google/gemma-2-27b-it", "--model-server", "vllm",
                                    "--format", "json").stdout)
    assert benchmarks and all(len(p["performanceStats"]) == len(p["extension"]["points"]) for p in benchmarks)


@pytest.mark.parametrize("spelling,expected", [("v0.7.2", "v0.7.2"), ("0.7.2", "v0.7.2"), ("V0.7.2", "v0.7.2"),
                                               ("latest", None), ("all", None)])
def test_version_spellings(spelling, expected):
    r = run_cli("list", "--model", "google/gemma-2-27b-it", "--model-server-version", spelling, "--format",
                "value(modelServerInfo.modelServerVersion)")
    assert r.returncode == 0, r.stderr
    if expected:
        assert set(r.stdout.split()) == {expected}


def test_version_tags_and_unknown_versions():
    r = run_cli("list", "--model", GPT20, "--model-server-version", "GPTOSS", "--format", "value(instanceType)")
    assert r.returncode == 0 and r.stdout.split() == ["a3-highgpu-1g"]
    r = run_cli("list", "--model", GPT20, "--model-server-version", "v0.9.9")
    assert r.returncode == 2 and "known for this selection: 0.32.0, gptoss, latest, all" in r.stderr


def test_seed_manifest_with_giqs_version_says_what_it_deploys(tmp_path):
    r = run_cli("manifests", "create", "--model=google/gemma-2-27b-it", "--model-server=vllm", "--model-server-version=v0.7.2",
                "--accelerator-type=nvidia-l4", "--target-ntpot-milliseconds=200")
    assert r.returncode == 0 and "kind: Deployment" in r.stdout
    assert "--model-server-version=v0.7.2: the manifests run docker.io/vllm/vllm-openai:" in r.stderr
    assert "published:GIQ04" in r.stderr  # why GIQ's v0.7.2 row is not followed: its setup is not stated


def test_show_extras_and_notes():
    plain = run_cli(*list_args())
    assert "Deployable" not in plain.stdout and "--show-extras" in plain.stderr  # GIQ's row is reference-only
    extras = run_cli(*list_args("--show-extras"))
    assert "reference†" in extras.stdout and extras.stderr.startswith("†")
    none = run_cli(*list_args("--filter", "acceleratorType:nvidia-l4"))
    assert "reference" not in none.stderr  # the filtered rows are all deployable: no note
    empty = run_cli(*list_args("--filter", "acceleratorType:tpu"))
    assert empty.stdout == "" and "Listed 0 items." in empty.stderr
