"""Notifications the bus did not take, kept on disk and published again.

S3 publishes an event on the bus after the write commits. When Redis cannot be reached at that
moment, the event goes here instead of being lost: a small SQLite table under the service's data
directory (``outbox.db``), drained in order by a background task every few seconds once the bus
answers again. So a notification is delivered at least once as long as the S3 process lives (and,
with persistence on, across a restart); consumers are idempotent (bus contract). The one window
left is a crash between the commit and the publish.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

log = logging.getLogger("flotilla.s3")

Publish = Callable[[str, dict[str, Any]], Awaitable[object]]
RETRY_SECONDS = 2.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id    INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    event TEXT NOT NULL
);
"""


class Outbox:
    def __init__(self, path: Path | str) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def add(self, topic: str, event: dict[str, Any]) -> None:
        self._db.execute("INSERT INTO outbox (topic, event) VALUES (?, ?)", (topic, json.dumps(event)))

    def pending(self, limit: int = 100) -> list[tuple[int, str, dict[str, Any]]]:
        rows = self._db.execute(
            "SELECT id, topic, event FROM outbox ORDER BY id LIMIT ?", (limit,)
        ).fetchall()
        return [(row_id, topic, json.loads(event)) for row_id, topic, event in rows]

    def remove(self, row_id: int) -> None:
        self._db.execute("DELETE FROM outbox WHERE id = ?", (row_id,))

    async def drain(self, publish: Publish) -> int:
        """Publish what is waiting, oldest first, until the bus fails again; how many went out."""
        sent = 0
        while batch := self.pending():
            for row_id, topic, event in batch:
                try:
                    await publish(topic, event)
                except Exception:  # noqa: BLE001 - the bus is still away: try again later
                    return sent
                self.remove(row_id)
                sent += 1
        return sent


@asynccontextmanager
async def draining(outbox: Outbox, publish: Publish, every: float = RETRY_SECONDS) -> AsyncIterator[None]:
    """Drain ``outbox`` every ``every`` seconds while the service runs."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(every)
            sent = await outbox.drain(publish)
            if sent:
                log.info("s3: published %d notification(s) kept while the bus was away", sent)

    task = asyncio.create_task(loop(), name="s3-outbox")
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
