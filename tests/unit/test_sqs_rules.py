"""SQS's pure rules: queue names, URLs, attributes, message checks and receipt handles."""

import hashlib

import pytest

from services.sqs import attributes, messages
from services.sqs.queues import QueueRef, check_name, resolve_url
from services.sqs.storage import decode_receipt, encode_receipt
from shared.aws.errors import AwsError
from shared.context import RequestContext


def ctx(region: str = "us-east-1", protocol: str = "json") -> RequestContext:
    return RequestContext(service="sqs", operation="X", request_id="r", region=region, protocol=protocol)


@pytest.mark.parametrize("name", ["q", "a" * 80, "with-dash_and_9"])
def test_valid_standard_names(name):
    check_name(name, fifo=False)


@pytest.mark.parametrize("name", ["", "a" * 81, "has.dot", "has space", "q.fifo"])
def test_invalid_standard_names(name):
    with pytest.raises(AwsError) as err:
        check_name(name, fifo=False)
    assert err.value.code == "InvalidParameterValue"
    assert "1 to 80 in length" in err.value.message


def test_fifo_names_count_the_suffix():
    check_name("a" * 75 + ".fifo", fifo=True)
    for bad in ("a" * 76 + ".fifo", "nosuffix", ".fifo"):
        with pytest.raises(AwsError) as err:
            check_name(bad, fifo=True)
        assert "must end with .fifo suffix" in err.value.message


@pytest.mark.parametrize(
    "url, region",
    [
        ("http://localhost:4566/000000000000/q", "eu-west-1"),
        ("http://sqs.us-west-2.localhost.localstack.cloud:4566/000000000000/q", "us-west-2"),
        ("https://sqs.ap-south-1.amazonaws.com/000000000000/q", "ap-south-1"),
        ("https://eu-central-1.queue.amazonaws.com/000000000000/q", "eu-central-1"),
    ],
)
def test_resolve_url_forms(url, region):
    assert resolve_url(ctx("eu-west-1"), url) == QueueRef("000000000000", region, "q")


@pytest.mark.parametrize("url", ["http://localhost:4566/q", "http://localhost:4566/abc/q", "garbage"])
def test_unreadable_url_is_a_missing_queue(url):
    with pytest.raises(AwsError) as err:
        resolve_url(ctx(protocol="query"), url)
    assert err.value.code == "QueueDoesNotExist"
    assert err.value.message == "The specified queue does not exist for this wsdl version."


def test_attributes_normalized_and_checked():
    assert attributes.validate({"VisibilityTimeout": " 60", "FifoQueue": "False"}, fifo=False) == {
        "VisibilityTimeout": "60"
    }
    with pytest.raises(AwsError) as err:
        attributes.validate({"VisibilityTimeout": "43201"}, fifo=False)
    assert (err.value.code, err.value.message) == (
        "InvalidAttributeValue",
        "Invalid value for the parameter VisibilityTimeout.",
    )
    for name in ("QueueArn", "Nope", "ContentBasedDeduplication"):
        with pytest.raises(AwsError) as err:
            attributes.validate({name: "true"}, fifo=False)
        assert (err.value.code, err.value.message) == ("InvalidAttributeName", f"Unknown Attribute {name}.")


def test_first_difference_compares_only_what_was_asked():
    existing = attributes.defaults(fifo=False)
    assert attributes.first_difference(existing, {"VisibilityTimeout": "30"}) is None
    assert attributes.first_difference(existing, {"DelaySeconds": "5"}) == "DelaySeconds"


@pytest.mark.parametrize(
    "attrs, fragment",
    [
        ({"AWS.x": {"DataType": "String", "StringValue": "v"}}, "name 'AWS.x' is invalid"),
        ({"a": {"DataType": "Text", "StringValue": "v"}}, "supported type prefixes"),
        ({"a": {"DataType": "String", "StringValue": ""}}, "non-empty message attribute value"),
        ({"a": {"DataType": "Binary"}}, "type 'Binary'"),
        ({"a": {"DataType": "Number", "StringValue": "x1"}}, "to number"),
        ({f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(11)}, "[11] exceeds"),
    ],
)
def test_message_attribute_rules(attrs, fragment):
    with pytest.raises(AwsError) as err:
        messages.check_attributes(attrs)
    assert err.value.code == "InvalidParameterValue"
    assert fragment in err.value.message


def test_body_rules():
    with pytest.raises(AwsError) as err:
        messages.check_body("")
    assert err.value.code == "MissingParameter"
    with pytest.raises(AwsError) as err:
        messages.check_body("bad \x01 char")
    assert err.value.code == "InvalidMessageContents"
    messages.check_body("ok \t\n\r é 😀")
    with pytest.raises(AwsError, match="shorter than 1024 bytes"):
        messages.check_size("x" * 1000, {"name": {"DataType": "String", "StringValue": "y" * 20}}, 1024)


def test_receipt_handles_round_trip_and_reject_garbage():
    ref = QueueRef("000000000000", "us-east-1", "q")
    handle = encode_receipt(ref, "mid", "nonce")
    assert decode_receipt(handle) == (ref, "mid", "nonce")
    for bad in ("", "not base64!!", "aGVsbG8", encode_receipt(ref, "mid", "")):
        assert decode_receipt(bad) is None


def test_output_selects_attributes_and_digests_what_it_returns():
    doc = messages.new_message(
        {
            "MessageBody": "derp",
            "MessageAttributes": {
                "timestamp": {"DataType": "Number", "StringValue": "1493147359900"},
                "other.x": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
            },
        },
        sender="AKID",
        sent_ms=1,
    )
    item = messages.Received(doc, receive_count=2, first_receive_ms=5, receipt_handle="rh")
    out = messages.to_output(item, ["ApproximateReceiveCount"], ["timestamp"])
    assert out["Attributes"] == {"ApproximateReceiveCount": "2"}
    assert out["MessageAttributes"] == {"timestamp": {"DataType": "Number", "StringValue": "1493147359900"}}
    assert out["MD5OfMessageAttributes"] == "235c5c510d26fb653d073faed50ae77c"
    everything = messages.to_output(item, ["All"], ["other.*"])
    assert everything["MessageAttributes"]["other.x"]["BinaryValue"] == b"\x00\x01"
    assert {"SenderId", "SentTimestamp", "ApproximateFirstReceiveTimestamp"} <= set(everything["Attributes"])
    bare = messages.to_output(item, [], [])
    assert "Attributes" not in bare and "MessageAttributes" not in bare


def test_prepare_applies_queue_rules():
    standard = attributes.defaults(fifo=False)
    out = messages.prepare({"MessageBody": "hi"}, {**standard, "DelaySeconds": "7"}, "s", 1)
    assert (out.delay_s, out.dedup_key, out.doc["body"]) == (7, "", "hi")
    with pytest.raises(AwsError, match="not valid for this queue type"):
        messages.prepare({"MessageBody": "hi", "MessageDeduplicationId": "d"}, standard, "s", 1)
    fifo = attributes.defaults(fifo=True)
    with pytest.raises(AwsError) as err:
        messages.prepare({"MessageBody": "hi"}, fifo, "s", 1)
    assert err.value.code == "MissingParameter"
    with pytest.raises(AwsError, match="ContentBasedDeduplication"):
        messages.prepare({"MessageBody": "hi", "MessageGroupId": "g"}, fifo, "s", 1)
    with pytest.raises(AwsError, match="not valid for this queue type"):
        messages.prepare({"MessageBody": "hi", "MessageGroupId": "g", "DelaySeconds": 3}, fifo, "s", 1)
    content = messages.prepare(
        {"MessageBody": "hi", "MessageGroupId": "g"}, {**fifo, "ContentBasedDeduplication": "true"}, "s", 1
    )
    assert content.dedup_key == content.doc["dedup"] == hashlib.sha256(b"hi").hexdigest()
    scoped = messages.prepare(
        {"MessageBody": "hi", "MessageGroupId": "g", "MessageDeduplicationId": "d"},
        {**fifo, "DeduplicationScope": "messageGroup"},
        "s",
        1,
    )
    assert scoped.dedup_key == "g\x00d"


@pytest.mark.parametrize(
    "entries, code",
    [
        ([], "EmptyBatchRequest"),
        ([{"Id": str(i)} for i in range(11)], "TooManyEntriesInBatchRequest"),
        ([{"Id": "a"}, {"Id": "a"}], "BatchEntryIdsNotDistinct"),
        ([{"Id": "a" * 81}], "InvalidBatchEntryId"),
        ([{"Id": "a.b"}], "InvalidBatchEntryId"),
    ],
)
def test_batch_request_rules(entries, code):
    with pytest.raises(AwsError) as err:
        messages.check_batch(entries, "Entry")
    assert err.value.code == code


def test_batch_size_and_failed_entries():
    messages.check_batch_size([{"MessageBody": "x" * 500_000}, {"MessageBody": "y" * 500_000}])
    with pytest.raises(AwsError) as err:
        messages.check_batch_size([{"MessageBody": "x" * 600_000}, {"MessageBody": "y" * 600_000}])
    assert err.value.code == "BatchRequestTooLong"
    failed = messages.failed_entry("e1", AwsError("MessageNotInflight", "not in flight"))
    assert failed == {
        "Id": "e1",
        "SenderFault": True,
        "Code": "AWS.SimpleQueueService.MessageNotInflight",
        "Message": "not in flight",
    }


def test_redrive_target_reads_the_policy():
    policy = '{"deadLetterTargetArn": "arn:aws:sqs:eu-west-1:111111111111:dlq", "maxReceiveCount": "3"}'
    assert messages.redrive_target({"RedrivePolicy": policy}) == (
        QueueRef("111111111111", "eu-west-1", "dlq"),
        3,
    )
    for bad in ("", "{}", "not json", '{"deadLetterTargetArn": "arn:aws:sns:x:y:z", "maxReceiveCount": 1}'):
        assert messages.redrive_target({"RedrivePolicy": bad}) is None


def test_receipt_of_rejects_other_queues():
    ref = QueueRef("000000000000", "us-east-1", "q")
    assert messages.receipt_of(ref, encode_receipt(ref, "m", "n")) == ("m", "n")
    with pytest.raises(AwsError) as err:
        messages.receipt_of(QueueRef("000000000000", "us-east-1", "other"), encode_receipt(ref, "m", "n"))
    assert err.value.code == "ReceiptHandleIsInvalid"
