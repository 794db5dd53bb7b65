"""The Lambda Runtime API: what a runtime client (AWS's ``awslambdaric``) talks to inside an environment.

Runtime clients read the API's address from ``AWS_LAMBDA_RUNTIME_API`` as ``host:port`` and build
``http://host:port/2018-06-01/runtime/...`` themselves: the address cannot carry a path prefix naming
the execution environment. So every environment gets its own tiny HTTP/1.1 server on its own port,
inside the Lambda service process; the port is the environment's identity.

The server is a hand-rolled HTTP/1.1 reader on ``asyncio.start_server`` rather than a second uvicorn:
four routes, keep-alive, ``Content-Length`` or chunked bodies and ``Expect: 100-continue`` are all
the runtime clients use, and a nested uvicorn would install its own signal handlers.

Routes (as AWS serves them):

- ``GET  /2018-06-01/runtime/invocation/next``: long-polls until an invocation is assigned to this
  environment; the event is the body, the context is in ``Lambda-Runtime-*`` headers. The
  ``Content-Type`` header is required: awslambdaric crashes without it.
- ``POST /2018-06-01/runtime/invocation/{id}/response``: the handler's result (202).
- ``POST /2018-06-01/runtime/invocation/{id}/error``: ``{"errorMessage", "errorType", "stackTrace"}``
  with ``Lambda-Runtime-Function-Error-Type`` (202).
- ``POST /2018-06-01/runtime/init/error``: the function could not initialise (202).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import uuid
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger("flotilla.lambda")

PREFIX = "/2018-06-01/runtime"
_INVOCATION = re.compile(rf"{PREFIX}/invocation/(?P<id>[^/]+)/(?P<kind>response|error)")
MAX_HEAD = 64 * 1024
MAX_BODY = 7 * 1024 * 1024  # above the 6 MB response limit, so that limit is reported, not a reset

_REASONS = {200: "OK", 202: "Accepted", 400: "Bad Request", 404: "Not Found", 413: "Payload Too Large"}


@dataclass
class Invocation:
    """One request handed to a runtime, and the future its outcome lands in.

    ``deadline_ms`` is set when a runtime picks the invocation up (``/next``): the function's
    timeout counts from there, not from when the request was queued behind a cold start.
    """

    payload: bytes
    function_arn: str
    timeout: float
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    trace_id: str = ""
    client_context: str | None = None
    cognito_identity: str | None = None
    deadline_ms: int = 0
    picked: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    outcome: asyncio.Future[tuple[bytes, str | None]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    def headers(self) -> list[tuple[str, str]]:
        out = [
            ("Content-Type", "application/json"),
            ("Lambda-Runtime-Aws-Request-Id", self.request_id),
            ("Lambda-Runtime-Deadline-Ms", str(self.deadline_ms)),
            ("Lambda-Runtime-Invoked-Function-Arn", self.function_arn),
            ("Lambda-Runtime-Trace-Id", self.trace_id),
        ]
        if self.client_context:
            out.append(("Lambda-Runtime-Client-Context", self.client_context))
        if self.cognito_identity:
            out.append(("Lambda-Runtime-Cognito-Identity", self.cognito_identity))
        return out

    def settle(self, body: bytes, function_error: str | None) -> bool:
        """Record the outcome once; False when it was already settled (a late or duplicate post)."""
        if self.outcome.done():
            return False
        self.outcome.set_result((body, function_error))
        return True


class RuntimeHost(Protocol):
    """What the server asks of its execution environment."""

    async def next_invocation(self) -> Invocation: ...

    def invocation(self, request_id: str) -> Invocation | None: ...

    def init_failed(self, body: bytes, error_type: str) -> None: ...


@dataclass
class _Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class BadRequest(Exception):
    pass


class RuntimeApiServer:
    """The Runtime API of one execution environment, on its own port."""

    def __init__(self, host: RuntimeHost, bind: str = "127.0.0.1") -> None:
        self.host = host
        self.bind = bind
        self.port = 0
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task] = set()

    @property
    def address(self) -> str:
        """What ``AWS_LAMBDA_RUNTIME_API`` is set to."""
        return f"{self.bind}:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.bind, 0, limit=MAX_HEAD)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        for task in list(self._connections):
            with contextlib.suppress(BaseException):
                await task

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            while True:
                try:
                    req = await _read_request(reader, writer)
                except BadRequest as err:
                    await _write(writer, 400, _error_body("InvalidRequest", str(err)), keep_alive=False)
                    return
                if req is None:
                    return
                status, headers, body = await self._route(req)
                keep_alive = req.headers.get("connection", "").lower() != "close"
                await _write(writer, status, body, headers, keep_alive=keep_alive)
                if not keep_alive:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        except asyncio.CancelledError:
            # Only close() cancels a connection; ending quietly keeps Python 3.11's stream callback
            # (which calls task.exception() on the handler) from logging the cancellation as an error.
            return
        finally:
            self._connections.discard(task)
            writer.close()

    async def _route(self, req: _Request) -> tuple[int, list[tuple[str, str]], bytes]:
        path = req.path.split("?", 1)[0]
        if req.method == "GET" and path == f"{PREFIX}/invocation/next":
            inv = await self.host.next_invocation()
            return 200, inv.headers(), inv.payload
        if req.method == "POST" and path == f"{PREFIX}/init/error":
            self.host.init_failed(req.body, req.headers.get("lambda-runtime-function-error-type", "Unknown"))
            return 202, [], _ACCEPTED
        m = _INVOCATION.fullmatch(path)
        if req.method == "POST" and m is not None:
            return self._post_outcome(m["id"], m["kind"], req)
        return 404, [], _error_body("NotFound", f"No route for {req.method} {path}")

    def _post_outcome(self, request_id: str, kind: str, req: _Request) -> tuple[int, list, bytes]:
        inv = self.host.invocation(request_id)
        if inv is None:
            return 400, [], _error_body("InvalidRequestID", f"Invalid request ID: {request_id}")
        function_error = None if kind == "response" else "Unhandled"
        if not inv.settle(req.body, function_error):
            return 400, [], _error_body("InvalidStateTransition", "Invocation already has an outcome")
        return 202, [], _ACCEPTED


_ACCEPTED = b'{"status":"OK"}'


def _error_body(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()


async def _read_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> _Request | None:
    """One request off a keep-alive connection; None when the client closed it between requests."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as err:
        if err.partial.strip():
            raise BadRequest("truncated request head") from None
        return None
    except asyncio.LimitOverrunError:
        raise BadRequest("request head too large") from None
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, target, _version = lines[0].split(" ", 2)
    except ValueError:
        raise BadRequest(f"bad request line: {lines[0]!r}") from None
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if headers.get("expect", "").lower() == "100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    body = await _read_body(reader, headers)
    return _Request(method, target, headers, body)


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return await _read_chunked(reader)
    length = int(headers.get("content-length") or 0)
    if length > MAX_BODY:
        raise BadRequest("body too large")
    return await reader.readexactly(length) if length else b""


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    size = 0
    while True:
        line = await reader.readuntil(b"\r\n")
        try:
            chunk_size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise BadRequest("bad chunk size") from None
        if chunk_size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                pass
            return b"".join(parts)
        size += chunk_size
        if size > MAX_BODY:
            raise BadRequest("body too large")
        parts.append(await reader.readexactly(chunk_size))
        await reader.readexactly(2)


async def _write(
    writer: asyncio.StreamWriter,
    status: int,
    body: bytes,
    headers: list[tuple[str, str]] | None = None,
    *,
    keep_alive: bool,
) -> None:
    out = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}"]
    headers = headers or [("Content-Type", "application/json")]
    out += [f"{k}: {v}" for k, v in headers]
    out.append(f"Content-Length: {len(body)}")
    if not keep_alive:
        out.append("Connection: close")
    writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + body)
    await writer.drain()
