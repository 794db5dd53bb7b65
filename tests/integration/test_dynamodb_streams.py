"""DynamoDB Streams through boto3's ``dynamodbstreams`` client: streams, shards, iterators, records, the bus."""

from __future__ import annotations

import json
import time

import pytest
import redis

from tests.integration.test_dynamodb import error, unique

KEYS = [{"AttributeName": "id", "KeyType": "HASH"}]


@pytest.fixture
def ddb(aws):
    return aws("dynamodb")


@pytest.fixture
def streams(aws):
    return aws("dynamodbstreams")


def stream_table(ddb, view: str | None = "NEW_AND_OLD_IMAGES") -> tuple[str, str | None]:
    """A table (stream of ``view`` enabled at creation, or none) and its stream ARN."""
    name = unique()
    params = {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": view}} if view else {}
    desc = ddb.create_table(
        TableName=name,
        KeySchema=KEYS,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        **params,
    )["TableDescription"]
    return name, desc.get("LatestStreamArn")


def shard_of(streams, arn: str) -> str:
    return streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]


def iterator(streams, arn: str, kind: str = "TRIM_HORIZON", **more) -> str:
    return streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard_of(streams, arn), ShardIteratorType=kind, **more
    )["ShardIterator"]


def read_all(streams, arn: str, kind: str = "TRIM_HORIZON", **more) -> list[dict]:
    out = streams.get_records(ShardIterator=iterator(streams, arn, kind, **more))
    return out["Records"]


def write_three(ddb, name: str) -> None:
    """INSERT, MODIFY, an unchanged put (no record), REMOVE, and a delete of nothing (no record)."""
    ddb.put_item(TableName=name, Item={"id": {"S": "a"}, "v": {"N": "1"}})
    ddb.update_item(
        TableName=name,
        Key={"id": {"S": "a"}},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"N": "2"}},
    )
    ddb.put_item(TableName=name, Item={"id": {"S": "a"}, "v": {"N": "2"}})
    ddb.delete_item(TableName=name, Key={"id": {"S": "a"}})
    ddb.delete_item(TableName=name, Key={"id": {"S": "a"}})


def test_records_in_every_view_type(ddb, streams):
    for view, new, old in (
        ("KEYS_ONLY", [False] * 3, [False] * 3),
        ("NEW_IMAGE", [True, True, False], [False] * 3),
        ("OLD_IMAGE", [False] * 3, [False, True, True]),
        ("NEW_AND_OLD_IMAGES", [True, True, False], [False, True, True]),
    ):
        name, arn = stream_table(ddb, view)
        write_three(ddb, name)
        records = read_all(streams, arn)
        assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"], view
        assert ["NewImage" in r["dynamodb"] for r in records] == new, view
        assert ["OldImage" in r["dynamodb"] for r in records] == old, view
        for r in records:
            assert r["eventVersion"] == "1.1" and r["eventSource"] == "aws:dynamodb"
            assert r["awsRegion"] == "us-east-1" and len(r["eventID"]) == 32
            assert r["dynamodb"]["Keys"] == {"id": {"S": "a"}}
            assert r["dynamodb"]["StreamViewType"] == view
            assert r["dynamodb"]["SizeBytes"] > 0
            assert abs(r["dynamodb"]["ApproximateCreationDateTime"].timestamp() - time.time()) < 120
            assert "userIdentity" not in r
        numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
        assert numbers == sorted(numbers) and len(set(numbers)) == 3
        assert all(len(r["dynamodb"]["SequenceNumber"]) >= 21 for r in records)
        if view == "NEW_AND_OLD_IMAGES":
            assert records[1]["dynamodb"]["OldImage"]["v"] == {"N": "1"}
            assert records[1]["dynamodb"]["NewImage"]["v"] == {"N": "2"}
        ddb.delete_table(TableName=name)


def test_batch_and_transaction_writes_are_recorded(ddb, streams):
    name, arn = stream_table(ddb, "NEW_IMAGE")
    ddb.batch_write_item(
        RequestItems={
            name: [{"PutRequest": {"Item": {"id": {"S": k}, "b": {"B": b"\x00\x01"}}}} for k in "xy"]
        }
    )
    ddb.transact_write_items(
        TransactItems=[
            {"Delete": {"TableName": name, "Key": {"id": {"S": "x"}}}},
            {"Put": {"TableName": name, "Item": {"id": {"S": "z"}}}},
        ]
    )
    records = read_all(streams, arn)
    assert [(r["eventName"], r["dynamodb"]["Keys"]["id"]["S"]) for r in records] == [
        ("INSERT", "x"),
        ("INSERT", "y"),
        ("REMOVE", "x"),
        ("INSERT", "z"),
    ]
    assert records[0]["dynamodb"]["NewImage"]["b"] == {"B": b"\x00\x01"}


def test_stream_enabled_by_update_table_then_disabled(ddb, streams):
    name, arn = stream_table(ddb, None)
    assert arn is None
    assert streams.list_streams(TableName=name)["Streams"] == []
    ddb.put_item(TableName=name, Item={"id": {"S": "before"}})
    arn = ddb.update_table(
        TableName=name, StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    )["TableDescription"]["LatestStreamArn"]
    desc = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert desc["StreamStatus"] == "ENABLED" and desc["TableName"] == name
    assert desc["KeySchema"] == KEYS and desc["StreamViewType"] == "KEYS_ONLY"
    assert desc["StreamLabel"] == arn.split("/stream/")[1]
    (shard,) = desc["Shards"]
    assert shard["ShardId"].startswith("shardId-") and len(shard["ShardId"]) == len("shardId-") + 20 + 1 + 8
    assert "EndingSequenceNumber" not in shard["SequenceNumberRange"]
    ddb.put_item(TableName=name, Item={"id": {"S": "after"}})
    ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    ddb.put_item(TableName=name, Item={"id": {"S": "disabled"}})
    desc = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert desc["StreamStatus"] == "DISABLED"
    assert "EndingSequenceNumber" in desc["Shards"][0]["SequenceNumberRange"]
    out = streams.get_records(ShardIterator=iterator(streams, arn))
    assert [r["dynamodb"]["Keys"]["id"]["S"] for r in out["Records"]] == ["after"]
    assert "NextShardIterator" not in out  # the shard is closed and read to its end
    assert [s["StreamArn"] for s in streams.list_streams(TableName=name)["Streams"]] == [arn]


def test_iterator_types(ddb, streams):
    name, arn = stream_table(ddb, "KEYS_ONLY")
    for k in "abc":
        ddb.put_item(TableName=name, Item={"id": {"S": k}})
    records = read_all(streams, arn)
    first, second, _ = (r["dynamodb"]["SequenceNumber"] for r in records)
    ids = lambda rs: [r["dynamodb"]["Keys"]["id"]["S"] for r in rs]  # noqa: E731
    assert ids(read_all(streams, arn, "AT_SEQUENCE_NUMBER", SequenceNumber=second)) == ["b", "c"]
    assert ids(read_all(streams, arn, "AFTER_SEQUENCE_NUMBER", SequenceNumber=first)) == ["b", "c"]
    latest = iterator(streams, arn, "LATEST")
    out = streams.get_records(ShardIterator=latest)
    assert out["Records"] == [] and out["NextShardIterator"]
    ddb.put_item(TableName=name, Item={"id": {"S": "d"}})
    assert ids(streams.get_records(ShardIterator=out["NextShardIterator"])["Records"]) == ["d"]
    assert error(streams.get_shard_iterator, StreamArn=arn, ShardId=shard_of(streams, arn),
                 ShardIteratorType="AT_SEQUENCE_NUMBER")[0] == "ValidationException"  # fmt: skip


def test_paging_with_limit_and_next_iterator(ddb, streams):
    name, arn = stream_table(ddb, "KEYS_ONLY")
    for n in range(7):
        ddb.put_item(TableName=name, Item={"id": {"S": f"k{n}"}})
    seen, it = [], iterator(streams, arn)
    for _ in range(5):
        out = streams.get_records(ShardIterator=it, Limit=3)
        assert len(out["Records"]) <= 3
        seen += [r["dynamodb"]["Keys"]["id"]["S"] for r in out["Records"]]
        it = out["NextShardIterator"]
    assert seen == [f"k{n}" for n in range(7)]
    assert error(streams.get_records, ShardIterator=it, Limit=1001)[0] == "ValidationException"


def test_list_streams_filters_and_pages(ddb, streams):
    names = [stream_table(ddb, "KEYS_ONLY") for _ in range(3)]
    mine = {arn for _, arn in names}
    found, start = [], None
    while True:
        page = streams.list_streams(Limit=2, **({"ExclusiveStartStreamArn": start} if start else {}))
        assert len(page["Streams"]) <= 2
        found += page["Streams"]
        start = page.get("LastEvaluatedStreamArn")
        if not start:
            break
    assert mine <= {s["StreamArn"] for s in found}
    (one,) = streams.list_streams(TableName=names[1][0])["Streams"]
    assert one == {
        "StreamArn": names[1][1],
        "TableName": names[1][0],
        "StreamLabel": names[1][1].split("/")[-1],
    }


def test_errors(ddb, streams):
    name, arn = stream_table(ddb, "KEYS_ONLY")
    missing = arn.replace(name, name + "-missing")
    assert error(streams.describe_stream, StreamArn=missing)[0] == "ResourceNotFoundException"
    code, _ = error(
        streams.get_shard_iterator,
        StreamArn=arn,
        ShardId="shardId-00000000000000000000-00000000",
        ShardIteratorType="LATEST",
    )
    assert code == "ResourceNotFoundException"
    assert error(streams.get_records, ShardIterator="not an iterator")[0] == "ValidationException"


def test_records_are_published_on_the_bus(ddb, streams, redis_url):
    name, arn = stream_table(ddb, "NEW_IMAGE")
    table_arn = arn.split("/stream/")[0]
    ddb.put_item(TableName=name, Item={"id": {"S": "bus"}})
    client = redis.Redis.from_url(redis_url)
    key = f"flotilla:events:dynamodb.stream.{table_arn}"
    deadline = time.monotonic() + 10
    while not client.xlen(key) and time.monotonic() < deadline:
        time.sleep(0.05)
    ((_, fields),) = client.xrange(key)
    event = json.loads(fields[b"body"])
    assert event["eventSourceARN"] == arn and event["eventName"] == "INSERT"
    assert event["dynamodb"]["NewImage"] == {"id": {"S": "bus"}}
    assert event["dynamodb"]["SequenceNumber"] == read_all(streams, arn)[0]["dynamodb"]["SequenceNumber"]
