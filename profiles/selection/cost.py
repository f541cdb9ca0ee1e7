"""GIQ's token-cost formula with a configurable output:input cost ratio.

$/output token = replica $/s / (input tokens/s / ratio + output tokens/s)
$/input token  = ($/output token) / ratio
(google/cloud/gkerecommender/v1 proto, `Cost` message; see reference/giq-api-and-cli.md §4.)
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_OUTPUT_INPUT_COST_RATIO = 4.0


@dataclass(frozen=True)
class TokenCost:
    per_million_output: float
    per_million_input: float


def token_cost(usd_per_hour: float | None, output_tps: float | None, input_tps: float | None,
               ratio: float = DEFAULT_OUTPUT_INPUT_COST_RATIO) -> TokenCost | None:
    """Cost per million output and input tokens, or None when price or a throughput is unknown."""
    if ratio <= 0:
        raise ValueError("output:input cost ratio must be positive")
    if usd_per_hour is None or output_tps is None or input_tps is None:
        return None
    weighted_tps = input_tps / ratio + output_tps
    if weighted_tps <= 0:
        return None
    per_output = usd_per_hour / 3600.0 / weighted_tps * 1e6
    return TokenCost(per_million_output=per_output, per_million_input=per_output / ratio)


def weighted_throughput(output_tps: float | None, input_tps: float | None,
                        ratio: float = DEFAULT_OUTPUT_INPUT_COST_RATIO) -> float:
    """Output-equivalent tokens/s that the cost formula divides by (output tokens/s if input is unknown)."""
    return (output_tps or 0.0) + (input_tps or 0.0) / ratio


def gcloud_amount(value: float | None) -> str:
    """Display like gcloud: Amount(units, nanos) then 3 decimals, or N/A."""
    if value is None:
        return "N/A"
    units = int(value)
    nanos = int((value - units) * 1e9)
    return f"{units + nanos / 1e9:.3f}"
