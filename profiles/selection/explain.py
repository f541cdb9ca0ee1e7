"""One paragraph saying why the winning configuration won (the `--explain` output)."""

from __future__ import annotations

from profiles.selection.ranking import Candidate, Ranking, Targets, achievable


def _describe(c: Candidate) -> str:
    p = c.point
    topo = f" {p.tpu_topology}" if p.tpu_topology else ""
    return (f"{p.instance_type} ({p.accelerator_count} x {p.accelerator_type}{topo}, {p.model_server} "
            f"{p.model_server_version}, {p.precision}, workload {p.workload})")


def _metrics(c: Candidate) -> str:
    p = c.point
    parts = [f"{p.output_tps:,.0f} output tok/s"]
    for label, value in (("NTPOT", p.ntpot_ms), ("TTFT", p.ttft_ms), ("ITL", p.itl_ms)):
        if value is not None:
            parts.append(f"{label} {value:,.0f} ms")
    return ", ".join(parts)


def explain(ranking: Ranking, targets: Targets) -> str:
    """Why the first candidate is the recommendation, with the runner-up and what was excluded."""
    if not ranking.candidates:
        return no_match(ranking, targets)
    win = ranking.candidates[0]
    p = win.point
    load = "offline (max load)" if p.load_type == "offline" else f"{p.load_type.replace('_', ' ')} {p.load_value:g}"
    text = [f"Recommended {_describe(win)} for {p.model}: its {win.rule} is the "
            f"{p.provenance} point {p.source_id} ({load}) with {_metrics(win)}."]
    if win.cost and win.price:
        text.append(f"At ${win.price.usd_per_hour:,.2f}/h {win.price.pricing_model} in {win.price.region} that is "
                    f"${win.cost.per_million_output:.3f} per million output tokens "
                    f"(${win.cost.per_million_input:.3f} input).")
    else:
        text.append("Its cost is N/A: " + ("no published price for this machine type, region and pricing model."
                                          if win.price is None else "input tokens/s is unknown for this point."))
    priced = [c for c in ranking.candidates[1:] if c.cost]
    if priced and win.cost:
        runner = priced[0]
        more = runner.cost.per_million_output / win.cost.per_million_output - 1
        text.append(f"The runner-up, {_describe(runner)}, costs ${runner.cost.per_million_output:.3f}/M output "
                    f"({more:.0%} more per output token at its own operating point).")
    elif len(ranking.candidates) == 1:
        text.append("It is the only configuration that qualified.")
    if ranking.excluded:
        text.append(f"{len(ranking.excluded)} configuration(s) were left out: "
                    + "; ".join(f"{c.head.instance_type} {c.head.model_server} {c.head.workload}: {why}"
                                for c, why in ranking.excluded[:4])
                    + ("; …" if len(ranking.excluded) > 4 else "") + ".")
    text.append(set_aside(ranking))
    return " ".join(t for t in text if t)


def set_aside(ranking: Ranking, limit: int = 4) -> str:
    """Which reference-only configurations were not considered, and why ('' when none)."""
    if not ranking.set_aside:
        return ""
    shown = "; ".join(f"{c.head.instance_type} {c.head.model_server} {c.head.workload} ({c.head.provenance}:"
                      f"{c.head.source_id}): {why}" for c, why in ranking.set_aside[:limit])
    more = f"; … and {len(ranking.set_aside) - limit} more" if len(ranking.set_aside) > limit else ""
    return f"{len(ranking.set_aside)} reference-only configuration(s) were set aside (not deployable as profiled): {shown}{more}."


def no_match(ranking: Ranking, targets: Targets) -> str:
    """GIQ's troubleshooting note, done better: what each configuration can actually achieve."""
    if not ranking.excluded:
        return f"No deployable profile. {set_aside(ranking)}".strip()
    lines = [f"No profile meets {targets.describe()}. Achievable per configuration (p50, across measured points):"]
    for curve, _ in ranking.excluded:
        h = curve.head
        ranges = ", ".join(f"{k} {v.text(' ms' if k != 'Output tok/s' else '')}" for k, v in achievable(curve).items())
        lines.append(f"  {h.instance_type} {h.accelerator_type} x{h.accelerator_count} {h.model_server} "
                     f"{h.model_server_version} [{h.workload}]: {ranges}")
    return "\n".join(lines)
