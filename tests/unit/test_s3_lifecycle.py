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
