"""A small durable record store: JSON documents in SQLite, scoped by account and region.

Control-plane services (Lambda functions, EC2 VPCs, RDS parameter groups ...) keep their
records here, one table of ``(account, region, kind, id) -> JSON``. SQLite runs in WAL mode
so readers never wait for a writer; calls are short and synchronous (no network), which is
fine on the event loop at these sizes.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

GLOBAL = "*"  # region of records that are not regional

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    account TEXT NOT NULL,
    region  TEXT NOT NULL,
    kind    TEXT NOT NULL,
    id      TEXT NOT NULL,
    doc     TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    PRIMARY KEY (account, region, kind, id)
);
CREATE INDEX IF NOT EXISTS records_by_seq ON records (account, region, kind, seq);
"""


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, bytes | bytearray):
        return {"__bytes__": base64.b64encode(value).decode()}
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def _json_hook(obj: dict) -> Any:
    if len(obj) == 1:
        if "__datetime__" in obj:
            return datetime.fromisoformat(obj["__datetime__"])
        if "__bytes__" in obj:
            return base64.b64decode(obj["__bytes__"])
    return obj


class RecordStore:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def put(self, account: str, region: str, kind: str, id: str, doc: dict[str, Any]) -> None:
        """Insert or replace; a replaced record keeps its place in listing order."""
        self._db.execute(
            "INSERT INTO records (account, region, kind, id, doc, seq) VALUES (?, ?, ?, ?, ?, "
            " (SELECT COALESCE(MAX(seq), 0) + 1 FROM records)) "
            "ON CONFLICT (account, region, kind, id) DO UPDATE SET doc = excluded.doc",
            (account, region, kind, id, json.dumps(doc, default=_json_default)),
        )

    def insert(self, account: str, region: str, kind: str, id: str, doc: dict[str, Any]) -> bool:
        """Insert only if absent; False when a record with this id exists."""
        cur = self._db.execute(
            "INSERT OR IGNORE INTO records (account, region, kind, id, doc, seq) VALUES (?, ?, ?, ?, ?, "
            " (SELECT COALESCE(MAX(seq), 0) + 1 FROM records))",
            (account, region, kind, id, json.dumps(doc, default=_json_default)),
        )
        return cur.rowcount == 1

    def get(self, account: str, region: str, kind: str, id: str) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT doc FROM records WHERE account = ? AND region = ? AND kind = ? AND id = ?",
            (account, region, kind, id),
        ).fetchone()
        return json.loads(row[0], object_hook=_json_hook) if row else None

    def delete(self, account: str, region: str, kind: str, id: str) -> bool:
        cur = self._db.execute(
            "DELETE FROM records WHERE account = ? AND region = ? AND kind = ? AND id = ?",
            (account, region, kind, id),
        )
        return cur.rowcount == 1

    def list(self, account: str, region: str, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """Records of one kind in creation order, as ``(id, doc)``."""
        rows = self._db.execute(
            "SELECT id, doc FROM records WHERE account = ? AND region = ? AND kind = ? ORDER BY seq",
            (account, region, kind),
        )
        for id_, doc in rows:
            yield id_, json.loads(doc, object_hook=_json_hook)

    def count(self, account: str, region: str, kind: str) -> int:
        return self._db.execute(
            "SELECT COUNT(*) FROM records WHERE account = ? AND region = ? AND kind = ?",
            (account, region, kind),
        ).fetchone()[0]
