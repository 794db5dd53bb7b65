"""Lambda restarts in a fleet with persistence on: functions, event source mappings and pending async
retries survive ``Fleet.restart``-style stops and starts of the Lambda process (the rest of the fleet
keeps running). The fleet is this module's own (Lambda, SQS, S3, DynamoDB; local executor)."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import redis
from botocore.config import Config

from flotilla.fleet import Fleet, free_port
from tests.integration.lambda_support import ROLE, unique, wait_for, zip_of

RETRY_SECONDS = 5  # long enough for the retry to be pending while Lambda is down
DELAYED = "flotilla:lambda:async:delayed"

RECORDER = """
import os
import boto3

s3 = boto3.client("s3")


def handler(event, context):
    for record in event["Records"]:
        s3.put_object(Bucket=os.environ["OUT_BUCKET"], Key=record["body"], Body=b"")
    return {}
"""

FAILS_ONCE = """
import os


def handler(event, context):
    marker = event["marker"]
    if not os.path.exists(marker):
        open(marker, "w").close()
        raise RuntimeError("first attempt fails")
    return {"ok": True}
"""


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    root: Path = tmp_path_factory.mktemp("restart-fleet")
    fleet = Fleet(
        port=free_port(),
        services=("lambda", "sqs", "s3", "dynamodb"),
        data_dir=root / "data",
        log_dir=root / "logs",
        persistence=True,
        env={"FLOTILLA_LAMBDA_EXECUTOR": "local", "FLOTILLA_LAMBDA_ASYNC_RETRY_SECONDS": str(RETRY_SECONDS)},
    )
    fleet.start()
    try:
        yield fleet
    finally:
        fleet.stop()


@pytest.fixture(scope="module")
def client(fleet: Fleet) -> Callable[[str], Any]:
    config = Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=60)
    made: dict[str, Any] = {}

    def make(service: str) -> Any:
        if service not in made:
            made[service] = boto3.client(
                service,
                endpoint_url=fleet.url,
                region_name="us-east-1",
                aws_access_key_id="test",
                aws_secret_access_key="test",
                config=config,
            )
        return made[service]

    return make


def queue(sqs: Any, visibility: int = 60) -> tuple[str, str]:
    attributes = {"VisibilityTimeout": str(visibility)}
    url = sqs.create_queue(QueueName=unique("q"), Attributes=attributes)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def test_restart_keeps_the_rest_of_the_fleet_and_the_port(fleet: Fleet, client) -> None:
    before = fleet.service_url("lambda")
    sqs_pid = next(p.popen.pid for p in fleet.processes if p.name == "sqs")
    fleet.restart("lambda")
    assert fleet.service_url("lambda") == before
    assert next(p.popen.pid for p in fleet.processes if p.name == "sqs") == sqs_pid
    assert "Functions" in client("lambda").list_functions()


def test_function_and_sqs_mapping_survive_a_restart(fleet: Fleet, client) -> None:
    lam, sqs, s3 = client("lambda"), client("sqs"), client("s3")
    bucket = f"restart-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    # a long poll of the stopped poller may still take messages (SQS answers it to a closed
    # connection): they come back after this visibility timeout, as they would on AWS
    url, arn = queue(sqs, visibility=3)
    name = unique()
    code = zip_of({"handler.py": RECORDER})
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="handler.handler",
        Code={"ZipFile": code},
        Timeout=3,  # Lambda refuses a queue whose visibility timeout is below the function's
        Environment={"Variables": {"OUT_BUCKET": bucket}},
    )
    location = lam.get_function(FunctionName=name)["Code"]["Location"]
    mapping = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name)["UUID"]
    wait_for(lambda: lam.get_event_source_mapping(UUID=mapping)["State"] == "Enabled", timeout=40)

    def seen() -> set[str]:
        return {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}

    sqs.send_message(QueueUrl=url, MessageBody="before")
    wait_for(lambda: seen() == {"before"}, timeout=40)

    fleet.stop_service("lambda")
    for body in ("while-down-1", "while-down-2"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    time.sleep(0.5)
    assert seen() == {"before"}  # nothing runs while Lambda is down
    fleet.start_service("lambda")

    wait_for(lambda: seen() == {"before", "while-down-1", "while-down-2"}, timeout=40)
    assert lam.get_function(FunctionName=name)["Configuration"]["FunctionName"] == name
    assert lam.get_event_source_mapping(UUID=mapping)["State"] == "Enabled"
    with urllib.request.urlopen(location, timeout=10) as answer:  # handed out before the restart
        assert answer.read() == code
    lam.delete_event_source_mapping(UUID=mapping)


def test_pending_async_retry_survives_a_restart(fleet: Fleet, client, tmp_path: Path) -> None:
    lam, sqs = client("lambda"), client("sqs")
    url, arn = queue(sqs)
    name = unique()
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="handler.handler",
        Code={"ZipFile": zip_of({"handler.py": FAILS_ONCE})},
    )
    lam.put_function_event_invoke_config(
        FunctionName=name, MaximumRetryAttempts=2, DestinationConfig={"OnSuccess": {"Destination": arn}}
    )
    marker = tmp_path / "first-attempt"
    payload = json.dumps({"marker": str(marker)}).encode()
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=payload)

    assert fleet.redis_in_use is not None
    store = redis.Redis.from_url(fleet.redis_in_use, decode_responses=True)

    def pending() -> list[str]:
        return [m for m in store.zrange(DELAYED, 0, -1) if name in json.loads(m)["FunctionArn"]]

    wait_for(lambda: marker.exists() and pending(), timeout=40)  # the first attempt failed; its retry waits
    fleet.stop_service("lambda")
    assert len(pending()) == 1  # still there while Lambda is down
    fleet.start_service("lambda")

    def delivered() -> dict | None:
        out = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2)
        return json.loads(out["Messages"][0]["Body"]) if out.get("Messages") else None

    record = wait_for(delivered, timeout=RETRY_SECONDS + 30)
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["responsePayload"] == {"ok": True}
    assert pending() == []
    store.close()
