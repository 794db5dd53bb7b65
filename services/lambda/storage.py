"""Lambda's storage: function, version, alias and layer records in SQLite (shared.records), zips on disk.

Records (kind, id):
- ``function`` / name: the function with its ``$LATEST`` configuration, tags, concurrency ...;
- ``version:<name>`` / ``1``, ``2`` ...: a published version (its configuration and code hash);
- ``alias:<name>`` / alias name: the AliasConfiguration;
- ``layer`` / layer name: the layer's next version number;
- ``layer:<name>`` / ``1``, ``2`` ...: a layer version (its output, code hash, sizes, policy).

A function's zip lives at ``<service_dir>/code/<account>/<region>/<name>/<sha256 hex>.zip``:
content-addressed per function, so published versions share it with ``$LATEST``. A layer's zip lives
at ``<service_dir>/layers/<account>/<region>/<sha256 hex>.zip``. Files are written to a temporary
name and renamed, so a reader never sees half a zip.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from shared.aws.client import AwsClient
from shared.bus import Bus
from shared.records import RecordStore
from shared.registry import Registry
from shared.settings import Settings

from . import code_urls
from .executors import create_executor
from .invoke import Invoker

FUNCTION = "function"
LAYER = "layer"


def _write_atomically(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path


class LambdaStore:
    """The service's state: records and code, and (when running) the invoker that runs code."""

    def __init__(self, root: Path, external_url: str = "http://localhost:4566") -> None:
        self.root = root
        self.external_url = external_url.rstrip("/")
        self.records = RecordStore(root / "records.db")
        self.signer = code_urls.UrlSigner(code_urls.load_secret(root))  # tokens of code and layer URLs
        self.invoker: Invoker | None = None
        self.settings: Settings | None = None
        self.bus: Bus | None = None  # the fleet's bus (async invokes, destinations), when running
        self.registry: Registry | None = None  # function ARNs other services look up
        self._aws: AwsClient | None = None

    def close(self) -> None:
        self.records.close()

    def aws(self) -> AwsClient | None:
        """A client for the fleet's public APIs (S3 code fetches); None without settings (unit tests)."""
        if self._aws is None and self.settings is not None:
            self._aws = AwsClient(self.settings.gateway_url, self.settings.credentials)
        return self._aws

    async def aclose(self) -> None:
        if self._aws is not None:
            await self._aws.close()
        self.close()

    # -- code ----------------------------------------------------------------------------

    def _code_dir(self, account: str, region: str, name: str) -> Path:
        return self.root / "code" / account / region / name

    def save_code(self, account: str, region: str, name: str, zip_bytes: bytes) -> Path:
        sha_hex = hashlib.sha256(zip_bytes).hexdigest()
        return _write_atomically(self.code_path(account, region, name, sha_hex), zip_bytes)

    def code_path(self, account: str, region: str, name: str, sha_hex: str) -> Path:
        return self._code_dir(account, region, name) / f"{sha_hex}.zip"

    def drop_code(self, account: str, region: str, name: str, keep: set[str]) -> None:
        """Delete the function's zips whose hash is not in ``keep`` (no version uses them any more)."""
        folder = self._code_dir(account, region, name)
        for path in folder.glob("*.zip") if folder.is_dir() else ():
            if path.stem not in keep:
                path.unlink(missing_ok=True)

    def code_url(self, account: str, region: str, name: str, sha_hex: str) -> str:
        """Where GetFunction says the zip can be fetched: served by ``code_urls.py``, with its token."""
        return self.signer.url(self.external_url, code_urls.code_path(account, region, name, sha_hex))

    # -- functions -----------------------------------------------------------------------

    def create(self, account: str, region: str, name: str, doc: dict[str, Any]) -> bool:
        """False when a function of that name exists."""
        return self.records.insert(account, region, FUNCTION, name, doc)

    def get(self, account: str, region: str, name: str) -> dict[str, Any] | None:
        return self.records.get(account, region, FUNCTION, name)

    def put(self, account: str, region: str, name: str, doc: dict[str, Any]) -> None:
        self.records.put(account, region, FUNCTION, name, doc)

    def names(self, account: str, region: str) -> list[str]:
        """Function names in name order (ListFunctions pages through these)."""
        return sorted(name for name, _ in self.records.list(account, region, FUNCTION))

    def delete(self, account: str, region: str, name: str) -> bool:
        """Delete the function with its versions, aliases and code."""
        if not self.records.delete(account, region, FUNCTION, name):
            return False
        for kind in (f"version:{name}", f"alias:{name}"):
            for id_, _ in list(self.records.list(account, region, kind)):
                self.records.delete(account, region, kind, id_)
        shutil.rmtree(self._code_dir(account, region, name), ignore_errors=True)
        return True

    # -- versions and aliases --------------------------------------------------------------

    def versions(self, account: str, region: str, name: str) -> list[tuple[str, dict[str, Any]]]:
        """Published versions as ``(number, doc)``, oldest first."""
        found = self.records.list(account, region, f"version:{name}")
        return sorted(found, key=lambda pair: int(pair[0]))

    def get_version(self, account: str, region: str, name: str, number: str) -> dict[str, Any] | None:
        return self.records.get(account, region, f"version:{name}", number)

    def put_version(self, account: str, region: str, name: str, number: str, doc: dict[str, Any]) -> None:
        self.records.put(account, region, f"version:{name}", number, doc)

    def delete_version(self, account: str, region: str, name: str, number: str) -> bool:
        return self.records.delete(account, region, f"version:{name}", number)

    def aliases(self, account: str, region: str, name: str) -> list[dict[str, Any]]:
        """AliasConfigurations in name order."""
        found = self.records.list(account, region, f"alias:{name}")
        return [doc for _, doc in sorted(found, key=lambda pair: pair[0])]

    def get_alias(self, account: str, region: str, name: str, alias: str) -> dict[str, Any] | None:
        return self.records.get(account, region, f"alias:{name}", alias)

    def create_alias(self, account: str, region: str, name: str, alias: dict[str, Any]) -> bool:
        return self.records.insert(account, region, f"alias:{name}", alias["Name"], alias)

    def put_alias(self, account: str, region: str, name: str, alias: dict[str, Any]) -> None:
        self.records.put(account, region, f"alias:{name}", alias["Name"], alias)

    def delete_alias(self, account: str, region: str, name: str, alias: str) -> bool:
        return self.records.delete(account, region, f"alias:{name}", alias)

    # -- layers ----------------------------------------------------------------------------

    def layer_path(self, account: str, region: str, sha_hex: str) -> Path:
        return self.root / "layers" / account / region / f"{sha_hex}.zip"

    def save_layer_zip(self, account: str, region: str, zip_bytes: bytes) -> Path:
        """Layer zips stay when a layer version is deleted: functions that use it keep working (as on AWS)."""
        sha_hex = hashlib.sha256(zip_bytes).hexdigest()
        return _write_atomically(self.layer_path(account, region, sha_hex), zip_bytes)

    def layer_url(self, account: str, region: str, sha_hex: str) -> str:
        return self.signer.url(self.external_url, code_urls.layer_path(account, region, sha_hex))

    def next_layer_version(self, account: str, region: str, layer: str) -> int:
        """Reserve the layer's next version number (numbers are never reused, as on AWS)."""
        doc = self.records.get(account, region, LAYER, layer) or {"LayerName": layer, "NextVersion": 1}
        number = doc["NextVersion"]
        self.records.put(account, region, LAYER, layer, {**doc, "NextVersion": number + 1})
        return number

    def layer_names(self, account: str, region: str) -> list[str]:
        return sorted(name for name, _ in self.records.list(account, region, LAYER))

    def layer_versions(self, account: str, region: str, layer: str) -> list[dict[str, Any]]:
        """The layer's versions, newest first (as ListLayerVersions answers)."""
        found = self.records.list(account, region, f"layer:{layer}")
        return [doc for _, doc in sorted(found, key=lambda pair: -int(pair[0]))]

    def get_layer_version(self, account: str, region: str, layer: str, number: int) -> dict[str, Any] | None:
        return self.records.get(account, region, f"layer:{layer}", str(number))

    def put_layer_version(
        self, account: str, region: str, layer: str, number: int, doc: dict[str, Any]
    ) -> None:
        self.records.put(account, region, f"layer:{layer}", str(number), doc)

    def delete_layer_version(self, account: str, region: str, layer: str, number: int) -> bool:
        return self.records.delete(account, region, f"layer:{layer}", str(number))


def create_invoker(settings: Settings) -> Invoker:
    """The invoker as configured: ``FLOTILLA_LAMBDA_EXECUTOR`` (``local``), ``FLOTILLA_LAMBDA_IDLE_SECONDS``
    (300), ``FLOTILLA_LAMBDA_RUNTIME_API_HOST`` (``127.0.0.1``: where Runtime API servers listen),
    ``FLOTILLA_LAMBDA_PYTHON`` (the Python of local runtimes; the service's own by default),
    ``FLOTILLA_LAMBDA_NODE`` / ``FLOTILLA_LAMBDA_NODE_RIC`` (local Node.js runtimes: see executors/local.py)."""
    extra = settings.extra
    executor = extra.get("executor", "local")
    return Invoker(
        settings.service_dir,
        create_executor(executor, dict(extra), settings),
        idle_seconds=float(extra.get("idle_seconds", "300")),
        endpoint_url=settings.external_url,
        # containers reach the Runtime API from outside this machine's loopback (docs/lambda.md)
        bind=extra.get("runtime_api_host") or ("0.0.0.0" if executor == "docker" else "127.0.0.1"),
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
        await store.aclose()
