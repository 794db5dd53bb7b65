"""DynamoDB state in SQLite: table descriptions, and items keyed by sortable key bytes.

``items`` is clustered on ``(table_id, pk, sk)`` (a WITHOUT ROWID table), where pk/sk are
values.key_bytes of the partition and sort key (sk is empty for hash-only tables): SQLite's
BLOB order is DynamoDB's key order, so Query is a range scan of the primary key. Items are
keyed by the table's id, not its name, so a table deleted and created again starts empty.
Calls are short and synchronous, on the event loop, like shared.records.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from shared.settings import Settings

from .values import Item, from_json, to_json

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tables (
    account TEXT NOT NULL,
    region  TEXT NOT NULL,
    name    TEXT NOT NULL,
    id      TEXT NOT NULL UNIQUE,
    doc     TEXT NOT NULL,
    PRIMARY KEY (account, region, name)
);
CREATE TABLE IF NOT EXISTS items (
    table_id TEXT NOT NULL,
    pk       BLOB NOT NULL,
    sk       BLOB NOT NULL,
    doc      TEXT NOT NULL,
    size     INTEGER NOT NULL,
    PRIMARY KEY (table_id, pk, sk)
) WITHOUT ROWID;
"""


class DynamoStore:
    def __init__(self, path: Path | str) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    # -- tables -------------------------------------------------------------------------

    def create_table(self, account: str, region: str, desc: dict[str, Any]) -> bool:
        """False when a table of that name exists in the account and region."""
        cur = self._db.execute(
            "INSERT OR IGNORE INTO tables (account, region, name, id, doc) VALUES (?, ?, ?, ?, ?)",
            (account, region, desc["TableName"], desc["TableId"], json.dumps(desc)),
        )
        return cur.rowcount == 1

    def table(self, account: str, region: str, name: str) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT doc FROM tables WHERE account = ? AND region = ? AND name = ?", (account, region, name)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def table_names(self, account: str, region: str, after: str = "", limit: int = 100) -> list[str]:
        rows = self._db.execute(
            "SELECT name FROM tables WHERE account = ? AND region = ? AND name > ? ORDER BY name LIMIT ?",
            (account, region, after, limit),
        )
        return [name for (name,) in rows]

    def delete_table(self, account: str, region: str, name: str) -> dict[str, Any] | None:
        """Drop the table and its items in one transaction; returns its description."""
        with self._transaction():
            desc = self.table(account, region, name)
            if desc is None:
                return None
            self._db.execute("DELETE FROM items WHERE table_id = ?", (desc["TableId"],))
            self._db.execute(
                "DELETE FROM tables WHERE account = ? AND region = ? AND name = ?", (account, region, name)
            )
            return desc

    def table_stats(self, table_id: str) -> tuple[int, int]:
        """(item count, total item size in bytes)."""
        count, size = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM items WHERE table_id = ?", (table_id,)
        ).fetchone()
        return count, size

    # -- items --------------------------------------------------------------------------

    def get_item(self, table_id: str, pk: bytes, sk: bytes) -> Item | None:
        row = self._db.execute(
            "SELECT doc FROM items WHERE table_id = ? AND pk = ? AND sk = ?", (table_id, pk, sk)
        ).fetchone()
        return from_json(json.loads(row[0])) if row else None

    def put_item(self, table_id: str, pk: bytes, sk: bytes, item: Item, size: int) -> Item | None:
        """Insert or replace; returns the item it replaced."""
        with self._transaction():
            old = self.get_item(table_id, pk, sk)
            self._db.execute(
                "INSERT OR REPLACE INTO items (table_id, pk, sk, doc, size) VALUES (?, ?, ?, ?, ?)",
                (table_id, pk, sk, json.dumps(to_json(item)), size),
            )
            return old

    def items(self, table_id: str) -> Iterator[Item]:
        """Every item of a table in key order (what Scan and Query will walk)."""
        rows = self._db.execute("SELECT doc FROM items WHERE table_id = ? ORDER BY pk, sk", (table_id,))
        for (doc,) in rows:
            yield from_json(json.loads(doc))

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT / ROLLBACK around a group of statements."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *_: object) -> None:
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")


@asynccontextmanager
async def open_state(settings: Settings) -> AsyncIterator[DynamoStore]:
    store = DynamoStore(settings.service_dir / "dynamodb.db")
    try:
        yield store
    finally:
        store.close()
