"""S3 event notifications to SQS through the fleet: configuration checks, the s3:TestEvent, and
event records published by ``object_event`` arriving in a real queue over the bus."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from services.s3 import lifecycle, notifications
from services.s3.bucket_config import configs
from services.s3.storage import ObjectAttrs, S3Store
from shared.context import RequestContext

from .s3_support import unique


@pytest.fixture
def sqs(aws):
    return aws("sqs")


@pytest.fixture
def queue(sqs):
    """(url, arn) of a fresh queue."""
    url = sqs.create_queue(QueueName=unique("ntf"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    yield url, arn
    sqs.delete_queue(QueueUrl=url)


def receive(sqs, url: str, count: int = 1, deadline_s: float = 15.0) -> list[dict]:
    """Wait (long polling, bounded) until ``count`` message bodies arrived."""
    bodies: list[dict] = []
    deadline = time.monotonic() + deadline_s
    while len(bodies) < count and time.monotonic() < deadline:
        for msg in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            bodies.append(json.loads(msg["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])
    assert len(bodies) >= count, f"only {len(bodies)} of {count} messages within {deadline_s}s"
    return bodies


def error_of(call, **kwargs) -> tuple[str, int, dict]:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    response = err.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]


def queue_config(arn: str, events: list[str], prefix: str | None = None, suffix: str | None = None) -> dict:
    entry: dict = {"Id": "c1", "QueueArn": arn, "Events": events}
    rules = [{"Name": n, "Value": v} for n, v in (("prefix", prefix), ("suffix", suffix)) if v is not None]
    if rules:
        entry["Filter"] = {"Key": {"FilterRules": rules}}
    return {"QueueConfigurations": [entry]}


def test_configuration_round_trip_and_test_event(s3, sqs, bucket, queue):
    url, arn = queue
    assert {
        k: v
        for k, v in s3.get_bucket_notification_configuration(Bucket=bucket).items()
        if k != "ResponseMetadata"
    } == {}
    conf = queue_config(arn, ["s3:ObjectCreated:*", "s3:ObjectRemoved:Delete"], prefix="in/", suffix=".csv")
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=conf)
    got = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert got["QueueConfigurations"] == conf["QueueConfigurations"]
    (event,) = receive(sqs, url)
    assert event["Service"] == "Amazon S3" and event["Event"] == "s3:TestEvent"
    assert event["Bucket"] == bucket and event["RequestId"] and event["HostId"]
    sent = datetime.strptime(event["Time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert abs(sent - datetime.now(UTC)) < timedelta(minutes=1)


def test_ids_are_generated(s3, bucket, queue):
    _url, arn = queue
    conf = {"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:Put"]}]}
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=conf)
    (entry,) = s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"]
    assert entry["Id"] and entry["QueueArn"] == arn and entry["Events"] == ["s3:ObjectCreated:Put"]


def test_unknown_destination_is_rejected(s3, bucket, queue):
    _url, arn = queue
    missing = "arn:aws:sqs:us-east-1:000000000000:" + unique("missing")
    conf = {
        "QueueConfigurations": [
            {"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]},
            {"QueueArn": missing, "Events": ["s3:ObjectRemoved:*"]},
        ]
    }
    code, status, error = error_of(
        s3.put_bucket_notification_configuration, Bucket=bucket, NotificationConfiguration=conf
    )
    assert (code, status) == ("InvalidArgument", 400)
    assert error["Message"] == "Unable to validate the following destination configurations"
    assert error["ArgumentName1"] == missing and "does not exist" in error["ArgumentValue1"]
    assert "QueueConfigurations" not in s3.get_bucket_notification_configuration(Bucket=bucket)
    # skipping validation stores it anyway
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration=conf, SkipDestinationValidation=True
    )
    assert len(s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"]) == 2


def test_invalid_configurations(s3, bucket, queue):
    _url, arn = queue
    overlap = {
        "QueueConfigurations": [
            {"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]},
            {
                "QueueArn": arn,
                "Events": ["s3:ObjectCreated:Put"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "a/"}]}},
            },
        ]
    }
    disjoint = json.loads(json.dumps(overlap))
    disjoint["QueueConfigurations"][0]["Filter"] = {
        "Key": {"FilterRules": [{"Name": "prefix", "Value": "b/"}]}
    }
    two_prefixes = queue_config(arn, ["s3:ObjectCreated:*"], prefix="a")
    two_prefixes["QueueConfigurations"][0]["Filter"]["Key"]["FilterRules"].append(
        {"Name": "Prefix", "Value": "b"}
    )
    for bad in (overlap, two_prefixes, queue_config(arn, ["s3:ObjectCreated:Nope"])):
        code, status, _ = error_of(
            s3.put_bucket_notification_configuration, Bucket=bucket, NotificationConfiguration=bad
        )
        assert (code, status) == ("InvalidArgument", 400)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=disjoint)
    code, status, _ = error_of(
        s3.put_bucket_notification_configuration,
        Bucket=unique("nobucket"),
        NotificationConfiguration=disjoint,
    )
    assert (code, status) == ("NoSuchBucket", 404)


def test_object_event_arrives_through_the_fleets_sqs(sqs, queue, redis_url, tmp_path):
    """``object_event`` called as the object handlers will call it; the record reaches the queue."""
    url, arn = queue
    store = S3Store(tmp_path)
    bucket, _ = store.create_bucket("local-bucket", "000000000000", "us-east-1")
    ctx = RequestContext(
        service="s3", operation="PutObject", request_id="req-1", access_key="test", state=store
    )
    configs(ctx).put(
        bucket, "notification", queue_config(arn, ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"], prefix="in/")
    )

    async def publish() -> None:
        notifications.use_redis(redis_url)
        try:
            await notifications.object_event(
                ctx, "s3:ObjectCreated:Put", "local-bucket", "in/a b=c.txt", 11, '"abc"'
            )
            await notifications.object_event(ctx, "s3:ObjectCreated:Put", "local-bucket", "out/skip", 1, "x")
            await notifications.object_event(
                ctx, "s3:ObjectRemoved:Delete", "local-bucket", "in/a b=c.txt", None, None
            )
        finally:
            await notifications.close()
            notifications.use_redis(None)

    try:
        asyncio.run(publish())
        bodies = receive(sqs, url, count=2)
    finally:
        store.close()
    by_name = {b["Records"][0]["eventName"]: b["Records"][0] for b in bodies}
    record, gone = by_name["ObjectCreated:Put"], by_name["ObjectRemoved:Delete"]
    assert record["eventVersion"] == "2.1" and record["eventSource"] == "aws:s3"
    assert record["eventName"] == "ObjectCreated:Put" and record["awsRegion"] == "us-east-1"
    assert record["s3"]["configurationId"] == "c1"
    assert record["s3"]["bucket"]["name"] == "local-bucket"
    assert record["s3"]["bucket"]["arn"] == "arn:aws:s3:::local-bucket"
    assert record["s3"]["object"]["key"] == "in/a+b%3Dc.txt"
    assert record["s3"]["object"]["size"] == 11 and record["s3"]["object"]["eTag"] == "abc"
    assert (
        "size" not in gone["s3"]["object"]
        and gone["s3"]["object"]["sequencer"] > record["s3"]["object"]["sequencer"]
    )


def test_put_and_delete_object_publish_events(s3, sqs, bucket, queue):
    url, arn = queue
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration=queue_config(arn, ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]),
    )
    receive(sqs, url)  # the s3:TestEvent
    put = s3.put_object(Bucket=bucket, Key="k 1", Body=b"hello")
    s3.delete_object(Bucket=bucket, Key="k 1")
    records = {b["Records"][0]["eventName"]: b["Records"][0] for b in receive(sqs, url, count=2)}
    created, removed = records["ObjectCreated:Put"], records["ObjectRemoved:Delete"]
    assert created["eventName"] == "ObjectCreated:Put" and created["s3"]["object"]["key"] == "k+1"
    assert created["s3"]["object"]["eTag"] == put["ETag"].strip('"') and created["s3"]["object"]["size"] == 5
    assert removed["eventName"] == "ObjectRemoved:Delete"


def test_tagging_acl_and_restore_publish_events(s3, sqs, bucket, queue):
    url, arn = queue
    events = ["s3:ObjectTagging:*", "s3:ObjectAcl:Put", "s3:ObjectRestore:*"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration=queue_config(arn, events)
    )
    receive(sqs, url)  # the s3:TestEvent
    put = s3.put_object(Bucket=bucket, Key="cold", Body=b"ice", StorageClass="GLACIER")
    s3.put_object_tagging(Bucket=bucket, Key="cold", Tagging={"TagSet": [{"Key": "a", "Value": "1"}]})
    s3.delete_object_tagging(Bucket=bucket, Key="cold")
    s3.put_object_acl(Bucket=bucket, Key="cold", ACL="private")
    s3.restore_object(Bucket=bucket, Key="cold", RestoreRequest={"Days": 1})
    records = [b["Records"][0] for b in receive(sqs, url, count=5)]
    assert sorted(r["eventName"] for r in records) == [
        "ObjectAcl:Put",
        "ObjectRestore:Completed",
        "ObjectRestore:Post",
        "ObjectTagging:Delete",
        "ObjectTagging:Put",
    ]
    for record in records:
        assert record["s3"]["object"]["key"] == "cold"
        assert record["s3"]["object"]["eTag"] == put["ETag"].strip('"')


def test_lifecycle_expirations_publish_events(sqs, queue, redis_url, tmp_path):
    """The sweep's removals reach the queue as s3:LifecycleExpiration:* records by S3 itself."""
    url, arn = queue
    store = S3Store(tmp_path)
    ctx = RequestContext(service="s3", operation="", request_id="req-1", access_key="test", state=store)
    rule = {"ID": "r", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}
    for name in ("plain-bucket", "versioned-bucket"):
        bucket, _ = store.create_bucket(name, "000000000000", "us-east-1")
        configs(ctx).put(bucket, "notification", queue_config(arn, ["s3:LifecycleExpiration:*"]))
    versioning = {"plain-bucket": None, "versioned-bucket": "Enabled"}

    async def expire() -> None:
        notifications.use_redis(redis_url)
        try:
            for name, status in versioning.items():
                await store.put_object(name, "old", _chunks(b"x"), ObjectAttrs(), versioning=status)
            configs_ = {name: {"Rules": [rule]} for name in versioning}
            result = await lifecycle.sweep_once(
                store, configs_, datetime.now(UTC) + timedelta(days=3), versioning
            )
            await lifecycle.announce(store, result.events)
        finally:
            await notifications.close()
            notifications.use_redis(None)

    try:
        asyncio.run(expire())
        records = [b["Records"][0] for b in receive(sqs, url, count=2)]
        marker = store.latest("versioned-bucket", "old")
    finally:
        store.close()
    by_bucket = {r["s3"]["bucket"]["name"]: r for r in records}
    plain, versioned = by_bucket["plain-bucket"], by_bucket["versioned-bucket"]
    assert plain["eventName"] == "LifecycleExpiration:Delete"
    assert plain["userIdentity"] == {"principalId": "s3.amazonaws.com"}
    assert "size" not in plain["s3"]["object"] and "versionId" not in plain["s3"]["object"]
    assert versioned["eventName"] == "LifecycleExpiration:DeleteMarkerCreated"
    assert marker is not None and versioned["s3"]["object"]["versionId"] == marker.version_id


async def _chunks(data: bytes):
    yield data
