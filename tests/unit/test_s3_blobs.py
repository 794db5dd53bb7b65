"""Small objects kept in SQLite (``blobs``): the boundary with files, ranges, replacement and
deletion in every versioning state, and bodies whose chunks straddle the limit."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sqlite3

import pytest

from services.s3 import storage
from services.s3.storage import BLOB, INLINE_OBJECT, ObjectAttrs, S3Store
from shared.aws.errors import AwsError


async def chunks(data: bytes, size: int):
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def read_all(stream) -> bytes:
    if isinstance(stream, bytes):
        return stream
    return b"".join([c async for c in stream])


def put(store: S3Store, key: str, data: bytes, versioning: str | None = None, size: int = 1000):
    return asyncio.run(store.put_object("b", key, chunks(data, size), ObjectAttrs(), versioning=versioning))


def blob_count(tmp_path) -> int:
    with sqlite3.connect(tmp_path / "s3.db") as db:
        return db.execute("SELECT count(*) FROM blobs").fetchone()[0]


def object_files(tmp_path) -> list[str]:
    return [p.name for p in (tmp_path / "objects").rglob("*") if p.is_file()]


@pytest.fixture
def store(tmp_path):
    s = S3Store(tmp_path)
    s.create_bucket("b", "a", "r")
    yield s
    s.close()


@pytest.mark.parametrize(
    ("size", "inline"), [(0, True), (1024, True), (INLINE_OBJECT, True), (INLINE_OBJECT + 1, False)]
)
@pytest.mark.parametrize("chunk", [1, 4096, 1 << 20])
def test_small_bodies_are_blobs_larger_ones_files(store, tmp_path, size, inline, chunk):
    if chunk == 1 and size > 4096:
        chunk = 997  # byte-sized chunks of 64 KiB take too long; any size that straddles the limit
    data = os.urandom(size)
    meta = put(store, "k", data, size=chunk)
    assert meta.file.startswith(BLOB) == inline
    assert meta.size == size and meta.etag == hashlib.md5(data).hexdigest()
    assert store.object("b", "k") == meta
    assert asyncio.run(read_all(store.open_object(meta))) == data
    assert (blob_count(tmp_path), len(object_files(tmp_path))) == ((1, 0) if inline else (0, 1))


def test_blob_ranges(store):
    data = bytes(range(256)) * 4
    meta = put(store, "k", data)
    assert store.open_object(meta, 0, 0) == data[:1]
    assert store.open_object(meta, 10, 99) == data[10:100]
    assert store.open_object(meta, 1000) == data[1000:]
    assert store.open_object(put(store, "empty", b"")) == b""


def test_replace_between_blob_and_file(store, tmp_path):
    big = os.urandom(INLINE_OBJECT + 10)
    put(store, "k", b"small")
    file_meta = put(store, "k", big)
    assert blob_count(tmp_path) == 0 and object_files(tmp_path) == [file_meta.file]
    small = put(store, "k", b"small again")
    assert blob_count(tmp_path) == 1 and object_files(tmp_path) == []
    assert store.open_object(store.object("b", "k")) == b"small again" == store.open_object(small)
    assert store.delete_object("b", "k").removed == small
    assert blob_count(tmp_path) == 0 and store.object("b", "k") is None


def test_versions_keep_their_blobs_until_deleted(store, tmp_path):
    first = put(store, "k", b"one", versioning="Enabled")
    second = put(store, "k", b"two", versioning="Enabled")
    marker = store.delete_object("b", "k", versioning="Enabled")
    assert marker.delete_marker and blob_count(tmp_path) == 2
    assert store.open_object(store.version("b", "k", first.version_id)) == b"one"
    store.delete_object("b", "k", second.version_id)
    assert blob_count(tmp_path) == 1
    store.delete_object("b", "k", marker.version_id)  # the marker goes: "one" is current again
    assert store.open_object(store.object("b", "k")) == b"one"
    suspended = put(store, "k", b"null one", versioning="Suspended")
    put(store, "k", b"null two", versioning="Suspended")  # replaces the null version and its blob
    assert blob_count(tmp_path) == 2  # "one" (noncurrent) and "null two"
    with pytest.raises(AwsError) as err:
        store.open_object(suspended)  # its blob went with the replace
    assert err.value.code == "NoSuchKey"
    store.delete_object("b", "k", first.version_id)
    store.delete_object("b", "k", "null")
    assert blob_count(tmp_path) == 0


def test_refused_small_write_stores_nothing(store, tmp_path):
    def reject(_digests):
        raise AwsError("BadDigest", "no")

    with pytest.raises(AwsError):
        asyncio.run(store.put_object("b", "k", chunks(b"abc", 1), ObjectAttrs(), verify=reject))
    with pytest.raises(AwsError) as err:
        asyncio.run(store.put_object("gone", "k", chunks(b"abc", 1), ObjectAttrs()))
    assert err.value.code == "NoSuchBucket"
    assert blob_count(tmp_path) == 0 and store.object("b", "k") is None


def test_blobs_survive_reopening(tmp_path):
    s = S3Store(tmp_path)
    s.create_bucket("b", "a", "r")
    meta = put(s, "k", b"kept")
    s.close()
    again = S3Store(tmp_path)
    try:
        assert again.open_object(again.object("b", "k")) == b"kept" and meta.file.startswith(storage.BLOB)
    finally:
        again.close()
