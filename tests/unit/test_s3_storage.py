"""The S3 store: global bucket names, streamed writes with digests, atomic replace, ranges, listing order."""

from __future__ import annotations

import asyncio
import hashlib
import os

import pytest

from services.s3.storage import ObjectAttrs, S3Store
from shared.aws.errors import AwsError


async def chunks(data: bytes, size: int = 100_000):
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def read_all(stream) -> bytes:
    """A body as ``open_object`` gives it: bytes when small, else a stream of chunks."""
    if isinstance(stream, bytes):
        return stream
    return b"".join([c async for c in stream])


@pytest.fixture
def store(tmp_path):
    s = S3Store(tmp_path)
    yield s
    s.close()


def test_bucket_names_are_global(store):
    bucket, created = store.create_bucket("b1", "111111111111", "eu-west-1")
    assert created and bucket.account == "111111111111" and bucket.region == "eu-west-1"
    again, created = store.create_bucket("b1", "222222222222", "us-east-1")
    assert not created and again.account == "111111111111"
    store.create_bucket("a0", "111111111111", "us-east-1")
    store.create_bucket("c2", "222222222222", "us-east-1")
    assert [b.name for b in store.buckets("111111111111")] == ["a0", "b1"]
    assert [b.name for b in store.buckets("111111111111", prefix="b")] == ["b1"]
    assert [b.name for b in store.buckets("111111111111", after="a0")] == ["b1"]


def test_put_get_replace_and_delete(store, tmp_path):
    store.create_bucket("b", "a", "r")
    data = os.urandom(3 * 1024 * 1024 + 17)
    attrs = ObjectAttrs(content_type="text/plain", metadata={"k": "v"}, headers={"CacheControl": "no-cache"})
    meta = asyncio.run(store.put_object("b", "dir/key", chunks(data), attrs))
    assert meta.size == len(data) and meta.etag == hashlib.md5(data).hexdigest()
    got = store.object("b", "dir/key")
    assert got == meta and got.metadata == {"k": "v"} and got.headers == {"CacheControl": "no-cache"}
    assert asyncio.run(read_all(store.open_object(got))) == data
    assert asyncio.run(read_all(store.open_object(got, 10, 99_999))) == data[10:100_000]

    stream = store.open_object(got)  # opened before the replace: keeps the old bytes
    new = asyncio.run(store.put_object("b", "dir/key", chunks(b"new"), ObjectAttrs()))
    assert asyncio.run(read_all(stream)) == data
    assert store.open_object(new) == b"new"  # small: read at once
    files = [p for p in (tmp_path / "objects").rglob("*") if p.is_file()]
    assert [p.name for p in files] == [new.file]  # old file unlinked, no temp left

    with pytest.raises(AwsError) as err:
        store.delete_bucket("b")
    assert err.value.code == "BucketNotEmpty"
    assert store.delete_object("b", "dir/key") and not store.delete_object("b", "dir/key")
    assert store.object("b", "dir/key") is None
    assert not [p for p in (tmp_path / "objects").rglob("*") if p.is_file()]
    store.delete_bucket("b")
    with pytest.raises(AwsError) as err:
        store.delete_bucket("b")
    assert err.value.code == "NoSuchBucket" and err.value.status == 404


def test_failed_write_leaves_nothing(store, tmp_path):
    store.create_bucket("b", "a", "r")

    async def broken():
        yield b"x" * 2_000_000
        raise AwsError("IncompleteBody", "gone")

    with pytest.raises(AwsError):
        asyncio.run(store.put_object("b", "k", broken(), ObjectAttrs()))

    def reject(_digests):
        raise AwsError("BadDigest", "no")

    with pytest.raises(AwsError):
        asyncio.run(store.put_object("b", "k", chunks(b"abc"), ObjectAttrs(), verify=reject))
    with pytest.raises(AwsError) as err:
        asyncio.run(store.put_object("missing", "k", chunks(b"abc"), ObjectAttrs()))
    assert err.value.code == "NoSuchBucket"
    assert store.object("b", "k") is None
    assert not [p for p in (tmp_path / "objects").rglob("*") if p.is_file()]


def test_keys_in_utf8_binary_order_with_prefix_and_batches(store):
    store.create_bucket("b", "a", "r")
    names = ["a", "a/b", "a/c", "b", "é", "z", "ä/x", "a+b", "A"]
    for name in names:
        asyncio.run(store.put_object("b", name, chunks(b"."), ObjectAttrs()))
    expected = sorted(names, key=lambda k: k.encode("utf-8"))
    assert [m.key for m in store.keys("b", batch=2)] == expected
    assert [m.key for m in store.keys("b", prefix="a/", batch=1)] == ["a/b", "a/c"]
    assert [m.key for m in store.keys("b", prefix="a", after="a/b")] == ["a/c"]
    assert [m.key for m in store.keys("b", after="z")] == ["ä/x", "é"]


def test_checksums_are_stored(store):
    store.create_bucket("b", "a", "r")
    attrs = ObjectAttrs(algorithms=("SHA256",))
    meta = asyncio.run(
        store.put_object(
            "b", "k", chunks(b"hello"), attrs, verify=lambda d: {"ChecksumSHA256": d.checksum("SHA256")}
        )
    )
    assert store.object("b", "k").checksums == meta.checksums
    assert meta.checksums["ChecksumSHA256"] == "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="
