"""Waiting for a Flotilla gateway to report the wanted services running.

Both the single container and the compose fleet answer ``/_flotilla/health`` (and LocalStack's
``/_localstack/health``) with ``{"services": {"s3": "running", "sqs": "disabled", ...}}``. "Started"
means every service the caller asked for says ``running``: a listening gateway alone is not enough,
because services come up behind it a moment later.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable

HEALTH_PATHS = ("/_flotilla/health", "/_localstack/health")
ALL_SERVICES = ("s3", "sqs", "dynamodb", "lambda", "ec2", "rds")


class FlotillaError(RuntimeError):
    """Flotilla could not be started or torn down; the message says what to do."""


class FlotillaStartupError(FlotillaError):
    """Flotilla did not become healthy in time; the message carries the last health report and the logs."""


def checked_services(services: Iterable[str] | None) -> tuple[str, ...]:
    """The requested services, validated, so that a typo fails at once instead of timing out."""
    if services is None:
        return ALL_SERVICES
    chosen = tuple(dict.fromkeys([services] if isinstance(services, str) else services))
    unknown = [name for name in chosen if name not in ALL_SERVICES]
    if unknown or not chosen:
        raise ValueError(f"unknown or no services {unknown}: choose from {', '.join(ALL_SERVICES)}")
    return chosen


def read_health(url: str, timeout: float = 2.0) -> dict | None:
    """The gateway's health report, or None while it does not answer one (not up yet, or restarting)."""
    for path in HEALTH_PATHS:
        try:
            with urllib.request.urlopen(url.rstrip("/") + path, timeout=timeout) as response:
                report = json.loads(response.read().decode())
        except urllib.error.HTTPError as err:
            if err.code == 404:  # an older gateway that only knows the other path
                continue
            return None
        except (OSError, ValueError):  # refused, reset, timed out, half-written JSON
            return None
        return report if isinstance(report, dict) else None
    return None


def not_running(report: dict | None, services: Iterable[str]) -> dict[str, str]:
    """The wanted services that are not ``running`` yet, with their state ("missing" when not reported)."""
    states = (report or {}).get("services") or {}
    return {name: states.get(name, "missing") for name in services if states.get(name) != "running"}


def wait_healthy(
    url: str,
    services: Iterable[str],
    timeout: float,
    logs: Callable[[], str],
    interval: float = 0.25,
) -> dict:
    """Poll the health endpoint until every wanted service runs; on the deadline raise with the logs."""
    wanted = tuple(services)
    deadline = time.monotonic() + timeout
    report: dict | None = None
    while True:
        report = read_health(url)
        pending = not_running(report, wanted)
        if report is not None and not pending:
            return report
        if time.monotonic() >= deadline:
            raise FlotillaStartupError(_startup_message(url, wanted, timeout, report, pending, logs))
        time.sleep(interval)


def _startup_message(
    url: str,
    wanted: tuple[str, ...],
    timeout: float,
    report: dict | None,
    pending: dict[str, str],
    logs: Callable[[], str],
) -> str:
    if report is None:
        state = f"the gateway at {url} never answered {HEALTH_PATHS[0]}"
    else:
        state = "not running: " + ", ".join(f"{name}={state}" for name, state in pending.items())
    try:
        text = logs()
    except Exception as err:  # the logs are a courtesy; never hide the real failure behind them
        text = f"(could not read the logs: {err!r})"
    return (
        f"Flotilla was not healthy within {timeout:g}s (wanted: {', '.join(wanted)}); {state}.\n"
        f"Last health report: {json.dumps(report)}\n"
        f"---- logs (last lines) ----\n{_tail(text)}"
    )


def _tail(text: str, lines: int = 200) -> str:
    return "\n".join(text.splitlines()[-lines:])
