"""Model servers: the one seam a second server (SGLang, TensorRT-LLM, ...) would implement.

`base.ModelServer` says what a server contributes to a deployment (container command, arguments, environment,
probes, port, the gauges it exports and which of them an HPA can target, its start-up warm-up); `vllm.py` is the
implementation every manifest uses today. The pod template, the HPA and the harness's scraper read the server
through this interface only. May import catalog/, selection/ (HPA metric type) and serving's sizing and source.
"""

from __future__ import annotations

from profiles.errors import UsageError, unknown
from profiles.selection.autoscaling import AUTO, HpaMetric
from profiles.serving.servers.base import ModelServer
from profiles.serving.servers.vllm import VLLM

SERVERS: dict[str, ModelServer] = {VLLM.name: VLLM}


def server(name: str, key: str = "--model-server") -> ModelServer:
    """The server called `name` (a profile's Model Server Name); UsageError naming the ones with an implementation."""
    try:
        return SERVERS[name]
    except KeyError:
        raise unknown(key, name, SERVERS) from None


def hpa_metric_names() -> tuple[str, ...]:
    """`auto` and every metric an HPA can target, over all servers (flag and stack-config choices)."""
    return (AUTO, *(m.name for s in SERVERS.values() for m in s.hpa_metrics))


def hpa_metric(name: str, key: str = "--hpa-metric") -> tuple[ModelServer, HpaMetric]:
    """The server exporting metric `name`, and the metric."""
    for candidate in SERVERS.values():
        found = next((m for m in candidate.hpa_metrics if m.name == name), None)
        if found is not None:
            return candidate, found
    raise UsageError(f"{key}: unknown value '{name}'; allowed: {', '.join(hpa_metric_names())}")
