"""A minimal OpenAI-style streaming server on 127.0.0.1 for load-generator unit tests (no vLLM needed).

The prompt decides the answer: containing FAIL -> HTTP 500; HANG -> never answers; otherwise three
SSE chunks 10 ms apart, a usage chunk and [DONE]. Runs in the test's own event loop.
"""

from __future__ import annotations

import asyncio
import json


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), 0)
    body = json.loads(await reader.readexactly(length)) if length else {}
    prompt = body.get("prompt", "")
    try:
        if "FAIL" in prompt:
            writer.write(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\nConnection: close\r\n\r\noops")
        elif "HANG" in prompt:
            await asyncio.sleep(3600)
        else:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n")
            for word in ("a", "b", "c"):
                await asyncio.sleep(0.01)
                writer.write(f"data: {json.dumps({'choices': [{'text': word}]})}\n\n".encode())
                await writer.drain()
            usage = {"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 3}}
            writer.write(f"data: {json.dumps(usage)}\n\ndata: [DONE]\n\n".encode())
        await writer.drain()
    finally:
        writer.close()


async def start() -> tuple[asyncio.AbstractServer, str]:
    server = await asyncio.start_server(_handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"
