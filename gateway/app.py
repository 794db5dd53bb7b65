"""The gateway: one bare ASGI app in front of the fleet (no framework: its per-request cost is everyone's).

    uvicorn --factory gateway.app:app_from_env --loop uvloop --http httptools --port 4566

Per request: answer the gateway's own endpoints, else route (gateway/routing.py), then forward over
a pooled connection (gateway/proxy.py). Every answer the gateway makes itself is AWS-shaped, so an SDK
shows a readable error instead of a parse failure:

- the router cannot place the request        -> 400 ``UnknownService``
- the service is not enabled in this fleet   -> 503 ``ServiceUnavailable`` naming the compose profile
  (no upstream configured, or its host name never resolved: in compose, a service whose profile is
  not enabled has no DNS name; one that resolved once and then vanished is "unavailable")
- the service's upstream is down             -> 503 ``ServiceUnavailable`` (at once: refused connections
  fail immediately, and connecting is bounded by ``connect_timeout``)
- the upstream stays silent too long         -> 504 ``GatewayTimeout`` (``Upstream.timeout``: no response
  head, or a request body it stops taking, for that many seconds; see gateway/config.py)
- the *client* stops sending its body        -> 400 ``RequestTimeout`` and the connection closed
  (``client_body_timeout``: a ``Content-Length`` longer than what is sent, S3's answer after 20 s)

Own endpoints: ``GET /_flotilla/ping`` (liveness, touches nothing), ``GET /_flotilla/health`` and
``GET|HEAD /_localstack/health`` (LocalStack's shape, so tools that wait on LocalStack wait on us).
"""

from __future__ import annotations

import asyncio
import json

from .config import SERVICES, GatewayConfig, Upstream
from .proxy import (
    REQUEST_TIMEOUT_MESSAGE,
    ClientTimeout,
    IdleWatch,
    Proxy,
    Receive,
    RequestBody,
    Scope,
    Send,
    UpstreamError,
    send_error,
)
from .routing import NEED_BODY, Route, RoutingError, route

HEALTH_PATHS = frozenset({"/_flotilla/health", "/_localstack/health"})
_UNROUTED = (b"x-flotilla-route", b"-; unknown-service")


class Gateway:
    """The ASGI callable. Build it with :func:`create_gateway`; it owns its connection pools."""

    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        self.proxy = Proxy(config.connect_timeout, config.idle_timeout, config.pool_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self.lifespan(receive, send)

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.proxy.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"].startswith("/_") and await self.own_endpoint(scope, send):
            return
        watch = IdleWatch(self.config.client_body_timeout)
        try:
            await self.relay(scope, receive, send, watch)
        except ClientTimeout:  # before any response started: the body is what we were waiting for
            json_style = _json_style(scope["headers"])
            await send_error(
                send, 400, "RequestTimeout", REQUEST_TIMEOUT_MESSAGE, json_style=json_style, close=True
            )
        finally:
            watch.stop()

    async def relay(self, scope: Scope, receive: Receive, send: Send, watch: IdleWatch) -> None:
        """Route the request and forward it (or answer for a service that cannot take it)."""
        headers = scope["headers"]
        args = (
            scope["method"],
            scope.get("raw_path") or scope["path"].encode(),
            scope["query_string"],
            headers,
        )
        prefix: list[bytes] | None = None
        more = True
        try:
            decided = route(*args)
            if decided is NEED_BODY:
                peeked = await self.peek_form(receive, watch)
                if peeked is None:
                    return  # the client left
                prefix, more = peeked
                decided = route(*args, body_peek=b"".join(prefix))
        except RoutingError as err:
            await send_error(
                send, err.status, err.code, err.message, json_style=_json_style(headers), route=_UNROUTED
            )
            return
        upstream = self.config.upstreams.get(decided.service)
        if upstream is None:
            await self.refuse(send, decided, headers, _disabled_message(decided.service))
            return
        try:
            await self.proxy.forward(
                scope, receive, send, upstream, decided, RequestBody(receive, headers, prefix, more, watch)
            )
        except UpstreamError as err:
            if err.disabled:
                message = _disabled_message(decided.service)
            elif err.code == "GatewayTimeout":
                message = f"Service {decided.service!r} did not answer in time: {err.message}"
            else:
                message = f"Service {decided.service!r} is unavailable in this Flotilla fleet: {err.message}"
            await self.refuse(send, decided, headers, message, err.status, err.code)

    async def refuse(
        self,
        send: Send,
        decided: Route,
        headers: list,
        message: str,
        status: int = 503,
        code: str = "ServiceUnavailable",
    ) -> None:
        json_style = decided.service == "lambda" or _json_style(headers)
        route_header = self.proxy.route_header(decided)
        await send_error(send, status, code, message, json_style=json_style, route=route_header)

    async def peek_form(self, receive: Receive, watch: IdleWatch) -> tuple[list[bytes], bool] | None:
        """Read up to form_peek_limit bytes of a urlencoded body for the router; the proxy replays them."""
        chunks: list[bytes] = []
        size, more = 0, True
        while more and size < self.config.form_peek_limit:
            message = await watch.receive(receive)
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            more = message.get("more_body", False)
            chunks.append(chunk)
            size += len(chunk)
        return chunks, more

    async def own_endpoint(self, scope: Scope, send: Send) -> bool:
        path, method = scope["path"], scope["method"]
        if path == "/_flotilla/ping" and method == "GET":
            await _respond(send, 200, b"pong", b"text/plain")
        elif path in HEALTH_PATHS and (
            method == "GET" or (method == "HEAD" and path == "/_localstack/health")
        ):
            body = json.dumps(await self.health()).encode()
            await _respond(send, 200, b"" if method == "HEAD" else body, b"application/json", len(body))
        else:
            return False
        return True

    async def health(self) -> dict:
        """LocalStack's health shape; each enabled upstream probed concurrently, each within health_timeout."""
        enabled = [name for name in SERVICES if name in self.config.upstreams]
        states = await asyncio.gather(*(self.probe(self.config.upstreams[name]) for name in enabled))
        services = dict.fromkeys(SERVICES, "disabled") | dict(zip(enabled, states, strict=True))
        services = _with_streams(services)
        return {"services": services, "edition": "community", "version": self.config.version}

    async def probe(self, upstream: Upstream) -> str:
        try:
            status = await asyncio.wait_for(
                self.proxy.get_status(upstream, "/_flotilla/health"), self.config.health_timeout
            )
        except UpstreamError as err:
            return "disabled" if err.disabled else "unavailable"
        except (TimeoutError, OSError, ValueError, asyncio.IncompleteReadError):
            return "unavailable"
        return "running" if status == 200 else "unavailable"


def _with_streams(services: dict[str, str]) -> dict[str, str]:
    """DynamoDB Streams is served by the dynamodb upstream; LocalStack lists it on its own."""
    out: dict[str, str] = {}
    for name, state in services.items():
        out[name] = state
        if name == "dynamodb":
            out["dynamodbstreams"] = state
    return out


def _json_style(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(name == b"x-amz-target" for name, _ in headers)


def _disabled_message(service: str) -> str:
    return (
        f"Service {service!r} is not enabled in this Flotilla fleet; start it with the compose profile "
        f"{service!r} (docker compose --profile {service} up)"
    )


async def _respond(
    send: Send, status: int, body: bytes, content_type: bytes, length: int | None = None
) -> None:
    headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body) if length is None else length).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def create_gateway(config: GatewayConfig) -> Gateway:
    return Gateway(config)


def app_from_env() -> Gateway:
    """uvicorn factory: ``uvicorn --factory gateway.app:app_from_env``."""
    return create_gateway(GatewayConfig.from_env())
