"""A function's logs over HTTP: ``GET /_flotilla/lambda/logs/<function name>``.

Every execution environment writes its runtime's output and Lambda's ``START``/``END``/``REPORT``
lines to ``<service dir>/envs/<env id>/log`` and names its function in ``meta.json`` next to it
(see ``invoke.py``). This endpoint concatenates the logs of every environment the function has had
since the service started (torn-down ones included), oldest environment first, so the newest lines
come last. Each environment's part starts with a ``=== environment <id> (version ..., started ...)``
line.

Query parameters: ``account`` (default ``000000000000``), ``region`` (default the service's
default region), ``tail`` (only the last N bytes). A function that never ran answers 404.
The gateway routes ``/_flotilla/lambda/...`` here.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI, Query
from fastapi.responses import PlainTextResponse

from shared.settings import Settings

DEFAULT_ACCOUNT = "000000000000"


def environments(root: Path, account: str, region: str, name: str) -> list[tuple[dict, Path]]:
    """(meta, log path) of the function's environments, oldest first."""
    found = []
    for meta_path in (root / "envs").glob("*/meta.json"):
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError):
            continue
        if (meta.get("account"), meta.get("region"), meta.get("function")) == (account, region, name):
            found.append((meta, meta_path.with_name("log")))
    return sorted(found, key=lambda item: item[0].get("started", 0))


def function_logs(root: Path, account: str, region: str, name: str) -> str | None:
    """The function's log text (None when it has had no environment)."""
    envs = environments(root, account, region, name)
    if not envs:
        return None
    parts = []
    for meta, log_path in envs:
        started = datetime.fromtimestamp(meta.get("started", 0), UTC).isoformat(timespec="seconds")
        env_id = log_path.parent.name
        parts.append(f"=== environment {env_id} (version {meta.get('version')}, started {started})\n")
        try:
            parts.append(log_path.read_text(errors="replace"))
        except FileNotFoundError:
            pass
    return "".join(parts)


def mount(api: FastAPI, settings: Settings) -> None:
    """Add the logs route to the service's own (``/_flotilla/``) routes."""

    @api.get("/_flotilla/lambda/logs/{name}", response_class=PlainTextResponse)
    def logs(
        name: str,
        account: str = DEFAULT_ACCOUNT,
        region: str | None = None,
        tail: int | None = Query(default=None, ge=0),
    ) -> PlainTextResponse:
        text = function_logs(settings.service_dir, account, region or settings.default_region, name)
        if text is None:
            return PlainTextResponse(f"No logs for function {name} ({account}, {region})\n", status_code=404)
        if tail is not None:
            text = text.encode()[-tail:].decode(errors="replace") if tail else ""
        return PlainTextResponse(text)
