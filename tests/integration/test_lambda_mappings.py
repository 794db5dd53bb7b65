"""Event source mappings through the fleet: the control plane, and SQS, DynamoDB Streams and S3 driving
real functions (Python handlers run by the local executor; they write what they saw to S3 with boto3)."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.lambda_support import wait_for

ROLE = "arn:aws:iam::000000000000:role/lambda-role"

# Writes every record it gets to s3://$OUT_BUCKET/<source>/<id>; bodies or keys starting with
# "fail" are reported as batch item failures, "crash" raises.
CODE = """
import json, os
import boto3

s3 = boto3.client("s3")


def _ident(record):
    if record.get("eventSource") == "aws:sqs":
        return "sqs", record["body"], record["messageId"]
    if record.get("eventSource") == "aws:dynamodb":
        key = record["dynamodb"]["Keys"]["pk"]["S"]
        return "ddb", key, record["dynamodb"]["SequenceNumber"]
    return "s3", record["s3"]["object"]["key"], None


def handler(event, context):
    failures = []
    for record in event["Records"]:
        source, name, item = _ident(record)
        if name.startswith("crash"):
            attempt = record.get("attributes", {}).get("ApproximateReceiveCount", "")
            s3.put_object(Bucket=os.environ["OUT_BUCKET"], Key=f"{source}/{name}-attempt-{attempt}", Body=b"")
            raise RuntimeError("asked to crash")
        if name.startswith("fail"):
            failures.append({"itemIdentifier": item})
            continue
        s3.put_object(Bucket=os.environ["OUT_BUCKET"], Key=f"{source}/{name}", Body=json.dumps(record))
    return {"batchItemFailures": failures}
"""


def make_zip(source: str = CODE) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("app.py", source)
    return buf.getvalue()


@pytest.fixture(scope="module")
def lam(aws):
    return aws("lambda")


@pytest.fixture(scope="module")
def sqs(aws):
    return aws("sqs")


@pytest.fixture(scope="module")
def ddb(aws):
    return aws("dynamodb")


def create_function(lam, out_bucket: str = "unused", timeout: int = 30) -> tuple[str, str]:
    name = f"esm-{uuid.uuid4().hex[:10]}"
    out = lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip()},
        Timeout=timeout,
        Environment={"Variables": {"OUT_BUCKET": out_bucket}},
    )
    return name, out["FunctionArn"]


def create_queue(sqs, **attributes: str) -> tuple[str, str]:
    name = f"esm-{uuid.uuid4().hex[:10]}"
    if name and attributes.get("FifoQueue") == "true":
        name += ".fifo"
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def create_table(ddb) -> tuple[str, str]:
    name = f"esm-{uuid.uuid4().hex[:10]}"
    out = ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return name, out["TableDescription"]["LatestStreamArn"]


def wait_state(lam, mapping_id: str, state: str) -> dict:
    return wait_for(lambda: (m := lam.get_event_source_mapping(UUID=mapping_id))["State"] == state and m)


def read_json(s3, bucket: str, key: str) -> dict | None:
    try:
        return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except ClientError as err:
        if err.response["Error"]["Code"] == "NoSuchKey":
            return None
        raise


def queue_empty(sqs, url: str) -> bool:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return (
        attrs["ApproximateNumberOfMessages"] == "0" and attrs["ApproximateNumberOfMessagesNotVisible"] == "0"
    )


def error_code(call: Callable[[], Any]) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        call()
    return info.value.response["Error"]["Code"], info.value.response["Error"]["Message"]


# -- control plane ------------------------------------------------------------------------------


def test_sqs_mapping_lifecycle(lam, sqs):
    name, fn_arn = create_function(lam)
    _, queue_arn = create_queue(sqs)
    created = lam.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName=name)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert created["State"] == "Creating"
    assert created["BatchSize"] == 10
    assert created["MaximumBatchingWindowInSeconds"] == 0
    assert created["FunctionArn"] == fn_arn
    assert created["EventSourceArn"] == queue_arn
    assert created["StateTransitionReason"] == "USER_INITIATED"
    assert created["FunctionResponseTypes"] == []
    assert created["EventSourceMappingArn"].endswith(f":event-source-mapping:{created['UUID']}")
    assert "StartingPosition" not in created and "MaximumRetryAttempts" not in created
    mapping_id = created["UUID"]
    assert wait_state(lam, mapping_id, "Enabled")["LastModified"] is not None

    code, message = error_code(
        lambda: lam.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName=name)
    )
    assert code == "ResourceConflictException" and mapping_id in message

    updated = lam.update_event_source_mapping(UUID=mapping_id, Enabled=False, BatchSize=5)
    assert updated["State"] == "Disabling" and updated["BatchSize"] == 5
    wait_state(lam, mapping_id, "Disabled")
    assert lam.update_event_source_mapping(UUID=mapping_id, Enabled=True)["State"] == "Enabling"
    wait_state(lam, mapping_id, "Enabled")

    code, _ = error_code(lambda: lam.update_event_source_mapping(UUID=mapping_id, BatchSize=50))
    assert code == "InvalidParameterValueException"
    updated = lam.update_event_source_mapping(UUID=mapping_id, BatchSize=50, MaximumBatchingWindowInSeconds=1)
    assert updated["State"] == "Updating" and updated["BatchSize"] == 50

    assert lam.delete_event_source_mapping(UUID=mapping_id)["State"] == "Deleting"
    code, message = error_code(lambda: lam.get_event_source_mapping(UUID=mapping_id))
    assert code == "ResourceNotFoundException" and message == "The resource you requested does not exist."


def test_list_filters_and_pages(lam, sqs):
    name, fn_arn = create_function(lam)
    other, _ = create_function(lam)
    queues = [create_queue(sqs)[1] for _ in range(3)]
    ids = [
        lam.create_event_source_mapping(EventSourceArn=q, FunctionName=name, Enabled=False)["UUID"]
        for q in queues
    ]
    lam.create_event_source_mapping(EventSourceArn=queues[0], FunctionName=other, Enabled=False)

    by_function = lam.list_event_source_mappings(FunctionName=fn_arn)["EventSourceMappings"]
    assert [m["UUID"] for m in by_function] == ids
    by_source = lam.list_event_source_mappings(EventSourceArn=queues[0])["EventSourceMappings"]
    assert len(by_source) == 2
    both = lam.list_event_source_mappings(EventSourceArn=queues[0], FunctionName=name)["EventSourceMappings"]
    assert [m["UUID"] for m in both] == ids[:1]

    first = lam.list_event_source_mappings(FunctionName=name, MaxItems=2)
    assert [m["UUID"] for m in first["EventSourceMappings"]] == ids[:2]
    rest = lam.list_event_source_mappings(FunctionName=name, MaxItems=2, Marker=first["NextMarker"])
    assert [m["UUID"] for m in rest["EventSourceMappings"]] == ids[2:]
    assert "NextMarker" not in rest
    assert wait_state(lam, ids[0], "Disabled")
    for mapping_id in ids:
        lam.delete_event_source_mapping(UUID=mapping_id)


def test_create_is_checked(lam, sqs, ddb):
    name, _ = create_function(lam)
    _, queue_arn = create_queue(sqs)
    _, stream_arn = create_table(ddb)

    def refused(**params: Any) -> tuple[str, str]:
        return error_code(lambda: lam.create_event_source_mapping(**params))

    code, message = refused(EventSourceArn=queue_arn, FunctionName=name, StartingPosition="LATEST")
    assert (code, message) == (
        "InvalidParameterValueException",
        "StartingPosition is not valid for SQS event sources.",
    )
    code, message = refused(EventSourceArn=stream_arn, FunctionName=name)
    assert code == "InvalidParameterValueException" and "startingPosition" in message
    code, message = refused(EventSourceArn=queue_arn, FunctionName=name, BatchSize=11)
    assert code == "InvalidParameterValueException" and "greater than 10" in message
    assert refused(EventSourceArn=queue_arn, FunctionName=name, BatchSize=10001)[0] == "ValidationException"
    code, _ = refused(EventSourceArn=queue_arn, FunctionName=name, MaximumRetryAttempts=1)
    assert code == "InvalidParameterValueException"
    code, message = refused(EventSourceArn=queue_arn, FunctionName="nope-" + uuid.uuid4().hex[:6])
    assert code == "ResourceNotFoundException" and "Function not found" in message
    code, message = refused(EventSourceArn=queue_arn + "-missing", FunctionName=name)
    assert code == "InvalidParameterValueException" and "NonExistentQueue" in message
    missing_stream = f"arn:aws:dynamodb:us-east-1:000000000000:table/nope-{uuid.uuid4().hex[:6]}/stream/2020-01-01T00:00:00.000"
    code, message = refused(EventSourceArn=missing_stream, FunctionName=name, StartingPosition="LATEST")
    assert code == "InvalidParameterValueException" and "Stream not found" in message
    code, _ = refused(EventSourceArn="arn:aws:s3:::bucket", FunctionName=name)
    assert code == "InvalidParameterValueException"

    stream = lam.create_event_source_mapping(
        EventSourceArn=stream_arn, FunctionName=name, StartingPosition="TRIM_HORIZON", Enabled=False
    )
    assert stream["BatchSize"] == 100 and stream["StartingPosition"] == "TRIM_HORIZON"
    assert stream["MaximumRetryAttempts"] == -1 and stream["MaximumRecordAgeInSeconds"] == -1
    assert stream["BisectBatchOnFunctionError"] is False and stream["ParallelizationFactor"] == 1
    assert stream["LastProcessingResult"] == "No records processed"
    lam.delete_event_source_mapping(UUID=stream["UUID"])


# -- SQS ----------------------------------------------------------------------------------------


def test_sqs_messages_run_the_function_and_are_deleted(lam, sqs, s3, bucket):
    name, _ = create_function(lam, bucket)
    url, queue_arn = create_queue(sqs)
    mapping = lam.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName=name, BatchSize=5)
    wait_state(lam, mapping["UUID"], "Enabled")
    sent = sqs.send_message(
        QueueUrl=url,
        MessageBody="hello",
        MessageAttributes={"colour": {"DataType": "String", "StringValue": "blue"}},
    )
    record = wait_for(lambda: read_json(s3, bucket, "sqs/hello"))
    assert record["messageId"] == sent["MessageId"]
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"] == queue_arn
    assert record["awsRegion"] == "us-east-1" and record["md5OfBody"] == sent["MD5OfMessageBody"]
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(record["attributes"])
    assert record["messageAttributes"]["colour"] == {
        "stringValue": "blue", "stringListValues": [], "binaryListValues": [], "dataType": "String"
    }  # fmt: skip
    wait_for(lambda: queue_empty(sqs, url))
    lam.delete_event_source_mapping(UUID=mapping["UUID"])


def test_sqs_partial_batch_failures_go_to_the_dead_letter_queue(lam, sqs, s3, bucket):
    name, _ = create_function(lam, bucket, timeout=4)  # Lambda refuses a visibility timeout below it
    dlq_url, dlq_arn = create_queue(sqs)
    url, queue_arn = create_queue(
        sqs,
        VisibilityTimeout="4",  # longer than a cold start, so successes are deleted before they reappear
        RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"}),
    )
    sqs.send_message_batch(
        QueueUrl=url,
        Entries=[{"Id": "a", "MessageBody": "ok-1"}, {"Id": "b", "MessageBody": "fail-1"},
                 {"Id": "c", "MessageBody": "ok-2"}],
    )  # fmt: skip
    mapping = lam.create_event_source_mapping(
        EventSourceArn=queue_arn, FunctionName=name, FunctionResponseTypes=["ReportBatchItemFailures"]
    )
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    wait_for(lambda: read_json(s3, bucket, "sqs/ok-1") and read_json(s3, bucket, "sqs/ok-2"))

    def dead_letters() -> list[str]:
        got = sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1).get("Messages") or []
        return [m["Body"] for m in got]

    assert wait_for(dead_letters, timeout=40) == ["fail-1"]
    wait_for(lambda: queue_empty(sqs, url))
    lam.delete_event_source_mapping(UUID=mapping["UUID"])


def test_sqs_function_error_leaves_the_messages(lam, sqs, s3, bucket):
    name, _ = create_function(lam, bucket, timeout=2)
    url, queue_arn = create_queue(sqs, VisibilityTimeout="2")
    mapping = lam.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName=name)
    wait_state(lam, mapping["UUID"], "Enabled")
    sqs.send_message(QueueUrl=url, MessageBody="crash-now")
    # A second receive of the same message proves the failed batch was not deleted.
    wait_for(lambda: object_exists(s3, bucket, "sqs/crash-now-attempt-2"))
    lam.delete_event_source_mapping(UUID=mapping["UUID"])


BATCH_RECORDER = """
import json, os
import boto3


def handler(event, context):
    bodies = [record["body"] for record in event["Records"]]
    boto3.client("s3").put_object(Bucket=os.environ["OUT_BUCKET"], Key="batch/" + context.aws_request_id,
                                  Body=json.dumps(bodies))
    return {}
"""


def test_sqs_batching_window_gathers_messages_sent_apart(lam, sqs, s3, bucket):
    name = f"esm-{uuid.uuid4().hex[:10]}"
    lam.create_function(
        FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler", Timeout=10,
        Code={"ZipFile": make_zip(BATCH_RECORDER)}, Environment={"Variables": {"OUT_BUCKET": bucket}},
    )  # fmt: skip
    # reserved concurrency 1 bounds the mapping to one poller, so one receive gathers the whole batch
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    url, queue_arn = create_queue(sqs)
    mapping = lam.create_event_source_mapping(
        EventSourceArn=queue_arn, FunctionName=name, BatchSize=10, MaximumBatchingWindowInSeconds=4
    )
    wait_state(lam, mapping["UUID"], "Enabled")
    sqs.send_message(QueueUrl=url, MessageBody="first")
    time.sleep(1.5)  # the scenario: the second message comes well after the first (within the window)
    sqs.send_message(QueueUrl=url, MessageBody="second")

    def batches() -> list[list[str]]:
        listed = s3.list_objects_v2(Bucket=bucket, Prefix="batch/").get("Contents", [])
        return [json.loads(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()) for o in listed]

    assert wait_for(batches, timeout=30) == [["first", "second"]]
    wait_for(lambda: queue_empty(sqs, url))
    lam.delete_event_source_mapping(UUID=mapping["UUID"])


def test_sqs_visibility_timeout_shorter_than_the_function_timeout_is_refused(lam, sqs):
    name, _ = create_function(lam, timeout=30)
    _, queue_arn = create_queue(sqs, VisibilityTimeout="20")
    with pytest.raises(ClientError) as refused:
        lam.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName=name)
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert refused.value.response["Error"]["Message"] == (
        "Queue visibility timeout: 20 seconds is less than Function timeout: 30 seconds"
    )
    short, _ = create_function(lam, timeout=20)  # equal is fine
    mapping = lam.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName=short, Enabled=False)
    with pytest.raises(ClientError) as refused:  # re-pointing it at the slower function is refused too
        lam.update_event_source_mapping(UUID=mapping["UUID"], FunctionName=name)
    assert "is less than Function timeout: 30 seconds" in refused.value.response["Error"]["Message"]
    lam.delete_event_source_mapping(UUID=mapping["UUID"])


def object_exists(s3, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError:
        return False
    return True


# -- DynamoDB Streams ---------------------------------------------------------------------------


def test_stream_records_run_the_function(lam, ddb, s3, bucket):
    name, _ = create_function(lam, bucket)
    table, stream_arn = create_table(ddb)
    ddb.put_item(TableName=table, Item={"pk": {"S": "first"}, "n": {"N": "1"}})
    mapping = lam.create_event_source_mapping(
        EventSourceArn=stream_arn, FunctionName=name, StartingPosition="TRIM_HORIZON", BatchSize=10
    )
    wait_state(lam, mapping["UUID"], "Enabled")
    ddb.put_item(TableName=table, Item={"pk": {"S": "second"}, "b": {"B": b"\x00\x01"}})
    first = wait_for(lambda: read_json(s3, bucket, "ddb/first"))
    second = wait_for(lambda: read_json(s3, bucket, "ddb/second"))
    assert first["eventName"] == "INSERT" and first["eventSource"] == "aws:dynamodb"
    assert first["eventSourceARN"] == stream_arn and first["eventVersion"] == "1.1"
    assert first["awsRegion"] == "us-east-1" and len(first["eventID"]) > 0
    body = first["dynamodb"]
    assert isinstance(body["ApproximateCreationDateTime"], int | float)
    assert body["Keys"] == {"pk": {"S": "first"}} and body["NewImage"]["n"] == {"N": "1"}
    assert body["StreamViewType"] == "NEW_AND_OLD_IMAGES" and body["SequenceNumber"]
    assert second["dynamodb"]["NewImage"]["b"] == {"B": "AAE="}

    def checkpointed() -> bool:
        got = lam.get_event_source_mapping(UUID=mapping["UUID"])
        return got["LastProcessingResult"] == "OK"

    wait_for(checkpointed)
    lam.delete_event_source_mapping(UUID=mapping["UUID"])


def test_stream_failures_are_retried_bisected_and_sent_on(lam, ddb, sqs, s3, bucket):
    name, fn_arn = create_function(lam, bucket)
    table, stream_arn = create_table(ddb)
    dest_url, dest_arn = create_queue(sqs)
    for key in ("good-1", "crash-1", "good-2"):
        ddb.put_item(TableName=table, Item={"pk": {"S": key}})
    mapping = lam.create_event_source_mapping(
        EventSourceArn=stream_arn,
        FunctionName=name,
        StartingPosition="TRIM_HORIZON",
        MaximumRetryAttempts=1,
        BisectBatchOnFunctionError=True,
        DestinationConfig={"OnFailure": {"Destination": dest_arn}},
    )
    assert mapping["DestinationConfig"] == {"OnFailure": {"Destination": dest_arn}}
    wait_for(lambda: read_json(s3, bucket, "ddb/good-1") and read_json(s3, bucket, "ddb/good-2"), timeout=40)

    def failure() -> dict | None:
        got = sqs.receive_message(QueueUrl=dest_url, WaitTimeSeconds=1).get("Messages") or []
        return json.loads(got[0]["Body"]) if got else None

    record = wait_for(failure, timeout=40)
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["functionArn"] == fn_arn
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["responseContext"]["functionError"] == "Unhandled"
    info = record["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1 and info["streamArn"] == stream_arn
    assert info["startSequenceNumber"] == info["endSequenceNumber"]
    lam.delete_event_source_mapping(UUID=mapping["UUID"])


# -- S3 -> Lambda -------------------------------------------------------------------------------


def test_s3_notifications_invoke_the_function(lam, s3, bucket):
    _, fn_arn = create_function(lam, bucket)  # the Lambda service registers it; S3 validates against that

    source = f"esm-src-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=source)
    missing = fn_arn + "-missing"
    with pytest.raises(ClientError) as info:
        s3.put_bucket_notification_configuration(
            Bucket=source,
            NotificationConfiguration={
                "LambdaFunctionConfigurations": [
                    {"LambdaFunctionArn": missing, "Events": ["s3:ObjectCreated:*"]}
                ]
            },
        )
    assert info.value.response["Error"]["Code"] == "InvalidArgument"
    s3.put_bucket_notification_configuration(
        Bucket=source,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"Id": "to-lambda", "LambdaFunctionArn": fn_arn, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    try:
        s3.put_object(Bucket=source, Key="incoming/a b.txt", Body=b"data")
        record = wait_for(lambda: read_json(s3, bucket, "s3/incoming/a+b.txt"), timeout=40)
        assert record["eventSource"] == "aws:s3" and record["eventName"] == "ObjectCreated:Put"
        assert record["s3"]["bucket"]["name"] == source
        assert record["s3"]["configurationId"] == "to-lambda" and record["s3"]["object"]["size"] == 4
    finally:
        s3.delete_object(Bucket=source, Key="incoming/a b.txt")
        s3.delete_bucket(Bucket=source)
