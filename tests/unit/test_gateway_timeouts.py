"""The gateway's bound on upstream silence, against tiny asyncio upstreams that hang in each way a
service can: no response head, a request body never taken, a body that stops midway; and one that
is slow but never silent for long, which must pass whole."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from gateway.app import Gateway
from gateway.config import UPSTREAM_TIMEOUT, GatewayConfig

SILENCE = 0.3
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    await asyncio.sleep(3600)


async def _never_read(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(3600)


async def _trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Five pieces, each after a pause shorter than SILENCE: longer than SILENCE in all."""
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
    for i in range(5):
        await asyncio.sleep(SILENCE / 2)
        writer.write(b"%x\r\n%b\r\n" % (4, b"abc%d" % i))
        await writer.drain()
    writer.write(b"0\r\n\r\n")
    await writer.drain()


async def _stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A head announcing 200000 bytes, 100000 of them, then silence."""
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 200000\r\n\r\n" + b"z" * 100_000)
    await writer.drain()
    await asyncio.sleep(3600)


class _Client:
    """The ASGI side: a client that sends ``body`` in pieces, then waits (never disconnects)."""

    def __init__(self, body: bytes = b"", piece: int = 1 << 20) -> None:
        self.pending = [body[i : i + piece] for i in range(0, len(body), piece)] or [b""]
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        if self.pending:
            chunk = self.pending.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(self.pending)}
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        return self.sent[0]["status"]

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent[1:])

    @property
    def complete(self) -> bool:
        return bool(self.sent) and not self.sent[-1].get("more_body", False)


def _scope(method: str = "GET", headers: list[tuple[bytes, bytes]] | None = None, length: int = 0) -> dict:
    head = [(b"host", b"localhost:4566"), *(headers or [])]
    if length:
        head.append((b"content-length", str(length).encode()))
    return {
        "type": "http",
        "method": method,
        "path": "/bucket/key",
        "raw_path": b"/bucket/key",
        "query_string": b"",
        "headers": head,
    }


def _exchange(handler: Handler, scope: dict, client: _Client, service: str = "s3") -> float:
    """Run one request through a gateway whose ``service`` is the upstream ``handler``; the seconds it took."""

    async def run() -> float:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        config = GatewayConfig.from_urls({service: f"http://127.0.0.1:{port}"}, {service: SILENCE})
        gateway = Gateway(config)
        started = time.monotonic()
        try:
            async with asyncio.timeout(10):
                await gateway(scope, client.receive, client.send)
            return time.monotonic() - started
        finally:
            gateway.proxy.close()
            server.close()

    return asyncio.run(run())


def test_no_response_head_is_an_xml_504():
    client = _Client()
    elapsed = _exchange(_hang, _scope(), client)
    assert SILENCE <= elapsed < SILENCE + 2
    assert client.status == 504
    assert b"<Code>GatewayTimeout</Code>" in client.body
    assert b"did not answer in time" in client.body
    headers = dict(client.sent[0]["headers"])
    assert headers[b"x-amzn-errortype"] == b"GatewayTimeout"
    assert headers[b"x-flotilla-route"].startswith(b"s3;")


def test_no_response_head_is_a_json_504_for_json_protocols():
    client = _Client(b"{}")
    scope = _scope("POST", [(b"x-amz-target", b"DynamoDB_20120810.ListTables")], length=2)
    _exchange(_hang, scope, client, service="dynamodb")
    assert client.status == 504
    assert json.loads(client.body)["__type"] == "GatewayTimeout"


def test_request_body_never_taken_is_a_504():
    body = b"u" * (64 << 20)  # far beyond what socket buffers absorb
    client = _Client(body)
    elapsed = _exchange(_never_read, _scope("PUT", length=len(body)), client)
    assert elapsed < SILENCE + 5
    assert client.status == 504
    assert b"GatewayTimeout" in client.body


def test_slow_stream_that_keeps_moving_is_not_cut():
    client = _Client()
    elapsed = _exchange(_trickle, _scope(), client)
    assert elapsed > SILENCE  # longer in all than the silence allowed
    assert client.status == 200
    assert client.body == b"abc0abc1abc2abc3abc4"
    assert client.complete


def test_body_that_stops_midway_is_cut():
    client = _Client()
    elapsed = _exchange(_stall, _scope(), client)
    assert SILENCE <= elapsed < SILENCE + 2
    assert client.status == 200  # the head was already relayed: all that is left is to drop the client
    assert len(client.body) == 100_000
    assert not client.complete  # uvicorn closes the connection of a response left incomplete


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, {"s3": UPSTREAM_TIMEOUT, "sqs": UPSTREAM_TIMEOUT, "lambda": 960.0}),
        ({"FLOTILLA_GATEWAY_UPSTREAM_TIMEOUT": "30"}, {"s3": 30.0, "lambda": 960.0}),
        ({"FLOTILLA_GATEWAY_UPSTREAM_TIMEOUT": "2000"}, {"s3": 2000.0, "lambda": 2000.0}),
        ({"FLOTILLA_GATEWAY_UPSTREAM_TIMEOUT": "0"}, {"s3": None, "lambda": None}),
        (
            {"FLOTILLA_GATEWAY_UPSTREAM_TIMEOUT_LAMBDA": "5", "FLOTILLA_GATEWAY_UPSTREAM_TIMEOUT_S3": "0"},
            {"s3": None, "sqs": UPSTREAM_TIMEOUT, "lambda": 5.0},
        ),
    ],
)
def test_timeouts_from_env(env, expected):
    urls = {f"FLOTILLA_UPSTREAM_{name.upper()}": "http://127.0.0.1:1" for name in ("s3", "sqs", "lambda")}
    config = GatewayConfig.from_env({**urls, **env})
    assert {name: config.upstreams[name].timeout for name in expected} == expected


def test_from_urls_defaults_include_lambdas_floor():
    config = GatewayConfig.from_urls({"s3": "http://a:1", "lambda": "http://b:2"})
    assert (config.upstreams["s3"].timeout, config.upstreams["lambda"].timeout) == (UPSTREAM_TIMEOUT, 960.0)
