"""Invoking Python functions through the gateway with boto3: the code really runs (local executor)."""

from __future__ import annotations

import base64
import io
import json
import os
import time
import uuid
import zipfile

import pytest
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::000000000000:role/lambda-role"

CODE = """
import json, os, time

count = 0


def handler(event, context):
    global count
    count += 1
    action = event.get("action")
    if action == "raise":
        raise ValueError("boom: " + event.get("why", ""))
    if action == "print":
        print("hello from the function", event.get("n"))
        return "printed"
    if action == "env":
        return {k: os.environ.get(k) for k in event["keys"]}
    if action == "sleep":
        time.sleep(event["seconds"])
        return "slept"
    if action == "count":
        return count
    if action == "context":
        return {"id": context.aws_request_id, "arn": context.invoked_function_arn,
                "remaining": context.get_remaining_time_in_millis()}
    if action == "pid":
        return os.getpid()
    if action == "client_context":
        cc = context.client_context
        return {"custom": cc.custom, "env": cc.env, "installation_id": cc.client.installation_id,
                "app_title": cc.client.app_title}
    if action == "s3":
        import boto3
        s3 = boto3.client("s3")
        s3.put_object(Bucket=event["bucket"], Key="from-lambda", Body=b"written by lambda")
        return s3.get_object(Bucket=event["bucket"], Key="from-lambda")["Body"].read().decode()
    if action == "sqs+dynamodb":
        import boto3
        sqs = boto3.client("sqs")
        sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName=event["queue"])["QueueUrl"], MessageBody="hi")
        table = boto3.resource("dynamodb").Table(event["table"])
        table.put_item(Item={"id": "from-lambda", "n": 1})
        return table.get_item(Key={"id": "from-lambda"})["Item"]["id"]
    return {"echo": event}
"""


def make_zip(source: str = CODE) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("app.py", source)
    return buf.getvalue()


@pytest.fixture(scope="module")
def lam(aws):
    return aws("lambda")


def create(lam, **extra) -> str:
    name = f"run-{uuid.uuid4().hex[:10]}"
    params = {
        "Runtime": "python3.11",
        "Role": ROLE,
        "Handler": "app.handler",
        "Code": {"ZipFile": make_zip()},
    }
    lam.create_function(FunctionName=name, **{**params, **extra})
    return name


@pytest.fixture(scope="module")
def fn(lam) -> str:
    return create(lam, Environment={"Variables": {"GREETING": "hi"}}, MemorySize=256)


def call(lam, name: str, event: dict, **kwargs) -> tuple[dict, object]:
    out = lam.invoke(FunctionName=name, Payload=json.dumps(event).encode(), **kwargs)
    body = out["Payload"].read()
    return out, json.loads(body) if body else None


def test_returns_value(lam, fn):
    out, result = call(lam, fn, {"a": [1, 2]})
    assert out["StatusCode"] == 200
    assert result == {"echo": {"a": [1, 2]}}
    assert out["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in out


def test_handler_error_is_unhandled_with_payload(lam, fn):
    out, result = call(lam, fn, {"action": "raise", "why": "x"})
    assert out["StatusCode"] == 200
    assert out["FunctionError"] == "Unhandled"
    assert result["errorMessage"] == "boom: x"
    assert result["errorType"] == "ValueError"
    assert isinstance(result["stackTrace"], list)


def test_log_tail(lam, fn):
    out, result = call(lam, fn, {"action": "print", "n": 7}, LogType="Tail")
    assert result == "printed"
    logs = base64.b64decode(out["LogResult"]).decode()
    assert "hello from the function 7" in logs
    assert logs.startswith("START RequestId:") or "START RequestId:" in logs
    assert "REPORT RequestId:" in logs


def test_env_vars(lam, fn, endpoint):
    keys = ["GREETING", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_REGION",
            "AWS_LAMBDA_FUNCTION_VERSION", "_HANDLER", "AWS_ENDPOINT_URL", "LAMBDA_TASK_ROOT"]  # fmt: skip
    _, env = call(lam, fn, {"action": "env", "keys": keys})
    assert env["GREETING"] == "hi"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == fn
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_REGION"] == "us-east-1"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["_HANDLER"] == "app.handler"
    assert env["AWS_ENDPOINT_URL"].startswith("http://localhost:")
    assert env["LAMBDA_TASK_ROOT"]


def test_context(lam, fn):
    out, ctx = call(lam, fn, {"action": "context"})
    assert ctx["arn"].endswith(f":function:{fn}")
    assert 0 < ctx["remaining"] <= 3000
    assert len(ctx["id"]) == 36


def test_warm_reuse_keeps_module_state(lam):
    name = create(lam)
    _, first = call(lam, name, {"action": "count"})
    _, second = call(lam, name, {"action": "count"})
    assert (first, second) == (1, 2)


def test_timeout_kills_and_reports(lam):
    name = create(lam, Timeout=1)
    started = time.monotonic()
    out, result = call(lam, name, {"action": "sleep", "seconds": 3})
    assert time.monotonic() - started < 2.9
    assert out["FunctionError"] == "Unhandled"
    assert result["errorMessage"].endswith("Task timed out after 1.00 seconds")
    # the killed environment is replaced: the function still answers, from a fresh process
    _, count = call(lam, name, {"action": "count"})
    assert count == 1


def test_calls_s3_through_the_fleet(lam, aws):
    bucket = f"from-lambda-{uuid.uuid4().hex[:8]}"
    aws("s3").create_bucket(Bucket=bucket)
    name = create(lam, Timeout=20)
    out, result = call(lam, name, {"action": "s3", "bucket": bucket})
    assert "FunctionError" not in out, result
    assert result == "written by lambda"
    body = aws("s3").get_object(Bucket=bucket, Key="from-lambda")["Body"].read()
    assert body == b"written by lambda"


def test_calls_sqs_and_dynamodb_through_the_fleet(lam, aws):
    queue, table = f"from-fn-{uuid.uuid4().hex[:8]}", f"from-fn-{uuid.uuid4().hex[:8]}"
    url = aws("sqs").create_queue(QueueName=queue)["QueueUrl"]
    ddb = aws("dynamodb")
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    name = create(lam, Timeout=20)  # importing boto3 in the function takes a while on a busy machine
    out, result = call(lam, name, {"action": "sqs+dynamodb", "queue": queue, "table": table})
    assert "FunctionError" not in out, result
    assert result == "from-lambda"
    assert ddb.get_item(TableName=table, Key={"id": {"S": "from-lambda"}})["Item"]["n"] == {"N": "1"}
    messages = aws("sqs").receive_message(QueueUrl=url, WaitTimeSeconds=2)["Messages"]
    assert [m["Body"] for m in messages] == ["hi"]


def test_import_error_is_reported(lam):
    name = create(lam, Handler="missing.handler")
    out, result = call(lam, name, {})
    assert out["FunctionError"] == "Unhandled"
    assert result["errorType"] == "Runtime.ImportModuleError"
    assert "missing" in result["errorMessage"]


def test_dry_run_event_and_limits(lam, fn):
    assert lam.invoke(FunctionName=fn, InvocationType="DryRun")["StatusCode"] == 204
    assert lam.invoke(FunctionName=fn, InvocationType="Event", Payload=b"{}")["StatusCode"] == 202
    with pytest.raises(ClientError) as too_large:
        lam.invoke(FunctionName=fn, Payload=b'"' + b"x" * (6 * 1024 * 1024) + b'"')
    assert too_large.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert too_large.value.response["Error"] == {
        "Code": "RequestEntityTooLargeException",
        "Message": "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
    }
    event_payload = b'"' + b"x" * (256 * 1024) + b'"'  # 262146 bytes
    with pytest.raises(ClientError) as too_large:
        lam.invoke(FunctionName=fn, InvocationType="Event", Payload=event_payload)
    assert too_large.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert too_large.value.response["Error"] == {
        "Code": "RequestEntityTooLargeException",
        "Message": "262146 byte payload is too large for the Event invocation type (limit 262144 bytes)",
    }
    with pytest.raises(lam.exceptions.InvalidRequestContentException):
        lam.invoke(FunctionName=fn, Payload=b"not json")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName="no-such-function", Payload=b"{}")


def test_client_context_reaches_the_handler(lam, fn):
    client_context = {
        "client": {"installation_id": "install-1", "app_title": "Flotilla app", "app_version_name": "1.0",
                   "app_version_code": "1", "app_package_name": "cloud.flotilla"},
        "custom": {"tenant": "blue"},
        "env": {"platform": "linux"},
    }  # fmt: skip
    encoded = base64.b64encode(json.dumps(client_context).encode()).decode()
    out, result = call(lam, fn, {"action": "client_context"}, ClientContext=encoded)
    assert "FunctionError" not in out, result
    assert result == {"custom": {"tenant": "blue"}, "env": {"platform": "linux"},
                      "installation_id": "install-1", "app_title": "Flotilla app"}  # fmt: skip


def process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def wait_until(check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_deleting_a_version_or_the_function_kills_its_environments_at_once(lam):
    name = create(lam)
    version = lam.publish_version(FunctionName=name)["Version"]
    _, latest_pid = call(lam, name, {"action": "pid"})
    _, version_pid = call(lam, f"{name}:{version}", {"action": "pid"})
    assert latest_pid != version_pid and not process_gone(latest_pid) and not process_gone(version_pid)

    lam.delete_function(FunctionName=name, Qualifier=version)  # the fleet's idle time is 300 s
    wait_until(lambda: process_gone(version_pid), timeout=5)
    assert not process_gone(latest_pid)  # $LATEST's environment stays warm
    _, again = call(lam, name, {"action": "pid"})
    assert again == latest_pid

    lam.delete_function(FunctionName=name)
    wait_until(lambda: process_gone(latest_pid), timeout=5)


BOOTSTRAP = """#!/usr/bin/env python3
# A custom runtime: the Runtime API loop, with urllib only.
import json, os, urllib.request

api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
while True:
    with urllib.request.urlopen(api + "next") as got:
        request_id = got.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(got.read())
    body = json.dumps({"handler": os.environ["_HANDLER"], "event": event, "cwd": os.getcwd(),
                       "task_root": os.environ["LAMBDA_TASK_ROOT"]}).encode()
    urllib.request.urlopen(urllib.request.Request(api + request_id + "/response", data=body, method="POST"))
"""


def zip_with_bootstrap(text: str, mode: int = 0o755) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = (0o100000 | mode) << 16
        archive.writestr(info, text)
    return buf.getvalue()


@pytest.mark.parametrize("runtime", ["provided.al2023", "provided.al2"])
def test_os_only_runtime_runs_the_bootstrap(lam, runtime):
    name = create(lam, Runtime=runtime, Handler="my.handler", Code={"ZipFile": zip_with_bootstrap(BOOTSTRAP)})
    out, result = call(lam, name, {"n": 1})
    assert "FunctionError" not in out, result
    assert result["handler"] == "my.handler" and result["event"] == {"n": 1}
    assert result["cwd"] == result["task_root"]
    _, again = call(lam, name, {"n": 2})  # warm: the same loop takes the next invocation
    assert again["event"] == {"n": 2}
    lam.delete_function(FunctionName=name)


def test_os_only_runtime_without_a_bootstrap_fails_the_invocation(lam):
    name = create(lam, Runtime="provided.al2023", Handler="x")  # the zip holds app.py only
    out, result = call(lam, name, {})
    assert out["FunctionError"] == "Unhandled"
    assert result["errorType"] == "Runtime.InvalidEntrypoint"
    assert result["errorMessage"].startswith("Couldn't find valid bootstrap(s): [")
    lam.delete_function(FunctionName=name)
