"""PNG of a measured curve, like the GIQ overview's figure: latency vs output tokens/s with the
inflection point (green), the points past it where latency worsens (red) and the ideal zone (blue).

Ideal zone: with latency targets, the throughput range of the points that meet every target, up to the
operating point; without targets, 80-100 % of the inflection point's throughput.
"""

from __future__ import annotations

from pathlib import Path

from profiles.files import atomic_path
from profiles.selection.ranking import Targets

IDEAL_FRACTION = 0.8


def plot_curve(analysis, targets: Targets, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    points = sorted(analysis.points, key=lambda p: p.load_order)
    knee = analysis.inflection
    past = [p for p in points if knee is not None and p.load_order > knee.load_order]
    if analysis.operating is not None and targets.latency:
        meeting = [p for p in points if p.output_tps <= analysis.operating.output_tps]
        zone = (min(p.output_tps for p in meeting), analysis.operating.output_tps)
        zone_label = f"ideal zone: meets {targets.describe()}"
    elif knee is not None:
        zone = (IDEAL_FRACTION * knee.output_tps, knee.output_tps)
        zone_label = f"ideal zone: {IDEAL_FRACTION:.0%}-100 % of the knee's throughput"
    else:
        zone, zone_label = None, ""
    fig, axes = plt.subplots(2, 1, figsize=(8, 8), sharex=True)
    for ax, field, label, target in ((axes[0], "ntpot_ms", "NTPOT p50 (ms)", targets.ntpot_ms),
                                     (axes[1], "ttft_ms", "TTFT p50 (ms)", targets.ttft_ms)):
        xs = [p.output_tps for p in points]
        ys = [getattr(p, field) for p in points]
        ax.plot(xs, ys, "-o", color="0.35", markersize=5, label="measured stage (p50)")
        for p in points:
            ax.annotate(f"{p.load_value:g}", (p.output_tps, getattr(p, field)), textcoords="offset points",
                        xytext=(4, 4), fontsize=7, color="0.4")
        if past:
            ax.plot([p.output_tps for p in past], [getattr(p, field) for p in past], "o", color="tab:red",
                    markersize=8, label="past the inflection point")
        if knee is not None:
            ax.plot([knee.output_tps], [getattr(knee, field)], "o", color="tab:green", markersize=11,
                    label="inflection point")
        if analysis.operating is not None and targets.latency:
            ax.plot([analysis.operating.output_tps], [getattr(analysis.operating, field)], "*", color="tab:blue",
                    markersize=15, label="operating point")
        if zone:
            ax.axvspan(zone[0], zone[1], color="tab:blue", alpha=0.15, label=zone_label)
        if target is not None:
            ax.axhline(target, color="tab:blue", linestyle="--", linewidth=1, label=f"target {target:g} ms")
        ax.set_ylabel(label)
        ax.set_yscale("log")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8, loc="upper left")
    axes[1].set_xlabel("output tokens/s (labels: offered request rate, req/s)")
    axes[0].set_title(title, fontsize=10)
    fig.tight_layout()
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=110, format="png")
    finally:
        plt.close(fig)
