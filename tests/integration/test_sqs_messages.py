"""SQS messages through the gateway: batches, visibility, delays, redrive, FIFO semantics, limits."""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections import defaultdict

import pytest
from botocore.exceptions import ClientError

from .test_sqs import NS, query, xml_text


def unique(prefix: str = "m") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def sqs(aws):
    return aws("sqs")


@pytest.fixture
def make_queue(sqs):
    made: list[str] = []

    def make(fifo: bool = False, **attributes: str) -> str:
        name = unique() + (".fifo" if fifo else "")
        attrs = {"FifoQueue": "true", **attributes} if fifo else attributes
        url = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
        made.append(url)
        return url

    yield make
    for url in made:
        try:
            sqs.delete_queue(QueueUrl=url)
        except ClientError:
            pass


def code_of(call, **kwargs) -> str:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    return err.value.response["Error"]["Code"]


def counts(sqs, url: str) -> tuple[int, int, int]:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=[*names, "ApproximateNumberOfMessagesDelayed"]
    )
    values = attrs["Attributes"]
    return tuple(int(values[n]) for n in [*names, "ApproximateNumberOfMessagesDelayed"])


# -- batches ------------------------------------------------------------------------------------


def test_send_message_batch_reports_each_entry(sqs, make_queue):
    url = make_queue()
    result = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "ok-1", "MessageBody": "one"},
            {"Id": "bad", "MessageBody": "bad \x01 body"},
            {
                "Id": "ok_2",
                "MessageBody": "two",
                "MessageAttributes": {"timestamp": {"DataType": "Number", "StringValue": "1493147359900"}},
            },
        ],
    )
    ok = {e["Id"]: e for e in result["Successful"]}
    assert set(ok) == {"ok-1", "ok_2"}
    assert ok["ok-1"]["MD5OfMessageBody"] == hashlib.md5(b"one").hexdigest()
    assert ok["ok_2"]["MD5OfMessageAttributes"] == "235c5c510d26fb653d073faed50ae77c"
    assert [(f["Id"], f["Code"], f["SenderFault"]) for f in result["Failed"]] == [
        ("bad", "InvalidMessageContents", True)
    ]
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"] for m in got) == ["one", "two"]


@pytest.mark.parametrize(
    "entries, code",
    [
        ([], "AWS.SimpleQueueService.EmptyBatchRequest"),
        ([{"Id": str(i), "MessageBody": "x"} for i in range(11)], "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"),
        ([{"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "y"}], "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"),
        ([{"Id": "no spaces", "MessageBody": "x"}], "AWS.SimpleQueueService.InvalidBatchEntryId"),
        ([{"Id": str(i), "MessageBody": "x" * 200_000} for i in range(6)], "AWS.SimpleQueueService.BatchRequestTooLong"),
    ],
)  # fmt: skip
def test_send_batch_request_errors(sqs, make_queue, entries, code):
    assert code_of(sqs.send_message_batch, QueueUrl=make_queue(), Entries=entries) == code


def test_delete_and_change_visibility_batches(sqs, make_queue):
    url = make_queue()
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(3)])
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30)["Messages"]
    assert len(got) == 3
    changed = sqs.change_message_visibility_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "zero", "ReceiptHandle": got[0]["ReceiptHandle"], "VisibilityTimeout": 0},
            {"Id": "bogus", "ReceiptHandle": "bogus", "VisibilityTimeout": 0},
        ],
    )
    assert [e["Id"] for e in changed["Successful"]] == ["zero"]
    assert [(f["Id"], f["Code"]) for f in changed["Failed"]] == [("bogus", "ReceiptHandleIsInvalid")]
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in again] == [got[0]["Body"]]
    deleted = sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "a", "ReceiptHandle": again[0]["ReceiptHandle"]},
            {"Id": "b", "ReceiptHandle": got[1]["ReceiptHandle"]},
            {"Id": "c", "ReceiptHandle": got[2]["ReceiptHandle"]},
            {"Id": "d", "ReceiptHandle": "garbage"},
        ],
    )
    assert sorted(e["Id"] for e in deleted["Successful"]) == ["a", "b", "c"]
    assert [(f["Id"], f["Code"]) for f in deleted["Failed"]] == [("d", "ReceiptHandleIsInvalid")]
    assert counts(sqs, url) == (0, 0, 0)


# -- visibility, delays, limits -------------------------------------------------------------------


def test_change_message_visibility(sqs, make_queue):
    url = make_queue()
    sqs.send_message(QueueUrl=url, MessageBody="x")
    message = sqs.receive_message(QueueUrl=url, VisibilityTimeout=30)["Messages"][0]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    again = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"][0]
    assert again["MessageId"] == message["MessageId"]
    # Visible again (timeout 0): not in flight any more.
    error = code_of(
        sqs.change_message_visibility, QueueUrl=url, ReceiptHandle=again["ReceiptHandle"], VisibilityTimeout=5
    )
    assert error == "AWS.SimpleQueueService.MessageNotInflight"
    assert (
        code_of(sqs.change_message_visibility, QueueUrl=url, ReceiptHandle="garbage", VisibilityTimeout=5)
        == "ReceiptHandleIsInvalid"
    )


def test_per_message_and_queue_delays(sqs, make_queue):
    url = make_queue(DelaySeconds="1")
    sqs.send_message(QueueUrl=url, MessageBody="queue delay")
    sqs.send_message(QueueUrl=url, MessageBody="no delay", DelaySeconds=0)
    assert counts(sqs, url) == (1, 0, 1)
    started = time.monotonic()
    first = sqs.receive_message(QueueUrl=url)["Messages"]
    assert [m["Body"] for m in first] == ["no delay"]
    later = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)["Messages"]
    assert [m["Body"] for m in later] == ["queue delay"]
    assert 0.5 < time.monotonic() - started < 4
    assert (
        code_of(sqs.send_message, QueueUrl=url, MessageBody="x", DelaySeconds=901) == "InvalidParameterValue"
    )


def test_message_size_and_contents_limits(sqs, make_queue):
    url = make_queue(MaximumMessageSize="1024")
    sqs.send_message(QueueUrl=url, MessageBody="x" * 1024)
    assert code_of(sqs.send_message, QueueUrl=url, MessageBody="x" * 1025) == "InvalidParameterValue"
    assert code_of(sqs.send_message, QueueUrl=url, MessageBody="\ufffe") == "InvalidMessageContents"


def test_attribute_selection(sqs, make_queue):
    url = make_queue()
    attributes = {
        "app.id": {"DataType": "String", "StringValue": "1"},
        "app.kind": {"DataType": "String.custom", "StringValue": "k"},
        "other": {"DataType": "Number", "StringValue": "7"},
    }
    sqs.send_message(
        QueueUrl=url,
        MessageBody="x",
        MessageAttributes=attributes,
        MessageSystemAttributes={"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-abc"}},
    )
    message = sqs.receive_message(
        QueueUrl=url,
        VisibilityTimeout=0,
        MessageAttributeNames=["app.*"],
        MessageSystemAttributeNames=["SenderId", "AWSTraceHeader"],
    )["Messages"][0]
    assert set(message["MessageAttributes"]) == {"app.id", "app.kind"}
    assert message["Attributes"] == {"SenderId": "000000000000", "AWSTraceHeader": "Root=1-abc"}
    bare = sqs.receive_message(QueueUrl=url)["Messages"][0]
    assert "MessageAttributes" not in bare and "Attributes" not in bare


# -- long polling and redrive ---------------------------------------------------------------------


def test_long_poll_wakes_within_a_second_of_a_send(aws, make_queue):
    url = make_queue()
    receiver = aws("sqs", read_timeout=30)
    started = threading.Event()
    result: dict = {}

    def receive() -> None:
        started.set()
        result["messages"] = receiver.receive_message(QueueUrl=url, WaitTimeSeconds=10).get("Messages", [])
        result["at"] = time.monotonic()

    thread = threading.Thread(target=receive)
    thread.start()
    assert started.wait(5)
    time.sleep(0.3)  # let the receive reach the server; it must still be waiting (nothing sent yet)
    assert thread.is_alive()
    sent_at = time.monotonic()
    aws("sqs").send_message(QueueUrl=url, MessageBody="wake")
    thread.join(5)
    assert not thread.is_alive()
    assert [m["Body"] for m in result["messages"]] == ["wake"]
    assert result["at"] - sent_at < 1.0


def test_redrive_to_dead_letter_queue(sqs, make_queue):
    dlq = make_queue()
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})
    source = make_queue(RedrivePolicy=policy)
    source_arn = sqs.get_queue_attributes(QueueUrl=source, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sent = sqs.send_message(QueueUrl=source, MessageBody="poison")["MessageId"]
    for _ in range(2):
        assert len(sqs.receive_message(QueueUrl=source, VisibilityTimeout=0)["Messages"]) == 1
    assert "Messages" not in sqs.receive_message(QueueUrl=source)
    moved = sqs.receive_message(QueueUrl=dlq, MessageSystemAttributeNames=["All"], WaitTimeSeconds=1)[
        "Messages"
    ]
    assert [m["MessageId"] for m in moved] == [sent]
    assert moved[0]["Body"] == "poison"
    assert moved[0]["Attributes"]["DeadLetterQueueSourceArn"] == source_arn


# -- FIFO -----------------------------------------------------------------------------------------


def test_fifo_deduplication_and_scope(sqs, make_queue):
    url = make_queue(fifo=True, ContentBasedDeduplication="true")
    first = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    again = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    assert again["MessageId"] == first["MessageId"] and again["SequenceNumber"] == first["SequenceNumber"]
    other = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="h")
    assert other["MessageId"] == first["MessageId"]  # the default scope is the whole queue
    scoped = make_queue(fifo=True, DeduplicationScope="messageGroup", FifoThroughputLimit="perMessageGroupId")
    a = sqs.send_message(QueueUrl=scoped, MessageBody="x", MessageGroupId="a", MessageDeduplicationId="d")
    b = sqs.send_message(QueueUrl=scoped, MessageBody="y", MessageGroupId="b", MessageDeduplicationId="d")
    assert a["MessageId"] != b["MessageId"]
    assert len(a["SequenceNumber"]) >= 20 and int(b["SequenceNumber"]) > int(a["SequenceNumber"])
    err = code_of(sqs.send_message, QueueUrl=url, MessageBody="z", MessageGroupId="g", DelaySeconds=5)
    assert err == "InvalidParameterValue"


def test_fifo_receive_request_attempt_id(sqs, make_queue):
    url = make_queue(fifo=True, ContentBasedDeduplication="true")
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}", MessageGroupId="g")
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, ReceiveRequestAttemptId="attempt-1")
    retry = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, ReceiveRequestAttemptId="attempt-1")
    handles = [m["ReceiptHandle"] for m in first["Messages"]]
    assert [m["ReceiptHandle"] for m in retry["Messages"]] == handles
    assert [m["Body"] for m in first["Messages"]] == ["m0", "m1"]


def test_fifo_order_per_group_under_concurrency(aws, make_queue):
    url = make_queue(fifo=True, ContentBasedDeduplication="true")
    groups, per_group = 4, 15
    seen: dict[str, list[int]] = defaultdict(list)
    lock = threading.Lock()

    def send(group: int) -> None:
        client = aws("sqs")
        for start in range(0, per_group, 5):
            entries = [
                {"Id": str(i), "MessageBody": f"{group}:{i}", "MessageGroupId": f"g{group}"}
                for i in range(start, start + 5)
            ]
            assert not client.send_message_batch(QueueUrl=url, Entries=entries).get("Failed")

    def receive() -> None:
        client = aws("sqs")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with lock:
                if sum(len(v) for v in seen.values()) >= groups * per_group:
                    return
            got = client.receive_message(QueueUrl=url, MaxNumberOfMessages=3, WaitTimeSeconds=1)
            for message in got.get("Messages", []):
                group, index = message["Body"].split(":")
                with lock:
                    seen[group].append(int(index))
            for message in got.get("Messages", []):
                client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    threads = [threading.Thread(target=send, args=(g,)) for g in range(groups)]
    threads += [threading.Thread(target=receive) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert {g: seen[str(g)] for g in range(groups)} == {g: list(range(per_group)) for g in range(groups)}


# -- query protocol -------------------------------------------------------------------------------


def test_query_protocol_batches_and_visibility(endpoint, sqs, make_queue):
    url = make_queue()
    sent = query(
        endpoint,
        {
            "Action": "SendMessageBatch",
            "QueueUrl": url,
            "SendMessageBatchRequestEntry.1.Id": "a",
            "SendMessageBatchRequestEntry.1.MessageBody": "first",
            "SendMessageBatchRequestEntry.2.Id": "b",
            "SendMessageBatchRequestEntry.2.MessageBody": "second",
            "SendMessageBatchRequestEntry.2.DelaySeconds": "0",
        },
    )
    assert sent.status_code == 200, sent.text
    root = ET.fromstring(sent.content)
    ids = [
        e.find("q:Id", NS).text
        for e in root.iterfind("q:SendMessageBatchResult/q:SendMessageBatchResultEntry", NS)
    ]
    assert sorted(ids) == ["a", "b"]
    received = query(endpoint, {"Action": "ReceiveMessage", "QueueUrl": url, "MaxNumberOfMessages": "10"})
    handles = [
        m.find("q:ReceiptHandle", NS).text
        for m in ET.fromstring(received.content).iterfind("q:ReceiveMessageResult/q:Message", NS)
    ]
    assert len(handles) == 2
    changed = query(
        endpoint,
        {
            "Action": "ChangeMessageVisibility",
            "QueueUrl": url,
            "ReceiptHandle": handles[0],
            "VisibilityTimeout": "60",
        },
    )
    assert changed.status_code == 200, changed.text
    deleted = query(
        endpoint,
        {
            "Action": "DeleteMessageBatch",
            "QueueUrl": url,
            "DeleteMessageBatchRequestEntry.1.Id": "x",
            "DeleteMessageBatchRequestEntry.1.ReceiptHandle": handles[0],
            "DeleteMessageBatchRequestEntry.2.Id": "y",
            "DeleteMessageBatchRequestEntry.2.ReceiptHandle": "garbage",
        },
    )
    assert deleted.status_code == 200, deleted.text
    assert xml_text(deleted, "q:DeleteMessageBatchResult/q:DeleteMessageBatchResultEntry/q:Id") == "x"
    assert (
        xml_text(deleted, "q:DeleteMessageBatchResult/q:BatchResultErrorEntry/q:Code")
        == "ReceiptHandleIsInvalid"
    )
    empty = query(endpoint, {"Action": "SendMessageBatch", "QueueUrl": url})
    assert empty.status_code == 400
    # No entries at all is a missing required member in a form post (docs/architecture.md).
    assert xml_text(empty, "q:Error/q:Code") == "MissingParameter"
    assert counts(sqs, url) == (0, 1, 0)
