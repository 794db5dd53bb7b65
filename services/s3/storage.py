"""S3 state: object bytes in files, bucket and object metadata in SQLite.

Every write of an object streams into a temporary file next to the objects, hashing as it
goes, and is renamed (``os.replace``) to a fresh name of its own; the metadata row, which names
that file, is then committed in one statement, so readers see either the old object or the new
one, never half of one. The file of a replaced or deleted object is unlinked afterwards; a reader
that already opened it keeps reading its own copy (POSIX keeps an open file alive).

Bucket names are global, as in AWS: the ``buckets`` table is keyed by name alone and remembers
the owning account and region. File I/O runs in worker threads in chunks (never a whole object
in memory); SQLite calls are short and synchronous, like shared.records.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

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
    created TEXT NOT NULL
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
    PRIMARY KEY (bucket, key)
) WITHOUT ROWID;
"""


@dataclass(frozen=True)
class Bucket:
    name: str
    account: str
    region: str
    created: datetime


@dataclass(frozen=True)
class ObjectAttrs:
    """What the client says about an object when it writes it."""

    content_type: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # CacheControl, ContentEncoding, Expires (ISO) ...
    algorithms: tuple[str, ...] = ()  # flexible checksums to compute besides CRC32


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
        self._objects = str(self.objects_dir)
        self._db = sqlite3.connect(str(self.root / "s3.db"), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    # -- buckets ------------------------------------------------------------------------

    def create_bucket(self, name: str, account: str, region: str) -> tuple[Bucket, bool]:
        """The bucket of that name and whether this call created it (False: it existed, maybe another's)."""
        created = _now()
        cur = self._db.execute(
            "INSERT OR IGNORE INTO buckets (name, account, region, created) VALUES (?, ?, ?, ?)",
            (name, account, region, created.isoformat()),
        )
        bucket = self.bucket(name)
        assert bucket is not None
        return bucket, cur.rowcount == 1

    def bucket(self, name: str) -> Bucket | None:
        row = self._db.execute(
            "SELECT name, account, region, created FROM buckets WHERE name = ?", (name,)
        ).fetchone()
        return _bucket(row) if row else None

    def buckets(self, account: str, prefix: str = "", after: str = "", limit: int = 10000) -> list[Bucket]:
        """The account's buckets (every region) in name order."""
        rows = self._db.execute(
            "SELECT name, account, region, created FROM buckets WHERE account = ? AND name > ? "
            "AND substr(name, 1, ?) = ? ORDER BY name LIMIT ?",
            (account, after, len(prefix), prefix, limit),
        )
        return [_bucket(row) for row in rows]

    def delete_bucket(self, name: str) -> None:
        """Raises NoSuchBucket, or BucketNotEmpty while it holds an object."""
        with self._transaction():
            if self.bucket(name) is None:
                raise errors.no_such_bucket(name)
            if self._db.execute("SELECT 1 FROM objects WHERE bucket = ? LIMIT 1", (name,)).fetchone():
                raise errors.bucket_not_empty(name)
            self._db.execute("DELETE FROM buckets WHERE name = ?", (name,))

    # -- objects ------------------------------------------------------------------------

    async def put_object(
        self,
        bucket: str,
        key: str,
        body: AsyncIterator[bytes],
        attrs: ObjectAttrs,
        verify: Verify | None = None,
    ) -> ObjectMeta:
        """Stream ``body`` to disk and commit it as ``bucket/key`` (raises NoSuchBucket)."""
        digests = Digests(attrs.algorithms)
        name = uuid.uuid4().hex
        final = self._path(name)
        tmp = self.objects_dir / f".tmp-{name}"
        try:
            await _write(tmp, body, digests)
            checksums = verify(digests) if verify is not None else {}
            final.parent.mkdir(exist_ok=True)
            os.replace(tmp, final)
            meta = ObjectMeta(
                bucket=bucket,
                key=key,
                size=digests.size,
                etag=digests.etag,
                last_modified=_now(),
                content_type=attrs.content_type,
                metadata=dict(attrs.metadata),
                headers=dict(attrs.headers),
                checksums=checksums,
                file=name,
            )
            old = self._commit(meta)
        except BaseException:
            _unlink(tmp)
            _unlink(final)
            raise
        if old is not None:
            _unlink(self._path(old))
        return meta

    def _commit(self, meta: ObjectMeta) -> str | None:
        """Insert or replace the row; returns the file of the object it replaced."""
        with self._transaction():
            if self.bucket(meta.bucket) is None:
                raise errors.no_such_bucket(meta.bucket)
            row = self._db.execute(
                "SELECT file FROM objects WHERE bucket = ? AND key = ?", (meta.bucket, meta.key)
            ).fetchone()
            self._db.execute(
                "INSERT OR REPLACE INTO objects (bucket, key, size, etag, last_modified, content_type, "
                "metadata, headers, checksums, file) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
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
                ),
            )
            return row[0] if row else None

    def object(self, bucket: str, key: str) -> ObjectMeta | None:
        row = self._db.execute(
            f"SELECT {_OBJECT_COLUMNS} FROM objects WHERE bucket = ? AND key = ?", (bucket, key)
        ).fetchone()
        return _object(row) if row else None

    def delete_object(self, bucket: str, key: str) -> bool:
        """False when there was no such object (S3 answers 204 either way)."""
        row = self._db.execute(
            "DELETE FROM objects WHERE bucket = ? AND key = ? RETURNING file", (bucket, key)
        ).fetchone()
        if row is None:
            return False
        _unlink(self._path(row[0]))
        return True

    def keys(self, bucket: str, prefix: str = "", after: str = "", batch: int = 1000) -> Iterator[ObjectMeta]:
        """Objects whose key starts with ``prefix`` and sorts after ``after``, in S3's (UTF-8 binary) order.

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

    def _path(self, name: str) -> Path:
        return self.objects_dir / name[:2] / name

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


_OBJECT_COLUMNS = "bucket, key, size, etag, last_modified, content_type, metadata, headers, checksums, file"


def _bucket(row: tuple) -> Bucket:
    return Bucket(row[0], row[1], row[2], datetime.fromisoformat(row[3]))


def _object(row: tuple) -> ObjectMeta:
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
    )


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
