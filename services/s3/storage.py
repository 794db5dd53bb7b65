"""S3 state: object bytes in files, bucket and object metadata in SQLite.

Every write of an object streams into a temporary file next to the objects, hashing as it
goes, and is renamed (``os.replace``) to a fresh name of its own; the metadata row, which names
that file, is then committed in one statement, so readers see either the old object or the new
one, never half of one. The file of a replaced or deleted object is unlinked afterwards; a reader
that already opened it keeps reading its own copy (POSIX keeps an open file alive).

Small objects (at most INLINE_OBJECT bytes, whole bodies) are kept in SQLite instead, in the
``blobs`` table, written in the same transaction as their metadata row, which names them
``blob:<id>``; a replaced or deleted one's blob is deleted in the transaction that drops its row.
Creating a file costs an inode allocation, which on a busy ext4 takes 0.05-1 ms of kernel time,
more than all the rest of a 1 KiB PutObject; a blob insert costs a few microseconds. Blobs are
always read at once (INLINE_OBJECT <= INLINE_READ), so no reader holds one across a write.

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
import operator
import os
import secrets
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from shared.settings import Settings

from . import errors
from .checksums import Digests

INLINE_READ = 64 * 1024  # objects this small are read without a worker thread
INLINE_WRITE = 64 * 1024  # bodies this small are written on the event loop, without a worker thread
INLINE_OBJECT = 64 * 1024  # objects this small are stored in SQLite (``blobs``), not in a file
BLOB = "blob:"  # the ``file`` of an object stored in ``blobs``: ``blob:<id>`` (never a uuid)
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
CREATE TABLE IF NOT EXISTS blobs (
    id   INTEGER PRIMARY KEY,
    data BLOB NOT NULL
);
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


class Listed(NamedTuple):
    """One version as a listing shows it: only the columns a page needs, nothing decoded from
    JSON (a full ObjectMeta per key made half the time of a 1,000-key page; see
    docs/performance.md). A tuple, so building 1,000 of them per page is cheap."""

    key: str
    size: int
    etag: str  # hex MD5, unquoted
    last_modified: datetime
    storage_class: str
    checksum_algorithms: tuple[str, ...]  # CRC32, SHA256 ... (the stored checksums' algorithms)
    version_id: str
    delete_marker: bool = False
    is_latest: bool = True


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
# A conditional write's test of the key's current ETag (None: no current object), run inside the
# commit transaction so that a concurrent writer cannot slip in between the check and the commit.
Precondition = Callable[[str | None], None]
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
        precondition: Precondition | None = None,
    ) -> ObjectMeta:
        """Stream ``body`` to disk and commit it as ``bucket/key`` (raises NoSuchBucket).

        ``versioning`` is the bucket's status: ``Enabled`` makes a new version with a fresh id and
        keeps the previous one; otherwise the object is the ``null`` version, replacing that one.
        ``precondition`` (If-Match / If-None-Match) is checked again at commit and may raise.
        """
        digests = Digests(attrs.algorithms)
        data, body = await _whole_if_small(body, INLINE_OBJECT)
        if data is not None:  # a small object: a blob, committed with its row
            digests.update(data)
            checksums = verify(digests) if verify is not None else {}
            size, etag = digests.size, digests.etag
            with self._transaction():
                blob = self._db.execute("INSERT INTO blobs (data) VALUES (?)", (data,)).lastrowid
                meta = _meta(bucket, key, attrs, size, etag, checksums, f"{BLOB}{blob}", None, versioning)
                old, _ = self._record(meta, precondition=precondition)
            self._unlink_files(old)
            return meta
        name = uuid.uuid4().hex
        tmp = os.path.join(self._objects, f".tmp-{name}")  # str: pathlib costs per request
        try:
            await _write(tmp, body, digests)
            checksums = verify(digests) if verify is not None else {}
        except BaseException:
            _unlink(tmp)
            raise
        meta = _meta(bucket, key, attrs, digests.size, digests.etag, checksums, name, None, versioning)
        return self._install(tmp, name, meta, precondition=precondition)

    def _install(
        self,
        tmp: str | Path,
        name: str,
        meta: ObjectMeta,
        upload: str | None = None,
        precondition: Precondition | None = None,
    ) -> ObjectMeta:
        """Rename the written file ``tmp`` to its final name and commit ``meta`` (atomic replace)."""
        final = self._file(name)
        try:
            _rename(tmp, final)
            with self._transaction():
                old, parts = self._record(meta, upload, precondition)
        except BaseException:
            _unlink(tmp)
            _unlink(final)
            raise
        self._unlink_files(old)
        for part in parts:
            _unlink(self.parts_dir / part)
        return meta

    def _record(
        self, meta: ObjectMeta, upload: str | None = None, precondition: Precondition | None = None
    ) -> tuple[list[str], list[str]]:
        """Inside a transaction: make ``meta`` the key's current version, ending ``upload``. The
        files of the versions it replaced (a ``null`` version replaces the ``null`` one; any other
        current version becomes noncurrent; their blobs are deleted here), and the part files of
        the upload. ``precondition`` sees the current ETag first (raising rolls back)."""
        parts: list[str] | None = []
        if self._db.execute("SELECT 1 FROM buckets WHERE name = ?", (meta.bucket,)).fetchone() is None:
            raise errors.no_such_bucket(meta.bucket)
        if precondition is not None:
            current = self._db.execute(
                "SELECT etag FROM objects WHERE bucket = ? AND key = ?", (meta.bucket, meta.key)
            ).fetchone()
            precondition(current[0] if current else None)
        if upload is not None and (parts := self._end_upload(upload)) is None:
            raise errors.no_such_upload(upload)
        old = self._make_room(meta.bucket, meta.key, meta.version_id)
        self._drop_blobs(old)
        self._db.execute(
            f"INSERT OR REPLACE INTO objects ({_OBJECT_COLUMNS}) VALUES ({', '.join('?' * 15)})",
            _row(meta),
        )
        return old, parts or []

    def _drop_blobs(self, files: list[str]) -> None:
        """Inside the transaction that drops their rows: delete the blobs among ``files``."""
        for file in files:
            if file.startswith(BLOB):
                self._db.execute("DELETE FROM blobs WHERE id = ?", (int(file.removeprefix(BLOB)),))

    def _unlink_files(self, files: list[str]) -> None:
        """After the commit that dropped their rows: unlink the object files among ``files``
        (blobs went with the transaction; a delete marker names no file)."""
        for file in files:
            if file and not file.startswith(BLOB):
                _unlink(self._file(file))

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
            with self._transaction():
                row = self._db.execute(
                    f"DELETE FROM objects WHERE bucket = ? AND key = ? RETURNING {_OBJECT_COLUMNS}",
                    (bucket, key),
                ).fetchone()
                if row is None:
                    return Deletion(None, False, None)
                removed = _object(row)
                self._drop_blobs([removed.file])
            self._unlink_files([removed.file])
            return Deletion(None, False, removed)
        marker = new_version_id() if versioning == VERSIONING_ENABLED else NULL_VERSION
        with self._transaction():
            current = self.object(bucket, key)
            files = self._make_room(bucket, key, marker)
            self._drop_blobs(files)
            self._db.execute(
                f"INSERT INTO versions (seq, delete_marker, {_OBJECT_COLUMNS}) "
                f"VALUES (?, 1, {', '.join('?' * 15)})",
                (self._next_seq(bucket, key), *_row(_marker(bucket, key, marker))),
            )
        self._unlink_files(files)
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
            self._drop_blobs([meta.file])
        self._unlink_files([meta.file])
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

    def listing(
        self, bucket: str, prefix: str = "", after: str = "", delimiter: str = ""
    ) -> Iterator[Listed]:
        """Current versions under ``prefix`` after ``after``, in S3's (UTF-8 binary) order, for a
        listing page: read lazily, so a page reads its own rows and one more.

        With a ``delimiter``, only the first key of each common prefix is given: the others would
        roll up into it, and skipping them in SQL keeps a page of 1,000 prefixes over millions of
        keys at 1,000 index seeks instead of a read of every key."""
        for row in self._walk(_LISTED_CURRENT, "objects", "key", bucket, prefix, after, delimiter):
            yield _listed(row)

    def versions(
        self,
        bucket: str,
        prefix: str = "",
        key_marker: str = "",
        version_id_marker: str = "",
        delimiter: str = "",
    ) -> Iterator[Listed]:
        """Every version and delete marker under ``prefix``, by key, newest first within a key
        (``is_latest`` set on the first): after ``key_marker``, or (with a ``version_id_marker``)
        the key marker's own versions after that one, then later keys. With a ``delimiter``, as
        ``listing``: only the first row of each common prefix."""
        if version_id_marker and key_marker.startswith(prefix):
            own = self._key_rows(bucket, key_marker)
            ids = [row[6] for row in own]
            if version_id_marker in ids:
                yield from (_listed(row, latest=False) for row in own[ids.index(version_id_marker) + 1 :])
        current = self._walk(_LISTED_CURRENT, "objects", "key", bucket, prefix, key_marker, delimiter)
        noncurrent = self._walk(
            _LISTED_NONCURRENT, "versions", "key, seq", bucket, prefix, key_marker, delimiter
        )
        previous = None
        for row in heapq.merge(current, noncurrent, key=_MERGE_ORDER):
            yield _listed(row, row[0] != previous)
            previous = row[0]

    def key_versions(self, bucket: str, key: str) -> list[ObjectMeta]:
        """The versions of one key, newest first."""
        current = self.object(bucket, key)
        rows = self._db.execute(
            f"SELECT {_OBJECT_COLUMNS}, delete_marker FROM versions WHERE bucket = ? AND key = ? ORDER BY seq",
            (bucket, key),
        )
        found = ([current] if current is not None else []) + [_object(row) for row in rows]
        return [dataclasses.replace(meta, is_latest=i == 0) for i, meta in enumerate(found)]

    def _key_rows(self, bucket: str, key: str) -> list[tuple]:
        """Listing rows of one key's versions, newest first."""
        where = "WHERE bucket = ? AND key = ?"
        current = self._db.execute(f"SELECT {_LISTED_CURRENT} FROM objects {where}", (bucket, key))
        noncurrent = self._db.execute(
            f"SELECT {_LISTED_NONCURRENT} FROM versions {where} ORDER BY seq", (bucket, key)
        )
        return current.fetchall() + noncurrent.fetchall()

    def _walk(
        self, columns: str, table: str, order: str, bucket: str, prefix: str, after: str, delimiter: str
    ) -> Iterator[tuple]:
        """Rows of ``table`` whose key starts with ``prefix`` and sorts after ``after``, in ``order``,
        read one by one from a range scan of the primary key, bounded above by the prefix (so the
        last page of a prefix does not scan the rest of the bucket); with a ``delimiter``, each
        common prefix's first row only (the scan then seeks past the prefix)."""
        bound, op = (prefix, ">=") if prefix > after else (after, ">")
        upper = _successor(prefix)
        sql = f"SELECT {columns} FROM {table} WHERE bucket = ? AND substr(key, 1, ?) = ? AND key {{}} ?"
        sql += " AND key < ?" if upper is not None else ""
        sql += f" ORDER BY {order}"
        while True:
            params = (bucket, len(prefix), prefix, bound) + ((upper,) if upper is not None else ())
            with contextlib.closing(self._db.execute(sql.format(op), params)) as cursor:
                for row in cursor:
                    yield row
                    if delimiter and (common := _rolled_up(row[0], prefix, delimiter)) is not None:
                        break
                else:
                    return
            bound, op = _successor(common), ">="
            if bound is None:
                return

    def open_object(
        self, meta: ObjectMeta, start: int = 0, end: int | None = None
    ) -> bytes | AsyncIterator[bytes]:
        """The bytes ``start..end`` (inclusive) of the object's file: read at once when they are
        at most INLINE_READ (one response write instead of a stream), else in READ_CHUNK chunks.

        The file is opened now, so the stream survives the object being replaced meanwhile. A
        blob (a small object) is read at once; one deleted meanwhile is NoSuchKey.
        """
        stop = meta.size - 1 if end is None else end
        if meta.file.startswith(BLOB):
            row = self._db.execute(
                "SELECT substr(data, ?, ?) FROM blobs WHERE id = ?",
                (start + 1, stop - start + 1, int(meta.file.removeprefix(BLOB))),
            ).fetchone()
            if row is None:
                raise errors.no_such_key(meta.key)
            return row[0] or b""  # substr of an empty blob is NULL
        path = os.path.join(self._objects, meta.file[:2], meta.file)  # str: pathlib costs per request
        handle = open(path, "rb")  # noqa: SIM115 - closed by the reader
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
        precondition: Precondition | None = None,
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
        return self._install(tmp, name, meta, upload=upload.id, precondition=precondition)

    def _path(self, name: str) -> Path:
        return self.objects_dir / name[:2] / name

    def _file(self, name: str) -> str:
        """``_path`` as a str, for the per-request write path (pathlib costs microseconds a call)."""
        return os.path.join(self._objects, name[:2], name)

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


_BUCKET_COLUMNS = "name, account, region, created, acl"
_OBJECT_COLUMNS = (
    "bucket, key, size, etag, last_modified, content_type, metadata, headers, checksums, file, "
    "storage_class, tags, acl, extra, version_id"
)
# Listing rows (Listed's fields, then the merge order of ListObjectVersions: current first, then
# noncurrent newest first): the checksum algorithms are read from the JSON column in SQL.
_LISTED_COLUMNS = (
    "key, size, etag, last_modified, storage_class, "
    "(SELECT group_concat(substr(json_each.key, 9), ',') FROM json_each(checksums)), version_id"
)
_LISTED_CURRENT = f"{_LISTED_COLUMNS}, 0, 0, 0"
_LISTED_NONCURRENT = f"{_LISTED_COLUMNS}, delete_marker, 1, seq"
_MERGE_ORDER = operator.itemgetter(0, 8, 9)
_UPLOAD_COLUMNS = "id, bucket, key, initiated, account, attrs, algorithm, checksum_type"
_PART_COLUMNS = "number, size, etag, last_modified, checksums, file"


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def _dict(value: dict[str, Any]) -> str:
    """A dict column's JSON; most are empty, and ``json.dumps`` costs microseconds even then."""
    return json.dumps(value) if value else "{}"


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
        _dict(meta.metadata),
        _dict(meta.headers),
        _dict(meta.checksums),
        meta.file,
        meta.storage_class,
        _dict(meta.tags),
        _dump(meta.acl),
        _dict(meta.extra),
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


def _listed(row: tuple, latest: bool = True) -> Listed:
    """A row of _LISTED_CURRENT or _LISTED_NONCURRENT."""
    algorithms = _ALGORITHMS.get(row[5])
    if algorithms is None:
        algorithms = _ALGORITHMS.setdefault(row[5], tuple(row[5].split(",")))
    modified = datetime.fromisoformat(row[3])
    return Listed(row[0], row[1], row[2], modified, row[4], algorithms, row[6], bool(row[7]), latest)


# "CRC32,SHA256" -> ("CRC32", "SHA256"), shared by every row with the same algorithms (a few sets)
_ALGORITHMS: dict[str | None, tuple[str, ...]] = {None: ()}


def _rolled_up(key: str, prefix: str, delimiter: str) -> str | None:
    """The common prefix ``key`` rolls up into in a listing with ``delimiter`` (as listing.paginate)."""
    at = key.find(delimiter, len(prefix))
    return None if at < 0 else key[: at + len(delimiter)]


def _successor(prefix: str) -> str | None:
    """The least string above every string that starts with ``prefix`` (code point order is UTF-8
    byte order, which SQLite compares): its last character incremented, carrying past U+10FFFF;
    None when there is none."""
    while prefix:
        last = ord(prefix[-1])
        if last < 0x10FFFF:
            return prefix[:-1] + chr(0xE000 if last == 0xD7FF else last + 1)
        prefix = prefix[:-1]
    return None


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


async def _whole_if_small(
    body: AsyncIterator[bytes], limit: int
) -> tuple[bytes | None, AsyncIterator[bytes]]:
    """``(the whole body, ...)`` when it is at most ``limit`` bytes; else ``(None, an iterator
    over all of it)``: the chunks read so far, then the rest. Holds at most ``limit`` bytes plus
    one chunk in memory."""
    head: list[bytes] = []
    size = 0
    rest = aiter(body)
    async for chunk in rest:
        head.append(chunk)
        size += len(chunk)
        if size > limit:
            return None, _chain(head, rest)
    return b"".join(head), rest


async def _chain(head: list[bytes], rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    for chunk in head:
        yield chunk
    async for chunk in rest:
        yield chunk


async def _write(path: str | Path, body: AsyncIterator[bytes], digests: Digests) -> None:
    """Stream ``body`` into ``path``, hashing it; batches of chunks go to a worker thread.

    A body of at most INLINE_WRITE bytes (most objects) is hashed and written on the event loop:
    open, write and close of a few KiB into the page cache take tens of microseconds, a thread
    hop (submit, worker wake-up, loop wake-up) several times that. A body smaller than one batch
    costs one thread hop for open, write and close together.
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
        if handle is None and size <= INLINE_WRITE:
            _write_file(path, pending, digests)
        elif handle is None:
            await asyncio.to_thread(_write_file, path, pending, digests)
        elif pending:
            await asyncio.to_thread(_write_batch, handle, pending, digests)
    finally:
        if handle is not None:
            await asyncio.to_thread(handle.close)


def _write_file(path: str | Path, chunks: list[bytes], digests: Digests) -> None:
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


def _unlink(path: str | Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _rename(tmp: str | Path, final: str) -> None:
    """``os.replace``, creating the final file's directory the first time one is needed (asking
    every time would cost a ``mkdir`` system call per write)."""
    try:
        os.replace(tmp, final)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(final), exist_ok=True)
        os.replace(tmp, final)


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
