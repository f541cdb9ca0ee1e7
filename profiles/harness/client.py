"""Asynchronous load generator for an OpenAI-compatible vLLM endpoint (httpx, streaming SSE).

Every request streams, asks the server for usage in the last chunk and sets `ignore_eos` with
`max_tokens`, so output lengths follow the dataset. Times come from one monotonic clock. A stage
sends Poisson arrivals at a request rate (or keeps a fixed number in flight) for warm-up + duration,
then waits for every request; server gauges are scraped alongside.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from profiles.catalog.workload import poisson_arrivals
from profiles.errors import UsageError
from profiles.harness.lag import LagMonitor
from profiles.harness.prometheus import GaugeSeries, parse_gauges
from profiles.harness.prompts import HEADER_SAMPLE, PromptSource, corpus_text, header
from profiles.harness.records import RequestRecord
from profiles.harness.stream import StreamPool

APIS = {"completions": "/v1/completions", "chat": "/v1/chat/completions"}
AUX_TIMEOUT_S = 30.0  # total time for one auxiliary call (/v1/models, /version, /tokenize, /detokenize)
SCRAPE_TIMEOUT_S = 5.0  # total time for one /metrics scrape (a server trickling bytes cannot hold the run)
MAX_EVENT_BYTES = 1 << 20  # one server-sent event; a longer one fails its request
_USERINFO = re.compile(r"//[^/@\s]*@")


class BadReply(ValueError):
    """A reply or event whose shape is not the OpenAI / vLLM one: a per-request error, never a crash."""


def scrub(text: str) -> str:
    """Text with user:password@ removed from any URL in it."""
    return _USERINFO.sub("//", text)


@dataclass(frozen=True)
class Endpoint:
    base_url: str
    model: str
    api: str = "completions"
    metrics_url: str | None = None
    request_timeout_s: float = 600.0

    @property
    def url(self) -> str:
        return self.base_url.rstrip("/") + APIS[self.api]

    @property
    def display_url(self) -> str:
        """The base URL as outputs show it: without credentials."""
        return scrub(self.base_url)


@dataclass(frozen=True)
class Stage:
    """One load level: a request rate (Poisson) or a fixed concurrency, for warm-up + duration seconds."""

    index: int
    load_type: str  # request_rate | concurrency
    value: float
    duration_s: float
    warmup_s: float = 0.0
    max_requests: int | None = None  # cap on sends (a burst probe sends exactly this many at once)


@dataclass
class StageResult:
    stage: Stage
    records: list[RequestRecord]
    gauges: GaugeSeries = field(default_factory=GaugeSeries)
    loop_lag: list[float] = field(default_factory=list)  # event-loop lag samples over the stage (s)
    interrupted: bool = False  # sending stopped early (SIGINT/SIGTERM): a partial stage


class LoadClient(httpx.AsyncClient):
    """httpx for the control calls (/v1/models, /tokenize, /metrics); `streams` (profiles/harness/stream.py) for the
    load's streamed requests, whose per-chunk cost httpx could not carry (see stream.py)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.streams = StreamPool(keepalive_s=2.0)
        self.workers = None  # a profiles.harness.workers.WorkerPool when the load is spread over processes

    async def aclose(self) -> None:
        if self.workers is not None:
            self.workers.close()
        await self.streams.aclose()
        await super().aclose()


def client() -> LoadClient:
    # Idle connections are dropped after 2 s, before uvicorn's 5 s keep-alive timeout (vLLM's default) closes
    # them under us: reusing a connection the server is closing fails the request with a ReadError.
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None, keepalive_expiry=2.0)
    return LoadClient(limits=limits, timeout=httpx.Timeout(30.0, read=None))


async def _aux(call, endpoint: Endpoint, what: str) -> httpx.Response:
    """An auxiliary request under a total timeout; a UsageError naming it when it fails."""
    try:
        async with asyncio.timeout(AUX_TIMEOUT_S):
            return await call
    except TimeoutError:
        raise UsageError(f"--endpoint: {endpoint.display_url}{what} gave no complete answer within {AUX_TIMEOUT_S:g} s") from None
    except httpx.HTTPError as exc:
        raise UsageError(f"--endpoint: cannot reach '{endpoint.display_url}' ({what}: {type(exc).__name__}: "
                         f"{scrub(str(exc))[:200]})") from None


def _json(resp: httpx.Response, endpoint: Endpoint, what: str, kind: type) -> object:
    try:
        value = resp.json()
    except ValueError:
        value = None
    if not isinstance(value, kind):
        raise UsageError(f"--endpoint: {endpoint.display_url}{what} did not answer a JSON {kind.__name__}")
    return value


async def check_endpoint(http: httpx.AsyncClient, endpoint: Endpoint) -> str:
    """The server's version ('unknown' when it has no /version); a UsageError when unreachable or model unknown."""
    base = endpoint.base_url.rstrip("/")
    models = await _aux(http.get(base + "/v1/models"), endpoint, "/v1/models")
    if models.status_code == 200:
        data = _json(models, endpoint, "/v1/models", dict).get("data", [])
        served = [str(m.get("id"))[:200] for m in data if isinstance(m, dict)] if isinstance(data, list) else []
        if served and endpoint.model not in served:
            raise UsageError(f"--model: '{endpoint.model}' is not served at {endpoint.display_url}; served: {', '.join(served[:20])}")
    try:
        version = await _aux(http.get(base + "/version"), endpoint, "/version")
        value = _json(version, endpoint, "/version", dict).get("version", "unknown") if version.status_code == 200 else "unknown"
    except UsageError:
        return "unknown"
    return str(value)[:100] if isinstance(value, str | int | float) else "unknown"


async def server_source(http: httpx.AsyncClient, endpoint: Endpoint) -> PromptSource:
    """PromptSource backed by the server's /tokenize and /detokenize (vLLM's tokenizer endpoints)."""
    base = endpoint.base_url.rstrip("/")

    async def tokenize(text: str) -> list[int]:
        resp = await _aux(http.post(base + "/tokenize", json={"model": endpoint.model, "prompt": text,
                                                                "add_special_tokens": False}), endpoint, "/tokenize")
        if resp.status_code != 200:
            raise UsageError(f"--endpoint: {endpoint.display_url}/tokenize answered HTTP {resp.status_code}; "
                             "pass --tokenizer PATH to count tokens locally")
        tokens = _json(resp, endpoint, "/tokenize", dict).get("tokens")
        if not isinstance(tokens, list) or not all(isinstance(t, int) and not isinstance(t, bool) for t in tokens):
            raise UsageError(f"--endpoint: {endpoint.display_url}/tokenize did not answer a list of token ids")
        return tokens

    async def decode(ids: list[int]) -> str:
        resp = await _aux(http.post(base + "/detokenize", json={"model": endpoint.model, "tokens": ids}), endpoint, "/detokenize")
        if resp.status_code != 200:
            raise UsageError(f"--endpoint: {endpoint.display_url}/detokenize answered HTTP {resp.status_code}; "
                             "pass --tokenizer PATH to build prompts locally")
        prompt = _json(resp, endpoint, "/detokenize", dict).get("prompt")
        if not isinstance(prompt, str):
            raise UsageError(f"--endpoint: {endpoint.display_url}/detokenize did not answer a prompt text")
        return prompt

    return PromptSource(await tokenize(corpus_text()), len(await tokenize(HEADER_SAMPLE)), decode)


def _payload(endpoint: Endpoint, prompt: str, output_length: int) -> dict:
    common = {"model": endpoint.model, "max_tokens": output_length, "ignore_eos": True, "stream": True,
              "stream_options": {"include_usage": True}, "temperature": 0.0}
    if endpoint.api == "chat":
        return {**common, "messages": [{"role": "user", "content": prompt}]}
    return {**common, "prompt": prompt}


def _carries_token(api: str, choice: dict) -> bool:
    """vLLM streams one chunk per generated token; its text may be empty (a special token, or bytes held back
    until a character is complete), so the chunk counts, not its text (as in vllm bench serve). Chat's first
    chunk only names the role."""
    if api == "completions":
        text = choice.get("text")
        if text is not None and not isinstance(text, str):
            raise BadReply("choice text is not a string")
        return text is not None
    delta = choice.get("delta") or {}
    if not isinstance(delta, dict):
        raise BadReply("choice delta is not an object")
    return delta.get("content") is not None and "role" not in delta


def _count(value: object, what: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 10**9:
        raise BadReply(f"usage {what} is not a token count")
    return value


def _event(endpoint: Endpoint, event: bytes, rec: RequestRecord, now: float) -> None:
    """Apply one server-sent event to the record; `now` is when its bytes arrived."""
    for line in event.splitlines():
        if not line.startswith(b"data:"):
            continue
        data = line[5:].strip()
        if not data or data == b"[DONE]":
            continue
        chunk = json.loads(data)  # non-UTF-8 bytes: UnicodeDecodeError, a ValueError like JSONDecodeError
        if not isinstance(chunk, dict):
            raise BadReply("an event is not a JSON object")
        if chunk.get("error"):  # an error event inside a 200 stream
            error = chunk["error"]
            rec.error = str(error.get("message", error) if isinstance(error, dict) else error)[:300]
        usage = chunk.get("usage")
        if usage:
            if not isinstance(usage, dict):
                raise BadReply("usage is not an object")
            rec.prompt_tokens = _count(usage.get("prompt_tokens"), "prompt_tokens")
            rec.completion_tokens = _count(usage.get("completion_tokens"), "completion_tokens")
        choices = chunk.get("choices") or ()
        if not isinstance(choices, list | tuple):
            raise BadReply("choices is not a list")
        for choice in choices:
            if not isinstance(choice, dict):
                raise BadReply("a choice is not an object")
            if _carries_token(endpoint.api, choice):
                if rec.first_token is None:
                    rec.first_token = now
                rec.chunk_times.append(now)


class _SseParser:
    """Splits a streamed body into server-sent events and applies each to the record."""

    __slots__ = ("endpoint", "rec", "buffer")

    def __init__(self, endpoint: Endpoint, rec: RequestRecord):
        self.endpoint, self.rec, self.buffer = endpoint, rec, b""

    def __call__(self, raw: bytes, now: float) -> None:
        buffer = self.buffer + raw
        if b"\r" in buffer:
            buffer = buffer.replace(b"\r\n", b"\n")
        *events, self.buffer = buffer.split(b"\n\n")
        if len(self.buffer) > MAX_EVENT_BYTES:
            raise BadReply(f"a server-sent event exceeds {MAX_EVENT_BYTES:,} bytes")
        for event in events:
            _event(self.endpoint, event, self.rec, now)


async def _stream_one(http: LoadClient, body: bytes, endpoint: Endpoint, rec: RequestRecord,
                      clock: Callable[[], float]) -> None:
    parser = _SseParser(endpoint, rec)
    status, error_body = await http.streams.post(endpoint.url, body, parser, clock)
    if status != 200:
        rec.status, rec.error = "error", f"HTTP {status}: {error_body.decode(errors='replace')[:200]}"
        return
    if parser.buffer.strip():
        _event(endpoint, parser.buffer, rec, clock())
    if rec.completion_tokens is None:
        rec.completion_tokens = len(rec.chunk_times)  # server sent no usage: one token per chunk
    rec.status = "ok" if rec.first_token is not None and not rec.error else "error"
    if rec.status == "error" and not rec.error:
        rec.error = "stream ended without a token"


async def send(http: LoadClient, endpoint: Endpoint, prompt: str, rec: RequestRecord,
               clock: Callable[[], float]) -> RequestRecord:
    """Send one request and fill its record; never raises for a failed request."""
    # The body is encoded before the send time is taken, and asyncio.timeout (unlike wait_for) starts no extra
    # task: together ~0.5 ms less client time inside every TTFT (measured against a uvicorn SSE server).
    body = json.dumps(_payload(endpoint, prompt, rec.output_length)).encode()
    rec.send = clock()
    try:
        async with asyncio.timeout(endpoint.request_timeout_s):
            await _stream_one(http, body, endpoint, rec, clock)
    except TimeoutError:
        rec.status, rec.error = "timeout", f"no complete answer within {endpoint.request_timeout_s:g} s"
    except (OSError, httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError) as exc:  # connection, BadReply
        rec.status, rec.error = "error", scrub(f"{type(exc).__name__}: {exc}")[:300]
    rec.end = clock()
    return rec


async def scrape(http: httpx.AsyncClient, url: str, series: GaugeSeries, clock: Callable[[], float],
                 stop: asyncio.Event, interval_s: float) -> None:
    """Poll a Prometheus endpoint until `stop` is set."""
    while not stop.is_set():
        try:
            sent = clock()
            async with asyncio.timeout(SCRAPE_TIMEOUT_S):  # total, not per read: a trickling endpoint times out
                resp = await http.get(url, timeout=SCRAPE_TIMEOUT_S)
                text = resp.text if resp.status_code == 200 else None
            if text is not None:  # an overloaded server answers late: stamp the middle of the scrape
                series.add((sent + clock()) / 2, parse_gauges(text, series))
            else:
                series.errors += 1
        except (httpx.HTTPError, TimeoutError, ValueError):
            series.errors += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)


class Clock:
    def __init__(self) -> None:
        self.t0 = time.monotonic()

    def __call__(self) -> float:
        return time.monotonic() - self.t0


async def run_stage(http: httpx.AsyncClient, endpoint: Endpoint, stage: Stage, lengths: list[tuple[int, int]],
                    prompts: list[str], clock: Clock, rng: random.Random,
                    on_done: Callable[[RequestRecord], None] = lambda r: None, stop: asyncio.Event | None = None,
                    grace_s: float = 10.0) -> StageResult:
    """Run one stage: `lengths`/`prompts` are cycled in order; a header makes every prompt unique. When `stop` is set,
    sending stops, requests in flight get `grace_s` to finish, the rest are cancelled and the result is `interrupted`."""
    result = StageResult(stage, [])
    stop = stop or asyncio.Event()
    stop_scrape = asyncio.Event()
    scraper = None
    if endpoint.metrics_url:
        interval = min(1.0, max(0.25, stage.duration_s / 40))
        scrape_http = client()  # its own connections: a scrape never waits behind the load's
        scraper = asyncio.create_task(scrape(scrape_http, endpoint.metrics_url, result.gauges, clock, stop_scrape, interval))
    monitor = LagMonitor().start()
    start = clock()
    horizon = stage.warmup_s + stage.duration_s

    def new_record(k: int, scheduled: float | None = None) -> tuple[RequestRecord, str]:
        i, o = lengths[k % len(lengths)]
        rec = RequestRecord(stage=stage.index, index=k, send=0.0, input_length=i, output_length=o, scheduled=scheduled)
        result.records.append(rec)
        return rec, header(stage.index, k) + prompts[k % len(prompts)]

    async def tracked(rec: RequestRecord, prompt: str) -> None:
        rec.loop_lag = monitor.latest
        await send(http, endpoint, prompt, rec, clock)
        rec.warmup = rec.send - start < stage.warmup_s
        on_done(rec)

    tasks: list[asyncio.Task] = []
    if stage.load_type == "request_rate":
        offsets = ([0.0] * stage.max_requests if stage.value == float("inf") and stage.max_requests
                   else poisson_arrivals(stage.value, horizon, rng, stage.max_requests))
        for k, offset in enumerate(offsets):
            delay = start + offset - clock()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)  # a sleep that a stop request cuts short
            if stop.is_set():
                break
            tasks.append(asyncio.create_task(tracked(*new_record(k, start + offset))))
    else:
        counter = iter(range(10**9))

        async def worker() -> None:
            while clock() - start < horizon and not stop.is_set():
                k = next(counter)
                if stage.max_requests is not None and k >= stage.max_requests:
                    return
                await tracked(*new_record(k))

        tasks = [asyncio.create_task(worker()) for _ in range(int(stage.value))]
    if tasks:
        pending = set(tasks)
        stopper = asyncio.create_task(stop.wait())
        while pending and not stop.is_set():  # every request, unless a stop request comes first
            _, pending = await asyncio.wait(pending | {stopper}, return_when=asyncio.FIRST_COMPLETED)
            pending.discard(stopper)
        stopper.cancel()
        if pending:  # stopped: a bounded wait for requests in flight, then cancel the rest
            _, late = await asyncio.wait(pending, timeout=grace_s)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
    if stop.is_set():
        result.interrupted = True
        for rec in result.records:
            if rec.status == "pending":
                rec.status, rec.error, rec.end = "error", "interrupted before the answer completed", clock()
    stop_scrape.set()
    await monitor.stop()
    result.loop_lag = monitor.samples
    if scraper:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(scraper, 1.0)  # a scrape still in flight is cancelled, not waited for
        await scrape_http.aclose()
    return result
