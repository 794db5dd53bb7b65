"""Bucket configuration storage and rules, and notification matching and records (no fleet)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from services.s3 import bucket_config as bc
from services.s3 import notifications
from services.s3.storage import S3Store
from shared.aws.errors import AwsError
from shared.context import RequestContext

ARN = "arn:aws:sqs:us-east-1:000000000000:q"


@pytest.fixture
def store(tmp_path):
    s = S3Store(tmp_path)
    yield s
    s.close()


@pytest.fixture
def ctx(store):
    return RequestContext(
        service="s3", operation="PutObject", request_id="rid", access_key="AKID", state=store
    )


def code_of(call, *args) -> str:
    with pytest.raises(AwsError) as err:
        call(*args)
    return err.value.code


# -- storage ----------------------------------------------------------------------------------


def test_documents_round_trip_with_datetimes_and_bytes(ctx, store, tmp_path):
    bucket, _ = store.create_bucket("b", "000000000000", "us-east-1")
    doc = {"Rules": [{"Expiration": {"Date": datetime(2030, 1, 1, tzinfo=UTC)}, "Blob": b"\x00\xff"}]}
    configs = bc.configs(ctx)
    assert configs.get(bucket, "lifecycle") is bc.MISSING
    configs.put(bucket, "lifecycle", doc)
    assert configs.get(bucket, "lifecycle") == doc
    assert (tmp_path / "config.db").exists()
    assert bc.configs(ctx) is configs  # one store per object store
    configs.put(bucket, "ownership", None)
    assert configs.get(bucket, "ownership") is None and bc.bucket_config(ctx, bucket, "ownership") is None
    configs.delete(bucket, "lifecycle")
    assert configs.get(bucket, "lifecycle") is bc.MISSING


def test_a_recreated_bucket_does_not_inherit_configuration(ctx, store):
    bucket, _ = store.create_bucket("b", "000000000000", "us-east-1")
    bc.configs(ctx).put(bucket, "tagging", {"TagSet": []})
    store.delete_bucket("b")
    again = bc.Bucket("b", "000000000000", "us-east-1", datetime(2031, 1, 1, tzinfo=UTC))
    assert bc.configs(ctx).get(again, "tagging") is bc.MISSING


def test_versioning_status(ctx, store):
    bucket, _ = store.create_bucket("b", "000000000000", "us-east-1")
    assert bc.versioning_status(ctx, bucket) is None
    bc.configs(ctx).put(bucket, "versioning", {"Status": "Suspended"})
    assert bc.versioning_status(ctx, bucket) == "Suspended"


# -- rules ------------------------------------------------------------------------------------


def statement(**over):
    base = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
    return {**base, **over}


def test_policy_rules():
    bc.check_policy(json.dumps({"Version": "2012-10-17", "Statement": [statement()]}))
    not_action = {k: v for k, v in statement(NotAction="s3:*").items() if k != "Action"}
    bc.check_policy(json.dumps({"Statement": not_action}))
    for bad in (
        "nope",
        "[]",
        ' ["x"]',
        "{}",
        json.dumps({"Version": "2000-01-01", "Statement": [statement()]}),
        json.dumps({"Statement": []}),
        json.dumps({"Statement": [statement(Effect="Maybe")]}),
        json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Resource": "x"}]}),
        json.dumps({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "x"}]}),
    ):
        assert code_of(bc.check_policy, bad) == "MalformedPolicy", bad


def test_policy_is_public():
    public = json.dumps({"Statement": [statement()]})
    private = json.dumps({"Statement": [statement(Principal={"AWS": "arn:aws:iam::1:root"})]})
    conditioned = json.dumps({"Statement": [statement(Condition={"IpAddress": {"aws:SourceIp": "1.2.3.4"}})]})
    listed = json.dumps({"Statement": [statement(Principal={"AWS": ["*"]})]})
    assert bc.policy_is_public(public) and bc.policy_is_public(listed)
    assert not bc.policy_is_public(private) and not bc.policy_is_public(conditioned)


def test_tag_rules():
    bc.check_tags([{"Key": "a", "Value": ""}, {"Key": "b", "Value": "x" * 256}])
    assert code_of(bc.check_tags, [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]) == "InvalidTag"
    assert code_of(bc.check_tags, [{"Key": "k" * 129, "Value": ""}]) == "InvalidTag"
    assert code_of(bc.check_tags, [{"Key": "k", "Value": "v" * 257}]) == "InvalidTag"
    assert code_of(bc.check_tags, [{"Key": "aws:cloudformation", "Value": "v"}]) == "InvalidTag"
    assert code_of(bc.check_tags, [{"Key": str(i), "Value": ""} for i in range(51)]) == "InvalidTag"


def test_cors_rules():
    bc.check_cors([{"AllowedMethods": ["GET", "HEAD"], "AllowedOrigins": ["https://*.example.com"]}])
    assert (
        code_of(bc.check_cors, [{"AllowedMethods": ["PATCH"], "AllowedOrigins": ["*"]}]) == "InvalidRequest"
    )
    assert (
        code_of(bc.check_cors, [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*.*"]}]) == "InvalidRequest"
    )
    assert code_of(bc.check_cors, []) == "MalformedXML"


def test_lifecycle_rules():
    ok = {"ID": "a", "Filter": {"Prefix": "x/"}, "Status": "Enabled", "Expiration": {"Days": 3}}
    bc.check_lifecycle([ok, {**ok, "ID": "b"}])
    midnight = {**ok, "Expiration": {"Date": datetime(2030, 1, 1, tzinfo=UTC)}}
    bc.check_lifecycle([midnight])
    cases = {
        "InvalidArgument": [
            [ok, ok],
            [{**ok, "Expiration": {"Days": 0}}],
            [{**ok, "Expiration": {"Date": datetime(2030, 1, 1, 12, tzinfo=UTC)}}],
            [{**ok, "ID": "i" * 256}],
        ],
        "InvalidRequest": [[{"ID": "a", "Filter": {}, "Status": "Enabled"}]],
        "MalformedXML": [
            [],
            [{**ok, "Status": "On"}],
            [{**ok, "Prefix": "x"}],
            [{**ok, "Expiration": {"Days": 1, "ExpiredObjectDeleteMarker": True}}],
        ],
    }
    for code, rule_sets in cases.items():
        for rules in rule_sets:
            assert code_of(bc.check_lifecycle, rules) == code, rules


def test_encryption_website_and_enum_rules():
    bc.check_encryption({"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]})
    assert code_of(bc.check_encryption, {"Rules": []}) == "MalformedXML"
    kms_on_aes = {
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256", "KMSMasterKeyID": "k"}}]
    }
    assert code_of(bc.check_encryption, kms_on_aes) == "InvalidArgument"
    bc.check_website({"IndexDocument": {"Suffix": "index.html"}})
    bc.check_website({"RedirectAllRequestsTo": {"HostName": "example.com"}})
    assert code_of(bc.check_website, {"ErrorDocument": {"Key": "e"}}) == "InvalidArgument"
    assert code_of(bc.check_website, {"IndexDocument": {"Suffix": "a/b"}}) == "InvalidArgument"
    both = {"RedirectAllRequestsTo": {"HostName": "h"}, "IndexDocument": {"Suffix": "i"}}
    assert code_of(bc.check_website, both) == "InvalidArgument"
    assert code_of(bc.check_versioning, {"Status": "Disabled"}) == "MalformedXML"
    assert code_of(bc.check_ownership, {"Rules": [{"ObjectOwnership": "Mine"}]}) == "MalformedXML"
    assert code_of(bc.check_request_payment, {"Payer": "Nobody"}) == "MalformedXML"
    dotted = bc.Bucket("a.b", "0", "us-east-1", datetime.now(UTC))
    assert code_of(bc.check_accelerate, dotted, {"Status": "Enabled"}) == "InvalidRequest"


# -- notification configurations --------------------------------------------------------------


def entry(events, prefix=None, suffix=None, arn=ARN, **extra):
    rules = [{"Name": n, "Value": v} for n, v in (("prefix", prefix), ("suffix", suffix)) if v is not None]
    out = {"QueueArn": arn, "Events": events, **extra}
    if rules:
        out["Filter"] = {"Key": {"FilterRules": rules}}
    return out


def test_ids_are_generated_and_kept():
    conf = notifications.check_config(
        {"QueueConfigurations": [entry(["s3:ObjectCreated:*"], Id="mine"), entry(["s3:ObjectRemoved:*"])]}
    )
    first, second = conf["QueueConfigurations"]
    assert first["Id"] == "mine" and second["Id"] and second["Id"] != "mine"


@pytest.mark.parametrize(
    ("a", "b", "overlaps"),
    [
        (entry(["s3:ObjectCreated:*"]), entry(["s3:ObjectCreated:Put"]), True),
        (entry(["s3:ObjectCreated:Put"]), entry(["s3:ObjectCreated:Copy"]), False),
        (entry(["s3:ObjectCreated:*"], prefix="a/"), entry(["s3:ObjectCreated:*"], prefix="b/"), False),
        (entry(["s3:ObjectCreated:*"], prefix="a/"), entry(["s3:ObjectCreated:*"], prefix="a/b/"), True),
        (entry(["s3:ObjectCreated:*"], suffix=".jpg"), entry(["s3:ObjectCreated:*"], suffix=".png"), False),
        (entry(["s3:ObjectCreated:*"], suffix=".jpg"), entry(["s3:ObjectCreated:*"], prefix="x/"), True),
    ],
)
def test_overlapping_configurations(a, b, overlaps):
    conf = {"QueueConfigurations": [a, b]}
    if overlaps:
        assert code_of(notifications.check_config, conf) == "InvalidArgument"
    else:
        notifications.check_config(conf)


def test_filter_and_event_rules():
    bad_name = entry(["s3:ObjectCreated:*"])
    bad_name["Filter"] = {"Key": {"FilterRules": [{"Name": "middle", "Value": "x"}]}}
    two = entry(["s3:ObjectCreated:*"], prefix="a")
    two["Filter"]["Key"]["FilterRules"].append({"Name": "PREFIX", "Value": "b"})
    for bad in (bad_name, two, entry(["s3:ObjectCreated:Nope"])):
        assert code_of(notifications.check_config, {"QueueConfigurations": [bad]}) == "InvalidArgument"


def test_matching():
    e = entry(["s3:ObjectCreated:*", "s3:ObjectRemoved:Delete"], prefix="in/", suffix=".csv")
    e["Filter"]["Key"]["FilterRules"][0]["Name"] = "Prefix"  # names are case-insensitive
    assert notifications._matches(e, "s3:ObjectCreated:Put", "in/x.csv")
    assert notifications._matches(e, "s3:ObjectRemoved:Delete", "in/x.csv")
    assert not notifications._matches(e, "s3:ObjectRemoved:DeleteMarkerCreated", "in/x.csv")
    assert not notifications._matches(e, "s3:ObjectCreated:Put", "out/x.csv")
    assert not notifications._matches(e, "s3:ObjectCreated:Put", "in/x.json")


def test_keys_are_form_encoded():
    assert notifications.encode_key("dir/a b+c=d&e~é.txt") == "dir/a+b%2Bc%3Dd%26e~%C3%A9.txt"


# -- events (the bus replaced by a list) ------------------------------------------------------


@pytest.fixture
def published(monkeypatch):
    sent: list[dict] = []

    async def publish(event):
        sent.append(event)

    monkeypatch.setattr(notifications, "_publish", publish)
    return sent


def test_object_event_records(ctx, store, published):
    bucket, _ = store.create_bucket("b", "000000000000", "eu-west-1")
    other = "arn:aws:sqs:eu-west-1:000000000000:other"
    bc.configs(ctx).put(
        bucket,
        "notification",
        {
            "QueueConfigurations": [
                {"Id": "created", **entry(["s3:ObjectCreated:*"], prefix="img/")},
                {"Id": "removed", **entry(["s3:ObjectRemoved:*"], arn=other)},
            ]
        },
    )

    async def run():
        await notifications.object_event(ctx, "s3:ObjectCreated:Copy", "b", "img/a b.png", 7, '"e1"', "v1")
        await notifications.object_event(ctx, "ObjectCreated:Put", "b", "doc/x", 1, "e2")
        await notifications.object_event(ctx, "s3:ObjectRemoved:Delete", "b", "doc/x", None, None)
        await notifications.object_event(ctx, "s3:ObjectCreated:Put", "no-such-bucket", "k", 1, "e")

    asyncio.run(run())
    assert [e["QueueArn"] for e in published] == [ARN, other]
    assert len({e["EventId"] for e in published}) == 2
    created = json.loads(published[0]["MessageBody"])["Records"][0]
    assert created["eventName"] == "ObjectCreated:Copy" and created["awsRegion"] == "eu-west-1"
    assert created["userIdentity"] == {"principalId": "AWS:AKID"}
    assert created["s3"]["configurationId"] == "created"
    assert created["s3"]["bucket"]["arn"] == "arn:aws:s3:::b"
    assert created["s3"]["object"] == {
        "key": "img/a+b.png",
        "size": 7,
        "eTag": "e1",
        "versionId": "v1",
        "sequencer": created["s3"]["object"]["sequencer"],
    }
    removed = json.loads(published[1]["MessageBody"])["Records"][0]
    assert set(removed["s3"]["object"]) == {"key", "sequencer"}
    assert removed["s3"]["object"]["sequencer"] > created["s3"]["object"]["sequencer"]
    assert datetime.strptime(removed["eventTime"], "%Y-%m-%dT%H:%M:%S.%fZ")


def test_test_event_once_per_queue(ctx, store, published):
    bucket, _ = store.create_bucket("b", "000000000000", "us-east-1")
    conf = {"QueueConfigurations": [entry(["s3:ObjectCreated:*"]), entry(["s3:ObjectRemoved:*"])]}
    asyncio.run(notifications.send_test_events(ctx, bucket, conf))
    (event,) = published
    body = json.loads(event["MessageBody"])
    assert event["QueueArn"] == ARN and body["Event"] == "s3:TestEvent" and body["Bucket"] == "b"


def test_destination_checks(ctx, store, monkeypatch):
    bucket, _ = store.create_bucket("b", "000000000000", "us-east-1")
    known = {ARN: {"fifo": False}, ARN + ".fifo": {"fifo": True}, ARN.replace("us-east-1", "eu-west-1"): {}}

    async def get(arn):
        return known.get(arn)

    fake = SimpleNamespace(registry=SimpleNamespace(get=get))
    monkeypatch.setattr(notifications, "_connection", lambda: fake)

    def failures(*arns):
        conf = {
            "QueueConfigurations": [
                entry([f"s3:ObjectTagging:{n}"], arn=a) for n, a in zip(("Put", "Delete"), arns, strict=False)
            ]
        }
        try:
            asyncio.run(notifications.check_destinations(ctx, bucket, conf))
        except AwsError as err:
            assert err.message == "Unable to validate the following destination configurations"
            return err.fields
        return {}

    assert failures(ARN) == {}
    fields = failures(ARN + ".fifo", "arn:aws:sqs:us-east-1:000000000000:gone")
    assert fields["ArgumentName1"] == ARN + ".fifo" and "FIFO" in fields["ArgumentValue1"]
    assert fields["ArgumentValue2"] == "The destination queue does not exist"
    assert "region" in failures(ARN.replace("us-east-1", "eu-west-1"))["ArgumentValue1"]
    assert failures("not-an-arn")["ArgumentValue1"] == "The destination queue does not exist"
