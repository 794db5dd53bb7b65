"""The S3 store: global bucket names, streamed writes with digests, atomic replace, ranges, listing order."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sqlite3

import pytest

from services.s3 import storage
from services.s3.storage import ObjectAttrs, S3Store
from shared.aws.errors import AwsError


async def chunks(data: bytes, size: int = 100_000):
    for i in range(0, len(data), size):
        yield data[i : i + size]


def stored(tmp_path) -> list[str]:
    """The object bodies the store keeps: files under objects/ (temporary ones too) and blobs,
    by the name an ObjectMeta's ``file`` gives them."""
    files = [p.name for p in (tmp_path / "objects").rglob("*") if p.is_file()]
    with sqlite3.connect(tmp_path / "s3.db") as db:
        blobs = [f"{storage.BLOB}{row[0]}" for row in db.execute("SELECT id FROM blobs ORDER BY id")]
    return files + blobs


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
    assert new.file.startswith(storage.BLOB)  # small: kept in SQLite
    assert stored(tmp_path) == [new.file]  # old file unlinked, no temp left

    with pytest.raises(AwsError) as err:
        store.delete_bucket("b")
    assert err.value.code == "BucketNotEmpty"
    assert store.delete_object("b", "dir/key") and not store.delete_object("b", "dir/key")
    assert store.object("b", "dir/key") is None
    assert not stored(tmp_path)
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
    assert not stored(tmp_path)


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


AWKWARD_KEYS = [
    "../escape",
    "../../../../../../etc/passwd",
    "/absolute/path",
    "a//b//",
    "trailing/",
    "./.",
    "..",
    "dir/../../up",
    "nul\x00byte",
    "ünï/日本語/😀",
    "k" * 1024,
    "é" * 512,
]


def test_keys_never_name_files(store, tmp_path):
    """Whatever a key holds, the object's file is a uuid under objects/ (the key is only a column)."""
    store.create_bucket("b", "a", "r")
    for i, key in enumerate(AWKWARD_KEYS):
        body = str(i).encode().ljust(storage.INLINE_OBJECT + 1, b".")  # large enough for a file
        asyncio.run(store.put_object("b", key, chunks(body), ObjectAttrs()))
    objects = (tmp_path / "objects").resolve()
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p.parent != tmp_path]
    assert len(files) == len(AWKWARD_KEYS)
    for path in files:
        assert path.resolve().parent.parent == objects
        assert len(path.name) == 32 and int(path.name, 16) >= 0 and path.parent.name == path.name[:2]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["objects", "parts", "s3.db", "s3.db-shm", "s3.db-wal"]
    )
    for i, key in enumerate(AWKWARD_KEYS):
        meta = store.object("b", key)
        body = asyncio.run(read_all(store.open_object(meta)))
        assert meta.key == key and body == str(i).encode().ljust(storage.INLINE_OBJECT + 1, b".")
    assert [m.key for m in store.keys("b")] == sorted(AWKWARD_KEYS, key=lambda k: k.encode())


def test_update_object_tags_acl_extra(store):
    store.create_bucket("b", "a", "r")
    attrs = ObjectAttrs(storage_class="GLACIER", tags={"t": "1"}, acl={"Grants": []})
    meta = asyncio.run(store.put_object("b", "k", chunks(b"x"), attrs))
    assert (meta.storage_class, meta.tags, meta.acl, meta.checksum_type) == (
        "GLACIER",
        {"t": "1"},
        {"Grants": []},
        "FULL_OBJECT",
    )
    updated = store.update_object(meta, tags={}, extra={"restore": "2030-01-01T00:00:00+00:00"})
    assert store.object("b", "k") == updated and updated.tags == {} and updated.etag == meta.etag
    asyncio.run(store.put_object("b", "k", chunks(b"y"), ObjectAttrs()))
    assert store.update_object(updated, tags={"late": "1"}) is None  # replaced meanwhile: not touched
    assert store.object("b", "k").tags == {}


def test_multipart_parts_complete_and_abort(store, tmp_path):
    store.create_bucket("b", "a", "r")
    upload = store.create_upload(
        "b", "big", "a", ObjectAttrs(content_type="text/plain", tags={"x": "y"}), "SHA256", "COMPOSITE"
    )
    assert store.upload(upload.id) == upload
    one, two = os.urandom(1_500_000), os.urandom(10)
    p1 = asyncio.run(store.put_part(upload, 1, chunks(b"old"), (), lambda d: {}))
    p1 = asyncio.run(store.put_part(upload, 1, chunks(one), (), lambda d: {}))  # replaces the first
    p2 = asyncio.run(store.put_part(upload, 2, chunks(two), (), lambda d: {}))
    asyncio.run(store.put_part(upload, 3, chunks(b"unused"), (), lambda d: {}))
    assert [p.number for p in store.parts(upload.id)] == [1, 2, 3]
    assert [p.number for p in store.parts(upload.id, after=1, limit=1)] == [2]
    assert len(list((tmp_path / "parts").iterdir())) == 3

    meta = asyncio.run(
        store.complete_upload(
            upload,
            [p1, p2],
            "etag-2",
            lambda d: {"ChecksumCRC32": d.checksum("CRC32")},
            {"checksum_type": "COMPOSITE"},
        )
    )
    assert meta.size == len(one) + len(two) and meta.etag == "etag-2" and meta.content_type == "text/plain"
    assert meta.tags == {"x": "y"} and meta.checksum_type == "COMPOSITE"
    assert asyncio.run(read_all(store.open_object(store.object("b", "big")))) == one + two
    assert store.upload(upload.id) is None and store.parts(upload.id) == []
    assert not list((tmp_path / "parts").iterdir())  # every part file gone, listed or not
    with pytest.raises(AwsError) as err:
        asyncio.run(store.complete_upload(upload, [], "e", lambda d: {}, {}))
    assert err.value.code == "NoSuchUpload"

    other = store.create_upload("b", "k", "a", ObjectAttrs())
    asyncio.run(store.put_part(other, 1, chunks(b"abc"), (), lambda d: {}))
    assert [u.id for u in store.uploads("b")] == [other.id]
    assert store.abort_upload(other.id) and not store.abort_upload(other.id)
    assert not list((tmp_path / "parts").iterdir())
    with pytest.raises(AwsError):
        asyncio.run(store.put_part(other, 1, chunks(b"abc"), (), lambda d: {}))
    assert not list((tmp_path / "parts").iterdir())


def test_uploads_order_and_markers(store):
    store.create_bucket("b", "a", "r")
    made = [store.create_upload("b", key, "a", ObjectAttrs()) for key in ("b", "a", "b", "c")]
    by_key = [(u.key, u.id) for u in store.uploads("b")]
    assert [k for k, _ in by_key] == ["a", "b", "b", "c"]
    assert [u.id for u in store.uploads("b") if u.key == "b"] == [made[0].id, made[2].id]
    assert [u.key for u in store.uploads("b", key_marker="b")] == ["c"]
    assert [u.id for u in store.uploads("b", key_marker="b", upload_id_marker=made[0].id)] == [
        made[2].id,
        made[3].id,
    ]
    assert [u.key for u in store.uploads("b", prefix="b")] == ["b", "b"]


def test_bucket_delete_drops_uploads_and_acl_kept(store, tmp_path):
    bucket, _ = store.create_bucket("b", "a", "r", acl={"Grants": [1]})
    assert bucket.acl == {"Grants": [1]}
    store.set_bucket_acl("b", None)
    assert store.bucket("b").acl is None
    upload = store.create_upload("b", "k", "a", ObjectAttrs())
    asyncio.run(store.put_part(upload, 1, chunks(b"abc"), (), lambda d: {}))
    store.delete_bucket("b")
    assert store.upload(upload.id) is None and not list((tmp_path / "parts").iterdir())


def test_old_schema_is_migrated(tmp_path):
    import sqlite3

    db = sqlite3.connect(tmp_path / "s3.db")
    db.executescript(
        "CREATE TABLE buckets (name TEXT PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, created TEXT NOT NULL);"
        "CREATE TABLE objects (bucket TEXT NOT NULL, key TEXT NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,"
        " last_modified TEXT NOT NULL, content_type TEXT, metadata TEXT NOT NULL, headers TEXT NOT NULL,"
        " checksums TEXT NOT NULL, file TEXT NOT NULL, PRIMARY KEY (bucket, key)) WITHOUT ROWID;"
        "INSERT INTO buckets VALUES ('b', 'a', 'r', '2024-01-01T00:00:00+00:00');"
        "INSERT INTO objects VALUES ('b', 'k', 1, 'e', '2024-01-01T00:00:00+00:00', NULL, '{}', '{}', '{}', 'f');"
    )
    db.commit()
    db.close()
    store = S3Store(tmp_path)
    try:
        meta = store.object("b", "k")
        assert (meta.storage_class, meta.tags, meta.acl, meta.extra) == ("STANDARD", {}, None, {})
        assert store.bucket("b").acl is None
    finally:
        store.close()


def test_open_sweeps_what_a_crash_left(tmp_path):
    store = S3Store(tmp_path)
    store.create_bucket("b", "a", "r")
    upload = store.create_upload("b", "k", "a", ObjectAttrs())
    kept = asyncio.run(store.put_part(upload, 1, chunks(b"part"), (), lambda d: {}))
    store.close()
    (tmp_path / "objects" / ".tmp-deadbeef").write_bytes(b"half an object")
    (tmp_path / "parts" / "orphan").write_bytes(b"a part nobody names")
    store = S3Store(tmp_path)
    try:
        assert not list((tmp_path / "objects").glob(".tmp-*"))
        assert [p.name for p in (tmp_path / "parts").iterdir()] == [kept.file]
        assert store.parts(upload.id)[0].size == 4
    finally:
        store.close()


# -- versions ------------------------------------------------------------------------------------


def put(store, key: str, data: bytes, versioning: str | None = "Enabled"):
    return asyncio.run(store.put_object("b", key, chunks(data), ObjectAttrs(), versioning=versioning))


def listed(store, **kwargs) -> list[tuple[str, str, bool, bool]]:
    return [(m.key, m.version_id, m.delete_marker, m.is_latest) for m in store.versions("b", **kwargs)]


def object_files(tmp_path) -> int:
    return len(stored(tmp_path))


def test_versions_markers_and_promotion(store, tmp_path):
    store.create_bucket("b", "a", "r")
    v1, v2 = put(store, "k", b"one"), put(store, "k", b"two")
    assert len(v1.version_id) == 32 and v1.version_id != v2.version_id
    assert store.object("b", "k").version_id == v2.version_id
    assert store.open_object(store.version("b", "k", v1.version_id)) == b"one"
    assert not store.version("b", "k", v1.version_id).is_latest

    gone = store.delete_object("b", "k", versioning="Enabled")
    assert gone.delete_marker and gone.removed is None and len(gone.version_id) == 32
    assert store.object("b", "k") is None and store.latest("b", "k").delete_marker
    assert listed(store) == [
        ("k", gone.version_id, True, True),
        ("k", v2.version_id, False, False),
        ("k", v1.version_id, False, False),
    ]
    assert object_files(tmp_path) == 2
    with pytest.raises(AwsError) as err:
        store.delete_bucket("b")
    assert err.value.code == "BucketNotEmpty"

    # removing the marker makes v2 current again; removing v2 then makes v1 current
    assert store.delete_object("b", "k", version_id=gone.version_id).delete_marker
    assert store.object("b", "k").version_id == v2.version_id
    removed = store.delete_object("b", "k", version_id=v2.version_id).removed
    assert removed.version_id == v2.version_id and store.object("b", "k").version_id == v1.version_id
    assert object_files(tmp_path) == 1
    assert store.delete_object("b", "k", version_id="x" * 32) is None
    store.delete_object("b", "k", version_id=v1.version_id)
    assert listed(store) == [] and object_files(tmp_path) == 0
    store.delete_bucket("b")


def test_suspended_null_version_replaces_null(store, tmp_path):
    store.create_bucket("b", "a", "r")
    null = put(store, "k", b"unversioned", versioning=None)
    assert null.version_id == "null"
    v1 = put(store, "k", b"enabled")
    assert [v for _, v, _, _ in listed(store)] == [v1.version_id, "null"]
    again = put(store, "k", b"suspended", versioning="Suspended")  # replaces the noncurrent null version
    assert listed(store) == [("k", "null", False, True), ("k", v1.version_id, False, False)]
    assert store.open_object(again) == b"suspended" and object_files(tmp_path) == 2
    marker = store.delete_object("b", "k", versioning="Suspended")  # a null marker replaces the null object
    assert marker.version_id == "null" and marker.removed.file == again.file
    assert listed(store) == [("k", "null", True, True), ("k", v1.version_id, False, False)]
    assert object_files(tmp_path) == 1


def test_version_listing_order_and_markers(store):
    store.create_bucket("b", "a", "r")
    a1 = put(store, "a", b"1")
    c1 = put(store, "c", b"1")
    a2 = put(store, "a", b"2")
    b_marker = store.delete_object("b", "b", versioning="Enabled")  # a marker for a key never written
    assert listed(store) == [
        ("a", a2.version_id, False, True),
        ("a", a1.version_id, False, False),
        ("b", b_marker.version_id, True, True),
        ("c", c1.version_id, False, True),
    ]
    assert [m.key for m in store.keys("b")] == ["a", "c"]  # listings of objects skip markers
    assert listed(store, key_marker="a", version_id_marker=a2.version_id)[0][1] == a1.version_id
    assert listed(store, key_marker="a")[0][0] == "b"
    assert listed(store, prefix="c") == [("c", c1.version_id, False, True)]


def test_version_listing_newest_first_within_a_key(store):
    store.create_bucket("b", "a", "r")
    ids = {key: [put(store, key, str(i).encode()).version_id for i in range(3)] for key in ("x", "y")}
    rows = [(m.key, m.version_id, m.is_latest) for m in store.versions("b")]
    assert rows == [(key, vid, i == 0) for key in ("x", "y") for i, vid in enumerate(reversed(ids[key]))]


def test_listing_with_a_delimiter_gives_one_key_per_common_prefix(store):
    """Keys that roll up into a common prefix are skipped in SQL, not read."""
    store.create_bucket("b", "a", "r")
    keys = ["a", "b/1", "b/2", "b/3", "b/c/1", "c", "d/1", "d\U0010ffff/1", "e"]
    for key in keys:
        put(store, key, b"", versioning=None)
    assert [m.key for m in store.listing("b", delimiter="/")] == [
        "a",
        "b/1",
        "c",
        "d/1",
        "d\U0010ffff/1",
        "e",
    ]
    assert [m.key for m in store.listing("b", prefix="b/", delimiter="/")] == ["b/1", "b/2", "b/3", "b/c/1"]
    assert [m.key for m in store.listing("b", prefix="b/", after="b/2")] == ["b/3", "b/c/1"]
    assert [m.key for m in store.listing("b", after="b/", delimiter="/")] == [
        "b/1",
        "c",
        "d/1",
        "d\U0010ffff/1",
        "e",
    ]
    assert [m.key for m in store.versions("b", delimiter="/")] == [
        "a",
        "b/1",
        "c",
        "d/1",
        "d\U0010ffff/1",
        "e",
    ]


def test_listing_rows_carry_what_a_page_shows(store):
    store.create_bucket("b", "a", "r")
    written = asyncio.run(
        store.put_object(
            "b",
            "k",
            chunks(b"data"),
            ObjectAttrs(),
            verify=lambda d: {"ChecksumCRC32": "x", "ChecksumSHA256": "y"},
        )
    )
    (row,) = store.listing("b")
    assert row == storage.Listed(
        "k", 4, written.etag, written.last_modified, "STANDARD", ("CRC32", "SHA256"), "null", False, True
    )


@pytest.mark.parametrize(
    ("prefix", "successor"),
    [("a/", "a0"), ("", None), ("\U0010ffff", None), ("a\U0010ffff", "b"), ("\ud7ff", "\ue000"), ("é", "ê")],
)
def test_successor_bounds_a_prefix(prefix, successor):
    assert storage._successor(prefix) == successor


def test_schema_migration_adds_version_column(tmp_path):
    import sqlite3

    db = sqlite3.connect(tmp_path / "s3.db")
    db.executescript(
        "CREATE TABLE objects (bucket TEXT NOT NULL, key TEXT NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,"
        " last_modified TEXT NOT NULL, content_type TEXT, metadata TEXT NOT NULL, headers TEXT NOT NULL,"
        " checksums TEXT NOT NULL, file TEXT NOT NULL, PRIMARY KEY (bucket, key)) WITHOUT ROWID;"
        "INSERT INTO objects VALUES ('b', 'k', 1, 'e', '2024-01-01T00:00:00+00:00', NULL, '{}', '{}', '{}', 'f');"
    )
    db.close()
    s = S3Store(tmp_path)
    try:
        old = s.object("b", "k")
        assert old.version_id == "null" and old.storage_class == "STANDARD" and old.is_latest
    finally:
        s.close()
