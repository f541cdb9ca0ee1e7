"""Profiles shaped like the GKE Recommender API's objects (what `gcloud … --format yaml|json` prints).

Field names and nesting follow the API (reference §3): Profile{modelServerInfo{model, modelServer,
modelServerVersion}, acceleratorType, tpuTopology, instanceType, resourcesUsed{acceleratorCount},
performanceStats[{queriesPerSecond, outputTokensPerSecond, inputTokensPerSecond, totalTokensPerSecond,
ntpotMilliseconds, ttftMilliseconds, itlMilliseconds, cost[{costPerMillionOutputTokens, costPerMillionInputTokens,
pricingModel, outputInputCostRatio}]}], workloadSpec{useCase, averageInputLength, averageOutputLength},
servingStack{name, version}}; money is Amount{currencyCode, units, nanos} (gcloud's decimal_to_amount).
The API's integer fields (tokens/s, milliseconds, lengths) are rounded half up; unset fields are left out, as the
API leaves them out. Everything this tool adds lives under the one key EXTENSION, so GIQ's paths stay untouched.
"""

from __future__ import annotations

import math

from profiles.store.points import ProfilePoint

EXTENSION = "extension"


def whole(value: float | None) -> int | None:
    return None if value is None else int(math.floor(value + 0.5))


def amount(value: float | None) -> dict | None:
    """gcloud's decimal_to_amount: units = int(v), nanos = int((v - units) * 1e9)."""
    if value is None:
        return None
    units = int(value)
    return {"currencyCode": "USD", "units": units, "nanos": int((value - units) * 1e9)}


def amount_value(money: dict | None) -> float | None:
    if not money:
        return None
    return money.get("units", 0) + money.get("nanos", 0) / 1e9


def _drop_none(record: dict) -> dict:
    return {k: v for k, v in record.items() if v is not None}


def performance_stats(p: ProfilePoint, cost_out: float | None, cost_in: float | None, pricing_model: str,
                      ratio: float) -> dict:
    total = p.output_tps + p.input_tps if p.output_tps is not None and p.input_tps is not None else None
    cost = None
    if cost_out is not None:
        cost = [_drop_none({"costPerMillionOutputTokens": amount(cost_out), "costPerMillionInputTokens": amount(cost_in),
                            "pricingModel": pricing_model, "outputInputCostRatio": ratio})]
    return _drop_none({
        "queriesPerSecond": p.qps, "outputTokensPerSecond": whole(p.output_tps), "inputTokensPerSecond": whole(p.input_tps),
        "totalTokensPerSecond": whole(total), "ntpotMilliseconds": whole(p.ntpot_ms), "ttftMilliseconds": whole(p.ttft_ms),
        "itlMilliseconds": whole(p.itl_ms), "cost": cost,
    })


def point_extension(p: ProfilePoint) -> dict:
    """Per load point: the exact numbers behind the API's rounded integers, load and server metrics."""
    return _drop_none({
        "loadType": p.load_type, "loadValue": p.load_value, "outputTokensPerSecond": p.output_tps,
        "inputTokensPerSecond": p.input_tps, "ntpotMilliseconds": p.ntpot_ms, "ttftMilliseconds": p.ttft_ms,
        "itlMilliseconds": p.itl_ms, "ntpotP90Milliseconds": p.ntpot_p90_ms, "ttftP90Milliseconds": p.ttft_p90_ms,
        "itlP90Milliseconds": p.itl_p90_ms, "numRequestsWaiting": p.num_requests_waiting,
        "kvCacheUsagePerc": p.kv_cache_usage_perc, "numRequestsRunning": p.num_requests_running,
    })


def profile(p: ProfilePoint, stats: list[dict], extension: dict) -> dict:
    """One Profile object for the configuration of `p` with the given performanceStats."""
    workload = _drop_none({"useCase": p.use_case or None, "averageInputLength": whole(p.input_length),
                           "averageOutputLength": whole(p.output_length)})
    serving_stack = _drop_none({"name": p.serving_stack or None, "version": p.serving_stack_version or None})
    return _drop_none({
        "modelServerInfo": {"model": p.model, "modelServer": p.model_server, "modelServerVersion": p.model_server_version},
        "acceleratorType": p.accelerator_type, "tpuTopology": p.tpu_topology or None, "instanceType": p.instance_type,
        "resourcesUsed": {"acceleratorCount": p.accelerator_count}, "performanceStats": stats,
        "workloadSpec": workload or None, "servingStack": serving_stack or None, EXTENSION: extension,
    })


def config_extension(p: ProfilePoint, reference: str) -> dict:
    """Per configuration: where the numbers come from, how it is served, whether manifests can deploy it."""
    return _drop_none({
        "precision": p.precision, "provenance": p.provenance, "sourceId": p.source_id or None, "source": p.source,
        "derived": p.derived or None, "date": p.date or None, "setup": {_camel(k): v for k, v in p.setup.items()},
        "deployable": not reference,
        "referenceOnly": reference or None,
    })


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w.title() for w in rest)


def price_extension(price) -> dict | None:
    if price is None:
        return None
    return {"usdPerHour": price.usd_per_hour, "pricingModel": price.pricing_model, "region": price.region,
            "source": price.row.source}


# gcloud's printers (reference §5.2, §5.3): the profile table (16 columns) and the CSV printer (17 columns)
PROFILE_TABLE_COLUMNS = (
    "Instance Type", "Accelerator", "Cost/M Input Tokens", "Cost/M Output Tokens", "Output Tokens/s", "NTPOT(ms)",
    "TTFT(ms)", "ITL(ms)", "Model Server", "Model Server Version", "Model", "Use Case", "Average Input Length",
    "Average Output Length", "Serving Stack", "Serving Stack Version",
)
