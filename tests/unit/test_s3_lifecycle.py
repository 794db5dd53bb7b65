"""The lifecycle sweep on a real S3Store in a temporary directory, with a fake clock: Days rounded to
midnight UTC, Date, prefix/tag/size filters, disabled rules, aborted multipart uploads, and the
configurations read from config.db (a deleted bucket's left out)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from services.s3 import bucket_config, lifecycle
from services.s3.lifecycle import Filter, due, sweep_once
from services.s3.storage import ObjectAttrs, S3Store
from shared.settings import Settings


async def _body(data: bytes):
    yield data


@pytest.fixture
def store(tmp_path):
    s = S3Store(tmp_path)
    s.create_bucket("b", "000000000000", "us-east-1")
    yield s
    s.close()


def put(
    store: S3Store, key: str, size: int = 3, tags: dict[str, str] | None = None, bucket: str = "b"
) -> None:
    attrs = ObjectAttrs(tags=tags or {})
    asyncio.run(store.put_object(bucket, key, _body(b"x" * size), attrs))


def sweep(store: S3Store, rules: list[dict], now: datetime, bucket: str = "b") -> lifecycle.SweepResult:
    return asyncio.run(sweep_once(store, {bucket: {"Rules": rules}}, now))


def keys(store: S3Store, bucket: str = "b") -> list[str]:
    return [m.key for m in store.keys(bucket)]


def days(n: int, **rule: object) -> dict:
    return {"ID": f"d{n}", "Status": "Enabled", "Expiration": {"Days": n}, **rule}


def test_days_are_rounded_up_to_midnight_utc():
    written = datetime(2024, 1, 15, 10, 30, tzinfo=UTC)
    assert due(written, 1) == datetime(2024, 1, 17, tzinfo=UTC)
    assert due(datetime(2024, 1, 15, tzinfo=UTC), 1) == datetime(2024, 1, 16, tzinfo=UTC)
    assert due(datetime(2024, 1, 15, 23, 59, 59, tzinfo=UTC), 30) == datetime(2024, 2, 15, tzinfo=UTC)


def test_days_expiration_uses_last_modified(store):
    put(store, "old")
    written = store.object("b", "old").last_modified
    expires = due(written, 2)
    assert sweep(store, [days(2)], expires - timedelta(seconds=1)).expired == []
    assert keys(store) == ["old"]
    result = sweep(store, [days(2)], expires)
    assert result.expired == [("b", "old")]
    assert keys(store) == []


def test_date_expiration_applies_to_every_matching_object(store):
    put(store, "a")
    put(store, "b")
    date = datetime(2030, 1, 1, tzinfo=UTC)
    rule = {"ID": "date", "Status": "Enabled", "Expiration": {"Date": date}, "Filter": {"Prefix": ""}}
    assert sweep(store, [rule], date - timedelta(microseconds=1)).expired == []
    assert sorted(sweep(store, [rule], date).expired) == [("b", "a"), ("b", "b")]


def test_disabled_rules_do_nothing(store):
    put(store, "k")
    later = datetime.now(UTC) + timedelta(days=400)
    assert sweep(store, [days(1, Status="Disabled")], later).expired == []
    assert keys(store) == ["k"]


def test_prefix_filters_and_the_legacy_prefix(store):
    for key in ("logs/1", "logs/2", "data/1", "logsx"):
        put(store, key)
    later = datetime.now(UTC) + timedelta(days=10)
    sweep(store, [days(1, Filter={"Prefix": "logs/"})], later)
    assert keys(store) == ["data/1", "logsx"]
    sweep(store, [days(1, Prefix="data/")], later)
    assert keys(store) == ["logsx"]


def test_tag_size_and_and_filters(store):
    put(store, "tagged", tags={"tier": "tmp", "team": "a"})
    put(store, "other-tag", tags={"tier": "keep"})
    put(store, "small", size=1)
    put(store, "big", size=100)
    later = datetime.now(UTC) + timedelta(days=10)
    sweep(store, [days(1, Filter={"Tag": {"Key": "tier", "Value": "tmp"}})], later)
    assert "tagged" not in keys(store) and "other-tag" in keys(store)
    sweep(store, [days(1, Filter={"ObjectSizeGreaterThan": 50})], later)
    assert "big" not in keys(store) and "small" in keys(store)
    both = {"And": {"Prefix": "sm", "ObjectSizeLessThan": 2, "Tags": []}}
    sweep(store, [days(1, Filter=both)], later)
    assert keys(store) == ["other-tag"]


def test_filter_of_every_form():
    assert Filter.of({"Prefix": "p/"}) == Filter(prefix="p/")
    spec = {"And": {"Prefix": "x", "Tags": [{"Key": "k", "Value": "v"}], "ObjectSizeGreaterThan": 5}}
    assert Filter.of({"Filter": spec}) == Filter(prefix="x", tags=(("k", "v"),), greater_than=5)
    assert Filter.of({"Filter": {}}) == Filter()
    assert not Filter(tags=(("k", "v"),)).prefix_only


def test_incomplete_multipart_uploads_are_aborted(store):
    keep = store.create_upload("b", "keep/x", "000000000000", ObjectAttrs())
    stale = store.create_upload("b", "tmp/x", "000000000000", ObjectAttrs())
    rule = {
        "ID": "abort",
        "Status": "Enabled",
        "Filter": {"Prefix": "tmp/"},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
    }
    assert sweep(store, [rule], datetime.now(UTC)).aborted == []
    result = sweep(store, [rule], due(stale.initiated, 1))
    assert result.aborted == [stale.id]
    assert store.upload(stale.id) is None and store.upload(keep.id) is not None


def test_aborting_ignores_rules_filtering_by_tag(store):
    upload = store.create_upload("b", "x", "000000000000", ObjectAttrs())
    rule = {
        "Status": "Enabled",
        "Filter": {"Tag": {"Key": "k", "Value": "v"}},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
    }
    assert sweep(store, [rule], datetime.now(UTC) + timedelta(days=10)).aborted == []
    assert store.upload(upload.id) is not None


def test_configs_come_from_the_configuration_store(store):
    store.create_bucket("gone", "000000000000", "us-east-1")
    configs = bucket_config.configs(SimpleNamespace(state=store))
    rules = {"Rules": [days(1)]}
    configs.put(store.bucket("b"), "lifecycle", rules)
    configs.put(store.bucket("gone"), "lifecycle", rules)
    configs.put(store.bucket("b"), "cors", {"CORSRules": []})
    store.delete_bucket("gone")
    assert lifecycle.lifecycle_configs(store) == {"b": rules}


def test_the_background_task_sweeps_until_stopped(store):
    put(store, "k")
    configs = bucket_config.configs(SimpleNamespace(state=store))
    date = datetime(2000, 1, 1, tzinfo=UTC)
    configs.put(
        store.bucket("b"), "lifecycle", {"Rules": [{"Status": "Enabled", "Expiration": {"Date": date}}]}
    )

    async def scenario() -> None:
        async with lifecycle.running(store, 0.01) as task:
            for _ in range(500):  # a 5 s deadline
                if not keys(store):
                    break
                await asyncio.sleep(0.01)
        assert task.cancelled()

    asyncio.run(scenario())
    assert keys(store) == []


def test_interval_from_settings():
    assert lifecycle.interval(Settings("s3")) == 60
    assert lifecycle.interval(Settings.from_env("s3", {"FLOTILLA_S3_LIFECYCLE_INTERVAL": "1.5"})) == 1.5
    assert lifecycle.interval(Settings.from_env("s3", {"FLOTILLA_S3_LIFECYCLE_INTERVAL": "soon"})) == 60


# -- versioned buckets ----------------------------------------------------------------------------


def vput(store: S3Store, key: str, size: int = 3, versioning: str = "Enabled", tags=None) -> str:
    attrs = ObjectAttrs(tags=tags or {})
    meta = asyncio.run(store.put_object("b", key, _body(b"x" * size), attrs, versioning=versioning))
    return meta.version_id


def vsweep(
    store: S3Store, rules: list[dict], now: datetime, status: str = "Enabled"
) -> lifecycle.SweepResult:
    return asyncio.run(sweep_once(store, {"b": {"Rules": rules}}, now, {"b": status}))


def history(store: S3Store, key: str) -> list[tuple[str, bool]]:
    return [(m.version_id, m.delete_marker) for m in store.key_versions("b", key)]


def test_expiration_in_a_versioned_bucket_adds_a_delete_marker(store):
    version = vput(store, "k")
    later = datetime.now(UTC) + timedelta(days=10)
    assert vsweep(store, [days(1)], later).expired == [("b", "k")]
    (marker, is_marker), (kept, kept_marker) = history(store, "k")
    assert is_marker and (kept, kept_marker) == (version, False)  # the data stays, noncurrent
    assert vsweep(store, [days(1)], later).expired == []  # a marker is not expired again


def test_expiration_in_a_suspended_bucket_adds_a_null_marker(store):
    old = vput(store, "k")
    vput(store, "k", versioning="Suspended")  # the null version
    vsweep(store, [days(1)], datetime.now(UTC) + timedelta(days=10), status="Suspended")
    assert history(store, "k") == [("null", True), (old, False)]  # the null version was replaced


def test_expired_object_delete_markers(store):
    version = vput(store, "k")
    store.delete_object("b", "k", versioning="Enabled")
    store.delete_object("b", "k", version)  # the marker is now the only version
    rule = {"ID": "m", "Status": "Enabled", "Expiration": {"ExpiredObjectDeleteMarker": True}}
    vput(store, "other")
    store.delete_object("b", "other", versioning="Enabled")  # a marker with a version behind it
    result = vsweep(store, [rule], datetime.now(UTC))
    assert [r[:2] for r in result.removed] == [("b", "k")]
    assert history(store, "k") == [] and len(history(store, "other")) == 2
    # a Days rule removes them too, once they are that old
    store.delete_object("b", "gone", versioning="Enabled")
    assert vsweep(store, [days(3)], datetime.now(UTC)).removed == []
    assert [r[:2] for r in vsweep(store, [days(3)], datetime.now(UTC) + timedelta(days=5)).removed] == [
        ("b", "gone")
    ]


def test_noncurrent_version_expiration_and_newer_noncurrent_versions(store):
    ids = [vput(store, "k") for _ in range(4)]  # ids[-1] is current
    rule = {"ID": "nc", "Status": "Enabled", "NoncurrentVersionExpiration": {"NoncurrentDays": 2}}
    assert vsweep(store, [rule], datetime.now(UTC)).removed == []
    keep_one = {**rule, "NoncurrentVersionExpiration": {"NoncurrentDays": 2, "NewerNoncurrentVersions": 1}}
    later = datetime.now(UTC) + timedelta(days=3)
    removed = vsweep(store, [keep_one], later).removed
    assert sorted(v for _, _, v in removed) == sorted(ids[:2])
    assert [v for v, _ in history(store, "k")] == [ids[3], ids[2]]
    vsweep(store, [rule], later)
    assert [v for v, _ in history(store, "k")] == [ids[3]]


def test_noncurrent_expiration_honours_filters(store):
    vput(store, "logs/a", tags={"t": "x"})
    vput(store, "logs/a")
    vput(store, "data/a")
    vput(store, "data/a")
    rule = {
        "ID": "f",
        "Status": "Enabled",
        "Filter": {"And": {"Prefix": "logs/", "Tags": [{"Key": "t", "Value": "x"}]}},
        "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
    }
    removed = vsweep(store, [rule], datetime.now(UTC) + timedelta(days=3)).removed
    assert [r[:2] for r in removed] == [("b", "logs/a")]
    assert len(history(store, "logs/a")) == 1 and len(history(store, "data/a")) == 2


def test_version_keys_lists_keys_of_both_tables(store):
    vput(store, "a")
    vput(store, "b")
    store.delete_object("b", "b", versioning="Enabled")
    vput(store, "c")
    assert list(store.version_keys("b", batch=1)) == ["a", "b", "c"]
    assert list(store.version_keys("b", "b")) == ["b"]


def test_clock_offset_from_settings():
    ahead = lifecycle.clock(Settings.from_env("s3", {"FLOTILLA_S3_LIFECYCLE_CLOCK_OFFSET": "86400"}))()
    assert timedelta(hours=23) < ahead - datetime.now(UTC) <= timedelta(days=1)
