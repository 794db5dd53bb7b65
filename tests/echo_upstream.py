"""A tiny upstream for gateway tests and benchmarks: a bare ASGI app (no framework) that says
exactly what it received, so that a test can compare it with what the client sent.

    GET  /_flotilla/health        200 {"status": "running"}
    GET  /small                   200, 100 bytes (the benchmark's "small GetObject")
    GET  /bytes/<n>               200, n bytes streamed in 64 KiB chunks, with Content-Length
    GET  /chunked/<n>             200, n bytes streamed in 64 KiB chunks, without Content-Length
    *    /status/<code>           that status; a body unless HEAD/204/304
    *    /sleep/<seconds>         waits, then echoes (long polls, slow Lambda invokes)
    *    anything else            200 JSON echo: method, raw_path, query_string, headers, body size, sha256

Request bodies are hashed as they arrive, never held, so memory stays flat on huge uploads.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable

CHUNK = 64 * 1024
SMALL = b"x" * 100


async def _read_body(receive: Callable) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        body = message.get("body", b"")
        digest.update(body)
        size += len(body)
        if not message.get("more_body"):
            break
    return size, digest.hexdigest()


async def _respond(
    send: Callable, status: int, body: bytes, content_type: bytes = b"application/json"
) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _stream(send: Callable, size: int, with_length: bool) -> None:
    headers = [(b"content-type", b"application/octet-stream")]
    if with_length:
        headers.append((b"content-length", str(size).encode()))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    block = b"z" * CHUNK
    while size > 0:
        piece = block if size >= CHUNK else block[:size]
        size -= len(piece)
        await send({"type": "http.response.body", "body": piece, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


async def _status(send: Callable, method: str, code: int) -> None:
    body = b"" if method == "HEAD" or code in (204, 304) else b'{"status": %d}' % code
    headers = [(b"x-echo-status", str(code).encode())]
    if code not in (204, 304):
        headers.append((b"content-length", b"%d" % (len(body) if method != "HEAD" else 42)))
    await send({"type": "http.response.start", "status": code, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _echo(scope: dict, receive: Callable, send: Callable) -> None:
    size, sha = await _read_body(receive)
    report = {
        "method": scope["method"],
        "raw_path": scope.get("raw_path", b"").decode("latin-1"),
        "query_string": scope["query_string"].decode("latin-1"),
        "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]],
        "body_size": size,
        "body_sha256": sha,
    }
    await _respond(send, 200, json.dumps(report).encode())


async def app(scope: dict, receive: Callable, send: Callable) -> None:
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/small":
        await _respond(send, 200, SMALL, b"application/octet-stream")
    elif path == "/_flotilla/health":
        await _respond(send, 200, b'{"status": "running"}')
    elif path.startswith("/bytes/") or path.startswith("/chunked/"):
        await _stream(send, int(path.rsplit("/", 1)[1]), path.startswith("/bytes/"))
    elif path.startswith("/status/"):
        await _read_body(receive)
        await _status(send, scope["method"], int(path.rsplit("/", 1)[1]))
    elif path.startswith("/sleep/"):
        await asyncio.sleep(float(path.rsplit("/", 1)[1]))
        await _echo(scope, receive, send)
    else:
        await _echo(scope, receive, send)
