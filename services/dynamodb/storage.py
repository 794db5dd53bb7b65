"""DynamoDB state in SQLite (WAL): table descriptions, items and index rows keyed by sortable bytes.

``items`` holds the rows of a table (``idx = ''``) and of each of its secondary indexes
(``idx`` = the index name), clustered on ``(table_id, idx, pk, sk, tpk, tsk)`` in a WITHOUT
ROWID table. pk/sk are values.key_bytes of the row's partition and sort key (sk is empty when
there is none); an index row also carries its item's table key in tpk/tsk (empty for table
rows), which keeps index rows unique and orders equal index keys by table key. SQLite's BLOB
order is DynamoDB's key order, so a Query is a range scan of one (table_id, idx, pk) prefix.
Items are keyed by the table's id, not its name: a table deleted and created again starts empty.

Calls are short and synchronous, on the event loop; ``transaction()`` groups them (reentrant:
an inner transaction joins the outer one), which is what makes a write and its index rows, or a
whole TransactWriteItems, all-or-nothing.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, NamedTuple

from shared.settings import Settings

from .values import Item, from_json, to_json

TABLE = ""  # the idx of a table's own rows
TOKEN_LIFETIME = 600.0  # seconds a ClientRequestToken is remembered

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
    idx      TEXT NOT NULL,
    pk       BLOB NOT NULL,
    sk       BLOB NOT NULL,
    tpk      BLOB NOT NULL,
    tsk      BLOB NOT NULL,
    doc      TEXT NOT NULL,
    size     INTEGER NOT NULL,
    PRIMARY KEY (table_id, idx, pk, sk, tpk, tsk)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tokens (
    account  TEXT NOT NULL,
    region   TEXT NOT NULL,
    token    TEXT NOT NULL,
    digest   TEXT NOT NULL,
    created  REAL NOT NULL,
    response TEXT NOT NULL,
    PRIMARY KEY (account, region, token)
);
"""


class RowKey(NamedTuple):
    """Where a row sits: its own key, and (for an index row) its item's table key."""

    pk: bytes
    sk: bytes
    tpk: bytes = b""
    tsk: bytes = b""


class Row(NamedTuple):
    key: RowKey
    doc: str
    size: int

    def item(self) -> Item:
        return from_json(json.loads(self.doc))


class Bound(NamedTuple):
    """One end of a sort key range."""

    value: bytes
    inclusive: bool


class DynamoStore:
    def __init__(self, path: Path | str) -> None:
        self.external_url: str | None = None  # set by open_state: DescribeEndpoints answers with it
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._depth = 0

    def close(self) -> None:
        self._db.close()

    @property
    def connection(self) -> sqlite3.Connection:
        """The SQLite connection, for the service's other stores (streams, TTL sweep) that share the
        database and its transactions."""
        return self._db

    def transaction(self) -> _Transaction:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK when the block raises; nested blocks join."""
        return _Transaction(self)

    # -- tables -------------------------------------------------------------------------

    def create_table(self, account: str, region: str, desc: dict[str, Any]) -> bool:
        """False when a table of that name exists in the account and region."""
        cur = self._db.execute(
            "INSERT OR IGNORE INTO tables (account, region, name, id, doc) VALUES (?, ?, ?, ?, ?)",
            (account, region, desc["TableName"], desc["TableId"], json.dumps(desc)),
        )
        return cur.rowcount == 1

    def replace_table(self, account: str, region: str, desc: dict[str, Any]) -> bool:
        """Store a changed description of an existing table (UpdateTable, tags, TTL ...)."""
        cur = self._db.execute(
            "UPDATE tables SET doc = ? WHERE account = ? AND region = ? AND name = ?",
            (json.dumps(desc), account, region, desc["TableName"]),
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
        """Drop the table, its items and index rows in one transaction; returns its description."""
        with self.transaction():
            desc = self.table(account, region, name)
            if desc is None:
                return None
            self._db.execute("DELETE FROM items WHERE table_id = ?", (desc["TableId"],))
            self._db.execute(
                "DELETE FROM tables WHERE account = ? AND region = ? AND name = ?", (account, region, name)
            )
            return desc

    def table_stats(self, table_id: str, idx: str = TABLE) -> tuple[int, int]:
        """(item count, total item size in bytes) of a table, or of one of its indexes."""
        count, size = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM items WHERE table_id = ? AND idx = ?",
            (table_id, idx),
        ).fetchone()
        return count, size

    def drop_index(self, table_id: str, idx: str) -> None:
        """Forget every row of one index (DeleteTable's GSI deletion)."""
        self._db.execute("DELETE FROM items WHERE table_id = ? AND idx = ?", (table_id, idx))

    # -- rows ---------------------------------------------------------------------------

    def get(self, table_id: str, key: RowKey, idx: str = TABLE) -> Row | None:
        found = self._db.execute(
            "SELECT doc, size FROM items WHERE table_id = ? AND idx = ? AND pk = ? AND sk = ? "
            "AND tpk = ? AND tsk = ?",
            (table_id, idx, *key),
        ).fetchone()
        return Row(key, found[0], found[1]) if found else None

    def get_item(self, table_id: str, pk: bytes, sk: bytes) -> Item | None:
        row = self.get(table_id, RowKey(pk, sk))
        return row.item() if row else None

    def put(self, table_id: str, key: RowKey, item: Item, size: int, idx: str = TABLE) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO items (table_id, idx, pk, sk, tpk, tsk, doc, size) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (table_id, idx, *key, json.dumps(to_json(item)), size),
        )

    def delete(self, table_id: str, key: RowKey, idx: str = TABLE) -> None:
        self._db.execute(
            "DELETE FROM items WHERE table_id = ? AND idx = ? AND pk = ? AND sk = ? AND tpk = ? AND tsk = ?",
            (table_id, idx, *key),
        )

    def put_item(self, table_id: str, pk: bytes, sk: bytes, item: Item, size: int) -> Item | None:
        """Insert or replace a table row (no index upkeep); returns the item it replaced."""
        with self.transaction():
            old = self.get_item(table_id, pk, sk)
            self.put(table_id, RowKey(pk, sk), item, size)
            return old

    def items(self, table_id: str) -> Iterator[Item]:
        """Every item of a table in key order."""
        for row in self.scan(table_id):
            yield row.item()

    def collection_size(self, table_id: str, pk: bytes, local_indexes: list[str]) -> int:
        """Bytes of one item collection: the table rows and local index rows of a partition key."""
        idxs = [TABLE, *local_indexes]
        marks = ", ".join("?" * len(idxs))
        (size,) = self._db.execute(
            f"SELECT COALESCE(SUM(size), 0) FROM items WHERE table_id = ? AND idx IN ({marks}) AND pk = ?",
            (table_id, *idxs, pk),
        ).fetchone()
        return size

    def query(
        self,
        table_id: str,
        idx: str,
        pk: bytes,
        low: Bound | None = None,
        high: Bound | None = None,
        forward: bool = True,
        after: RowKey | None = None,
    ) -> Iterator[Row]:
        """Rows of one partition with ``low <= sk <= high``, in sort key order, after ``after``."""
        where = ["table_id = ?", "idx = ?", "pk = ?"]
        args: list[Any] = [table_id, idx, pk]
        if low is not None:
            where.append("sk >= ?" if low.inclusive else "sk > ?")
            args.append(low.value)
        if high is not None:
            where.append("sk <= ?" if high.inclusive else "sk < ?")
            args.append(high.value)
        if after is not None:
            where.append("(sk, tpk, tsk) > (?, ?, ?)" if forward else "(sk, tpk, tsk) < (?, ?, ?)")
            args += after[1:]
        order = "sk, tpk, tsk" if forward else "sk DESC, tpk DESC, tsk DESC"
        return self._rows(f"WHERE {' AND '.join(where)} ORDER BY {order}", args)

    def scan(self, table_id: str, idx: str = TABLE, after: RowKey | None = None) -> Iterator[Row]:
        """Every row of a table or index in key order, after ``after``."""
        where, args = "table_id = ? AND idx = ?", [table_id, idx]
        if after is not None:
            where += " AND (pk, sk, tpk, tsk) > (?, ?, ?, ?)"
            args += list(after)
        return self._rows(f"WHERE {where} ORDER BY pk, sk, tpk, tsk", args)

    def _rows(self, clause: str, args: list[Any]) -> Iterator[Row]:
        cursor = self._db.execute(f"SELECT pk, sk, tpk, tsk, doc, size FROM items {clause}", args)
        try:
            while batch := cursor.fetchmany(256):
                for pk, sk, tpk, tsk, doc, size in batch:
                    yield Row(RowKey(pk, sk, tpk, tsk), doc, size)
        finally:
            cursor.close()

    # -- idempotency tokens (TransactWriteItems' ClientRequestToken) -----------------------

    def token(self, account: str, region: str, token: str) -> tuple[str, str] | None:
        """(request digest, response) of a token used in the last ten minutes."""
        self._db.execute("DELETE FROM tokens WHERE created < ?", (time.time() - TOKEN_LIFETIME,))
        found = self._db.execute(
            "SELECT digest, response FROM tokens WHERE account = ? AND region = ? AND token = ?",
            (account, region, token),
        ).fetchone()
        return (found[0], found[1]) if found else None

    def remember_token(self, account: str, region: str, token: str, digest: str, response: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO tokens (account, region, token, digest, created, response) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (account, region, token, digest, time.time(), response),
        )


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT / ROLLBACK around a group of statements; nested ones join."""

    def __init__(self, store: DynamoStore) -> None:
        self._store = store

    def __enter__(self) -> None:
        if self._store._depth == 0:
            self._store._db.execute("BEGIN IMMEDIATE")
        self._store._depth += 1

    def __exit__(self, exc_type: object, *_: object) -> None:
        self._store._depth -= 1
        if self._store._depth == 0:
            self._store._db.execute("ROLLBACK" if exc_type else "COMMIT")


@asynccontextmanager
async def open_state(settings: Settings) -> AsyncIterator[DynamoStore]:
    store = DynamoStore(settings.service_dir / "dynamodb.db")
    store.external_url = settings.external_url  # DescribeEndpoints answers with it
    try:
        yield store
    finally:
        store.close()
