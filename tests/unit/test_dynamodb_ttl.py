"""The TTL sweep with a fake clock: what expires, index rows, stream records, batches, the interval."""

from __future__ import annotations

import asyncio

import pytest

from services.dynamodb import indexes, schema, ttl
from services.dynamodb.handlers.common import item_key
from services.dynamodb.storage import DynamoStore, RowKey
from services.dynamodb.streams import SERVICE_IDENTITY, stream_log
from shared.context import RequestContext
from shared.settings import Settings

NOW = 1_700_000_000.0
ACCOUNT, REGION = "000000000000", "us-east-1"


@pytest.fixture
def store(tmp_path):
    store = DynamoStore(tmp_path / "d.db")
    yield store
    store.close()


def new_table(store: DynamoStore, ttl_attribute: str | None = "expires") -> dict:
    ctx = RequestContext("dynamodb", "Test", "r", ACCOUNT, REGION, state=store)
    req = {
        "TableName": "t",
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [
            {"AttributeName": "id", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "by_g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "OLD_IMAGE"},
    }
    desc = schema.new_description(ctx, req, NOW)
    if ttl_attribute:
        desc["_TimeToLive"] = {"TimeToLiveStatus": "ENABLED", "AttributeName": ttl_attribute}
    store.create_table(ACCOUNT, REGION, desc)
    return desc


def put(store: DynamoStore, desc: dict, key: str, expires: dict | None) -> None:
    item = {"id": {"S": key}, "g": {"S": "group"}}
    if expires is not None:
        item["expires"] = expires
    indexes.write_item(store, desc, RowKey(*item_key(desc, item)), None, item)


def remaining(store: DynamoStore, desc: dict) -> list[str]:
    return sorted(i["id"]["S"] for i in store.items(desc["TableId"]))


def sweep(store: DynamoStore, now: float) -> int:
    return asyncio.run(ttl.sweep_once(store, now))


def test_expired_items_go_and_others_stay(store):
    desc = new_table(store)
    put(store, desc, "past", {"N": str(int(NOW) - 1)})
    put(store, desc, "fraction", {"N": f"{NOW - 0.5}"})
    put(store, desc, "future", {"N": str(int(NOW) + 60)})
    put(store, desc, "now", {"N": str(int(NOW))})  # not yet in the past
    put(store, desc, "ancient", {"N": str(int(NOW) - 6 * 365 * 24 * 3600)})  # > 5 years: left alone
    put(store, desc, "string", {"S": str(int(NOW) - 1)})
    put(store, desc, "none", None)
    assert sweep(store, NOW) == 2
    assert remaining(store, desc) == ["ancient", "future", "none", "now", "string"]
    assert store.table_stats(desc["TableId"], "by_g")[0] == 5  # index rows went with their items
    assert sweep(store, NOW + 61) == 2
    assert remaining(store, desc) == ["ancient", "none", "string"]


def test_deletions_are_service_removes_in_the_stream(store):
    desc = new_table(store)
    put(store, desc, "a", {"N": "1699999000"})
    sweep(store, NOW)
    log = stream_log(store)
    (stream,) = log.streams(ACCOUNT, REGION)
    ((_, record),) = log.records(stream.arn, stream.trimmed, 10)
    assert record["eventName"] == "REMOVE"
    assert record["userIdentity"] == SERVICE_IDENTITY
    assert record["dynamodb"]["OldImage"]["expires"] == {"N": "1699999000"}


def test_many_items_are_deleted_in_batches(store):
    desc = new_table(store)
    for n in range(ttl.BATCH * 2 + 5):
        put(store, desc, f"k{n:04d}", {"N": str(int(NOW) - n - 1)})
    put(store, desc, "keep", {"N": str(int(NOW) + 1)})
    assert sweep(store, NOW) == ttl.BATCH * 2 + 5
    assert remaining(store, desc) == ["keep"]


def test_tables_without_ttl_are_not_swept(store):
    desc = new_table(store, ttl_attribute=None)
    put(store, desc, "a", {"N": "1"})
    assert sweep(store, NOW) == 0
    assert remaining(store, desc) == ["a"]


def test_interval_from_settings():
    assert ttl.interval(Settings("dynamodb")) == ttl.DEFAULT_INTERVAL
    env = {"FLOTILLA_DYNAMODB_TTL_INTERVAL": "0.5"}
    assert ttl.interval(Settings.from_env("dynamodb", env)) == 0.5
    assert ttl.interval(Settings.from_env("dynamodb", {"FLOTILLA_DYNAMODB_TTL_INTERVAL": "x"})) == 30.0


def test_the_background_task_sweeps(store):
    desc = new_table(store)
    put(store, desc, "gone", {"N": "1699999999"})

    async def scenario() -> None:
        async with ttl.running(store, 0.01):
            for _ in range(500):  # up to 5 s
                if not remaining(store, desc):
                    return
                await asyncio.sleep(0.01)

    asyncio.run(scenario())
    assert remaining(store, desc) == []
