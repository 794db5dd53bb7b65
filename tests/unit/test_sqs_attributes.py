"""SQS queue management rules: attribute validation, queue URLs and ARNs, task handles, bus events."""

from __future__ import annotations

import json

import pytest

from services.sqs import attributes
from services.sqs.events import BadEvent, send_request
from services.sqs.handlers.tasks import decode_handle, encode_handle
from services.sqs.queues import QueueRef, parse_queue_arn, resolve_url, url_base
from shared.aws.errors import AwsError
from shared.context import RequestContext

DLQ = "arn:aws:sqs:us-east-1:000000000000:dlq"
REF = QueueRef("000000000000", "eu-west-1", "q")


def ctx(region: str = "us-east-1") -> RequestContext:
    return RequestContext(service="sqs", operation="X", request_id="r", region=region, protocol="json")


def error(call, *args) -> AwsError:
    with pytest.raises(AwsError) as err:
        call(*args)
    return err.value


def test_redrive_policy_is_normalized():
    raw = json.dumps({"deadLetterTargetArn": DLQ, "maxReceiveCount": "4"})
    out = attributes.validate({"RedrivePolicy": raw}, fifo=False)
    assert out == {"RedrivePolicy": f'{{"deadLetterTargetArn":"{DLQ}","maxReceiveCount":4}}'}
    assert attributes.redrive_target(out) == (DLQ, 4)
    assert attributes.validate({"RedrivePolicy": ""}, fifo=False) == {}


@pytest.mark.parametrize(
    "value, code, fragment",
    [
        ("nope", "InvalidAttributeValue", "not a valid JSON map"),
        ('{"maxReceiveCount": 1}', "InvalidParameterValue", "mandatory attribute: deadLetterTargetArn."),
        (
            json.dumps({"deadLetterTargetArn": DLQ, "maxReceiveCount": True}),
            "InvalidParameterValue",
            "maxReceiveCount: True",
        ),  # fmt: skip
        (
            json.dumps({"deadLetterTargetArn": "dlq", "maxReceiveCount": 1}),
            "InvalidParameterValue",
            "deadLetterTargetArn",
        ),  # fmt: skip
    ],
)
def test_redrive_policy_errors(value, code, fragment):
    err = error(attributes.validate, {"RedrivePolicy": value}, False)
    assert err.code == code and fragment in err.message


def test_redrive_allow_policy():
    by_queue = json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": [DLQ]})
    out = attributes.validate({"RedriveAllowPolicy": by_queue}, fifo=False)
    assert attributes.allows_redrive_from(out, DLQ)
    assert not attributes.allows_redrive_from(out, DLQ + "2")
    assert not attributes.allows_redrive_from({"RedriveAllowPolicy": '{"redrivePermission":"denyAll"}'}, DLQ)
    assert attributes.allows_redrive_from({}, DLQ)
    for bad in (
        '{"redrivePermission":"allowAll","sourceQueueArns":[]}',
        '{"redrivePermission":"byQueue"}',
        "1",
    ):
        assert error(attributes.validate, {"RedriveAllowPolicy": bad}, False).code in (
            "InvalidParameterValue",
            "InvalidAttributeValue",
        )


def test_update_rules():
    standard, fifo = attributes.defaults(False), attributes.defaults(True)
    assert error(attributes.validate_update, {"FifoQueue": "true"}, standard).code == "InvalidAttributeName"
    err = error(attributes.validate_update, {"FifoQueue": "false"}, fifo)
    assert err.message.endswith("Reason: Modifying queue type is not supported.")
    assert attributes.validate_update({"FifoQueue": "true"}, fifo) == {}
    assert attributes.validate_update({"Policy": "", "DelaySeconds": "3"}, standard) == {
        "Policy": "",
        "DelaySeconds": "3",
    }
    err = error(attributes.validate_update, {"FifoThroughputLimit": "perMessageGroupId"}, fifo)
    assert err.code == "InvalidAttributeValue"
    ok = {**fifo, "DeduplicationScope": "messageGroup"}
    assert attributes.validate_update({"FifoThroughputLimit": "perMessageGroupId"}, ok)
    assert attributes.validate({"KmsMasterKeyId": "alias/aws/sqs"}, False) == {
        "KmsMasterKeyId": "alias/aws/sqs",
        "KmsDataKeyReusePeriodSeconds": "300",
        "SqsManagedSseEnabled": "false",
    }


def test_get_attribute_names():
    assert attributes.check_names(["All", "QueueArn"], fifo=False) == {"All", "QueueArn"}
    assert attributes.check_names(["FifoQueue"], fifo=True) == {"FifoQueue"}
    for name, fifo in (("FifoQueue", False), ("Bogus", True)):
        err = error(attributes.check_names, [name], fifo)
        assert (err.code, err.message) == ("InvalidAttributeName", f"Unknown Attribute {name}.")
    every = {"A": "1", "B": "2"}
    assert attributes.select(every, {"All"}) == every and attributes.select(every, {"B"}) == {"B": "2"}


def test_url_strategies():
    assert REF.url(url_base("http://localhost:4566/")) == "http://localhost:4566/000000000000/q"
    standard = url_base("http://localhost:4566", "standard")
    assert REF.url(standard) == "http://sqs.eu-west-1.localhost.localstack.cloud:4566/000000000000/q"
    path = url_base("http://localhost:4566", "path")
    assert REF.url(path) == "http://localhost:4566/queue/eu-west-1/000000000000/q"
    with pytest.raises(ValueError):
        url_base("http://localhost:4566", "dynamic")


@pytest.mark.parametrize("strategy", ["off", "standard", "path"])
def test_every_url_form_resolves_back(strategy):
    url = REF.url(url_base("http://localhost:4566", strategy))
    expected_region = "us-east-1" if strategy == "off" else "eu-west-1"
    assert resolve_url(ctx(), url) == QueueRef(REF.account, expected_region, REF.name)


@pytest.mark.parametrize("url", ["http://[::1/000000000000/q", "http://localhost/000000000000/bad}name", "http://localhost/000000000000/"])  # fmt: skip
def test_malformed_urls_name_no_queue(url):
    assert error(resolve_url, ctx(), url).code == "QueueDoesNotExist"


def test_queue_arns():
    assert parse_queue_arn(DLQ) == QueueRef("000000000000", "us-east-1", "dlq")
    assert parse_queue_arn("arn:aws:sqs:us-east-1:000000000000:f.fifo").fifo
    for bad in ("", "arn:aws:sns:us-east-1:000000000000:t", "arn:aws:sqs:us-east-1:0:q", "arn:aws:sqs:us-east-1:000000000000:a:b"):  # fmt: skip
        assert parse_queue_arn(bad) is None


def test_task_handles_round_trip():
    handle = encode_handle("id-1", DLQ)
    assert decode_handle(handle) == ("id-1", DLQ)
    for bad in ("", "garbage", "bnVsbA==", "W10="):  # '', not base64, null, []
        assert error(decode_handle, bad).message == "Value for parameter TaskHandle is invalid."


def test_deliver_events_become_send_requests():
    ref, req = send_request(
        {
            "QueueArn": DLQ,
            "MessageBody": "b",
            "MessageAttributes": {"x": {"DataType": "Binary", "BinaryValue": "AAE="}},
            "MessageGroupId": "g",
            "Unknown": 1,
        },
        "http://localhost:4566",
    )
    assert ref == QueueRef("000000000000", "us-east-1", "dlq")
    assert req == {
        "QueueUrl": "http://localhost:4566/000000000000/dlq",
        "MessageBody": "b",
        "MessageAttributes": {"x": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}},
        "MessageGroupId": "g",
    }
    for bad in ({}, {"QueueArn": DLQ}, {"QueueArn": "x", "MessageBody": "b"}, {"QueueArn": DLQ, "MessageBody": "b", "MessageAttributes": []}):  # fmt: skip
        with pytest.raises(BadEvent):
            send_request(bad, "http://localhost:4566")
