"""A streaming HTTP/1.1 forwarder over pooled keep-alive connections (asyncio streams, no client library).

Why hand-rolled: the gateway sits in front of every AWS call, so its per-request cost is the fleet's
floor. A general client (httpx) costs several times more per request than writing a request head to
a pooled socket and parsing the response head with ``bytes.split``; and we need none of its features
(redirects, cookies, decoding). What we do need, and do here:

- request bodies streamed from ASGI ``receive`` to the upstream as they arrive (original
  ``Content-Length``, or re-chunked when the client sent ``Transfer-Encoding: chunked``);
- response bodies streamed back chunk by chunk, with backpressure from the client (ASGI ``send``
  waits while the client's socket is full), so a 5 GiB object never sits in memory;
- Host and every end-to-end header passed through untouched (the services need the original Host
  and the SigV4 headers); hop-by-hop headers dropped;
- one transparent retry when a pooled connection turns out to have been closed by the upstream
  (the idle race), if the request body is still replayable;
- AWS-style errors when the upstream is down (503, fast: refused connections fail at once);
- a bound on upstream *silence* (``Upstream.timeout``): no response head, a request body the upstream
  stops taking, or a response body that stops flowing for that long ends the exchange (504
  ``GatewayTimeout`` before the response has started, a cut connection after). A stream that keeps
  moving is never cut, however long it lasts.

Response trailers (chunked framing) are read and dropped: ASGI has no portable way to pass them on,
and no Flotilla service sends any (S3's checksums travel in headers); a foreign upstream's trailers
are lost, which HTTP allows (a recipient may discard them).
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, TypeVar
from xml.sax.saxutils import escape

from .config import Upstream
from .routing import Route

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]
T = TypeVar("T")

CHUNK = 64 * 1024
READ_LIMIT = 128 * 1024  # largest response head; also the StreamReader's buffering threshold
REPLAY_LIMIT = 64 * 1024  # request bytes kept to retry on a stale pooled connection

# Hop-by-hop (RFC 9110 7.6.1). ``Expect: 100-continue`` is passed on: the upstream's own 100 (or its
# early final answer) decides whether the gateway asks its client for the body (see ``_send``).
HOP_REQUEST = frozenset(
    {b"connection", b"keep-alive", b"proxy-connection", b"te", b"trailer", b"transfer-encoding", b"upgrade"}
    | {b"proxy-authorization"}
)
EXPECT_WAIT = (
    1.0  # seconds to wait for an upstream's 100 Continue before sending the body anyway (RFC 9110 10.1.1)
)
# Date/Server: the gateway's own server adds both; forwarding the upstream's too would duplicate them.
HOP_RESPONSE = frozenset(
    {b"connection", b"keep-alive", b"proxy-connection", b"te", b"trailer", b"transfer-encoding", b"upgrade"}
    | {b"proxy-authenticate", b"date", b"server"}
)
_STALE = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError, asyncio.IncompleteReadError)


class UpstreamError(Exception):
    """The upstream could not be reached or broke off before its response started.

    ``disabled``: its host name has never resolved. In compose a service whose profile is not enabled
    has no DNS name on the fleet's network; a container that ran and died loses its name too, which is
    why the pool remembers whether the name ever resolved (then the service is "unavailable").
    """

    def __init__(
        self, status: int, message: str, disabled: bool = False, code: str = "ServiceUnavailable"
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.disabled = disabled
        self.code = code


class ClientGone(Exception):
    """The client disconnected; nothing more to send it."""


class ClientTimeout(Exception):
    """The client stopped sending its request body (see ``IdleWatch``): S3's ``RequestTimeout``."""


REQUEST_TIMEOUT_MESSAGE = (
    "Your socket connection to the server was not read from or written to within the timeout period. "
    "Idle connections will be closed."
)


class IdleWatch:
    """Bounds how long a request waits on its *client* for more body bytes (``limit`` seconds).

    A client that declares a ``Content-Length`` it never sends (or stalls a chunked body) would
    otherwise hold the request, and the upstream connection it is being forwarded on, forever:
    uvicorn has no request-body timeout. S3 answers such a socket ``RequestTimeout`` after about
    20 s of silence. It bounds silence, not duration: a slow upload that keeps moving is never cut.

    One timer per request, armed at the first wait and re-armed by itself (cheaper than a timeout
    per ``receive``): when it finds the task waiting in ``receive`` for ``limit`` seconds it cancels
    the wait, which ``receive`` turns into ``ClientTimeout``.
    """

    __slots__ = ("limit", "since", "fired", "_task", "_timer")

    def __init__(self, limit: float | None) -> None:
        self.limit = limit
        self.since: float | None = None  # when the current wait began; None when not waiting
        self.fired = False
        self._task: asyncio.Task | None = None
        self._timer: asyncio.TimerHandle | None = None

    async def receive(self, receive: Receive) -> MutableMapping[str, Any]:
        if self.limit is None:
            return await receive()
        loop = asyncio.get_running_loop()
        self.since = loop.time()
        self._task = asyncio.current_task()  # the body may be read by the proxy's writer task
        if self._timer is None and not self.fired:
            self._timer = loop.call_later(self.limit, self._check)
        try:
            return await receive()
        except asyncio.CancelledError:
            if self.fired and self._task is not None and self._task.uncancel() == 0:
                raise ClientTimeout from None
            raise
        finally:
            self.since = None

    def _check(self) -> None:
        assert self.limit is not None and self._task is not None
        loop = asyncio.get_running_loop()
        waited = loop.time() - self.since if self.since is not None else 0.0
        if waited >= self.limit:
            self._timer, self.fired = None, True
            self._task.cancel()
        else:
            self._timer = loop.call_later(self.limit - waited, self._check)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


# ---- connections -------------------------------------------------------------------------------


class Connection:
    __slots__ = ("reader", "writer", "idle_since", "reused", "expired", "sending")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.idle_since = 0.0
        self.reused = False
        self.expired = False  # aborted because the upstream stayed silent too long
        self.sending = False  # a request body is being written: the connection is mid-request

    def expire(self) -> None:
        self.expired = True
        self.writer.transport.abort()

    def usable(self, now: float, idle_timeout: float) -> bool:
        return (
            now - self.idle_since < idle_timeout
            and not self.reader.at_eof()
            and not self.writer.is_closing()
            and not self.reader._buffer  # type: ignore[attr-defined]  # stray bytes: desynchronised
        )

    def close(self) -> None:
        self.writer.close()


class Pool:
    """Idle keep-alive connections to one upstream, most recently used first (LIFO keeps few warm)."""

    def __init__(self, upstream: Upstream, connect_timeout: float, idle_timeout: float, size: int) -> None:
        self.upstream = upstream
        self.connect_timeout = connect_timeout
        self.idle_timeout = idle_timeout
        self.size = size
        self.idle: deque[Connection] = deque()
        self.resolved = False  # the host name resolved at least once (see UpstreamError.disabled)
        self._ssl = ssl.create_default_context() if upstream.scheme == "https" else None

    async def acquire(self, fresh: bool = False) -> Connection:
        now = time.monotonic()
        while self.idle and not fresh:
            conn = self.idle.pop()
            if conn.usable(now, self.idle_timeout):
                conn.reused = True
                return conn
            conn.close()
        return await self._connect()

    async def _connect(self) -> Connection:
        up = self.upstream
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(up.host, up.port, ssl=self._ssl, limit=READ_LIMIT),
                self.connect_timeout,
            )
        except TimeoutError:
            raise UpstreamError(503, f"timed out connecting to {up.url}") from None
        except socket.gaierror as exc:
            reason = f"{up.host} does not resolve: {exc.strerror or exc}"
            raise UpstreamError(503, f"cannot connect to {up.url}: {reason}", not self.resolved) from None
        except OSError as exc:
            self.resolved = True  # refused/unreachable: the name was found
            raise UpstreamError(503, f"cannot connect to {up.url}: {exc.strerror or exc}") from None
        self.resolved = True
        return Connection(reader, writer)

    def release(self, conn: Connection) -> None:
        if len(self.idle) >= self.size or conn.writer.is_closing():
            conn.close()
            return
        now = conn.idle_since = time.monotonic()
        self.idle.append(conn)
        while now - self.idle[0].idle_since >= self.idle_timeout:  # the oldest expire first
            self.idle.popleft().close()

    def close(self) -> None:
        while self.idle:
            self.idle.pop().close()


# ---- request body --------------------------------------------------------------------------------


class RequestBody:
    """The client's request body, read from ASGI ``receive`` on demand.

    ``prefix`` holds chunks already read (the router's form peek). Chunks are kept while the total
    stays under REPLAY_LIMIT so that a request whose pooled connection was stale can be sent again.
    """

    __slots__ = ("receive", "watch", "present", "chunked", "expect", "more", "kept", "replayable")

    def __init__(
        self,
        receive: Receive,
        headers: Headers,
        prefix: list[bytes] | None = None,
        more: bool = True,
        watch: IdleWatch | None = None,
    ):
        self.receive = receive
        self.watch = watch or IdleWatch(None)
        self.chunked = False
        self.present = False
        self.expect = False  # the client waits for 100 Continue before sending its body
        for name, value in headers:
            if name == b"content-length":
                self.present = value != b"0"
            elif name == b"transfer-encoding":
                self.present = self.chunked = True
            elif name == b"expect":
                self.expect = value.lower() == b"100-continue"
        self.kept: list[bytes] = list(prefix or ())
        self.more = more if self.present or prefix else False
        self.replayable = sum(map(len, self.kept)) <= REPLAY_LIMIT

    async def chunks(self) -> AsyncIterator[bytes]:
        """Every chunk of the body for one attempt: the kept ones, then the rest from the client."""
        for chunk in self.kept:
            yield chunk
        size = sum(map(len, self.kept))
        while self.more:
            message = await self.watch.receive(self.receive)
            if message["type"] == "http.disconnect":
                raise ClientGone
            chunk = message.get("body", b"")
            self.more = message.get("more_body", False)
            size += len(chunk)
            if self.replayable:
                if size <= REPLAY_LIMIT:
                    self.kept.append(chunk)
                else:
                    self.replayable, self.kept = False, []
            yield chunk


def request_head(scope: Scope, body: RequestBody, upstream: Upstream) -> bytes:
    """The request line and headers as the client sent them, minus hop-by-hop, plus our framing."""
    target = scope.get("raw_path") or scope["path"].encode()
    if scope["query_string"]:
        target += b"?" + scope["query_string"]
    parts = [scope["method"].encode(), b" ", target, b" HTTP/1.1\r\n"]
    has_host = False
    for name, value in scope["headers"]:
        if name in HOP_REQUEST:
            continue
        has_host = has_host or name == b"host"
        parts += (name, b": ", value, b"\r\n")
    if not has_host:
        parts += (b"host: ", f"{upstream.host}:{upstream.port}".encode(), b"\r\n")
    if body.chunked:
        parts.append(b"transfer-encoding: chunked\r\n")
    parts.append(b"\r\n")
    return b"".join(parts)


async def _write_request(conn: Connection, head: bytes, body: RequestBody, silence: float | None) -> None:
    """Send head and body; ``silence`` bounds each wait for the upstream to take more (not the client)."""
    writer = conn.writer
    if not body.present:
        writer.write(head)
        await _drain(conn, silence)
        return
    pending = head
    async for chunk in body.chunks():
        if body.chunked:
            if not chunk:
                continue
            chunk = b"%x\r\n%b\r\n" % (len(chunk), chunk)
        if pending:
            writer.write(pending + chunk)
            pending = b""
        else:
            writer.write(chunk)
        await _drain(conn, silence)
    if body.chunked:
        writer.write(pending + b"0\r\n\r\n")
    elif pending:
        writer.write(pending)
    conn.sending = False  # every byte is in the transport: the connection is in step again
    await _drain(conn, silence)


async def _send(
    conn: Connection, head: bytes, body: RequestBody, silence: float | None, go: asyncio.Event | None
) -> None:
    """Write the request while its response head is read concurrently (``Proxy._attempt``).

    With ``Expect: 100-continue`` (``go`` set) the head goes first and the body only once the upstream
    says 100 Continue, or after EXPECT_WAIT of silence (an upstream that ignores Expect). The client's
    body is not read before then, so uvicorn only sends the client its own 100 Continue when the
    upstream wants the body; an early final answer reaches the client instead."""
    conn.sending = True
    if go is not None:
        conn.writer.write(head)
        await _drain(conn, silence)
        head = b""
        try:
            await asyncio.wait_for(go.wait(), EXPECT_WAIT)
        except TimeoutError:
            pass
    await _write_request(conn, head, body, silence)


async def _drain(conn: Connection, silence: float | None) -> None:
    writer = conn.writer
    if silence is None or not writer.transport.get_write_buffer_size():
        await writer.drain()  # nothing left to send: no wait on the upstream (and no timer to pay for)
    else:
        await _silent_within(conn, silence, writer.drain())


async def _silent_within(conn: Connection, silence: float | None, pending: Awaitable[T]) -> T:
    """``await pending`` (a read from or a drain to ``conn``), aborting the connection and raising
    ``TimeoutError`` if the upstream stays silent for ``silence`` seconds.

    A bare timer handle, not ``asyncio.timeout``: this runs on every request, and a handle costs a
    fraction of the context manager (measured: ~2 us against ~8-12 us under uvloop).
    """
    if silence is None:
        return await pending
    timer = asyncio.get_running_loop().call_later(silence, conn.expire)
    try:
        result = await pending
    except (OSError, asyncio.IncompleteReadError):
        if conn.expired:
            raise TimeoutError from None
        raise
    finally:
        timer.cancel()
    if conn.expired:  # the abort read as the end of the stream
        raise TimeoutError
    return result


# ---- response ------------------------------------------------------------------------------------


@dataclass(slots=True)
class Response:
    status: int
    headers: Headers
    length: int | None  # None: chunked or until EOF
    chunked: bool
    keep_alive: bool


async def read_response_head(
    reader: asyncio.StreamReader, method: str, interim: asyncio.Event | None = None
) -> Response:
    """The final response's head; ``interim`` is set when a 1xx (100 Continue) comes before it."""
    while True:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head[:-4].split(b"\r\n")
        status_line = lines[0]
        status = int(status_line[9:12])
        if 100 <= status < 200 and status != 101:
            if interim is not None:
                interim.set()
            continue  # interim (100 Continue): the final response follows
        break
    keep_alive = not status_line.startswith(b"HTTP/1.0")
    length: int | None = None
    chunked = False
    headers: Headers = []
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        value = value.strip()
        if name in HOP_RESPONSE:
            if name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                keep_alive = b"close" not in value.lower() and (keep_alive or b"keep-alive" in value.lower())
            continue
        if name == b"content-length":
            length = int(value)
        headers.append((name, value))
    if method == "HEAD" or status in (204, 304):
        if status in (204, 304) and method != "HEAD":
            headers = [(k, v) for k, v in headers if k != b"content-length"]
        length, chunked = 0, False
    elif chunked:
        length = None
        headers = [(k, v) for k, v in headers if k != b"content-length"]
    elif length is None:
        keep_alive = False  # body runs until the upstream closes
    return Response(status, headers, length, chunked, keep_alive)


async def response_chunks(reader: asyncio.StreamReader | _Patient, resp: Response) -> AsyncIterator[bytes]:
    """The response body in pieces of at most CHUNK bytes, whatever framing the upstream used."""
    if resp.length is not None:
        remaining = resp.length
        while remaining > 0:
            data = await reader.read(min(remaining, CHUNK))
            if not data:
                raise asyncio.IncompleteReadError(b"", remaining)
            remaining -= len(data)
            yield data
    elif resp.chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":
                    pass  # trailers: ASGI has no portable way to send them on
                return
            while size > 0:
                data = await reader.read(min(size, CHUNK))
                if not data:
                    raise asyncio.IncompleteReadError(b"", size)
                size -= len(data)
                yield data
            await reader.readexactly(2)
    else:
        while data := await reader.read(CHUNK):
            yield data


class _Patient:
    """A connection's reader whose every read may wait at most ``silence`` seconds (TimeoutError, an
    OSError): it bounds the upstream's silence, not the length of the body."""

    __slots__ = ("conn", "silence")

    def __init__(self, conn: Connection, silence: float | None) -> None:
        self.conn = conn
        self.silence = silence

    async def read(self, n: int) -> bytes:
        return await _silent_within(self.conn, self.silence, self.conn.reader.read(n))

    async def readuntil(self, separator: bytes) -> bytes:
        return await _silent_within(self.conn, self.silence, self.conn.reader.readuntil(separator))

    async def readexactly(self, n: int) -> bytes:
        return await _silent_within(self.conn, self.silence, self.conn.reader.readexactly(n))


async def _wait_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


# ---- the forwarder -------------------------------------------------------------------------------


class Proxy:
    """Forwards ASGI requests to upstreams; one connection pool per upstream."""

    def __init__(self, connect_timeout: float, idle_timeout: float, pool_size: int) -> None:
        self.connect_timeout = connect_timeout
        self.idle_timeout = idle_timeout
        self.pool_size = pool_size
        self.pools: dict[str, Pool] = {}
        self._route_headers: dict[Route, bytes] = {}

    def pool(self, upstream: Upstream) -> Pool:
        pool = self.pools.get(upstream.url)
        if pool is None:
            pool = self.pools[upstream.url] = Pool(
                upstream, self.connect_timeout, self.idle_timeout, self.pool_size
            )
        return pool

    def close(self) -> None:
        for pool in self.pools.values():
            pool.close()

    def route_header(self, route: Route) -> tuple[bytes, bytes]:
        value = self._route_headers.get(route)
        if value is None:
            value = self._route_headers[route] = f"{route.service}; {route.reason}".encode()
        return (b"x-flotilla-route", value)

    async def exchange(
        self, pool: Pool, head: bytes, body: RequestBody, method: str, silence: float | None = None
    ) -> tuple[Connection, Response]:
        """Send the request, read the response head. Retries once if a pooled connection was stale.

        ``silence``: the longest the upstream may stay silent (taking no body, sending no head).
        When the upstream answers before the whole body is sent, ``conn.sending`` stays True: the
        connection is out of step and must not go back to the pool.
        """
        conn = await pool.acquire()
        while True:
            try:
                return conn, await self._attempt(conn, head, body, method, silence)
            except TimeoutError:
                conn.close()  # aborted: it may still answer, out of step with the next request
                raise UpstreamError(
                    504, f"{pool.upstream.url} did not answer within {silence:g} s", code="GatewayTimeout"
                ) from None
            except _STALE as exc:
                conn.close()
                if conn.reused and body.replayable and not _got_bytes(exc):
                    conn = await pool.acquire(fresh=True)
                    continue
                raise UpstreamError(
                    502, f"{pool.upstream.url} closed the connection without a response"
                ) from None
            except (ValueError, asyncio.LimitOverrunError):
                conn.close()
                raise UpstreamError(502, f"{pool.upstream.url} sent a malformed response head") from None
            except BaseException:
                conn.close()
                raise

    async def _attempt(
        self, conn: Connection, head: bytes, body: RequestBody, method: str, silence: float | None
    ) -> Response:
        """One try on one connection. A body is written by a task while the response head is read, so
        that an upstream's early answer (S3's 400 EntityTooLarge, a 403) is seen while the client is
        still sending; the silence bound on the head starts once the body is written (a slow client
        is not a silent upstream)."""
        if not body.present:  # the common case: no task, no event
            conn.writer.write(head)
            await _drain(conn, silence)
            if not body.expect:
                return await _silent_within(conn, silence, read_response_head(conn.reader, method))
            go = asyncio.Event()
            resp = await _silent_within(conn, silence, read_response_head(conn.reader, method, go))
            if go.is_set():  # relay the upstream's 100: botocore misreads the next response without it
                await body.receive()  # uvicorn sends the client its 100 Continue at the first receive
            return resp
        go = asyncio.Event() if body.expect else None
        reading = asyncio.ensure_future(read_response_head(conn.reader, method, go))
        writing = asyncio.ensure_future(_send(conn, head, body, silence, go))
        try:
            await asyncio.wait((reading, writing), return_when=asyncio.FIRST_COMPLETED)
            if not writing.done():  # answered early: stop forwarding the body
                writing.cancel()
                await asyncio.wait((writing,))
                if not writing.cancelled():
                    writing.exception()  # ClientGone/ClientTimeout racing the answer: the answer wins
            elif (exc := writing.exception()) is not None and not isinstance(
                exc, ConnectionResetError | BrokenPipeError
            ):  # a reset or broken pipe: the upstream may have answered early and closed, so read on
                raise exc
            if conn.expired:
                raise TimeoutError
            return await _silent_within(conn, silence, reading)
        except BaseException:
            reading.cancel()
            writing.cancel()
            raise

    async def forward(
        self, scope: Scope, receive: Receive, send: Send, upstream: Upstream, route: Route, body: RequestBody
    ) -> None:
        """Relay one request and its response. Raises UpstreamError before the response starts."""
        pool = self.pool(upstream)
        method = scope["method"]
        head = request_head(scope, body, upstream)
        try:
            conn, resp = await self.exchange(pool, head, body, method, upstream.timeout)
        except ClientGone:
            return
        resp.headers.append(self.route_header(route))
        if conn.sending:  # answered before the whole body went up: the connection is out of step
            resp.keep_alive = False
            if body.more:  # and the client's body is unread: uvicorn would otherwise read it all
                resp.headers.append((b"connection", b"close"))
        try:
            await send({"type": "http.response.start", "status": resp.status, "headers": resp.headers})
            done = await self._relay_body(conn, resp, receive, send, upstream.timeout)
        except (OSError, asyncio.IncompleteReadError, ValueError):  # TimeoutError is an OSError
            conn.close()
            return  # the response is cut short: returning without completing makes uvicorn drop the client
        except BaseException:
            conn.close()
            raise
        if done and resp.keep_alive:
            pool.release(conn)
        else:
            conn.close()

    async def _relay_body(
        self, conn: Connection, resp: Response, receive: Receive, send: Send, silence: float | None
    ) -> bool:
        """Stream the body to the client; False if the client left midway (the connection is then dirty).
        Waiting on the client (``send``) is not upstream silence: only reads count against ``silence``."""
        if resp.length is not None and resp.length <= CHUNK:  # fast path: the common small response
            data = (
                await _silent_within(conn, silence, conn.reader.readexactly(resp.length))
                if resp.length
                else b""
            )
            await send({"type": "http.response.body", "body": data})
            return True
        watcher = asyncio.ensure_future(_wait_disconnect(receive))
        try:
            async for data in response_chunks(_Patient(conn, silence), resp):
                if watcher.done():
                    return False
                await send({"type": "http.response.body", "body": data, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
            return True
        finally:
            watcher.cancel()

    async def get_status(self, upstream: Upstream, path: str) -> int:
        """A plain GET through the pool (health probes): the status, body discarded."""
        pool = self.pool(upstream)
        head = f"GET {path} HTTP/1.1\r\nhost: {upstream.host}:{upstream.port}\r\n\r\n".encode()
        conn, resp = await self.exchange(pool, head, RequestBody(_no_receive, []), "GET")
        try:
            async for _ in response_chunks(conn.reader, resp):
                pass
        except BaseException:
            conn.close()
            raise
        if resp.keep_alive:
            pool.release(conn)
        else:
            conn.close()
        return resp.status


async def _no_receive() -> MutableMapping[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


def _got_bytes(exc: BaseException) -> bool:
    return isinstance(exc, asyncio.IncompleteReadError) and bool(exc.partial)


# ---- AWS-style errors ----------------------------------------------------------------------------


def error_body(
    code: str, message: str, request_id: str, json_style: bool, sender: str
) -> tuple[bytes, bytes]:
    """(content-type, body): the json protocol's shape, or the query/XML ``ErrorResponse`` shape."""
    if json_style:
        body = json.dumps({"__type": code, "message": message}).encode()
        return b"application/x-amz-json-1.0", body
    xml = (
        f"<?xml version='1.0' encoding='UTF-8'?>\n<ErrorResponse><Error><Type>{sender}</Type>"
        f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return b"text/xml", xml.encode()


async def send_error(
    send: Send,
    status: int,
    code: str,
    message: str,
    *,
    json_style: bool,
    route: tuple[bytes, bytes] | None = None,
    close: bool = False,
) -> None:
    """An AWS-shaped error; ``close`` ends the client's connection after it (uvicorn honours the
    response's ``connection: close``), needed when the request's body was not read to its end."""
    request_id = str(uuid.uuid4())
    content_type, body = error_body(
        code, message, request_id, json_style, "Sender" if status < 500 else "Receiver"
    )
    headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        (b"x-amzn-requestid", request_id.encode()),
        (b"x-amz-request-id", request_id.encode()),
        (b"x-amzn-errortype", code.encode()),
    ]
    if route:
        headers.append(route)
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
