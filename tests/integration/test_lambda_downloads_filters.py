"""Issue 7 through the fleet: downloadable code and layer zips, zip modes at run time, and event
source mapping filters (records that do not match are deleted from the queue, never passed on)."""

from __future__ import annotations

import io
import json
import stat
import time
import urllib.error
import urllib.request
import uuid
import zipfile

import pytest

from tests.integration.lambda_support import ROLE, create_function, error_of, unique, wait_for, zip_of


def download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.read()


def refused(url: str) -> tuple[int, bytes]:
    with pytest.raises(urllib.error.HTTPError) as err:
        download(url)
    return err.value.code, err.value.read()


@pytest.fixture(scope="module")
def lam(aws):
    return aws("lambda")


# -- downloads ------------------------------------------------------------------------------------


def test_function_code_location_serves_the_uploaded_zip(lam):
    name = unique()
    data = zip_of({"handler.py": "def handler(event, context):\n    return 1\n"})
    create_function(lam, name, Code={"ZipFile": data})
    location = lam.get_function(FunctionName=name)["Code"]["Location"]
    assert "token=" in location
    assert download(location) == data
    assert download(lam.get_function(FunctionName=name, Qualifier="$LATEST")["Code"]["Location"]) == data

    status, body = refused(location.split("?")[0])
    assert status == 403 and b"<Code>AccessDenied</Code>" in body
    status, _ = refused(location[:-4] + "0000")  # a guessed token
    assert status == 403
    other_account = location.replace("/000000000000/", "/111111111111/")
    assert refused(other_account)[0] == 403

    lam.delete_function(FunctionName=name)
    status, body = refused(location)
    assert status == 404 and b"<Code>NoSuchKey</Code>" in body


def test_layer_content_location_serves_the_uploaded_zip(lam):
    data = zip_of({"python/layer_mod.py": "VALUE = 7\n"})
    layer = unique("layer")
    published = lam.publish_layer_version(LayerName=layer, Content={"ZipFile": data})
    assert download(published["Content"]["Location"]) == data
    got = lam.get_layer_version(LayerName=layer, VersionNumber=published["Version"])
    assert download(got["Content"]["Location"]) == data
    by_arn = lam.get_layer_version_by_arn(Arn=published["LayerVersionArn"])
    assert download(by_arn["Content"]["Location"]) == data


def test_zip_modes_survive_into_the_running_function(lam):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        tool = zipfile.ZipInfo("bin/tool")
        tool.create_system = 3
        tool.external_attr = (stat.S_IFREG | 0o755) << 16
        archive.writestr(tool, "#!/bin/sh\necho tool-ran\n")
        archive.writestr(
            "handler.py",
            "import os, subprocess\n"
            "def handler(event, context):\n"
            "    path = os.path.join(os.environ['LAMBDA_TASK_ROOT'], 'bin', 'tool')\n"
            "    return {'out': subprocess.run([path], capture_output=True, text=True).stdout,\n"
            "            'mode': oct(os.stat(path).st_mode & 0o777)}\n",
        )
    name = unique()
    create_function(lam, name, Code={"ZipFile": buf.getvalue()})
    result = json.loads(lam.invoke(FunctionName=name, Payload=b"{}")["Payload"].read())
    assert result == {"out": "tool-ran\n", "mode": "0o755"}


# -- filters --------------------------------------------------------------------------------------

RECORDER = """
import json, os
import boto3

s3 = boto3.client("s3")


def handler(event, context):
    for record in event["Records"]:
        s3.put_object(Bucket=os.environ["OUT_BUCKET"], Key=record["messageId"], Body=record["body"])
    return {}
"""


def test_invalid_filter_patterns_are_refused(lam, aws):
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    name = unique()
    create_function(lam, name)
    for pattern in ('{"body": "x"}', "not json", '{"a": [{"numeric": [">", "1"]}]}'):
        code, status, message = error_of(
            lam.create_event_source_mapping,
            EventSourceArn=arn,
            FunctionName=name,
            FilterCriteria={"Filters": [{"Pattern": pattern}]},
        )
        assert (code, status, message) == (
            "InvalidParameterValueException",
            400,
            "Invalid filter pattern definition.",
        )
    mapping = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, Enabled=False)
    code, _, _ = error_of(
        lam.update_event_source_mapping,
        UUID=mapping["UUID"],
        FilterCriteria={"Filters": [{"Pattern": '{"body": {"kind": []}}'}]},
    )
    assert code == "InvalidParameterValueException"
    lam.delete_event_source_mapping(UUID=mapping["UUID"])


def test_sqs_filters_pass_matching_messages_and_delete_the_rest(lam, aws):
    sqs, s3 = aws("sqs"), aws("s3")
    bucket = f"filters-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    url = sqs.create_queue(QueueName=unique("q"), Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    name = unique()
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="handler.handler",
        Code={"ZipFile": zip_of({"handler.py": RECORDER})},
        Timeout=30,
        Environment={"Variables": {"OUT_BUCKET": bucket}},
    )
    patterns = [
        {"body": {"kind": ["order"], "total": [{"numeric": [">=", 10]}]}},
        {"body": [{"prefix": "urgent:"}]},
    ]
    criteria = {"Filters": [{"Pattern": json.dumps(p)} for p in patterns]}
    mapping = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, FilterCriteria=criteria)
    assert mapping["FilterCriteria"] == criteria
    wait_for(lambda: lam.get_event_source_mapping(UUID=mapping["UUID"])["State"] == "Enabled")

    bodies = {
        "big-order": json.dumps({"kind": "order", "total": 12}),
        "small-order": json.dumps({"kind": "order", "total": 3}),
        "refund": json.dumps({"kind": "refund", "total": 50}),
        "urgent": "urgent: call me",
        "plain": "just text",
    }
    ids = {key: sqs.send_message(QueueUrl=url, MessageBody=body)["MessageId"] for key, body in bodies.items()}

    def queue_empty() -> bool:
        attrs = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return (
            attrs["ApproximateNumberOfMessages"] == "0"
            and attrs["ApproximateNumberOfMessagesNotVisible"] == "0"
        )

    def seen() -> set[str]:
        return {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}

    wait_for(lambda: seen() == {ids["big-order"], ids["urgent"]})
    wait_for(queue_empty)  # the filtered-out messages were deleted, not left to reappear
    time.sleep(0.5)
    assert seen() == {ids["big-order"], ids["urgent"]}
    lam.delete_event_source_mapping(UUID=mapping["UUID"])


STREAM_RECORDER = """
import os
import boto3

s3 = boto3.client("s3")


def handler(event, context):
    for record in event["Records"]:
        key = record["dynamodb"]["Keys"]["pk"]["S"]
        s3.put_object(Bucket=os.environ["OUT_BUCKET"], Key=f"{record['eventName']}-{key}", Body=b"")
    return {}
"""


def test_stream_filters_pass_matching_records(lam, aws):
    ddb, s3 = aws("dynamodb"), aws("s3")
    bucket = f"filters-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    table = unique("t")
    stream = ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]["LatestStreamArn"]
    name = unique()
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="handler.handler",
        Code={"ZipFile": zip_of({"handler.py": STREAM_RECORDER})},
        Timeout=30,
        Environment={"Variables": {"OUT_BUCKET": bucket}},
    )
    pattern = {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"status": {"S": ["done"]}}}}
    mapping = lam.create_event_source_mapping(
        EventSourceArn=stream,
        FunctionName=name,
        StartingPosition="LATEST",
        FilterCriteria={"Filters": [{"Pattern": json.dumps(pattern)}]},
    )
    wait_for(lambda: lam.get_event_source_mapping(UUID=mapping["UUID"])["State"] == "Enabled")
    for pk, status in (("a", "done"), ("b", "open"), ("c", "done")):
        ddb.put_item(TableName=table, Item={"pk": {"S": pk}, "status": {"S": status}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "status": {"S": "done"}, "n": {"N": "1"}})  # MODIFY
    ddb.put_item(TableName=table, Item={"pk": {"S": "z"}, "status": {"S": "open"}})  # last: filtered out

    def seen() -> set[str]:
        return {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}

    wait_for(lambda: seen() == {"INSERT-a", "INSERT-c"})
    last = wait_for(
        lambda: lam.get_event_source_mapping(UUID=mapping["UUID"])["LastProcessingResult"] == "OK"
    )
    assert last
    time.sleep(0.5)
    assert seen() == {"INSERT-a", "INSERT-c"}
    lam.delete_event_source_mapping(UUID=mapping["UUID"])
