"""The serving setup of the measured server, recorded into the measured profile's setup columns.

A measured curve is deployable (profiles/selection/deployable.py) only when its setup is known exactly. What the
server tells about itself is read once before the first stage: vLLM's `vllm:cache_config_info` labels on
/metrics (`cache_dtype` -> KV Cache Dtype, `enable_prefix_caching` -> Prefix Caching on/off: the harness's
prompts carry unique headers, so its numbers never depend on cross-request hits) and `max_model_len` from
/v1/models. The rest vLLM does not publish, so the user states it with `--server-*` flags (taken from the
Deployment's arguments: `manifests create` prints them): max-num-seqs, max-num-batched-tokens, tensor
parallel, quantization, speculative decoding and the number of replicas behind the endpoint. A flag wins over
what the server reports; anything neither states stays empty, and the row stays reference-only with the reason.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, fields, replace

import httpx

from profiles.harness.client import AUX_TIMEOUT_S, SCRAPE_TIMEOUT_S

_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class ServerSetup:
    """ProfilePoint's setup fields; None / '' = not stated."""

    quantization: str = ""  # none | on-load | pre-quantized
    checkpoint: str = ""
    kv_cache_dtype: str = ""
    max_num_seqs: int | None = None
    max_num_batched_tokens: int | None = None
    max_model_len: int | None = None
    prefix_caching: str = ""  # on | off
    speculative_decoding: str = ""  # none | a method
    tensor_parallel: int | None = None
    data_parallel: int | None = None  # replicas behind the endpoint

    def over(self, reported: ServerSetup) -> ServerSetup:
        """These (the user's flags) where stated, else what the server reported."""
        return replace(reported, **{f.name: getattr(self, f.name) for f in fields(self)
                                    if getattr(self, f.name) not in (None, "")})

    def columns(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def to_json(self) -> dict:
        return {k: v for k, v in self.columns().items() if v not in (None, "")}


def cache_config_labels(metrics_text: str) -> dict[str, str]:
    """Labels of the first `vllm:cache_config_info{…}` sample ({} when absent)."""
    for line in metrics_text.splitlines():
        if line.startswith("vllm:cache_config_info{"):
            return dict(_LABEL.findall(line[line.index("{") + 1:line.rindex("}")]))
    return {}


def from_server(labels: dict[str, str], models: dict) -> ServerSetup:
    """What /metrics' cache_config_info and /v1/models say."""
    prefix = labels.get("enable_prefix_caching")
    max_len = next((m.get("max_model_len") for m in models.get("data", []) if isinstance(m, dict)), None)
    return ServerSetup(kv_cache_dtype=labels.get("cache_dtype", ""),
                       prefix_caching={"True": "on", "False": "off"}.get(prefix or "", ""),
                       max_model_len=int(max_len) if isinstance(max_len, int | float) else None)


async def reported_setup(http: httpx.AsyncClient, base_url: str, metrics_url: str | None, model: str) -> ServerSetup:
    """One look at /metrics and /v1/models; whatever fails stays unstated."""
    labels, models = {}, {}
    try:  # total timeouts, as every auxiliary call: a server trickling bytes cannot hold the run (issue #17)
        if metrics_url:
            async with asyncio.timeout(SCRAPE_TIMEOUT_S):
                resp = await http.get(metrics_url, timeout=10.0)
            labels = cache_config_labels(resp.text) if resp.status_code == 200 else {}
        async with asyncio.timeout(AUX_TIMEOUT_S):
            resp = await http.get(base_url.rstrip("/") + "/v1/models", timeout=10.0)
        if resp.status_code == 200:
            body = resp.json()
            models = {"data": [m for m in body.get("data", []) if m.get("id") == model]}
    except (httpx.HTTPError, ValueError, AttributeError, TimeoutError):
        pass
    return from_server(labels, models)
