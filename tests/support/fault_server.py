"""A fault-injecting OpenAI/vLLM look-alike on 127.0.0.1, in its own thread (issue #17's harness faults).

Serves /v1/models, /version, /tokenize, /detokenize (one token per word), /metrics and streaming /v1/completions.
`faults` (a set of names) breaks one part: the names are the keys of SSE_FAULTS plus models_list, models_text,
version_list, tokenize_text, metrics_trickle, metrics_negative, gone_after_first_stage (the server stops listening
when stage 2 asks for prompts). `on_request(stage, index)` runs for every completion request (a test sends a
signal from it); `stage_requests[stage]` counts them.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from collections.abc import Callable

SSE_FAULTS = {  # one event of the stream replaced by this (issue #17's malformed events)
    "sse_list": b"data: [1,2,3]\n\n",
    "sse_choices": b'data: {"choices":[1]}\n\n',
    "sse_usage": b'data: {"usage":"x"}\n\n',
    "sse_bytes": b'data: {"choices":[{"text":"\xff\xfe"}]}\n\n',
    "sse_text_type": b'data: {"choices":[{"text":5}]}\n\n',
    "sse_tokens": b'data: {"choices":[],"usage":{"prompt_tokens":-4,"completion_tokens":"3"}}\n\n',
    "sse_huge": b"data: " + b"x" * (2 << 20) + b"\n\n",
}


class FaultServer:
    def __init__(self, faults: set[str] | None = None, on_request: Callable[[int, int], None] | None = None):
        self.faults = set(faults or ())
        self.on_request = on_request or (lambda stage, index: None)
        self.stage_requests: Counter[int] = Counter()
        self.loop = asyncio.new_event_loop()
        self.server: asyncio.AbstractServer | None = None
        self.url = ""
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> FaultServer:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    async def _start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _stop(self) -> None:
        if self.server is not None:
            self.server.close()
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            line = head.split(b"\r\n", 1)[0].decode()
            path = line.split(" ")[1]
            length = next((int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")), 0)
            body = json.loads(await reader.readexactly(length)) if length else {}
            await self._route(path, body, writer)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    @staticmethod
    def _reply(writer: asyncio.StreamWriter, payload: object, raw: bytes | None = None, ctype: str = "application/json") -> None:
        data = raw if raw is not None else json.dumps(payload).encode()
        writer.write(f"HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nContent-Length: {len(data)}\r\nConnection: close\r\n\r\n"
                     .encode() + data)

    async def _route(self, path: str, body: dict, writer: asyncio.StreamWriter) -> None:
        f = self.faults
        if path == "/v1/models":
            if "models_text" in f:
                return self._reply(writer, None, b"<html>nope</html>", "text/html")
            return self._reply(writer, [1, 2] if "models_list" in f else {"data": [{"id": "m"}]})
        if path == "/version":
            return self._reply(writer, ["x"] if "version_list" in f else {"version": "0.0-fault"})
        if path == "/tokenize":
            tokens = list(range(len(str(body.get("prompt", "")).split())))
            return self._reply(writer, {"tokens": "x" if "tokenize_text" in f else tokens})
        if path == "/detokenize":
            if "gone_after_first_stage" in f and self.stage_requests[1]:
                self.server.close()  # stop listening: the next connection is refused
                return None  # and this one closes without an answer
            return self._reply(writer, {"prompt": "word " * len(body.get("tokens", []))})
        if path == "/metrics":
            text = ("vllm:num_requests_waiting -3\nvllm:num_requests_running NaN\nvllm:kv_cache_usage_perc 0.5\n"
                    if "metrics_negative" in f else "vllm:num_requests_waiting 1\nvllm:num_requests_running 2\n")
            if "metrics_trickle" in f:
                writer.write(f"HTTP/1.1 200 OK\r\nContent-Length: {len(text)}\r\n\r\n".encode())
                for ch in text:
                    writer.write(ch.encode())
                    await writer.drain()
                    await asyncio.sleep(1.0)
                return None
            return self._reply(writer, None, text.encode(), "text/plain")
        return await self._complete(body, writer)

    async def _complete(self, body: dict, writer: asyncio.StreamWriter) -> None:
        prompt = str(body.get("prompt", ""))
        stage, index = (int(x) for x in prompt.split(":", 1)[0].removeprefix("Request ").split("."))
        self.stage_requests[stage] += 1
        self.on_request(stage, index)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n")
        bad = next((SSE_FAULTS[name] for name in SSE_FAULTS if name in self.faults), None)
        for k, word in enumerate(("a", "b", "c")):
            await asyncio.sleep(0.005)
            writer.write(bad if bad is not None and k == 1 else f"data: {json.dumps({'choices': [{'text': word}]})}\n\n".encode())
            await writer.drain()
        usage = {"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 3}}
        writer.write(f"data: {json.dumps(usage)}\n\ndata: [DONE]\n\n".encode())
