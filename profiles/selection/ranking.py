"""Choosing an operating point per configuration and ranking configurations by cost.

Rules (deterministic, documented in the README):
- A curve (store/points.py) is the points of one configuration and one server version, ordered by offered load.
- Inflection point: the point with the highest Kleinrock "power" = throughput / NTPOT (Kleinrock 1979):
  it rises while throughput grows at flat latency and falls once latency climbs without throughput.
  Without NTPOT on every point, the highest-throughput point (offline rows are saturation by design).
- With latency targets (p50 NTPOT / TTFT / ITL, any combination) the operating point is the point with
  the highest cost-weighted throughput (output + input / ratio, i.e. the lowest $/token) among the points
  meeting every target; a point lacking a targeted metric does not meet it. No interpolation: only
  published or measured points are ever returned.
- Cost targets filter configurations at their operating point.
- Only deployable configurations compete (selection/deployable.py); reference-only ones are set aside with why,
  unless the caller ranks them on purpose (`reference=True`, for `list`'s marked rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from profiles.catalog.catalog import Catalog, Price
from profiles.selection.cost import DEFAULT_OUTPUT_INPUT_COST_RATIO, TokenCost, token_cost, weighted_throughput
from profiles.selection.deployable import reference_reason
from profiles.store.points import Curve, ProfilePoint


@dataclass(frozen=True)
class Targets:
    ntpot_ms: float | None = None
    ttft_ms: float | None = None
    itl_ms: float | None = None
    cost_per_million_output: float | None = None
    cost_per_million_input: float | None = None

    @property
    def latency(self) -> dict[str, float]:
        return {k: v for k, v in (("ntpot_ms", self.ntpot_ms), ("ttft_ms", self.ttft_ms), ("itl_ms", self.itl_ms))
                if v is not None}

    def describe(self) -> str:
        names = {"ntpot_ms": "NTPOT", "ttft_ms": "TTFT", "itl_ms": "ITL"}
        parts = [f"{names[k]} <= {v:g} ms" for k, v in self.latency.items()]
        if self.cost_per_million_output is not None:
            parts.append(f"$/M output <= {self.cost_per_million_output:g}")
        if self.cost_per_million_input is not None:
            parts.append(f"$/M input <= {self.cost_per_million_input:g}")
        return ", ".join(parts) or "no targets (inflection point)"


@dataclass(frozen=True)
class Pricing:
    pricing_model: str = "spot"
    region: str = ""
    ratio: float = DEFAULT_OUTPUT_INPUT_COST_RATIO


@dataclass(frozen=True)
class Candidate:
    """A configuration at its chosen operating point, priced."""

    curve: Curve
    point: ProfilePoint
    price: Price | None
    cost: TokenCost | None
    rule: str  # how the point was chosen

    @property
    def sort_key(self) -> tuple:
        p = self.point
        cost = self.cost.per_million_output if self.cost else float("inf")
        return (cost, -(p.output_tps or 0.0), p.instance_type, p.accelerator_count, p.model_server,
                p.model_server_version, p.precision, p.workload)


def inflection(curve: Curve) -> ProfilePoint:
    """Knee of the latency-throughput curve (see module docstring)."""
    pts = curve.points
    if all(p.ntpot_ms and p.output_tps for p in pts):
        return max(pts, key=lambda p: (p.output_tps / p.ntpot_ms, p.output_tps))
    with_tps = [p for p in pts if p.output_tps is not None]
    return max(with_tps, key=lambda p: p.output_tps) if with_tps else pts[-1]


def meets_latency(point: ProfilePoint, targets: Targets) -> bool:
    for name, limit in targets.latency.items():
        value = getattr(point, name)
        if value is None or value > limit:
            return False
    return True


def meets_cost(cost: TokenCost | None, targets: Targets) -> bool:
    if targets.cost_per_million_output is None and targets.cost_per_million_input is None:
        return True
    if cost is None:
        return False
    if targets.cost_per_million_output is not None and cost.per_million_output > targets.cost_per_million_output:
        return False
    return targets.cost_per_million_input is None or cost.per_million_input <= targets.cost_per_million_input


def price_point(catalog: Catalog, point: ProfilePoint, pricing: Pricing) -> tuple[Price | None, TokenCost | None]:
    price = catalog.price(point.instance_type, point.accelerator_count, pricing.pricing_model, pricing.region)
    cost = token_cost(price.usd_per_hour if price else None, point.output_tps, point.input_tps, pricing.ratio)
    return price, cost


def operating_point(curve: Curve, targets: Targets, pricing: Pricing) -> tuple[ProfilePoint, str] | None:
    """The chosen point of one curve and the rule that chose it, or None when no point meets the targets."""
    if not targets.latency:
        return inflection(curve), "inflection point"
    feasible = [p for p in curve.points if p.output_tps is not None and meets_latency(p, targets)]
    if not feasible:
        return None
    best = max(feasible, key=lambda p: (weighted_throughput(p.output_tps, p.input_tps, pricing.ratio), p.output_tps,
                                        -(p.ntpot_ms or 0.0)))
    if len(feasible) == len([p for p in curve.points if p.output_tps is not None]):
        return best, f"maximum throughput (every point meets {targets.describe()}: the target is above the curve's latency)"
    return best, f"highest throughput at {targets.describe()}"


@dataclass(frozen=True)
class Ranking:
    candidates: list[Candidate]
    excluded: list[tuple[Curve, str]]  # curves left out, with why
    set_aside: list[tuple[Curve, str]] = field(default_factory=list)  # reference-only curves, with why


def rank(catalog: Catalog, curves: Sequence[Curve], targets: Targets, pricing: Pricing, reference: bool = False) -> Ranking:
    """Every deployable curve's operating point that meets all targets, cheapest first (unpriced last); with
    `reference`, every curve is ranked whether deployable or not."""
    chosen, excluded, set_aside = [], [], []
    for curve in curves:
        why = "" if reference else reference_reason(catalog, curve.head)
        if why:
            set_aside.append((curve, why))
            continue
        picked = operating_point(curve, targets, pricing)
        if picked is None:
            excluded.append((curve, f"no point meets {targets.describe()}"))
            continue
        point, rule = picked
        price, cost = price_point(catalog, point, pricing)
        if not meets_cost(cost, targets):
            why = "cost unknown" if cost is None else f"${cost.per_million_output:.3f}/M output at the operating point"
            excluded.append((curve, f"cost target not met ({why})"))
            continue
        chosen.append(Candidate(curve, point, price, cost, rule))
    chosen.sort(key=lambda c: c.sort_key)
    return Ranking(chosen, excluded, set_aside)


@dataclass(frozen=True)
class Range:
    low: float | None
    high: float | None

    def text(self, unit: str = "") -> str:
        if self.low is None:
            return "N/A"
        return f"{self.low:,.0f}-{self.high:,.0f}{unit}" if self.low != self.high else f"{self.low:,.0f}{unit}"


def _range(values: list[float | None]) -> Range:
    known = [v for v in values if v is not None]
    return Range(min(known), max(known)) if known else Range(None, None)


def achievable(curve: Curve) -> dict[str, Range]:
    """What a configuration can do across its measured points (for 'nothing meets the targets')."""
    pts = curve.points
    return {
        "NTPOT": _range([p.ntpot_ms for p in pts]),
        "TTFT": _range([p.ttft_ms for p in pts]),
        "ITL": _range([p.itl_ms for p in pts]),
        "Output tok/s": _range([p.output_tps for p in pts]),
    }
