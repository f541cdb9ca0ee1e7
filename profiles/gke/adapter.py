"""The Custom Metrics Stackdriver Adapter objects, as published upstream (data/custom-metrics-stackdriver-adapter.yaml,
GoogleCloudPlatform/k8s-stackdriver @ 673c7dd, origin on its first line). The HPA reads
`prometheus.googleapis.com|vllm:…|gauge` through it; it runs with Workload Identity Federation, so its KSA is
granted roles/monitoring.viewer (identity.py) and carries no GSA annotation.
"""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

from profiles.catalog.csvdata import DATA_DIR
from profiles.errors import UsageError

ADAPTER_FILE = DATA_DIR / "custom-metrics-stackdriver-adapter.yaml"
EXPECTED_KINDS = {"Namespace": 1, "ServiceAccount": 1, "ClusterRoleBinding": 3, "RoleBinding": 1, "ClusterRole": 2,
                  "Deployment": 1, "Service": 1, "APIService": 3}


@functools.cache
def adapter_objects(path: Path = ADAPTER_FILE) -> tuple[dict, ...]:
    """The 13 upstream objects; refuses a file whose image is not pinned to a fixed tag."""
    objects = tuple(o for o in yaml.safe_load_all(path.read_text()) if o)
    kinds: dict[str, int] = {}
    for obj in objects:
        kinds[obj["kind"]] = kinds.get(obj["kind"], 0) + 1
    if kinds != EXPECTED_KINDS:
        raise UsageError(f"{path.name}: objects {kinds} differ from the published manifest {EXPECTED_KINDS}")
    for obj in objects:
        for container in obj.get("spec", {}).get("template", {}).get("spec", {}).get("containers", []):
            tag = container["image"].rsplit(":", 1)
            if len(tag) < 2 or tag[1] in ("", "latest"):
                raise UsageError(f"{path.name}: image '{container['image']}' is not pinned to a fixed tag")
    return objects


def metric_name(metric: str) -> str:
    """Cloud Monitoring name the adapter serves for a server gauge: prometheus.googleapis.com|NAME|gauge."""
    return f"prometheus.googleapis.com|{metric}|gauge"
