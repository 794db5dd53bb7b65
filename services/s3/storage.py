"""S3 state: object bytes in files, bucket and object metadata in SQLite.

Every write of an object streams into a temporary file next to the objects, hashing as it
goes, and is renamed (``os.replace``) to a fresh name of its own; the metadata row, which names
that file, is then committed in one statement, so readers see either the old object or the new
one, never half of one. The file of a replaced or deleted object is unlinked afterwards; a reader
that already opened it keeps reading its own copy (POSIX keeps an open file alive).

Object files are named by a fresh uuid, never by the key: a key (any Unicode, ``../``, ``//``, a
leading or trailing slash, 1,024 bytes) lives only in a SQLite column and can never name a path.

Multipart uploads keep their parts as uuid-named files under ``parts/``; completing an upload
concatenates them, chunk by chunk in a worker thread, into a temporary file that is renamed and
committed like any other write (the upload's rows go in the same transaction).

Versions: the ``objects`` table holds each key's current version (the latest, unless that is a
delete marker); ``versions`` holds the noncurrent versions and every delete marker, ordered
within a key by ``seq`` (larger is newer). Keeping current versions apart keeps reads and
listings of the latest objects as cheap as in an unversioned bucket. Invariant: when a key has
no current row, its newest ``versions`` row (if any) is a delete marker; removing a version
promotes the newest remaining one back to ``objects`` when it is not a marker. Version ids are
``null`` for objects written while a bucket is unversioned or suspended (at most one per key),
else 32 random URL-safe characters.

Bucket names are global, as in AWS: the ``buckets`` table is keyed by name alone and remembers
the owning account and region. File I/O runs in worker threads in chunks (never a whole object
in memory); SQLite calls are short and synchronous, like shared.records.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import heapq
import json
import os
import secrets
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from shared.settings import Settings

from . import errors
from .checksums import Digests

INLINE_READ = 64 * 1024  # objects this small are read without a worker thread
READ_CHUNK = 64 * 1024
WRITE_BATCH = 1024 * 1024  # incoming chunks are gathered up to this size per worker-thread write

_SCHEMA = """
CREATE TABLE IF NOT EXISTS buckets (
    name    TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    region  TEXT NOT NULL,
    created TEXT NOT NULL,
    acl     TEXT
);
CREATE INDEX IF NOT EXISTS buckets_by_account ON buckets (account, name);
CREATE TABLE IF NOT EXISTS objects (
    bucket        TEXT NOT NULL,
    key           TEXT NOT NULL,
    size          INTEGER NOT NULL,
    etag          TEXT NOT NULL,
    last_modified TEXT NOT NULL,
    content_type  TEXT,
    metadata      TEXT NOT NULL,
    headers       TEXT NOT NULL,
    checksums     TEXT NOT NULL,
    file          TEXT NOT NULL,
    storage_class TEXT NOT NULL DEFAULT 'STANDARD',
    tags          TEXT NOT NULL DEFAULT '{}',
    acl           TEXT,
    extra         TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (bucket, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS versions (
    bucket        TEXT NOT NULL,
    key           TEXT NOT NULL,
    seq           INTEGER NOT NULL,
    version_id    TEXT NOT NULL,
    delete_marker INTEGER NOT NULL,
    size          INTEGER NOT NULL,
    etag          TEXT NOT NULL,
    last_modified TEXT NOT NULL,
    content_type  TEXT,
    metadata      TEXT NOT NULL,
    headers       TEXT NOT NULL,
    checksums     TEXT NOT NULL,
    file          TEXT NOT NULL,
    storage_class TEXT NOT NULL,
    tags          TEXT NOT NULL,
    acl           TEXT,
    extra         TEXT NOT NULL,
    PRIMARY KEY (bucket, key, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS versions_by_id ON versions (bucket, key, version_id);
CREATE TABLE IF NOT EXISTS uploads (
    id        TEXT PRIMARY KEY,
    bucket    TEXT NOT NULL,
    key       TEXT NOT NULL,
    initiated TEXT NOT NULL,
    account   TEXT NOT NULL,
    attrs     TEXT NOT NULL,
    algorithm TEXT,
    checksum_type TEXT
);
CREATE INDEX IF NOT EXISTS uploads_by_key ON uploads (bucket, key);
CREATE TABLE IF NOT EXISTS parts (
    upload        TEXT NOT NULL,
    number        INTEGER NOT NULL,
    size          INTEGER NOT NULL,
    etag          TEXT NOT NULL,
    last_modified TEXT NOT NULL,
    checksums     TEXT NOT NULL,
    file          TEXT NOT NULL,
    PRIMARY KEY (upload, number)
) WITHOUT ROWID;
"""
# Columns added after the first release, for data directories kept with persistence on.
_MIGRATIONS = {
    "buckets": {"acl": "TEXT"},
    "objects": {
        "storage_class": "TEXT NOT NULL DEFAULT 'STANDARD'",
        "tags": "TEXT NOT NULL DEFAULT '{}'",
        "acl": "TEXT",
        "extra": "TEXT NOT NULL DEFAULT '{}'",
        "version_id": "TEXT NOT NULL DEFAULT 'null'",
    },
}
NULL_VERSION = "null"
VERSIONING_ENABLED = "Enabled"


def new_version_id() -> str:
    """32 URL-safe characters, as AWS's version ids look."""
    return secrets.token_urlsafe(24)


def is_version_id(value: str) -> bool:
    """Whether ``value`` could name a version (``null`` or one of our ids): anything else is
    ``InvalidArgument`` rather than ``NoSuchVersion``."""
    return value == NULL_VERSION or (len(value) == 32 and all(c.isalnum() or c in "-_" for c in value))


@dataclass(frozen=True)
class Bucket:
    name: str
    account: str
    region: str
    created: datetime
    acl: dict[str, Any] | None = None  # {"Owner": ..., "Grants": [...]}; None: private to the owner


@dataclass(frozen=True)
class ObjectAttrs:
    """What the client says about an object when it writes it."""

    content_type: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # CacheControl, ContentEncoding, Expires (ISO) ...
    algorithms: tuple[str, ...] = ()  # flexible checksums to compute besides CRC32
    storage_class: str = "STANDARD"
    tags: dict[str, str] = field(default_factory=dict)
    acl: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # sse, retention, legal_hold: kept with the object


@dataclass(frozen=True)
class ObjectMeta:
    bucket: str
    key: str
    size: int
    etag: str  # hex MD5, unquoted
    last_modified: datetime
    content_type: str | None
    metadata: dict[str, str]
    headers: dict[str, str]
    checksums: dict[str, str]  # output member name (ChecksumCRC32 ...) -> base64 value
    file: str
    storage_class: str = "STANDARD"
    tags: dict[str, str] = field(default_factory=dict)
    acl: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # checksum_type, parts, restore, sse, lock
    version_id: str = NULL_VERSION
    delete_marker: bool = False
    is_latest: bool = True

    @property
    def checksum_type(self) -> str:
        return self.extra.get("checksum_type", "FULL_OBJECT")


@dataclass(frozen=True)
class Upload:
    """A multipart upload in progress: the object attributes it was created with."""

    id: str
    bucket: str
    key: str
    initiated: datetime
    account: str
    attrs: ObjectAttrs
    algorithm: str | None = None  # the checksum algorithm every part carries (CRC32 ...)
    checksum_type: str | None = None  # COMPOSITE or FULL_OBJECT


@dataclass(frozen=True)
class Part:
    number: int
    size: int
    etag: str  # hex MD5, unquoted
    last_modified: datetime
    checksums: dict[str, str]
    file: str


@dataclass(frozen=True)
class Deletion:
    """What a delete did: the version it removed or the delete marker it created."""

    version_id: str | None  # None: an unversioned bucket's plain delete
    delete_marker: bool  # a marker was created, or the version removed was a marker
    removed: ObjectMeta | None  # the version whose bytes are gone (None: nothing or a marker)

    def __bool__(self) -> bool:
        """True when something changed (as the former ``delete_object -> bool`` answered)."""
        return self.removed is not None or self.delete_marker


Verify = Callable[[Digests], dict[str, str]]
"""Called after the bytes are on disk and before they are committed: checks the digests against
what the client sent (raising to abort the write) and returns the checksums to store."""


def _now() -> datetime:
    """Now, at millisecond precision (what S3 keeps and lists)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class S3Store:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.objects_dir = self.root / "objects"
        self.objects_dir.mkdir(parents=True, exist_ok=True)
        self.parts_dir = self.root / "parts"
        self.parts_dir.mkdir(exist_ok=True)
        self._objects = str(self.objects_dir)
        self._db = sqlite3.connect(str(self.root / "s3.db"), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._migrate()
        self._sweep()

    def _sweep(self) -> None:
        """Remove what a crash can leave behind (nothing is being written while the store opens):
        temporary object files, and part files no upload row names."""
        for tmp in self.objects_dir.glob(".tmp-*"):
            _unlink(tmp)
        known = {row[0] for row in self._db.execute("SELECT file FROM parts")}
        for path in self.parts_dir.iterdir():
            if path.name not in known:
                _unlink(path)

    def _migrate(self) -> None:
        for table, columns in _MIGRATIONS.items():
            have = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            for column, decl in columns.items():
                if column not in have:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")

    def close(self) -> None:
        self._db.close()

    # -- buckets ------------------------------------------------------------------------

    def create_bucket(
        self, name: str, account: str, region: str, acl: dict[str, Any] | None = None
    ) -> tuple[Bucket, bool]:
        """The bucket of that name and whether this call created it (False: it existed, maybe another's)."""
        created = _now()
        cur = self._db.execute(
            "INSERT OR IGNORE INTO buckets (name, account, region, created, acl) VALUES (?, ?, ?, ?, ?)",
            (name, account, region, created.isoformat(), _dump(acl)),
        )
        bucket = self.bucket(name)
        assert bucket is not None
        return bucket, cur.rowcount == 1

    def bucket(self, name: str) -> Bucket | None:
        row = self._db.execute(f"SELECT {_BUCKET_COLUMNS} FROM buckets WHERE name = ?", (name,)).fetchone()
        return _bucket(row) if row else None

    def buckets(self, account: str, prefix: str = "", after: str = "", limit: int = 10000) -> list[Bucket]:
        """The account's buckets (every region) in name order."""
        rows = self._db.execute(
            f"SELECT {_BUCKET_COLUMNS} FROM buckets WHERE account = ? AND name > ? "
            "AND substr(name, 1, ?) = ? ORDER BY name LIMIT ?",
            (account, after, len(prefix), prefix, limit),
        )
        return [_bucket(row) for row in rows]

    def set_bucket_acl(self, name: str, acl: dict[str, Any] | None) -> None:
        self._db.execute("UPDATE buckets SET acl = ? WHERE name = ?", (_dump(acl), name))

    def delete_bucket(self, name: str) -> None:
        """Raises NoSuchBucket, or BucketNotEmpty while it holds an object or any version (delete
        markers too); aborts its uploads."""
        with self._transaction():
            if self.bucket(name) is None:
                raise errors.no_such_bucket(name)
            for table in ("objects", "versions"):
                if self._db.execute(f"SELECT 1 FROM {table} WHERE bucket = ? LIMIT 1", (name,)).fetchone():
                    raise errors.bucket_not_empty(name)
            self._db.execute("DELETE FROM buckets WHERE name = ?", (name,))
            files = self._db.execute(
                "DELETE FROM parts WHERE upload IN (SELECT id FROM uploads WHERE bucket = ?) RETURNING file",
                (name,),
            ).fetchall()
            self._db.execute("DELETE FROM uploads WHERE bucket = ?", (name,))
        for (file,) in files:
            _unlink(self.parts_dir / file)

    # -- objects ------------------------------------------------------------------------

    async def put_object(
        self,
        bucket: str,
        key: str,
        body: AsyncIterator[bytes],
        attrs: ObjectAttrs,
        verify: Verify | None = None,
        versioning: str | None = None,
    ) -> ObjectMeta:
        """Stream ``body`` to disk and commit it as ``bucket/key`` (raises NoSuchBucket).

        ``versioning`` is the bucket's status: ``Enabled`` makes a new version with a fresh id and
        keeps the previous one; otherwise the object is the ``null`` version, replacing that one.
        """
        digests = Digests(attrs.algorithms)
        name = uuid.uuid4().hex
        tmp = self.objects_dir / f".tmp-{name}"
        try:
            await _write(tmp, body, digests)
            checksums = verify(digests) if verify is not None else {}
        except BaseException:
            _unlink(tmp)
            raise
        meta = _meta(bucket, key, attrs, digests.size, digests.etag, checksums, name, None, versioning)
        return self._install(tmp, name, meta)

    def _install(self, tmp: Path, name: str, meta: ObjectMeta, upload: str | None = None) -> ObjectMeta:
        """Rename the written file ``tmp`` to its final name and commit ``meta`` (atomic replace)."""
        final = self._path(name)
        try:
            final.parent.mkdir(exist_ok=True)
            os.replace(tmp, final)
            old, parts = self._commit(meta, upload)
        except BaseException:
            _unlink(tmp)
            _unlink(final)
            raise
        for file in old:
            _unlink(self._path(file))
        for part in parts:
            _unlink(self.parts_dir / part)
        return meta

    def _commit(self, meta: ObjectMeta, upload: str | None = None) -> tuple[list[str], list[str]]:
        """Make ``meta`` the key's current version, ending ``upload`` in the same transaction: the
        files of the versions it replaced (a ``null`` version replaces the ``null`` one; any other
        current version becomes noncurrent), and the part files of the upload."""
        parts: list[str] | None = []
        with self._transaction():
            if self.bucket(meta.bucket) is None:
                raise errors.no_such_bucket(meta.bucket)
            if upload is not None and (parts := self._end_upload(upload)) is None:
                raise errors.no_such_upload(upload)
            old = self._make_room(meta.bucket, meta.key, meta.version_id)
            self._db.execute(
                f"INSERT OR REPLACE INTO objects ({_OBJECT_COLUMNS}) VALUES ({', '.join('?' * 15)})",
                _row(meta),
            )
        return old, parts or []

    def _make_room(self, bucket: str, key: str, version_id: str) -> list[str]:
        """Before a new current version (or delete marker) ``version_id`` of ``bucket/key``, inside
        a transaction: demote the current version, or drop it if it has the same (``null``) id,
        and drop a noncurrent ``null`` version the new one replaces. The files to unlink."""
        current = self._db.execute(
            "SELECT version_id, file FROM objects WHERE bucket = ? AND key = ?", (bucket, key)
        ).fetchone()
        if current is not None and current[0] == version_id:
            self._db.execute("DELETE FROM objects WHERE bucket = ? AND key = ?", (bucket, key))
            return [current[1]]
        if current is not None:
            self._demote(bucket, key)
        if version_id != NULL_VERSION:
            return []
        rows = self._db.execute(
            "DELETE FROM versions WHERE bucket = ? AND key = ? AND version_id = ? RETURNING file",
            (bucket, key, NULL_VERSION),
        )
        return [row[0] for row in rows if row[0]]

    def _demote(self, bucket: str, key: str) -> None:
        """Move the current version of ``bucket/key`` to the noncurrent versions (newest of them)."""
        self._db.execute(
            f"INSERT INTO versions (seq, delete_marker, {_OBJECT_COLUMNS}) "
            f"SELECT ?, 0, {_OBJECT_COLUMNS} FROM objects WHERE bucket = ? AND key = ?",
            (self._next_seq(bucket, key), bucket, key),
        )
        self._db.execute("DELETE FROM objects WHERE bucket = ? AND key = ?", (bucket, key))

    def _next_seq(self, bucket: str, key: str) -> int:
        """Sequence numbers fall as versions are added (the newest is the smallest), so the
        primary key's order is newest first, the order listings want."""
        row = self._db.execute(
            "SELECT min(seq) FROM versions WHERE bucket = ? AND key = ?", (bucket, key)
        ).fetchone()
        return (row[0] if row[0] is not None else 0) - 1

    def _settle(self, bucket: str, key: str) -> None:
        """After a version was removed: promote the newest noncurrent version to current when the
        key has no current version and that one is not a delete marker."""
        if self._db.execute("SELECT 1 FROM objects WHERE bucket = ? AND key = ?", (bucket, key)).fetchone():
            return
        newest = self._db.execute(
            "SELECT seq, delete_marker FROM versions WHERE bucket = ? AND key = ? ORDER BY seq LIMIT 1",
            (bucket, key),
        ).fetchone()
        if newest is None or newest[1]:
            return
        self._db.execute(
            f"INSERT INTO objects ({_OBJECT_COLUMNS}) SELECT {_OBJECT_COLUMNS} FROM versions "
            "WHERE bucket = ? AND key = ? AND seq = ?",
            (bucket, key, newest[0]),
        )
        self._db.execute(
            "DELETE FROM versions WHERE bucket = ? AND key = ? AND seq = ?", (bucket, key, newest[0])
        )

    def object(self, bucket: str, key: str) -> ObjectMeta | None:
        """The current version (None when there is none or the latest is a delete marker)."""
        row = self._db.execute(
            f"SELECT {_OBJECT_COLUMNS} FROM objects WHERE bucket = ? AND key = ?", (bucket, key)
        ).fetchone()
        return _object(row) if row else None

    def latest(self, bucket: str, key: str) -> ObjectMeta | None:
        """The latest version, which may be a delete marker (GetObject's 404 says so)."""
        found = self.object(bucket, key)
        if found is not None:
            return found
        row = self._db.execute(
            f"SELECT {_OBJECT_COLUMNS}, delete_marker FROM versions WHERE bucket = ? AND key = ? "
            "ORDER BY seq LIMIT 1",
            (bucket, key),
        ).fetchone()
        return _object(row) if row is not None and row[15] else None

    def version(self, bucket: str, key: str, version_id: str) -> ObjectMeta | None:
        """One version of ``bucket/key`` by id, current or not, delete markers included."""
        row = self._db.execute(
            f"SELECT {_OBJECT_COLUMNS} FROM objects WHERE bucket = ? AND key = ? AND version_id = ?",
            (bucket, key, version_id),
        ).fetchone()
        if row is not None:
            return _object(row)
        row = self._db.execute(
            f"SELECT {_OBJECT_COLUMNS}, delete_marker, seq FROM versions "
            "WHERE bucket = ? AND key = ? AND version_id = ?",
            (bucket, key, version_id),
        ).fetchone()
        if row is None:
            return None
        newest = self.latest(bucket, key)
        return _object(row, latest=newest is not None and newest.version_id == version_id)

    def update_object(self, meta: ObjectMeta, **changes: Any) -> ObjectMeta | None:
        """Change a version's tags, acl or extra in place (its bytes and ETag stay); None when the
        version was replaced or deleted meanwhile (or is a delete marker)."""
        allowed = {"tags", "acl", "extra"}
        assert changes.keys() <= allowed, changes.keys() - allowed
        new = dataclasses.replace(meta, **changes)
        if meta.delete_marker:
            return None
        values = (
            json.dumps(new.tags),
            _dump(new.acl),
            json.dumps(new.extra),
            meta.bucket,
            meta.key,
            meta.file,
        )
        for table in ("objects", "versions"):
            cur = self._db.execute(
                f"UPDATE {table} SET tags = ?, acl = ?, extra = ? WHERE bucket = ? AND key = ? AND file = ?",
                values,
            )
            if cur.rowcount == 1:
                return new
        return None

    def delete_object(
        self, bucket: str, key: str, version_id: str | None = None, versioning: str | None = None
    ) -> Deletion | None:
        """Delete ``bucket/key``: one version by id (None when there is no such version), or the
        key: in a versioned bucket (``versioning`` Enabled or Suspended) by a new delete marker
        (version ``null`` when suspended), else by removing the object."""
        if version_id is not None:
            return self._delete_version(bucket, key, version_id)
        if versioning is None:
            row = self._db.execute(
                f"DELETE FROM objects WHERE bucket = ? AND key = ? RETURNING {_OBJECT_COLUMNS}", (bucket, key)
            ).fetchone()
            if row is None:
                return Deletion(None, False, None)
            removed = _object(row)
            _unlink(self._path(removed.file))
            return Deletion(None, False, removed)
        marker = new_version_id() if versioning == VERSIONING_ENABLED else NULL_VERSION
        with self._transaction():
            current = self.object(bucket, key)
            files = self._make_room(bucket, key, marker)
            self._db.execute(
                f"INSERT INTO versions (seq, delete_marker, {_OBJECT_COLUMNS}) "
                f"VALUES (?, 1, {', '.join('?' * 15)})",
                (self._next_seq(bucket, key), *_row(_marker(bucket, key, marker))),
            )
        for file in files:
            _unlink(self._path(file))
        removed = current if current is not None and current.file in files else None
        return Deletion(marker, True, removed)

    def _delete_version(self, bucket: str, key: str, version_id: str) -> Deletion | None:
        with self._transaction():
            row = self._db.execute(
                f"DELETE FROM objects WHERE bucket = ? AND key = ? AND version_id = ? RETURNING {_OBJECT_COLUMNS}",
                (bucket, key, version_id),
            ).fetchone()
            if row is None:
                row = self._db.execute(
                    "DELETE FROM versions WHERE bucket = ? AND key = ? AND version_id = ? "
                    f"RETURNING {_OBJECT_COLUMNS}, delete_marker",
                    (bucket, key, version_id),
                ).fetchone()
            if row is None:
                return None
            self._settle(bucket, key)
        meta = _object(row)
        if meta.file:
            _unlink(self._path(meta.file))
        return Deletion(version_id, meta.delete_marker, None if meta.delete_marker else meta)

    def keys(self, bucket: str, prefix: str = "", after: str = "", batch: int = 1000) -> Iterator[ObjectMeta]:
        """Current versions whose key starts with ``prefix`` and sorts after ``after``, in S3's
        (UTF-8 binary) order.

        Reads in batches, so a caller that stops early (a page of a listing) reads little.
        """
        bound, op = (prefix, ">=") if prefix > after else (after, ">")
        while True:
            rows = self._db.execute(
                f"SELECT {_OBJECT_COLUMNS} FROM objects WHERE bucket = ? AND key {op} ? "
                "AND substr(key, 1, ?) = ? ORDER BY key LIMIT ?",
                (bucket, bound, len(prefix), prefix, batch),
            ).fetchall()
            for row in rows:
                yield _object(row)
            if len(rows) < batch:
                return
            bound, op = rows[-1][1], ">"

    def version_keys(self, bucket: str, prefix: str = "", batch: int = 1000) -> Iterator[str]:
        """Every key with a version or delete marker under ``prefix``, in key order, read in batches
        that resume after the last key given (so a caller may change the key it was given)."""
        bound, op = prefix, ">="
        while True:
            rows = self._db.execute(
                f"SELECT key FROM objects WHERE bucket = ? AND key {op} ? AND substr(key, 1, ?) = ? "
                f"UNION SELECT key FROM versions WHERE bucket = ? AND key {op} ? AND substr(key, 1, ?) = ? "
                "ORDER BY key LIMIT ?",
                (bucket, bound, len(prefix), prefix) * 2 + (batch,),
            ).fetchall()
            for (key,) in rows:
                yield key
            if len(rows) < batch:
                return
            bound, op = rows[-1][0], ">"

    def versions(
        self, bucket: str, prefix: str = "", key_marker: str = "", version_id_marker: str = ""
    ) -> Iterator[ObjectMeta]:
        """Every version and delete marker under ``prefix``, by key, newest first within a key
        (``is_latest`` set on the first): after ``key_marker``, or (with a ``version_id_marker``)
        the key marker's own versions after that one, then later keys."""
        if version_id_marker and key_marker.startswith(prefix):
            own = self.key_versions(bucket, key_marker)
            ids = [meta.version_id for meta in own]
            if version_id_marker in ids:
                yield from own[ids.index(version_id_marker) + 1 :]
        current = ((m.key, 0, 0, m) for m in self.keys(bucket, prefix, key_marker))
        noncurrent = ((m.key, 1, seq, m) for seq, m in self._noncurrent(bucket, prefix, key_marker))
        previous = None
        for key, _, _, meta in heapq.merge(current, noncurrent, key=lambda item: item[:3]):
            yield dataclasses.replace(meta, is_latest=key != previous)
            previous = key

    def key_versions(self, bucket: str, key: str) -> list[ObjectMeta]:
        """The versions of one key, newest first."""
        current = self.object(bucket, key)
        rows = self._db.execute(
            f"SELECT {_OBJECT_COLUMNS}, delete_marker FROM versions WHERE bucket = ? AND key = ? ORDER BY seq",
            (bucket, key),
        )
        found = ([current] if current is not None else []) + [_object(row) for row in rows]
        return [dataclasses.replace(meta, is_latest=i == 0) for i, meta in enumerate(found)]

    def _noncurrent(
        self, bucket: str, prefix: str, after: str, batch: int = 1000
    ) -> Iterator[tuple[int, ObjectMeta]]:
        """Noncurrent versions and delete markers in (key, newest first) order, with their seq."""
        where, params = ("key >= ?", (prefix,)) if prefix > after else ("key > ?", (after,))
        while True:
            rows = self._db.execute(
                f"SELECT {_OBJECT_COLUMNS}, delete_marker, seq FROM versions WHERE bucket = ? AND {where} "
                "AND substr(key, 1, ?) = ? ORDER BY key, seq LIMIT ?",
                (bucket, *params, len(prefix), prefix, batch),
            ).fetchall()
            for row in rows:
                yield row[16], _object(row)
            if len(rows) < batch:
                return
            where, params = "(key, seq) > (?, ?)", (rows[-1][1], rows[-1][16])

    def open_object(
        self, meta: ObjectMeta, start: int = 0, end: int | None = None
    ) -> bytes | AsyncIterator[bytes]:
        """The bytes ``start..end`` (inclusive) of the object's file: read at once when they are
        at most INLINE_READ (one response write instead of a stream), else in READ_CHUNK chunks.

        The file is opened now, so the stream survives the object being replaced meanwhile.
        """
        path = os.path.join(self._objects, meta.file[:2], meta.file)  # str: pathlib costs per request
        handle = open(path, "rb")  # noqa: SIM115 - closed by the reader
        stop = meta.size - 1 if end is None else end
        length = stop - start + 1
        if length <= INLINE_READ:
            with handle:
                handle.seek(start)
                return handle.read(length)
        return _read(handle, start, length)

    # -- multipart uploads --------------------------------------------------------------

    def create_upload(
        self,
        bucket: str,
        key: str,
        account: str,
        attrs: ObjectAttrs,
        algorithm: str | None = None,
        checksum_type: str | None = None,
    ) -> Upload:
        upload = Upload(uuid.uuid4().hex, bucket, key, _now(), account, attrs, algorithm, checksum_type)
        with self._transaction():
            if self.bucket(bucket) is None:
                raise errors.no_such_bucket(bucket)
            self._db.execute(
                f"INSERT INTO uploads ({_UPLOAD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    upload.id,
                    bucket,
                    key,
                    upload.initiated.isoformat(),
                    account,
                    json.dumps(dataclasses.asdict(attrs)),
                    algorithm,
                    checksum_type,
                ),
            )
        return upload

    def upload(self, upload_id: str) -> Upload | None:
        row = self._db.execute(f"SELECT {_UPLOAD_COLUMNS} FROM uploads WHERE id = ?", (upload_id,)).fetchone()
        return _upload(row) if row else None

    def uploads(
        self, bucket: str, prefix: str = "", key_marker: str = "", upload_id_marker: str = ""
    ) -> Iterator[Upload]:
        """Uploads in key order, then in the order they were created (rowid, which never ties):
        after ``key_marker``, or (with an ``upload_id_marker``) the key marker's own uploads after
        that one, then later keys."""
        if upload_id_marker:
            rows = self._db.execute(
                f"SELECT {_UPLOAD_COLUMNS} FROM uploads WHERE bucket = ? AND key = ? ORDER BY rowid",
                (bucket, key_marker),
            ).fetchall()
            ids = [row[0] for row in rows]
            if upload_id_marker in ids:
                for row in rows[ids.index(upload_id_marker) + 1 :]:
                    if row[2].startswith(prefix):
                        yield _upload(row)
        bound, op = (prefix, ">=") if prefix > key_marker else (key_marker, ">")
        rows = self._db.execute(
            f"SELECT {_UPLOAD_COLUMNS} FROM uploads WHERE bucket = ? AND key {op} ? "
            "AND substr(key, 1, ?) = ? ORDER BY key, rowid",
            (bucket, bound, len(prefix), prefix),
        )
        for row in rows:
            yield _upload(row)

    async def put_part(
        self,
        upload: Upload,
        number: int,
        body: AsyncIterator[bytes],
        algorithms: tuple[str, ...],
        verify: Verify,
    ) -> Part:
        """Stream one part to its own file; a part uploaded again replaces the earlier one."""
        digests = Digests(algorithms)
        name = uuid.uuid4().hex
        path = self.parts_dir / name
        try:
            await _write(path, body, digests)
            part = Part(number, digests.size, digests.etag, _now(), verify(digests), name)
            with self._transaction():
                if self.upload(upload.id) is None:
                    raise errors.no_such_upload(upload.id)
                row = self._db.execute(
                    "SELECT file FROM parts WHERE upload = ? AND number = ?", (upload.id, number)
                ).fetchone()
                self._db.execute(
                    f"INSERT OR REPLACE INTO parts (upload, {_PART_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        upload.id,
                        number,
                        part.size,
                        part.etag,
                        part.last_modified.isoformat(),
                        json.dumps(part.checksums),
                        name,
                    ),
                )
        except BaseException:
            _unlink(path)
            raise
        if row is not None:
            _unlink(self.parts_dir / row[0])
        return part

    def parts(self, upload_id: str, after: int = 0, limit: int = 10000) -> list[Part]:
        rows = self._db.execute(
            f"SELECT {_PART_COLUMNS} FROM parts WHERE upload = ? AND number > ? ORDER BY number LIMIT ?",
            (upload_id, after, limit),
        )
        return [_part(row) for row in rows]

    def abort_upload(self, upload_id: str) -> bool:
        """False when there was no such upload."""
        with self._transaction():
            files = self._end_upload(upload_id)
        for file in files or ():
            _unlink(self.parts_dir / file)
        return files is not None

    def _end_upload(self, upload_id: str) -> list[str] | None:
        """Delete the upload's rows (inside a transaction); its part files, or None if it was gone."""
        if self._db.execute("DELETE FROM uploads WHERE id = ? RETURNING id", (upload_id,)).fetchone() is None:
            return None
        rows = self._db.execute("DELETE FROM parts WHERE upload = ? RETURNING file", (upload_id,))
        return [row[0] for row in rows]

    async def complete_upload(
        self,
        upload: Upload,
        parts: list[Part],
        etag: str,
        verify: Verify,
        extra: dict[str, Any],
        versioning: str | None = None,
        algorithms: tuple[str, ...] = (),
    ) -> ObjectMeta:
        """Concatenate ``parts`` (streaming from disk, CRC32 and ``algorithms`` computed on the way)
        into the object and commit it, ending the upload in the same transaction. ``verify`` gets
        the whole object's digests (no MD5: the ETag is ``etag``) and returns the checksums."""
        digests = Digests(algorithms, md5=False)
        name = uuid.uuid4().hex
        tmp = self.objects_dir / f".tmp-{name}"
        try:
            try:
                await asyncio.to_thread(_concat, tmp, [self.parts_dir / p.file for p in parts], digests)
            except FileNotFoundError:  # completed or aborted by another request meanwhile
                raise errors.no_such_upload(upload.id) from None
            checksums = verify(digests)
        except BaseException:
            _unlink(tmp)
            raise
        meta = _meta(
            upload.bucket, upload.key, upload.attrs, digests.size, etag, checksums, name, extra, versioning
        )
        return self._install(tmp, name, meta, upload=upload.id)

    def _path(self, name: str) -> Path:
        return self.objects_dir / name[:2] / name

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


_BUCKET_COLUMNS = "name, account, region, created, acl"
_OBJECT_COLUMNS = (
    "bucket, key, size, etag, last_modified, content_type, metadata, headers, checksums, file, "
    "storage_class, tags, acl, extra, version_id"
)
_UPLOAD_COLUMNS = "id, bucket, key, initiated, account, attrs, algorithm, checksum_type"
_PART_COLUMNS = "number, size, etag, last_modified, checksums, file"


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def _load(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _meta(
    bucket: str,
    key: str,
    attrs: ObjectAttrs,
    size: int,
    etag: str,
    checksums: dict[str, str],
    file: str,
    extra: dict[str, Any] | None = None,
    versioning: str | None = None,
) -> ObjectMeta:
    return ObjectMeta(
        bucket=bucket,
        key=key,
        size=size,
        etag=etag,
        last_modified=_now(),
        content_type=attrs.content_type,
        metadata=dict(attrs.metadata),
        headers=dict(attrs.headers),
        checksums=checksums,
        file=file,
        storage_class=attrs.storage_class,
        tags=dict(attrs.tags),
        acl=attrs.acl,
        extra={**attrs.extra, **(extra or {})},
        version_id=new_version_id() if versioning == VERSIONING_ENABLED else NULL_VERSION,
    )


def _marker(bucket: str, key: str, version_id: str) -> ObjectMeta:
    return ObjectMeta(
        bucket, key, 0, "", _now(), None, {}, {}, {}, "", version_id=version_id, delete_marker=True
    )


def _row(meta: ObjectMeta) -> tuple:
    """The values of _OBJECT_COLUMNS for ``meta``."""
    return (
        meta.bucket,
        meta.key,
        meta.size,
        meta.etag,
        meta.last_modified.isoformat(),
        meta.content_type,
        json.dumps(meta.metadata),
        json.dumps(meta.headers),
        json.dumps(meta.checksums),
        meta.file,
        meta.storage_class,
        json.dumps(meta.tags),
        _dump(meta.acl),
        json.dumps(meta.extra),
        meta.version_id,
    )


def _bucket(row: tuple) -> Bucket:
    return Bucket(row[0], row[1], row[2], datetime.fromisoformat(row[3]), _load(row[4]))


def _object(row: tuple, latest: bool = True) -> ObjectMeta:
    """A row of _OBJECT_COLUMNS, optionally followed by ``delete_marker`` (a versions row)."""
    return ObjectMeta(
        bucket=row[0],
        key=row[1],
        size=row[2],
        etag=row[3],
        last_modified=datetime.fromisoformat(row[4]),
        content_type=row[5],
        metadata=json.loads(row[6]),
        headers=json.loads(row[7]),
        checksums=json.loads(row[8]),
        file=row[9],
        storage_class=row[10],
        tags=json.loads(row[11]),
        acl=_load(row[12]),
        extra=json.loads(row[13]),
        version_id=row[14],
        delete_marker=len(row) > 15 and bool(row[15]),
        is_latest=latest,
    )


def _upload(row: tuple) -> Upload:
    attrs = json.loads(row[5])
    attrs["algorithms"] = tuple(attrs.get("algorithms", ()))
    attrs.setdefault("extra", {})
    return Upload(
        row[0], row[1], row[2], datetime.fromisoformat(row[3]), row[4], ObjectAttrs(**attrs), row[6], row[7]
    )


def _part(row: tuple) -> Part:
    return Part(row[0], row[1], row[2], datetime.fromisoformat(row[3]), json.loads(row[4]), row[5])


def _concat(target: Path, sources: list[Path], digests: Digests) -> None:
    """Copy ``sources`` one after the other into ``target``, WRITE_BATCH bytes at a time."""
    with open(target, "wb") as out:
        for source in sources:
            with open(source, "rb") as handle:
                while chunk := handle.read(WRITE_BATCH):
                    digests.update(chunk)
                    out.write(chunk)


async def _write(path: Path, body: AsyncIterator[bytes], digests: Digests) -> None:
    """Stream ``body`` into ``path``, hashing it; batches of chunks go to a worker thread.

    A body smaller than one batch (most objects) costs one thread hop for open, write and
    close together: a hop costs more than writing a few KiB to the page cache.
    """
    handle: BinaryIO | None = None
    try:
        pending: list[bytes] = []
        size = 0
        async for chunk in body:
            pending.append(chunk)
            size += len(chunk)
            if size >= WRITE_BATCH:
                if handle is None:
                    handle = await asyncio.to_thread(open, path, "wb")
                await asyncio.to_thread(_write_batch, handle, pending, digests)
                pending, size = [], 0
        if handle is None:
            await asyncio.to_thread(_write_file, path, pending, digests)
        elif pending:
            await asyncio.to_thread(_write_batch, handle, pending, digests)
    finally:
        if handle is not None:
            await asyncio.to_thread(handle.close)


def _write_file(path: Path, chunks: list[bytes], digests: Digests) -> None:
    with open(path, "wb") as handle:
        _write_batch(handle, chunks, digests)


def _write_batch(handle: BinaryIO, chunks: list[bytes], digests: Digests) -> None:
    for chunk in chunks:
        digests.update(chunk)
        handle.write(chunk)


async def _read(handle: BinaryIO, start: int, length: int) -> AsyncIterator[bytes]:
    """The bytes of an open file, read in a worker thread chunk by chunk (a large file may not
    be in the page cache); the last INLINE_READ bytes are read on the event loop."""
    try:
        handle.seek(start)
        while length > 0:
            size = min(READ_CHUNK, length)
            chunk = handle.read(size) if length <= INLINE_READ else await asyncio.to_thread(handle.read, size)
            if not chunk:
                return
            length -= len(chunk)
            yield chunk
    finally:
        handle.close()


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT / ROLLBACK around a group of statements."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *_: object) -> None:
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")


@asynccontextmanager
async def open_state(settings: Settings) -> AsyncIterator[S3Store]:
    store = S3Store(settings.service_dir)
    try:
        yield store
    finally:
        store.close()
