"""Asynchronous invokes (retries, dead-letter queues, destinations, event age), throttling, and the
function logs endpoint, against the fleet. The test fleet retries async events after 1 s, then 2 s
(``FLOTILLA_LAMBDA_ASYNC_RETRY_SECONDS=1``, flotilla/fleet.py)."""

from __future__ import annotations

import asyncio
import io
import json
import re
import threading
import time
import uuid
import zipfile
from typing import Any

import httpx
import pytest

from shared.bus import Bus
from tests.integration.lambda_support import wait_for

ROLE = "arn:aws:iam::000000000000:role/lambda-role"

CODE = """
import json, time


def handler(event, context):
    print("EVENT " + json.dumps(event))
    if event.get("action") == "fail":
        raise RuntimeError("boom " + str(event.get("n", "")))
    if event.get("action") == "sleep":
        time.sleep(event["seconds"])
    return {"done": event.get("n")}
"""


def make_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("app.py", CODE)
    return buf.getvalue()


@pytest.fixture(scope="module")
def lam(aws):
    return aws("lambda")


@pytest.fixture(scope="module")
def sqs(aws):
    return aws("sqs")


def create(lam, **extra) -> str:
    name = f"async-{uuid.uuid4().hex[:10]}"
    lam.create_function(
        FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": make_zip()}, **extra,
    )  # fmt: skip
    return name


def queue(sqs) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:10]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def receive(sqs, url: str, timeout: float = 20.0) -> dict:
    def one() -> dict | None:
        out = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], WaitTimeSeconds=1)
        return (out.get("Messages") or [None])[0]

    return wait_for(one, timeout, f"a message in {url}")


def logs(endpoint: str, name: str) -> str:
    resp = httpx.get(f"{endpoint}/_flotilla/lambda/logs/{name}", timeout=5)
    return resp.text if resp.status_code == 200 else ""


def starts(endpoint: str, name: str) -> int:
    return logs(endpoint, name).count("START RequestId:")


def event_invoke(lam, name: str, event: dict) -> str:
    out = lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps(event).encode())
    assert out["StatusCode"] == 202
    return out["ResponseMetadata"]["RequestId"]


def put_config(lam, name: str, **config) -> None:
    lam.put_function_event_invoke_config(FunctionName=name, **config)


def put_concurrency(lam, name: str, reserved: int) -> None:
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=reserved)


def test_failing_event_is_retried_twice_then_dead_lettered(lam, sqs, endpoint):
    dlq_url, dlq_arn = queue(sqs)
    name = create(lam, DeadLetterConfig={"TargetArn": dlq_arn})
    request_id = event_invoke(lam, name, {"action": "fail", "n": 1})
    message = receive(sqs, dlq_url)
    assert json.loads(message["Body"]) == {"action": "fail", "n": 1}
    attributes = message["MessageAttributes"]
    assert attributes["RequestID"]["StringValue"] == request_id
    assert attributes["ErrorCode"] == {"DataType": "Number", "StringValue": "200"}
    assert attributes["ErrorMessage"]["StringValue"] == "boom 1"
    text = logs(endpoint, name)
    assert text.count(f"START RequestId: {request_id}") == 3  # the first run and two retries
    assert "RuntimeError" in text


def test_on_failure_destinations_sqs_and_lambda(lam, sqs, endpoint):
    dest_url, dest_arn = queue(sqs)
    receiver = create(lam)
    name = create(lam)
    put_config(
        lam, name, MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": dest_arn}},
    )  # fmt: skip
    request_id = event_invoke(lam, name, {"action": "fail", "n": 2})
    record = json.loads(receive(sqs, dest_url)["Body"])
    assert record["version"] == "1.0"
    assert record["requestContext"] == {
        "requestId": request_id,
        "functionArn": f"arn:aws:lambda:us-east-1:000000000000:function:{name}:$LATEST",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 2,
    }
    assert record["requestPayload"] == {"action": "fail", "n": 2}
    assert record["responseContext"] == {
        "statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled",
    }  # fmt: skip
    assert record["responsePayload"]["errorMessage"] == "boom 2"
    assert record["timestamp"].endswith("Z")
    # a Lambda destination gets the same record as its event
    receiver_arn = lam.get_function(FunctionName=receiver)["Configuration"]["FunctionArn"]
    other = create(lam)
    put_config(
        lam, other, MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": receiver_arn}},
    )  # fmt: skip
    event_invoke(lam, other, {"action": "fail", "n": 3})
    wait_for(
        lambda: '"condition": "RetriesExhausted"' in logs(endpoint, receiver),
        timeout=20,
        what="the receiver's run",
    )
    assert starts(endpoint, other) == 1  # MaximumRetryAttempts=0: no retry


def test_on_success_destination(lam, sqs):
    dest_url, dest_arn = queue(sqs)
    name = create(lam)
    put_config(lam, name, DestinationConfig={"OnSuccess": {"Destination": dest_arn}})
    request_id = lam.invoke_async(FunctionName=name, InvokeArgs=b'{"n": 4}')["ResponseMetadata"]["RequestId"]
    record = json.loads(receive(sqs, dest_url)["Body"])
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["requestId"] == request_id
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"] == {"done": 4}


def test_reserved_concurrency_zero_throttles_sync_and_delays_async(lam, endpoint):
    name = create(lam)
    put_concurrency(lam, name, 0)
    with pytest.raises(lam.exceptions.TooManyRequestsException) as caught:
        lam.invoke(FunctionName=name, Payload=b"{}")
    assert caught.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert caught.value.response["Error"]["Message"] == "Rate Exceeded."
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    event_invoke(lam, name, {"n": 5})  # accepted, throttled while it runs, retried later
    time.sleep(1.5)  # let at least one throttled attempt happen (the retry interval is 1 s)
    assert starts(endpoint, name) == 0
    lam.delete_function_concurrency(FunctionName=name)
    wait_for(lambda: '"n": 5' in logs(endpoint, name), timeout=20, what="the throttled event to run")


def test_reserved_concurrency_one_allows_one_at_a_time(lam, endpoint):
    name = create(lam, Timeout=10)
    put_concurrency(lam, name, 1)
    results: list[Any] = []
    slow = threading.Thread(
        target=lambda: results.append(
            lam.invoke(FunctionName=name, Payload=b'{"action": "sleep", "seconds": 3}')["StatusCode"]
        )
    )
    slow.start()
    try:
        wait_for(
            lambda: '"action": "sleep"' in logs(endpoint, name), timeout=20, what="the slow invoke to start"
        )
        with pytest.raises(lam.exceptions.TooManyRequestsException) as caught:
            lam.invoke(FunctionName=name, Payload=b"{}")
        assert caught.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    finally:
        slow.join(20)
    assert results == [200]
    assert lam.invoke(FunctionName=name, Payload=b"{}")["StatusCode"] == 200  # free again


def test_event_older_than_max_age_is_not_run(lam, sqs, endpoint, redis_url):
    """Published on the bus as another service would (the S3 notification shape)."""
    dlq_url, dlq_arn = queue(sqs)
    name = create(lam, DeadLetterConfig={"TargetArn": dlq_arn})
    arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    event = {
        "FunctionArn": arn,
        "Payload": json.dumps({"n": 6}),
        "RequestId": "old-event-1",
        "EnqueuedAt": int((time.time() - 7 * 3600) * 1000),  # past the default 6 h
    }

    async def publish() -> None:
        bus = Bus(redis_url)
        try:
            await bus.publish("lambda.invoke", event)
        finally:
            await bus.close()

    asyncio.run(publish())
    message = receive(sqs, dlq_url)
    assert json.loads(message["Body"]) == {"n": 6}
    assert message["MessageAttributes"]["RequestID"]["StringValue"] == "old-event-1"
    assert starts(endpoint, name) == 0


def test_logs_endpoint(lam, endpoint):
    name = create(lam)
    assert httpx.get(f"{endpoint}/_flotilla/lambda/logs/{name}").status_code == 404  # never ran
    lam.invoke(FunctionName=name, Payload=b'{"n": 7}')
    lam.invoke(FunctionName=name, Payload=b'{"n": 8}')
    resp = httpx.get(f"{endpoint}/_flotilla/lambda/logs/{name}")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain")
    text = resp.text
    assert text.index('"n": 7') < text.index('"n": 8')  # newest last
    assert text.count("REPORT RequestId:") == 2
    tail = httpx.get(f"{endpoint}/_flotilla/lambda/logs/{name}", params={"tail": 40}).text
    assert len(tail.encode()) <= 40 and text.endswith(tail)


def test_failed_event_record_goes_to_an_s3_destination(lam, aws):
    s3 = aws("s3")
    bucket = f"failures-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    name = create(lam)
    put_config(
        lam,
        name,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": f"arn:aws:s3:::{bucket}"}},
    )
    request_id = event_invoke(lam, name, {"action": "fail", "n": 9})

    def keys() -> list[str]:
        return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]

    [key] = wait_for(keys, timeout=20, what="the invocation record in S3")
    today = time.gmtime()
    prefix = f"aws/lambda/async/{name}/{time.strftime('%Y/%m/%d', today)}/{time.strftime('%Y-%m-%dT', today)}"
    assert key.startswith(prefix), key
    assert re.fullmatch(r"\d{2}\.\d{2}\.\d{2}-[0-9a-f-]{36}", key[len(prefix) :]), key
    record = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    assert record["requestContext"]["requestId"] == request_id
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestPayload"] == {"action": "fail", "n": 9}
    assert record["responseContext"]["functionError"] == "Unhandled"
