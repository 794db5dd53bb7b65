"""Storage of ec2."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from shared.records import RecordStore
from shared.settings import Settings


@asynccontextmanager
async def open_state(settings: Settings) -> AsyncIterator[RecordStore]:
    store = RecordStore(settings.service_dir / "records.db")
    try:
        yield store
    finally:
        store.close()
