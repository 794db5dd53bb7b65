"""Gateway configuration: read from the environment in exactly one place, then passed in.

The routing table is configuration: each service key maps to the base URL of whatever answers
for it (a Flotilla service, or any other implementation a user points it at).

| variable | default | meaning |
|---|---|---|
| `FLOTILLA_UPSTREAM_S3` ... `_RDS` | unset | base URL of the service (`http://127.0.0.1:4571`); unset = disabled |
| `FLOTILLA_GATEWAY_CONNECT_TIMEOUT` | `2` | seconds to open a connection to an upstream |
| `FLOTILLA_GATEWAY_HEALTH_TIMEOUT` | `1` | seconds each upstream has to answer a health probe |
| `FLOTILLA_GATEWAY_FORM_PEEK_LIMIT` | `1048576` | largest urlencoded body the router reads to find `Action`/`Version` |
| `FLOTILLA_GATEWAY_IDLE_TIMEOUT` | `4` | seconds a pooled upstream connection may idle (below uvicorn's 5 s keep-alive) |
| `FLOTILLA_GATEWAY_POOL_SIZE` | `64` | idle connections kept per upstream |
| `FLOTILLA_GATEWAY_UPSTREAM_TIMEOUT` | `120` | seconds of upstream silence (no response head; no body bytes; a request body not taken) before a 504 `GatewayTimeout` or, once the response has started, a cut connection; Lambda waits at least `960`; `0` = forever |
| `FLOTILLA_GATEWAY_UPSTREAM_TIMEOUT_<SERVICE>` | unset | the same for one service (`..._LAMBDA=1800`) |
| `FLOTILLA_GATEWAY_CLIENT_BODY_TIMEOUT` | `20` | seconds a client may stay silent in the middle of its request body before a 400 `RequestTimeout` (S3's answer and delay); `0` = forever |

Why these upstream timeouts: a hung service must not hang its clients forever, yet no healthy call
may be cut. 120 s is six times SQS's longest poll (20 s) and far above any control-plane call; a
synchronous Lambda ``Invoke`` lasts as long as the function runs (at most 900 s, plus its cold
start), hence Lambda's floor of 960 s. It bounds *silence*, not duration: a download that keeps
streaming is never cut.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# Service keys, in the order health reports them. DynamoDB Streams is served by the dynamodb upstream.
SERVICES: tuple[str, ...] = ("s3", "sqs", "dynamodb", "lambda", "ec2", "rds")

UPSTREAM_TIMEOUT = 120.0
# The least a service waits whatever the global timeout says (see the module docstring).
UPSTREAM_TIMEOUT_FLOORS: dict[str, float] = {"lambda": 960.0}


def upstream_timeout(service: str, base: float | None = UPSTREAM_TIMEOUT) -> float | None:
    """The silence a service is allowed: ``base`` raised to the service's floor (None: no limit)."""
    return None if base is None else max(base, UPSTREAM_TIMEOUT_FLOORS.get(service, 0.0))


def _version() -> str:
    """The installed flotilla version (the gateway must not import shared/ to learn it)."""
    try:
        from importlib.metadata import version

        return version("flotilla")
    except Exception:  # not installed (a bare checkout on PYTHONPATH)
        return "0.1.0"


@dataclass(frozen=True)
class Upstream:
    """Where one service lives: parsed once so that the proxy never parses a URL per request."""

    service: str
    url: str
    scheme: str
    host: str
    port: int
    timeout: float | None = UPSTREAM_TIMEOUT  # seconds of silence before giving up; None: never

    @classmethod
    def parse(cls, service: str, url: str, timeout: float | None = UPSTREAM_TIMEOUT) -> Upstream:
        parts = urlsplit(url.strip().rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"FLOTILLA_UPSTREAM_{service.upper()}={url!r} is not an http(s) URL")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return cls(service, f"{parts.scheme}://{parts.netloc}", parts.scheme, parts.hostname, port, timeout)


@dataclass(frozen=True)
class GatewayConfig:
    upstreams: Mapping[str, Upstream] = field(default_factory=dict)  # enabled services only
    connect_timeout: float = 2.0
    health_timeout: float = 1.0
    form_peek_limit: int = 1 << 20
    idle_timeout: float = 4.0
    pool_size: int = 64
    client_body_timeout: float | None = 20.0
    version: str = field(default_factory=_version)

    @classmethod
    def from_urls(
        cls,
        urls: Mapping[str, str | None],
        timeouts: Mapping[str, float | None] | None = None,
        **options: object,
    ) -> GatewayConfig:
        """``from_urls({"s3": "http://127.0.0.1:4571"})``: services left out (or None/empty) are disabled.
        ``timeouts`` (seconds, None for no limit) per service; a service left out gets its default."""
        unknown = set(urls) - set(SERVICES)
        if unknown:
            raise ValueError(f"unknown services: {', '.join(sorted(unknown))}")
        timeouts = timeouts or {}
        upstreams = {
            name: Upstream.parse(name, url, timeouts.get(name, upstream_timeout(name)))
            for name, url in urls.items()
            if url
        }
        return cls(upstreams=upstreams, **options)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> GatewayConfig:
        env = os.environ if env is None else env
        urls = {name: env.get(f"FLOTILLA_UPSTREAM_{name.upper()}") for name in SERVICES}
        return cls.from_urls(
            urls,
            _timeouts_from_env(env),
            connect_timeout=float(env.get("FLOTILLA_GATEWAY_CONNECT_TIMEOUT", "2")),
            health_timeout=float(env.get("FLOTILLA_GATEWAY_HEALTH_TIMEOUT", "1")),
            form_peek_limit=int(env.get("FLOTILLA_GATEWAY_FORM_PEEK_LIMIT", str(1 << 20))),
            idle_timeout=float(env.get("FLOTILLA_GATEWAY_IDLE_TIMEOUT", "4")),
            pool_size=int(env.get("FLOTILLA_GATEWAY_POOL_SIZE", "64")),
            client_body_timeout=_seconds(env.get("FLOTILLA_GATEWAY_CLIENT_BODY_TIMEOUT", "20")),
        )

    def upstream(self, service: str) -> Upstream | None:
        return self.upstreams.get(service)


def _timeouts_from_env(env: Mapping[str, str]) -> dict[str, float | None]:
    base = _seconds(env.get("FLOTILLA_GATEWAY_UPSTREAM_TIMEOUT", str(UPSTREAM_TIMEOUT)))
    timeouts: dict[str, float | None] = {}
    for name in SERVICES:
        own = env.get(f"FLOTILLA_GATEWAY_UPSTREAM_TIMEOUT_{name.upper()}")
        timeouts[name] = _seconds(own) if own else upstream_timeout(name, base)
    return timeouts


def _seconds(value: str) -> float | None:
    """A positive number of seconds; ``0`` (or less) means no limit."""
    seconds = float(value)
    return seconds if seconds > 0 else None
