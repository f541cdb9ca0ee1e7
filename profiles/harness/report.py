"""What a benchmark run leaves behind: store CSV, raw JSONL, summary JSON, and the chosen points.

The stages become `measured` ProfilePoints of one curve, so the inflection point, the operating point
for latency targets and the HPA target come from the same code as for shipped profiles
(selection/ranking.py, selection/autoscaling.py). Files are written to a temporary name and renamed, so a failed run never
leaves a half-written profile behind.

Durability (issue #17): a RunWriter is called after every finished stage. It appends that stage's requests to
requests.jsonl (flushed and synced) and rewrites profile.csv and summary.json atomically, so an interrupted run or
one whose server went away keeps every finished stage; the summary's `status` says whether the run completed.
File names never replace an earlier run's (profile-2.csv, …).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from profiles.files import unique_path, write_atomically
from profiles.harness.records import StageSummary
from profiles.harness.run import RunConfig, RunResult
from profiles.harness.setup import ServerSetup
from profiles.selection.autoscaling import DEFAULT_BUFFER, HpaSettings, hpa_settings
from profiles.selection.ranking import Pricing, Targets, inflection, operating_point
from profiles.serving.servers.vllm import VLLM
from profiles.store.points import Curve, ProfilePoint
from profiles.store.write import render_csv

HARNESS_VERSION = "bench-v1"


@dataclass(frozen=True)
class Hardware:
    """What the endpoint runs on, as the profile store names it ('unknown' when not given)."""

    instance_type: str = "unknown"
    accelerator_type: str = "unknown"
    accelerator_count: int = 1
    tpu_topology: str = ""
    precision: str = "bf16"


@dataclass(frozen=True)
class Analysis:
    points: list[ProfilePoint]
    inflection: ProfilePoint | None
    operating: ProfilePoint | None
    operating_rule: str
    hpa: dict[str, HpaSettings]


def stage_point(s: StageSummary, cfg: RunConfig, hw: Hardware, version: str, model_server: str, date: str,
                setup: ServerSetup | None = None) -> ProfilePoint:
    """One stage as a profile-store point (p50 latencies, p90s alongside, server means, the serving setup)."""
    fixed = cfg.workload.input_length is not None
    limited = f"; CLIENT-LIMITED ({s.client_limited}): the load generator, not the server, set this row" if s.client_limited else ""
    return ProfilePoint(
        model=cfg.endpoint.model, model_server=model_server, model_server_version=version,
        instance_type=hw.instance_type, accelerator_type=hw.accelerator_type, accelerator_count=hw.accelerator_count,
        tpu_topology=hw.tpu_topology, precision=hw.precision, use_case=cfg.workload.use_case,
        input_length=cfg.workload.input_length if fixed else s.mean_input_tokens,
        output_length=cfg.workload.output_length if fixed else s.mean_output_tokens,
        load_type=s.load_type, load_value=s.load_value, output_tps=s.output_tps, input_tps=s.input_tps, qps=s.qps,
        ntpot_ms=s.p("ntpot"), ttft_ms=s.p("ttft"), itl_ms=s.p("itl"),
        ntpot_p90_ms=s.p("ntpot", 90), ttft_p90_ms=s.p("ttft", 90), itl_p90_ms=s.p("itl", 90),
        **_server_means(s),
        provenance="measured", source_id=f"stage{s.stage}",
        source=(f"measured by `python -m profiles benchmark run` ({HARNESS_VERSION}) against {cfg.endpoint.display_url} "
                f"{cfg.endpoint.api}; {cfg.workload.name}; {s.completed}/{s.requests} requests ok "
                f"({s.failed} failed, {s.timed_out} timed out) over {s.duration_s:.1f} s; seed {cfg.seed}{limited}"),
        derived="QPS and tokens/s = completed requests / (last end - first send); latencies are p50s",
        date=date, **(setup or cfg.server_setup).columns(),
    )


def _server_means(s: StageSummary) -> dict[str, float | None]:
    """The stage's gauge means under their point fields; the cache usage clamped to a fraction."""
    means = {g.field: s.server.get(g.name) for g in VLLM.gauges}
    means["kv_cache_usage_perc"] = _fraction(means["kv_cache_usage_perc"])
    return means


def _fraction(value: float | None) -> float | None:
    return None if value is None else min(max(value, 0.0), 1.0)


def analyse(result: RunResult, cfg: RunConfig, hw: Hardware, model_server: str, targets: Targets,
            hpa_buffer: float = DEFAULT_BUFFER, date: str | None = None) -> Analysis:
    date = date or dt.date.today().isoformat()
    setup = cfg.server_setup.over(result.reported_setup)
    points = [stage_point(s, cfg, hw, result.server_version, model_server, date, setup)
              for _, s in result.stages if s.completed]
    if not points:
        return Analysis([], None, None, "no stage completed a request", {})
    server_bound = [p for p in points if not client_limited(p)]  # client-limited rows say nothing about the server
    if not server_bound:
        return Analysis(points, None, None, "every stage was client-limited", {})
    curve = Curve(tuple(sorted(server_bound, key=lambda p: p.load_order)))
    knee = inflection(curve)
    picked = operating_point(curve, targets, Pricing())
    operating, rule = picked if picked else (None, f"no stage meets {targets.describe()}")
    chosen = operating or knee
    hpa = {m.name: hpa_settings(chosen, m, hpa_buffer, fallback=VLLM.hpa_fallback(m)) for m in VLLM.hpa_metrics}
    return Analysis(points, knee, operating, rule, hpa)


def client_limited(p: ProfilePoint) -> bool:
    return "CLIENT-LIMITED" in p.source


def _point_json(p: ProfilePoint | None) -> dict | None:
    if p is None:
        return None
    return {"stage": p.source_id, "load_type": p.load_type, "load_value": p.load_value, "output_tokens_per_second": p.output_tps,
            "queries_per_second": p.qps, "ntpot_ms": p.ntpot_ms, "ttft_ms": p.ttft_ms, "itl_ms": p.itl_ms,
            "num_requests_waiting": p.num_requests_waiting, "kv_cache_usage_perc": p.kv_cache_usage_perc}


def summary_json(result: RunResult, cfg: RunConfig, analysis: Analysis, targets: Targets, files: dict[str, str],
                 status: str = "complete") -> dict:
    return {
        "harness": HARNESS_VERSION, "status": status,
        "endpoint": cfg.endpoint.display_url, "api": cfg.endpoint.api, "model": cfg.endpoint.model,
        "server_version": result.server_version, "workload": cfg.workload.name, "seed": cfg.seed,
        "server_setup": cfg.server_setup.over(result.reported_setup).to_json(),
        "duration_s": cfg.duration_s, "warmup_s": cfg.warmup_s,
        "probe": result.probe[1].to_json() if result.probe else None,
        "stages": [s.to_json() for _, s in result.stages],
        "client_limited_stages": [s.stage for _, s in result.stages if s.client_limited],
        "failed_stages": result.failed_stages,
        "interrupted_stage": ({"stage": result.partial.stage.index, "requests_sent": len(result.partial.records)}
                              if result.partial else None),
        "targets": targets.describe(),
        "inflection_point": _point_json(analysis.inflection),
        "operating_point": _point_json(analysis.operating), "operating_rule": analysis.operating_rule,
        "hpa": {m: {"average_value": h.average_value, "reason": h.reason} for m, h in analysis.hpa.items()},
        "files": files,
    }


@dataclass
class RunWriter:
    """Writes a run's files as its stages finish (call it after each stage, then `finish`); nothing until a stage
    completed a request, so a run that measured nothing leaves nothing behind."""

    out_dir: Path
    cfg: RunConfig
    hardware: Hardware
    model_server: str
    targets: Targets
    profiles_dir: Path | None = None
    hpa_buffer: float = DEFAULT_BUFFER
    plot: bool = True
    date: str | None = None
    files: dict[str, str] = field(default_factory=dict)
    _paths: dict[str, Path] = field(default_factory=dict)
    _written: int = 0  # records already in requests.jsonl

    def __call__(self, result: RunResult, status: str = "running") -> Analysis:
        analysis = analyse(result, self.cfg, self.hardware, self.model_server, self.targets, self.hpa_buffer, self.date)
        if not analysis.points and not self._paths:
            return analysis
        if not self._paths:
            self._open(analysis)
        records = result.records
        with self._paths["requests"].open("a", encoding="utf-8") as handle:
            handle.write("".join(json.dumps(r.to_json(), separators=(",", ":")) + "\n" for r in records[self._written:]))
            handle.flush()
            os.fsync(handle.fileno())
        self._written = len(records)
        csv_text = render_csv(analysis.points)
        write_atomically(self._paths["csv"], csv_text)
        if "profile" in self._paths:  # a measured profile holds only rows the server set (not client-limited ones)
            write_atomically(self._paths["profile"], render_csv([p for p in analysis.points if not client_limited(p)]))
        if self.plot and status != "running":
            from profiles.harness.plot import plot_curve

            self.files["plot"] = str(self._paths["plot"])
            plot_curve(analysis, self.targets, self._paths["plot"], title=f"{self.cfg.endpoint.model} ({self.cfg.workload.name})")
        write_atomically(self._paths["summary"],
                         json.dumps(summary_json(result, self.cfg, analysis, self.targets, self.files, status), indent=2) + "\n")
        return analysis

    def finish(self, result: RunResult, status: str = "complete") -> Analysis:
        return self(result, status)

    def _open(self, analysis: Analysis) -> None:
        """Unique names (a second run into the same directory gets profile-2.csv, …); the JSONL is created exclusively."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        names = {"csv": "profile.csv", "requests": "requests.jsonl", "summary": "summary.json", "plot": "plot.png"}
        n = 1
        while True:
            suffix = "" if n == 1 else f"-{n}"
            paths = {k: self.out_dir / v.replace(".", f"{suffix}.", 1) for k, v in names.items()}
            if not any(p.exists() for p in paths.values()):
                try:
                    paths["requests"].open("x").close()
                    break
                except FileExistsError:
                    pass
            n += 1
        if self.profiles_dir is not None:
            first = analysis.points[0]
            name = f"measured-{_slug(self.cfg.endpoint.model)}-{_slug(first.accelerator_type)}-{first.date}.csv"
            paths["profile"] = unique_path(self.profiles_dir / name)
        self._paths = paths
        self.files.update({k: str(p) for k, p in paths.items() if k != "plot"})


def write_outputs(out_dir: Path, result: RunResult, cfg: RunConfig, analysis: Analysis, targets: Targets,
                  profiles_dir: Path | None, plot: bool = True, hardware: Hardware | None = None) -> dict[str, str]:
    """profile.csv, requests.jsonl, summary.json (+ plot.png) in out_dir at once; the CSV also into profiles_dir."""
    hw = hardware or Hardware(analysis.points[0].instance_type, analysis.points[0].accelerator_type,
                              analysis.points[0].accelerator_count, analysis.points[0].tpu_topology, analysis.points[0].precision)
    writer = RunWriter(out_dir, cfg, hw, analysis.points[0].model_server, targets, profiles_dir, plot=plot,
                       date=analysis.points[0].date)
    writer.finish(result)
    return writer.files


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-." else "-" for c in text).strip("-").lower()
