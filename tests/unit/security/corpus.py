"""Issue #17 (f): the adversarial corpus: CLI argument vectors, stack configs and profile CSV rows.

Every vector is a valid base command with one hostile value; the contract is exit 0 or exit 2 with one
`ERROR:` line, never a traceback, never a hang. The figures in the README's Reliability section count these."""

from __future__ import annotations

M8, L4 = "meta-llama/Llama-3.1-8B-Instruct", "nvidia-l4"
BASES = {
    "list": ["list", "--model", M8],
    "benchmarks": ["benchmarks", "list", "--model", M8],
    "manifests": ["manifests", "create", "--model", M8, "--accelerator-type", L4],
    "estimate": ["estimate", "--model", M8, "--accelerator-type", L4, "--request-rate", "2", "--num-prompts", "20"],
    "describe": ["models", "describe", "--model", M8],
    "benchmark": ["benchmark", "run", "--model", "m", "--endpoint", "http://127.0.0.1:9", "--request-rates", "1"],
}
NUMBERS = ["nan", "NaN", "inf", "-inf", "+inf", "infinity", "1e309", "-1e309", "1e308", "-1", "0", "-0", "0.0", "1e-320",
           "99999999999999999999999999", "abc", "", " ", "1,2", "0x10", "1_0", "½", "١"]
NUMBER_FLAGS = {
    "list": ["--output-input-cost-ratio", "--target-ntpot-milliseconds", "--target-ttft-milliseconds",
             "--target-itl-milliseconds", "--target-cost-per-million-output-tokens", "--target-cost-per-million-input-tokens",
             "--target-input-length", "--target-output-length", "--hpa-buffer", "--peak-qps"],
    "benchmarks": ["--output-input-cost-ratio"],
    "manifests": ["--target-ntpot-milliseconds", "--max-model-len", "--surge", "--hpa-buffer", "--peak-qps",
                  "--min-replicas", "--max-replicas"],
    "estimate": ["--accelerator-count", "--concurrency", "--request-rate", "--num-prompts", "--seed", "--input-length",
                 "--output-length", "--max-num-seqs", "--max-num-batched-tokens", "--gpu-memory-utilization",
                 "--max-model-len"],
    "benchmark": ["--request-rates", "--concurrency", "--duration", "--num-prompts", "--warmup", "--input-length",
                  "--seed", "--sweep-points", "--probe-requests", "--request-timeout", "--accelerator-count",
                  "--target-ttft-milliseconds", "--hpa-buffer"],
}
TEXTS = ["x\napiVersion: v1\nkind: ConfigMap", "kube-system", "../../etc/passwd", "a" * 5000, "\x00", "é\u2028x", "'; rm -rf /",
         "--help-not", "$(id)", "%s%n", "{{7*7}}"]
TEXT_FLAGS = {
    "list": ["--model", "--model-server", "--model-server-version", "--accelerator-type", "--pricing-model", "--region",
             "--use-case", "--hpa-metric", "--format", "--profiles-dir"],
    "benchmarks": ["--model", "--instance-type", "--region", "--format"],
    "manifests": ["--model", "--namespace", "--name", "--accelerator-type", "--model-bucket-uri", "--service-type",
                  "--model-server-version", "--output", "--use-case"],
    "estimate": ["--model", "--accelerator-type", "--precision", "--dataset", "--kv-cache-dtype", "--format"],
    "describe": ["--model", "--format"],
    "benchmark": ["--endpoint", "--metrics-url", "--dataset", "--tokenizer", "--accelerator-type", "--instance-type",
                  "--precision", "--api"],
}
URLS = ["http://[::1", "http://[::1]:99999", "http://127.0.0.1:99999", "http://127.0.0.1:0", "http://:80", "ftp://x",
        "http://user:pw@[::1", "http://a b", "http://127.0.0.1:-1", "http:///x", "http://\u00e9.invalid:80"]
EXTRA = [  # whole vectors
    ["manifests", "create", "--model", M8, "--accelerator-type", L4, "--model-bucket-uri", "gs://b/llama,uid=0,o=allow_other"],
    ["manifests", "create", "--model", M8, "--accelerator-type", L4, "--min-replicas", "1000000"],
    ["manifests", "create", "--model", M8, "--accelerator-type", L4, "--min-replicas", "5", "--max-replicas", "2"],
    ["manifests", "create", "--model", M8, "--accelerator-type", L4, "--service-type", "LoadBalancer"],
    ["list", "--model", M8, "--peak-qps", "1e300", "--explain", "--target-ntpot-milliseconds", "100"],
    ["estimate", "--model", M8, "--accelerator-type", L4, "--offline", "--num-prompts", "1000000000"],
    ["benchmark", "run", "--model", "m", "--endpoint", "http://127.0.0.1:9", "--request-rates", "1", "--duration", "1e308"],
    ["benchmark", "run", "--model", "m", "--endpoint", "http://127.0.0.1:9", "--request-rates", "nan"],
    ["benchmark", "run", "--model", "m", "--endpoint", "http://127.0.0.1:9", "--request-rates", "1e-300"],
]


def cli_vectors() -> list[list[str]]:
    vectors = []
    for command, flags in NUMBER_FLAGS.items():
        vectors += [[*BASES[command], flag, value] for flag in flags for value in NUMBERS]
    for command, flags in TEXT_FLAGS.items():
        vectors += [[*BASES[command], flag, value] for flag in flags for value in TEXTS]
    vectors += [[*BASES["benchmark"][:4], "--endpoint", url, "--request-rates", "1"] for url in URLS]
    vectors += [["benchmark", "run", "--model", "m", "--endpoint", "http://127.0.0.1:9", "--request-rates", "1",
                 "--metrics-url", url] for url in URLS]
    return vectors + EXTRA


HOSTILE_VALUES = [float("nan"), float("inf"), float("-inf"), 1e309, -1, 0, 10**12, 10**30, "", " ", "x\ny: 1", "kube-system",
                  "../..", "a,b", "a" * 5000, None, True, [], {}, [1, 2], {"a": 1}, "\x00", "é"]
STACK_KEYS = {  # key path -> values tried (the hostile set unless given)
    "model": None, "modelServer": None, "modelServerVersion": None, "acceleratorType": None, "targetNtpotMs": None,
    "targetTtftMs": None, "targetItlMs": None, "targetCostPerMillionOutputTokens": None, "useCase": None,
    "pricingModel": None, "namespace": None, "allowSystemNamespace": None, "capacity": None, "serviceType": None,
    "profilesDirs": None, "enableApis": None, "cluster.mode": None, "cluster.name": None, "cluster.existing": None,
    "cluster.releaseChannel": None, "cluster.systemMachineType": None, "modelSource.type": None, "modelSource.bucket": None,
    "modelSource.path": None, "autoscaling.minReplicas": None, "autoscaling.maxReplicas": None, "autoscaling.metric": None,
    "autoscaling.peakQps": None, "exposure.allowNamespaces": None, "exposure.allowPodLabels": None,
    "exposure.allowCidrs": None, "exposure.loadBalancerSourceRanges": None, "exposure.apiKeySecret": None,
    "hfTokn": None, "unknownKey": None,
}


def stack_vectors() -> list[dict]:
    vectors = []
    for path in STACK_KEYS:
        for value in HOSTILE_VALUES:
            config: dict = {"model": "meta-llama/Llama-3.1-8B"}
            if path.startswith("modelSource.") and path != "modelSource.type":
                config["modelSource"] = {"type": "gcs", "bucket": "my-bucket"}
            node = config
            *parents, leaf = path.split(".")
            for parent in parents:
                node = node.setdefault(parent, {})
            node[leaf] = value
            vectors.append(config)
    return vectors


STACK_FILES = [  # whole Pulumi.<stack>.yaml texts
    b"config:\n  a: &a [x, x, x, x, x, x, x, x, x]\n  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n  c: [*b, *b, *b, *b, *b]\n",
    b"config:\n  base: &b {x: 1}\n  other:\n    <<: *b\n",
    b"config:\n  gke-inference:model: a\n  gke-inference:model: b\n",
    b"- a\n- b\n", b"just text\n", b"42\n", b"config: [1]\n", b"config: 5\n", b"", b"---\n---\n", b"config:\n  a: [\n",
    b"\xff\xfe\x00c\x00o\x00n", b"config: !!python/object/apply:os.system ['id']\n", b"config:\n  a: !!binary AAAA\n",
    b"config:\n  gke-inference:model: meta-llama/Llama-3.1-8B\n  gke-inference:hfTokn: hf_SECRET\n",
    b"config:\n  gke-inference:model: meta-llama/Llama-3.1-8B\n  gke-inference:namespace: kube-system\n",
    b"config:\n  gke-inference:model: meta-llama/Llama-3.1-8B\n  gke-inference:autoscaling: {peakQps: .nan}\n",
    b"config:\n  gke-inference:model: meta-llama/Llama-3.1-8B\n  gke-inference:autoscaling: {minReplicas: 1000000}\n",
    b"config:\n  gke-inference:model: meta-llama/Llama-3.1-8B\n"
    b"  gke-inference:modelSource: {type: gcs, bucket: b-1, path: 'a,o=allow_other'}\n",
    b"[" * 5000 + b"]" * 5000 + b"\n", b"config:\n" + b"  k: " + b"x" * 2_000_000 + b"\n",
]
CSV_VALUES = ["nan", "inf", "-inf", "1e309", "-1", "0", "99999999999999999999", "abc", "", "x\ny", "a" * 20_000, "\x00",
              "1e-320", "é", '"', "=cmd|' /C calc'!A0"]
