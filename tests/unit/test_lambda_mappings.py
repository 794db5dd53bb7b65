"""Event source mappings without the fleet: input checks, the event shapes Lambda hands functions,
partial batch responses, and the pollers picking stored mappings up at start (restart survival)."""

from __future__ import annotations

import asyncio
import importlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.aws.errors import AwsError
from shared.context import RequestContext

mappings = importlib.import_module("services.lambda.mappings")
pollers = importlib.import_module("services.lambda.pollers")
storage = importlib.import_module("services.lambda.storage")
invoke = importlib.import_module("services.lambda.invoke")

QUEUE = "arn:aws:sqs:us-east-1:000000000000:orders"
STREAM = "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2024-01-01T00:00:00.000"
FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:f"


def refused(req: dict[str, Any]) -> AwsError:
    with pytest.raises(AwsError) as info:
        mappings.check_create({"FunctionName": "f", **req})
    return info.value


def test_source_kinds_and_their_rules():
    assert mappings.check_create({"FunctionName": "f", "EventSourceArn": QUEUE}) == "sqs"
    assert mappings.check_create(
        {"FunctionName": "f", "EventSourceArn": STREAM, "StartingPosition": "LATEST"}
    ) == ("dynamodb")
    assert (
        refused({"EventSourceArn": QUEUE, "StartingPosition": "LATEST"}).code
        == "InvalidParameterValueException"
    )
    assert "startingPosition" in refused({"EventSourceArn": STREAM}).message
    assert refused({"EventSourceArn": STREAM, "StartingPosition": "AT_TIMESTAMP"}).code == (
        "InvalidParameterValueException"
    )
    assert "greater than 10" in refused({"EventSourceArn": QUEUE, "BatchSize": 11}).message
    mappings.check_create({"FunctionName": "f", "EventSourceArn": QUEUE, "BatchSize": 11,
                           "MaximumBatchingWindowInSeconds": 1})  # fmt: skip
    assert refused({"EventSourceArn": QUEUE + ".fifo", "BatchSize": 11, "MaximumBatchingWindowInSeconds": 1})
    assert refused({"EventSourceArn": QUEUE, "BatchSize": 0}).code == "ValidationException"
    assert "MaximumRetryAttempts" in refused({"EventSourceArn": QUEUE, "MaximumRetryAttempts": 1}).message
    assert refused({"EventSourceArn": STREAM, "StartingPosition": "LATEST",
                    "ScalingConfig": {"MaximumConcurrency": 2}})  # fmt: skip
    assert refused({"EventSourceArn": STREAM, "StartingPosition": "LATEST", "MaximumRecordAgeInSeconds": 10})
    assert refused({"EventSourceArn": "arn:aws:s3:::bucket"}).code == "InvalidParameterValueException"
    assert refused({"EventSourceArn": QUEUE, "ScalingConfig": {"MaximumConcurrency": 1}}).code == (
        "ValidationException"
    )


def test_configuration_defaults_per_kind():
    ctx = RequestContext("lambda", "CreateEventSourceMapping", "r")
    now = datetime.now(UTC)
    sqs = mappings.new_configuration(ctx, "sqs", {"EventSourceArn": QUEUE}, FUNCTION, now)
    assert sqs["BatchSize"] == 10 and sqs["State"] == "Creating" and "LastProcessingResult" not in sqs
    stream = mappings.new_configuration(
        ctx,
        "dynamodb",
        {"EventSourceArn": STREAM, "StartingPosition": "LATEST", "BatchSize": 7},
        FUNCTION,
        now,
    )
    assert stream["BatchSize"] == 7 and stream["MaximumRetryAttempts"] == -1
    assert stream["DestinationConfig"] == {"OnFailure": {}} and stream["StartingPosition"] == "LATEST"
    assert mappings.state_after_update(True, False) == "Disabling"
    assert mappings.state_after_update(False, True) == "Enabling"
    assert mappings.state_after_update(True, True) == "Updating"


def test_sqs_record_shape():
    message = {
        "MessageId": "m1",
        "ReceiptHandle": "rh",
        "Body": "hi",
        "MD5OfBody": "md5",
        "Attributes": {"ApproximateReceiveCount": "1", "MessageGroupId": "g"},
        "MessageAttributes": {"bin": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}},
    }
    record = pollers.sqs_record(message, QUEUE, "us-east-1")
    assert record["attributes"]["MessageGroupId"] == "g"
    assert record["messageAttributes"]["bin"] == {
        "binaryValue": "AAE=", "stringListValues": [], "binaryListValues": [], "dataType": "Binary"
    }  # fmt: skip
    assert (record["eventSource"], record["eventSourceARN"], record["awsRegion"]) == (
        "aws:sqs",
        QUEUE,
        "us-east-1",
    )


def test_partial_batch_responses():
    ids = ["a", "b", "c"]
    report = pollers.reported_failures
    assert report(b"", ids) == [] and report(b"null", ids) == [] and report(b'{"x": 1}', ids) == []
    assert report(json.dumps({"batchItemFailures": []}).encode(), ids) == []
    assert report(json.dumps({"batchItemFailures": [{"itemIdentifier": "c"}, {"itemIdentifier": "b"}]}).encode(),
                  ids) == [1, 2]  # fmt: skip
    assert report(json.dumps({"batchItemFailures": [{"itemIdentifier": "zzz"}]}).encode(), ids) is None
    assert report(json.dumps({"batchItemFailures": [{"itemIdentifier": ""}]}).encode(), ids) is None
    # not JSON, or not the documented shape: the whole batch failed (as on AWS)
    assert report(b"not json", ids) is None and report(b'"ok"', ids) is None and report(b"[]", ids) is None
    assert report(b'{"batchItemFailures": "a"}', ids) is None
    assert report(b'{"batchItemFailures": ["a"]}', ids) is None
    assert report(b'{"batchItemFailures": [{"id": "a"}]}', ids) is None
    assert report(b'{"batchItemFailures": null}', ids) == []

    messages = [{"MessageId": i} for i in ids]
    partial = invoke.Outcome(json.dumps({"batchItemFailures": [{"itemIdentifier": "b"}]}).encode(), None, "")
    assert pollers.failed_messages(partial, messages, report=True, fifo=False) == {"b"}
    assert pollers.failed_messages(partial, messages, report=True, fifo=True) == {"b", "c"}
    assert pollers.failed_messages(partial, messages, report=False, fifo=False) == set()
    crashed = invoke.Outcome(b"{}", "Unhandled", "")
    assert pollers.failed_messages(crashed, messages, report=True, fifo=False) == set(ids)


def test_sqs_pollers_start_at_five_bounded_by_maximum_and_reserved_concurrency():
    assert pollers.sqs_concurrency(None, None, fifo=False) == (5, pollers.SQS_MAX_WORKERS)
    assert pollers.sqs_concurrency(3, None, fifo=False) == (3, 3)  # MaximumConcurrency bounds the start too
    assert pollers.sqs_concurrency(8, None, fifo=False) == (5, 8)
    assert pollers.sqs_concurrency(8, 2, fifo=False) == (2, 2)  # reserved concurrency bounds both
    assert pollers.sqs_concurrency(None, 0, fifo=False) == (1, 1)  # one worker waits out the throttles
    assert pollers.sqs_concurrency(1000, None, fifo=False) == (5, pollers.SQS_MAX_WORKERS)
    assert pollers.sqs_concurrency(10, None, fifo=True) == (1, 1)


def test_stream_record_and_failure_record():
    parsed = {
        "eventID": "e1",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "userIdentity": {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"},
        "dynamodb": {
            "ApproximateCreationDateTime": datetime(2024, 1, 1, tzinfo=UTC),
            "Keys": {"pk": {"B": b"\x01"}},
            "SequenceNumber": "100000000000000000001",
        },
    }
    record = pollers.stream_record(parsed, STREAM)
    assert record["dynamodb"]["ApproximateCreationDateTime"] == 1704067200
    assert record["dynamodb"]["Keys"] == {"pk": {"B": "AQ=="}}
    assert record["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    assert record["eventSourceARN"] == STREAM
    failure = pollers.failure_record(FUNCTION, STREAM, "shard-1", [record], "RetryAttemptsExhausted", 3,
                                     invoke.Outcome(b"{}", "Unhandled", "", "7"), "req")  # fmt: skip
    assert failure["responseContext"]["executedVersion"] == "7"  # the version that ran
    assert failure["requestContext"] == {
        "requestId": "req", "functionArn": FUNCTION, "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 3
    }  # fmt: skip
    assert failure["responseContext"]["functionError"] == "Unhandled"
    info = failure["DDBStreamBatchInfo"]
    assert info["approximateArrivalOfFirstRecord"] == "2024-01-01T00:00:00Z" and info["batchSize"] == 1


def stored(store: Any, mapping_id: str, source: str, enabled: bool, **extra: Any) -> None:
    config = {"UUID": mapping_id, "EventSourceArn": source, "FunctionArn": FUNCTION, "State": "Enabled",
              "BatchSize": 10, **extra}  # fmt: skip
    doc = {"Configuration": config, "Account": "000000000000", "Region": "us-east-1", "Enabled": enabled,
           "Tags": {}, "Checkpoints": {}}  # fmt: skip
    store.records.put(*mappings.SCOPE, mappings.MAPPING, mapping_id, doc)


class FakeClient:
    """Answers GetShardIterator and records the parameters; every other call fails like an absent fleet."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def call(self, service: str, operation: str, params: dict[str, Any], **kw: Any) -> dict[str, Any]:
        self.calls.append((operation, params))
        if operation == "GetShardIterator":
            return {"ShardIterator": "it"}
        raise pollers.AwsCallError("ResourceNotFoundException", "no", 400)

    async def close(self) -> None:
        pass


def test_stored_mappings_are_picked_up_at_start_and_resume_from_their_checkpoint(tmp_path):
    store = storage.LambdaStore(tmp_path)
    stored(store, "on", QUEUE, True)
    stored(store, "off", QUEUE, False, State="Disabling")

    async def scenario() -> tuple[Any, ...]:
        async with pollers.running(store) as running:
            await asyncio.sleep(0.05)
            states = (store.records.get(*mappings.SCOPE, mappings.MAPPING, "on")["Configuration"]["State"],
                      store.records.get(*mappings.SCOPE, mappings.MAPPING, "off")["Configuration"]["State"])  # fmt: skip
            names = sorted(running.pollers)
            fake = FakeClient()
            running.client = fake
            doc = store.records.get(*mappings.SCOPE, mappings.MAPPING, "on")
            doc["Checkpoints"]["shard-1"] = "100000000000000000007"
            store.records.put(*mappings.SCOPE, mappings.MAPPING, "on", doc)
            poller = pollers.StreamPoller(running, "on", {**doc, "Configuration": {
                **doc["Configuration"], "EventSourceArn": STREAM, "StartingPosition": "LATEST"}})  # fmt: skip
            await poller._iterator("shard-1")
            await poller._iterator("shard-2")
            return states, names, fake.calls

    states, names, calls = asyncio.run(scenario())
    store.close()
    assert states == ("Enabled", "Disabled") and names == ["on"]
    assert calls[0][1]["ShardIteratorType"] == "AFTER_SEQUENCE_NUMBER"
    assert calls[0][1]["SequenceNumber"] == "100000000000000000007"
    assert calls[1][1]["ShardIteratorType"] == "LATEST"
