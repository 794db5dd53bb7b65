"""Stream storage and the dynamodbstreams handlers in-process: records, retention, iterators, status."""

from __future__ import annotations

import asyncio
import time

import pytest

from services.dynamodb import schema
from services.dynamodb.changes import record_change
from services.dynamodb.handlers import streams as ops
from services.dynamodb.storage import DynamoStore
from services.dynamodb.streams import (
    RETENTION,
    SEQ_BASE,
    SERVICE_IDENTITY,
    Iterator,
    lambda_record,
    stream_log,
)
from shared.aws.errors import AwsError
from shared.context import RequestContext

NOW = 1_700_000_000.0


@pytest.fixture
def store(tmp_path):
    store = DynamoStore(tmp_path / "d.db")
    yield store
    store.close()


def context(store: DynamoStore) -> RequestContext:
    return RequestContext("dynamodb", "Test", "r", "000000000000", "us-east-1", state=store)


def new_table(store: DynamoStore, view: str | None = "NEW_AND_OLD_IMAGES", name: str = "tab") -> dict:
    req = {
        "TableName": name,
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
    }
    if view:
        req["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view}
    desc = schema.new_description(context(store), req, NOW)
    store.create_table("000000000000", "us-east-1", desc)
    return desc


def item(key: str, **values: str) -> dict:
    return {"id": {"S": key}, **{k: {"N": v} for k, v in values.items()}}


def call(handler, store: DynamoStore, **req):
    return asyncio.run(handler(context(store), req))


def error_code(handler, store: DynamoStore, **req) -> str:
    with pytest.raises(AwsError) as err:
        call(handler, store, **req)
    return err.value.code


def test_changes_become_records_with_growing_sequence_numbers(store):
    desc = new_table(store)
    ctx = context(store)
    record_change(ctx, desc, None, item("a", v="1"))
    record_change(ctx, desc, item("a", v="1"), item("a", v="1"))  # unchanged: no record
    record_change(ctx, desc, item("a", v="1"), item("a", v="2"))
    record_change(ctx, desc, item("a", v="2"), None, SERVICE_IDENTITY)
    record_change(ctx, desc, None, None)
    log = stream_log(store)
    (stream,) = log.streams("000000000000", "us-east-1")
    records = log.records(stream.arn, stream.trimmed, 100)
    assert [doc["eventName"] for _, doc in records] == ["INSERT", "MODIFY", "REMOVE"]
    seqs = [seq for seq, _ in records]
    assert seqs == sorted(seqs) and seqs[0] >= stream.first_seq
    assert records[2][1]["userIdentity"] == SERVICE_IDENTITY
    assert "userIdentity" not in records[0][1]
    event = lambda_record(*records[2], stream.arn)
    assert event["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    assert event["dynamodb"]["SequenceNumber"] == str(SEQ_BASE + seqs[2])
    assert event["eventSourceARN"] == desc["LatestStreamArn"]


def test_tables_without_a_stream_record_nothing(store):
    desc = new_table(store, view=None)
    record_change(context(store), desc, None, item("a"))
    assert stream_log(store).streams("000000000000", "us-east-1") == []


def test_records_are_published_when_a_publisher_is_set(store):
    desc = new_table(store, "KEYS_ONLY")
    published = []
    stream_log(store).publish = lambda topic, event: published.append((topic, event))
    record_change(context(store), desc, None, item("a", v="1"))
    ((topic, event),) = published
    assert topic == f"dynamodb.stream.{desc['TableArn']}"
    assert event["dynamodb"]["Keys"] == {"id": {"S": "a"}} and "NewImage" not in event["dynamodb"]


def test_get_records_reads_in_order_and_pages(store):
    desc = new_table(store)
    for n in range(5):
        record_change(context(store), desc, None, item(f"k{n}"))
    arn = desc["LatestStreamArn"]
    shard = call(ops.describe_stream, store, StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = call(ops.get_shard_iterator, store, StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    seen = []
    it = it["ShardIterator"]
    for _ in range(3):
        out = call(ops.get_records, store, ShardIterator=it, Limit=2)
        seen += [r["dynamodb"]["Keys"]["id"]["S"] for r in out["Records"]]
        it = out["NextShardIterator"]
    assert seen == [f"k{n}" for n in range(5)]


def test_iterators_expire_after_fifteen_minutes(store):
    desc = new_table(store)
    record_change(context(store), desc, None, item("a"))
    (stream,) = stream_log(store).streams("000000000000", "us-east-1")
    old = Iterator(stream.arn, stream.shard_id, stream.trimmed, time.time() - 15 * 60 - 1).encode()
    assert error_code(ops.get_records, store, ShardIterator=old) == "ExpiredIteratorException"
    fresh = Iterator(stream.arn, stream.shard_id, stream.trimmed, time.time() - 14 * 60).encode()
    assert len(call(ops.get_records, store, ShardIterator=fresh)["Records"]) == 1


def test_retention_trims_old_records(store):
    desc = new_table(store)
    log = stream_log(store)
    now = time.time()
    log.append("000000000000", "us-east-1", desc, None, item("old"), now=now - RETENTION - 10)
    seq_new, _ = log.append("000000000000", "us-east-1", desc, None, item("new"), now=now)
    (stream,) = log.streams("000000000000", "us-east-1")
    horizon = Iterator(stream.arn, stream.shard_id, stream.trimmed, now).encode()
    assert log.trim(now) == 1
    assert error_code(ops.get_records, store, ShardIterator=horizon) == "TrimmedDataAccessException"
    common = {"StreamArn": stream.arn, "ShardId": stream.shard_id}
    at_old = {"ShardIteratorType": "AT_SEQUENCE_NUMBER", "SequenceNumber": str(SEQ_BASE + seq_new - 1)}
    assert error_code(ops.get_shard_iterator, store, **common, **at_old) == "TrimmedDataAccessException"
    it = call(ops.get_shard_iterator, store, **common, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = call(ops.get_records, store, ShardIterator=it)["Records"]
    assert [r["dynamodb"]["Keys"]["id"]["S"] for r in records] == ["new"]


def test_a_deleted_table_disables_its_stream_which_goes_after_a_day(store):
    desc = new_table(store)
    record_change(context(store), desc, None, item("a"))
    store.delete_table("000000000000", "us-east-1", "tab")
    listed = call(ops.list_streams, store)["Streams"]
    assert [s["StreamArn"] for s in listed] == [desc["LatestStreamArn"]]
    described = call(ops.describe_stream, store, StreamArn=desc["LatestStreamArn"])["StreamDescription"]
    assert described["StreamStatus"] == "DISABLED"
    assert "EndingSequenceNumber" in described["Shards"][0]["SequenceNumberRange"]
    stream_log(store).trim(time.time() + RETENTION + 1)
    assert call(ops.list_streams, store)["Streams"] == []


def test_list_streams_pages_in_arn_order(store):
    arns = sorted(new_table(store, "KEYS_ONLY", name=f"tab{n}")["LatestStreamArn"] for n in range(5))
    first = call(ops.list_streams, store, Limit=2)
    assert [s["StreamArn"] for s in first["Streams"]] == arns[:2]
    rest = call(ops.list_streams, store, ExclusiveStartStreamArn=first["LastEvaluatedStreamArn"])
    assert [s["StreamArn"] for s in rest["Streams"]] == arns[2:]
    assert "LastEvaluatedStreamArn" not in rest
    assert [s["TableName"] for s in call(ops.list_streams, store, TableName="tab3")["Streams"]] == ["tab3"]


def test_malformed_iterators_and_sequence_numbers(store):
    desc = new_table(store)
    assert error_code(ops.get_records, store, ShardIterator="x|1|!!") == "ValidationException"
    shard = call(ops.describe_stream, store, StreamArn=desc["LatestStreamArn"])["StreamDescription"][
        "Shards"
    ][0]
    bad = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": "12x"}
    code = error_code(
        ops.get_shard_iterator, store, StreamArn=desc["LatestStreamArn"], ShardId=shard["ShardId"], **bad
    )
    assert code == "ValidationException"
