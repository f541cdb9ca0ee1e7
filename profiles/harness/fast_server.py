"""A fast OpenAI-style streaming server for client capacity tests: `python -m profiles.harness.fast_server PORT`.

It answers `/v1/completions` (and chat) with `max_tokens` SSE chunks, one write per token (`--itl-ms` apart,
0 = back to back, yielding to the loop between writes so they leave as separate sends), a usage chunk and
[DONE], over keep-alive HTTP/1.1 with chunked encoding. `/v1/models`, `/version`, `/metrics` and
`/tokenize`/`/detokenize` (a token per byte) answer too.
A raw asyncio protocol (uvloop when installed) keeps the server's own CPU per token small, so what a load
generator sustains against it is the client's limit, not the server's. Listens on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import json

TOKEN = (b'data: {"id":"cmpl-1","object":"text_completion","model":"m",'
         b'"choices":[{"index":0,"text":" x","logprobs":null,"finish_reason":null}]}\n\n')
CHAT_TOKEN = (b'data: {"id":"chat-1","object":"chat.completion.chunk","model":"m",'
              b'"choices":[{"index":0,"delta":{"content":" x"},"finish_reason":null}]}\n\n')
CHAT_ROLE = (b'data: {"id":"chat-1","object":"chat.completion.chunk","model":"m",'
             b'"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n')
METRICS = (b'vllm:cache_config_info{block_size="16",cache_dtype="auto",enable_prefix_caching="True",engine="0"} 1.0\n'
           b"vllm:num_requests_running 0\nvllm:num_requests_waiting 0\n")
STREAM_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _plain(status: str, body: bytes, kind: bytes = b"application/json") -> bytes:
    return (f"HTTP/1.1 {status}\r\ncontent-length: {len(body)}\r\n".encode() + b"content-type: " + kind + b"\r\n\r\n" + body)


class Handler(asyncio.Protocol):
    def __init__(self, itl_s: float):
        self.itl_s = itl_s
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.queue: asyncio.Queue[tuple[bytes, bytes]] = asyncio.Queue()
        self.worker: asyncio.Task | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.worker = asyncio.get_running_loop().create_task(self._serve())

    def connection_lost(self, exc) -> None:
        if self.worker:
            self.worker.cancel()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4:end + 4 + length]
            self.buffer = self.buffer[end + 4 + length:]
            self.queue.put_nowait((head.split(b" ", 2)[1], body))

    async def _serve(self) -> None:
        while True:
            path, body = await self.queue.get()
            write = self.transport.write
            if path == b"/v1/models":
                write(_plain("200 OK", b'{"object":"list","data":[{"id":"m","object":"model","max_model_len":4096}]}'))
            elif path == b"/version":
                write(_plain("200 OK", b'{"version":"fast-server"}'))
            elif path == b"/tokenize":  # one token per UTF-8 byte: enough for prompts of a requested length
                ids = list(json.loads(body).get("prompt", "").encode())
                write(_plain("200 OK", json.dumps({"tokens": ids, "count": len(ids)}).encode()))
            elif path == b"/detokenize":
                text = bytes(json.loads(body).get("tokens", [])).decode(errors="replace")
                write(_plain("200 OK", json.dumps({"prompt": text}).encode()))
            elif path == b"/metrics":
                write(_plain("200 OK", METRICS, b"text/plain"))
            elif path in (b"/v1/completions", b"/v1/chat/completions"):
                request = json.loads(body or b"{}")
                tokens = int(request.get("max_tokens") or 16)
                chat = path == b"/v1/chat/completions"
                write(STREAM_HEAD)
                if chat:
                    write(_chunk(CHAT_ROLE))
                token = _chunk(CHAT_TOKEN if chat else TOKEN)
                for _ in range(tokens):
                    write(token)
                    await asyncio.sleep(self.itl_s)
                usage = {"choices": [], "usage": {"prompt_tokens": 8, "completion_tokens": tokens, "total_tokens": 8 + tokens}}
                write(_chunk(b"data: " + json.dumps(usage).encode() + b"\n\ndata: [DONE]\n\n") + b"0\r\n\r\n")
            else:
                write(_plain("404 Not Found", b'{"error":"not found"}'))


async def serve(port: int, itl_s: float = 0.0) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Handler(itl_s), "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m profiles.harness.fast_server")
    parser.add_argument("port", type=int)
    parser.add_argument("--itl-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(args.port, args.itl_ms / 1000))
    else:
        uvloop.run(serve(args.port, args.itl_ms / 1000))


if __name__ == "__main__":
    main()
