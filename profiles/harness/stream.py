"""A lean HTTP/1.1 client for the load's streamed POSTs: asyncio protocols, keep-alive pool, body bytes to a callback.

Why not httpx here: profiled against a fast loopback server, httpx spent most of the client's CPU in httpcore's
connection pool (every request and close scans every connection: quadratic in requests in flight) and in its
per-chunk async iterator stack (~150 µs per streamed chunk); the client saturated near 130 req/s x 64 tokens
and reported its own queueing as the server's. Here `data_received` parses the framing (chunked,
content-length or until close) and hands each read's body bytes, stamped once, straight to the caller's
parser: no task switch and no await per chunk. Only what the load needs: POST, http/https, keep-alive with
idle connections dropped after 2 s (before uvicorn's 5 s keep-alive closes them under us), one retry when a
reused connection turns out closed before any reply byte. Everything else (/v1/models, /tokenize, /metrics)
stays on httpx.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable
from urllib.parse import urlsplit

OnBody = Callable[[bytes, float], None]
MAX_ERROR_BODY = 4096


class StaleConnection(ConnectionError):
    """A reused keep-alive connection closed before any reply byte arrived (safe to retry once)."""


class ProtocolError(ConnectionError):
    pass


class _Conn(asyncio.Protocol):
    def __init__(self, key: tuple[str, str, int]):
        self.key = key
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self.reused = False
        self._reset()

    def _reset(self) -> None:
        self.buf = b""
        self.state = "idle"  # idle | head | chunked | length | close
        self.done: asyncio.Future | None = None
        self.on_body: OnBody | None = None
        self.clock: Callable[[], float] = time.monotonic
        self.status = 0
        self.keep_alive = True
        self.remaining = 0
        self.error_body = b""
        self.got_bytes = False

    # asyncio callbacks
    def connection_made(self, transport) -> None:
        self.transport = transport

    def connection_lost(self, exc) -> None:
        self.closed = True
        done = self.done
        if done is None or done.done():
            return
        if self.state == "close":  # body delimited by the close
            done.set_result(self.status)
        elif not self.got_bytes and self.reused:
            done.set_exception(StaleConnection("the server closed a kept-alive connection"))
        else:
            done.set_exception(ConnectionError(f"connection closed mid-reply ({exc or 'by the server'})"))

    def data_received(self, data: bytes) -> None:
        if self.done is None or self.done.done():
            return  # bytes after a finished or abandoned reply: the connection is not reused (see finish)
        self.got_bytes = True
        self.buf += data
        try:
            self._parse()
        except Exception as exc:  # a malformed reply or the caller's parser failing: fail this request
            self.keep_alive = False
            if not self.done.done():
                self.done.set_exception(exc)

    # parsing
    def _parse(self) -> None:
        now = self.clock()
        if self.state == "head":
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buf) > 65536:
                    raise ProtocolError("reply headers longer than 64 KiB")
                return
            head, self.buf = self.buf[:end], self.buf[end + 4:]
            lines = head.split(b"\r\n")
            parts = lines[0].split(b" ", 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
                raise ProtocolError(f"not an HTTP/1.x reply: {lines[0][:80]!r}")
            self.status = int(parts[1])
            if 100 <= self.status < 200:  # an interim reply: the real one follows
                self._parse()
                return
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip().lower()
            if headers.get(b"connection") == b"close" or parts[0] == b"HTTP/1.0":
                self.keep_alive = False
            if b"chunked" in headers.get(b"transfer-encoding", b""):
                self.state = "chunked"
            elif b"content-length" in headers:
                self.state, self.remaining = "length", int(headers[b"content-length"])
            else:
                self.state, self.keep_alive = "close", False
        body = b""
        if self.state == "chunked":
            pieces = []
            while True:
                line_end = self.buf.find(b"\r\n")
                if line_end < 0:
                    break
                size = int(self.buf[:line_end].split(b";", 1)[0], 16)
                if size == 0:
                    if self.buf.startswith(b"\r\n", line_end + 2):  # no trailers
                        rest = line_end + 4
                    else:
                        trailers = self.buf.find(b"\r\n\r\n", line_end)
                        if trailers < 0:
                            break
                        rest = trailers + 4
                    self.buf = self.buf[rest:]
                    self.state = "idle"
                    break
                if len(self.buf) < line_end + 2 + size + 2:
                    break
                pieces.append(self.buf[line_end + 2:line_end + 2 + size])
                self.buf = self.buf[line_end + 2 + size + 2:]
            body = b"".join(pieces)
        elif self.state == "length":
            body, self.buf = self.buf[:self.remaining], self.buf[self.remaining:]
            self.remaining -= len(body)
            if self.remaining == 0:
                self.state = "idle"
        elif self.state == "close":
            body, self.buf = self.buf, b""
        if body:
            if self.status == 200:
                self.on_body(body, now)
            elif len(self.error_body) < MAX_ERROR_BODY:
                self.error_body += body[:MAX_ERROR_BODY]
        if self.state == "idle" and not self.done.done():
            self.done.set_result(self.status)


class StreamPool:
    """Keep-alive connections per (scheme, host, port); `post` streams one reply's body to `on_body`."""

    def __init__(self, keepalive_s: float = 2.0, connect_timeout_s: float = 30.0):
        self.keepalive_s = keepalive_s
        self.connect_timeout_s = connect_timeout_s
        self._idle: dict[tuple[str, str, int], list[_Conn]] = {}
        self._busy: set[_Conn] = set()
        self._targets: dict[str, tuple[tuple[str, str, int], bytes]] = {}
        self._ssl: ssl.SSLContext | None = None

    def _target(self, url: str) -> tuple[tuple[str, str, int], bytes]:
        target = self._targets.get(url)
        if target is None:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"not an http(s) URL: {url}")
            port = parts.port or (443 if parts.scheme == "https" else 80)
            host = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAccept: */*\r\nUser-Agent: gke-inference-benchmark\r\n"
                    "Content-Type: application/json\r\n").encode()
            target = self._targets[url] = ((parts.scheme, parts.hostname, port), head)
        return target

    async def _connect(self, key: tuple[str, str, int]) -> _Conn:
        scheme, host, port = key
        loop = asyncio.get_running_loop()
        if scheme == "https" and self._ssl is None:
            self._ssl = ssl.create_default_context()
        async with asyncio.timeout(self.connect_timeout_s):
            _, conn = await loop.create_connection(lambda: _Conn(key), host, port,
                                                   ssl=self._ssl if scheme == "https" else None)
        return conn

    async def _acquire(self, key: tuple[str, str, int]) -> _Conn:
        idle = self._idle.get(key)
        now = time.monotonic()
        while idle:
            conn = idle.pop()
            if not conn.closed and now - conn.idle_since < self.keepalive_s:
                conn.reused = True
                return conn
            conn.transport.close()
        conn = await self._connect(key)
        conn.reused = False
        return conn

    def _release(self, conn: _Conn, ok: bool) -> None:
        self._busy.discard(conn)
        if ok and conn.keep_alive and not conn.closed and conn.state == "idle" and not conn.buf:
            conn._reset()
            conn.idle_since = time.monotonic()
            self._idle.setdefault(conn.key, []).append(conn)
        else:
            conn.transport.abort() if not conn.closed else None

    async def post(self, url: str, body: bytes, on_body: OnBody, clock: Callable[[], float]) -> tuple[int, bytes]:
        """POST `body`; a 200 reply's body goes to `on_body(bytes, arrival time)` as it arrives. Returns
        (status, body of a non-200 reply). Raises ConnectionError/OSError/ProtocolError, or what `on_body` raised."""
        key, head = self._target(url)
        request = head + b"Content-Length: %d\r\n\r\n" % len(body) + body
        for attempt in (0, 1):
            conn = await self._acquire(key)
            self._busy.add(conn)
            conn._reset()
            conn.state, conn.on_body, conn.clock = "head", on_body, clock
            conn.done = asyncio.get_running_loop().create_future()
            ok = False
            try:
                conn.transport.write(request)
                status = await conn.done
                ok = True
                return status, conn.error_body
            except StaleConnection:
                if attempt:
                    raise
            finally:
                self._release(conn, ok)
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        for conns in self._idle.values():
            for conn in conns:
                conn.transport.close()
        for conn in list(self._busy):
            conn.transport.abort()
        self._idle.clear()
        self._busy.clear()
