"""Lambda's storage: function records in SQLite (shared.records), code zips on disk.

A function's zip lives at ``<service_dir>/code/<account>/<region>/<name>/<sha256 hex>.zip``:
content-addressed per function, so published versions can later share it with $LATEST.
Files are written to a temporary name and renamed, so a reader never sees half a zip.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from shared.bus import Bus
from shared.records import RecordStore
from shared.registry import Registry
from shared.settings import Settings

from .executors import create_executor
from .invoke import Invoker

FUNCTION = "function"


class LambdaStore:
    """The service's state: function records and code, and (when running) the invoker that runs code."""

    def __init__(self, root: Path, external_url: str = "http://localhost:4566") -> None:
        self.root = root
        self.external_url = external_url.rstrip("/")
        self.records = RecordStore(root / "records.db")
        self.invoker: Invoker | None = None
        self.settings: Settings | None = None
        self.bus: Bus | None = None  # the fleet's bus (async invokes, destinations), when running
        self.registry: Registry | None = None  # function ARNs other services look up

    def close(self) -> None:
        self.records.close()

    # -- code ----------------------------------------------------------------------------

    def _code_dir(self, account: str, region: str, name: str) -> Path:
        return self.root / "code" / account / region / name

    def save_code(self, account: str, region: str, name: str, zip_bytes: bytes) -> Path:
        folder = self._code_dir(account, region, name)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{hashlib.sha256(zip_bytes).hexdigest()}.zip"
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_bytes(zip_bytes)
        tmp.replace(path)
        return path

    def code_path(self, account: str, region: str, name: str, sha_hex: str) -> Path:
        return self._code_dir(account, region, name) / f"{sha_hex}.zip"

    def code_url(self, account: str, region: str, name: str, sha_hex: str) -> str:
        """Where GetFunction says the zip can be fetched.

        The gateway does not serve this path yet: it names the zip, it does not deliver it.
        """
        return f"{self.external_url}/_flotilla/lambda/code/{account}/{region}/{name}/{sha_hex}.zip"

    # -- functions -----------------------------------------------------------------------

    def create(self, account: str, region: str, name: str, doc: dict[str, Any]) -> bool:
        """False when a function of that name exists."""
        return self.records.insert(account, region, FUNCTION, name, doc)

    def get(self, account: str, region: str, name: str) -> dict[str, Any] | None:
        return self.records.get(account, region, FUNCTION, name)

    def names(self, account: str, region: str) -> list[str]:
        """Function names in name order (ListFunctions pages through these)."""
        return sorted(name for name, _ in self.records.list(account, region, FUNCTION))

    def delete(self, account: str, region: str, name: str) -> bool:
        if not self.records.delete(account, region, FUNCTION, name):
            return False
        shutil.rmtree(self._code_dir(account, region, name), ignore_errors=True)
        return True


def create_invoker(settings: Settings) -> Invoker:
    """The invoker as configured: ``FLOTILLA_LAMBDA_EXECUTOR`` (``local``), ``FLOTILLA_LAMBDA_IDLE_SECONDS``
    (300), ``FLOTILLA_LAMBDA_RUNTIME_API_HOST`` (``127.0.0.1``: where Runtime API servers listen),
    ``FLOTILLA_LAMBDA_PYTHON`` (the Python of local runtimes; the service's own by default)."""
    extra = settings.extra
    return Invoker(
        settings.service_dir,
        create_executor(extra.get("executor", "local"), {"python": extra.get("python", "")}),
        idle_seconds=float(extra.get("idle_seconds", "300")),
        endpoint_url=settings.external_url,
        bind=extra.get("runtime_api_host", "127.0.0.1"),
    )


@asynccontextmanager
async def open_state(settings: Settings) -> AsyncIterator[LambdaStore]:
    """The store with its invoker, bus and registry; background work is started by app.py."""
    store = LambdaStore(settings.service_dir, settings.external_url)
    store.settings = settings
    store.invoker = create_invoker(settings)
    store.bus = Bus(settings.redis_url)
    store.registry = Registry(store.bus.redis)
    await store.invoker.start()
    try:
        yield store
    finally:
        await store.invoker.close()
        await store.bus.close()
        store.close()
