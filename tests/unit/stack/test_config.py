"""The typed stack config: shipped stacks load; bad values name the key, the value and what is allowed."""

from __future__ import annotations

import pytest

from profiles.errors import UsageError
from profiles.stack.config import load, parse
from tests.support.cli import ROOT


def test_shipped_stacks_validate():
    dev, prod = load(ROOT, "dev"), load(ROOT, "prod")
    assert dev.model == "meta-llama/Llama-3.1-8B-Instruct" and dev.acceleratorType is None
    assert prod.acceleratorType == "tpu-v6e-slice" and prod.modelSource.type == "gcs" and prod.modelSource.bucket
    assert prod.cluster.deletionProtection is True
    assert dev.useCase == prod.useCase == "Chatbot (ShareGPT)" and dev.autoscaling.metric == "auto"
    assert parse({"model": "meta-llama/Llama-3.1-8B", "autoscaling": {"metric": "vllm:num_requests_running"}}).autoscaling.metric


@pytest.mark.parametrize("values, expected", [
    ({"model": "llama-3.1-8b"}, "gke-inference:model: value 'llama-3.1-8b': not a catalog model; closest: "),
    ({"model": "meta-llama/Llama-3.1-8B", "acceleratorType": "nvidia-l5"}, "gke-inference:acceleratorType: value 'nvidia-l5'"),
    ({"model": "meta-llama/Llama-3.1-8B", "pricingModel": "cheap"}, "gke-inference:pricingModel: value 'cheap': Input should be"),
    ({"model": "meta-llama/Llama-3.1-8B", "targetNtpotMs": 0}, "gke-inference:targetNtpotMs: value 0: Input should be greater than 0"),
    ({"model": "meta-llama/Llama-3.1-8B", "autoscaling": {"minReplicas": 3, "maxReplicas": 2}},
     "gke-inference:autoscaling: maxReplicas 2 is below minReplicas 3"),
    ({"model": "meta-llama/Llama-3.1-8B", "modelSource": {"type": "gcs"}}, "gke-inference:modelSource: bucket is required"),
    ({"model": "meta-llama/Llama-3.1-8B", "cluster": {"mode": "hybrid"}}, "gke-inference:cluster.mode: value 'hybrid'"),
    ({"model": "meta-llama/Llama-3.1-8B", "namespace": "Prod_NS"}, "gke-inference:namespace: value 'Prod_NS': String should match"),
    ({"model": "meta-llama/Llama-3.1-8B", "capacity": "reserved"}, "gke-inference:capacity: value 'reserved'"),
    ({"model": "meta-llama/Llama-3.1-8B", "targetNtpot": 100}, "gke-inference:targetNtpot: unknown key"),
    ({}, "gke-inference:model:"),
    ({"model": "meta-llama/Llama-3.1-8B", "useCase": "chat"}, "gke-inference:useCase: value 'chat': Input should be"),
    ({"model": "meta-llama/Llama-3.1-8B", "autoscaling": {"metric": "vllm:gpu_cache_usage_perc"}},
     "gke-inference:autoscaling.metric: value 'vllm:gpu_cache_usage_perc': Input should be 'auto'"),
    # issue #16: cluster name and network rules, typed additions
    ({"model": "meta-llama/Llama-3.1-8B", "cluster": {"name": "1st-cluster"}},
     "gke-inference:cluster.name: value '1st-cluster': GKE cluster names are 1-40 characters"),
    ({"model": "meta-llama/Llama-3.1-8B", "cluster": {"name": "c" * 41}}, "gke-inference:cluster.name: value 'ccc"),
    ({"model": "meta-llama/Llama-3.1-8B", "network": "vpc"}, "gke-inference:network: value 'vpc': needs subnetwork too"),
    ({"model": "meta-llama/Llama-3.1-8B", "cluster": {"masterCidr": "172.16.0.0/24"}}, "masterCidr 172.16.0.0/24: GKE needs a /28"),
    ({"model": "meta-llama/Llama-3.1-8B", "cluster": {"masterCidr": "300.1.1.1/28"}},
     "gke-inference:cluster.masterCidr: value '300.1.1.1/28'"),
    ({"model": "meta-llama/Llama-3.1-8B", "cluster": {"minMasterVersion": "latest"}},
     "gke-inference:cluster.minMasterVersion: value 'latest'"),
    ({"model": "meta-llama/Llama-3.1-8B", "cluster": {"privateEndpoint": True}}, "privateEndpoint needs privateNodes true"),
    ({"model": "meta-llama/Llama-3.1-8B", "cluster": {"acceleratorMaxSurge": -1}},
     "gke-inference:cluster.acceleratorMaxSurge: value -1"),
    ({"model": "meta-llama/Llama-3.1-8B", "cluster": {"masterAuthorizedNetworks": [{"cidr": "10.0.0.0/33"}]}},
     "gke-inference:cluster.masterAuthorizedNetworks.0.cidr: value '10.0.0.0/33'"),
    ({"model": "meta-llama/Llama-3.1-8B", "maintenance": {"recurrence": "weekends"}},
     "gke-inference:maintenance.recurrence: value 'weekends'"),
    ({"model": "meta-llama/Llama-3.1-8B", "maintenance": {"exclusions": [{"name": "x", "start": "2026-02-01T00:00:00Z",
                                                                            "end": "2026-01-01T00:00:00Z"}]}},
     "exclusion x: end 2026-01-01T00:00:00Z is not after start"),
    ({"model": "meta-llama/Llama-3.1-8B", "cluster": {"existing": "c"}, "network": "v", "subnetwork": "s"},
     "apply to a cluster the program creates"),
    # issue #16 items 5, 6, 7, 12: loader, XLA cache, blue-green upgrades, image mirror
    ({"model": "meta-llama/Llama-3.1-8B", "modelSource": {"loader": "job"}},
     "gke-inference:modelSource: bucket, path, loader and xlaCache apply to type gcs only"),
    ({"model": "meta-llama/Llama-3.1-8B", "modelSource": {"type": "gcs", "bucket": "b-1", "loader": "always"}},
     "gke-inference:modelSource.loader: value 'always': Input should be 'none', 'job' or 'preflight'"),
    ({"model": "meta-llama/Llama-3.1-8B", "modelSource": {"type": "gcs", "bucket": "b-1", "create": True, "loader": "preflight"}},
     "loader preflight with create true: the bucket the program creates is empty"),
    ({"model": "meta-llama/Llama-3.1-8B", "modelSource": {"type": "gcs", "bucket": "b-1", "xlaCache": "shared"}},
     "gke-inference:modelSource.xlaCache: value 'shared': Input should be 'pod' or 'bucket'"),
    ({"model": "meta-llama/Llama-3.1-8B", "cluster": {"upgradeStrategy": "SHORT_LIVED"}},
     "gke-inference:cluster.upgradeStrategy: value 'SHORT_LIVED': Input should be 'SURGE' or 'BLUE_GREEN'"),
    ({"model": "meta-llama/Llama-3.1-8B", "cluster": {"blueGreen": {"batchPercentage": 0.5}}},
     "blueGreen applies to upgradeStrategy BLUE_GREEN only"),
    ({"model": "meta-llama/Llama-3.1-8B", "cluster": {"mode": "standard", "upgradeStrategy": "BLUE_GREEN", "acceleratorMaxSurge": 1}},
     "acceleratorMaxSurge is a SURGE setting"),
    ({"model": "meta-llama/Llama-3.1-8B", "cluster": {"upgradeStrategy": "BLUE_GREEN",
                                                      "blueGreen": {"batchPercentage": 1.5}}},
     "gke-inference:cluster.blueGreen.batchPercentage: value 1.5: Input should be less than or equal to 1"),
    ({"model": "meta-llama/Llama-3.1-8B", "cluster": {"upgradeStrategy": "BLUE_GREEN",
                                                      "blueGreen": {"nodePoolSoakDuration": "1h"}}},
     "gke-inference:cluster.blueGreen.nodePoolSoakDuration: value '1h': String should match"),
    ({"model": "meta-llama/Llama-3.1-8B", "cluster": {"upgradeStrategy": "BLUE_GREEN"}},
     "cluster.upgradeStrategy BLUE_GREEN applies to the accelerator pools the program creates"),
    ({"model": "meta-llama/Llama-3.1-8B", "pricingModel": "on-demand", "capacity": "flex-start",
      "cluster": {"mode": "standard", "upgradeStrategy": "BLUE_GREEN"}},
     "cluster.upgradeStrategy BLUE_GREEN with capacity flex-start"),
    ({"model": "meta-llama/Llama-3.1-8B", "image": {"mirror": "yes please"}}, "gke-inference:image.mirror: value 'yes please'"),
    ({"model": "meta-llama/Llama-3.1-8B", "image": {"repository": "Docker_Hub"}},
     "gke-inference:image.repository: value 'Docker_Hub': String should match"),
])
def test_bad_values_name_key_value_and_rule(values, expected):
    with pytest.raises(UsageError) as err:
        parse(values, "Pulumi.test.yaml")
    assert str(err.value).startswith("Pulumi.test.yaml: ") and expected in str(err.value)
    assert "\n" not in str(err.value)
