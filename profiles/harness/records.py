"""Per-request records of a benchmark run and the stage summary computed from their raw timestamps.

Definitions (GKE's, as in the README): TTFT = first token − send (queueing included); NTPOT = (end − send) /
output tokens; TPOT = (end − first token) / (output tokens − 1); ITL = gaps between streamed chunks;
throughput = tokens of completed requests / (last end − first send) of the measured requests.
Failed and timed-out requests stay in the record and are counted; they have no latency.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from profiles.catalog.stats import distribution
from profiles.harness.lag import client_health


@dataclass
class RequestRecord:
    """One request; times are seconds since the run started (monotonic clock)."""

    stage: int
    index: int
    send: float
    input_length: int  # what the dataset asked for
    output_length: int
    warmup: bool = False
    first_token: float | None = None
    chunk_times: list[float] = field(default_factory=list)  # every streamed chunk that carried text
    end: float | None = None
    prompt_tokens: int | None = None  # from the server's usage
    completion_tokens: int | None = None
    status: str = "pending"  # ok | error | timeout
    error: str = ""
    scheduled: float | None = None  # when the schedule wanted it sent (request-rate stages); send - scheduled = send delay
    loop_lag: float | None = None  # the event loop's latest wake-up lag when it was sent (s; profiles/harness/lag.py)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class StageSummary:
    stage: int
    load_type: str  # request_rate | concurrency
    load_value: float
    requests: int
    completed: int
    failed: int
    timed_out: int
    short_outputs: int  # completed with fewer tokens than asked (the server capped max_tokens to its context)
    duration_s: float
    output_tps: float
    input_tps: float
    qps: float
    mean_input_tokens: float | None
    mean_output_tokens: float | None
    latency_ms: dict[str, dict[str, float | None]]  # metric -> {"mean", "p50", "p90", "p99"}
    server: dict[str, float | None]  # gauge -> time-weighted mean over the stage
    send_delay_ms: dict[str, float | None] = field(default_factory=dict)  # actual - scheduled send, request-rate stages
    loop_lag_ms: dict[str, float | None] = field(default_factory=dict)  # event-loop wake-up lag sampled over the stage
    client_limited: str = ""  # why the client, not the server, limited this stage ('' when it kept up)

    def p(self, metric: str, q: int = 50) -> float | None:
        return self.latency_ms[metric][f"p{q}"]

    def to_json(self) -> dict:
        return asdict(self)


def summarize(stage: int, load_type: str, load_value: float, records: list[RequestRecord],
              server: dict[str, float | None], loop_lag_s: list[float] = ()) -> StageSummary:
    """Summary of a stage's measured (non-warm-up) requests."""
    measured = [r for r in records if not r.warmup]
    done = [r for r in measured if r.ok]
    ends = [r.end for r in measured if r.end is not None]
    start = min((r.send for r in measured), default=0.0)
    duration = max(max(ends, default=start) - start, 1e-9)
    out_tokens = sum(r.completion_tokens or 0 for r in done)
    in_tokens = sum(r.prompt_tokens or 0 for r in done)
    ttft = [r.first_token - r.send for r in done if r.first_token is not None]
    e2e = [r.end - r.send for r in done]
    ntpot = [(r.end - r.send) / r.completion_tokens for r in done if r.completion_tokens]
    tpot = [(r.end - r.first_token) / (r.completion_tokens - 1) for r in done
            if r.first_token is not None and (r.completion_tokens or 0) > 1]
    itl = [b - a for r in done for a, b in zip(r.chunk_times, r.chunk_times[1:], strict=False)]
    send_delay, loop_lag, limited = client_health(measured, loop_lag_s)
    return StageSummary(
        stage=stage, load_type=load_type, load_value=load_value, requests=len(measured), completed=len(done),
        failed=sum(r.status == "error" for r in measured), timed_out=sum(r.status == "timeout" for r in measured),
        short_outputs=sum((r.completion_tokens or 0) < r.output_length for r in done),
        duration_s=duration, output_tps=out_tokens / duration, input_tps=in_tokens / duration,
        qps=len(done) / duration,
        mean_input_tokens=in_tokens / len(done) if done else None,
        mean_output_tokens=out_tokens / len(done) if done else None,
        latency_ms={"ttft": distribution(ttft), "ntpot": distribution(ntpot), "tpot": distribution(tpot),
                    "itl": distribution(itl), "e2e": distribution(e2e)},
        server=server, send_delay_ms=send_delay, loop_lag_ms=loop_lag, client_limited=limited,
    )
