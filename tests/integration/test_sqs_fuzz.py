"""Thousands of malformed SQS requests, json and query: never a 5xx, always an AWS error body.

A seeded generator (reproducible: set FLOTILLA_FUZZ_SEED to replay another run) builds
requests from the botocore model and then breaks them: broken or non-object JSON, wrong
member types, unknown members, huge and out-of-range values, invalid UTF-8, unknown
operations; and form posts with junk or misnumbered parameters, bad percent-encoding and
invalid UTF-8. Some requests name real queues so that handlers, not only the parser, see the
junk. Every answer must be below 500 and well formed (a json error has ``__type`` and a
message, a query error an ``ErrorResponse/Error/Code``), and afterwards SQS still serves.
"""

from __future__ import annotations

import json
import os
import random
import string
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from botocore.model import Shape

from shared.aws.models import service_model

SEED = int(os.environ.get("FLOTILLA_FUZZ_SEED", "20240607"))
JSON_REQUESTS = 2000
QUERY_REQUESTS = 1200
AUTH = (
    "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/sqs/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
)
MODEL = service_model("sqs")
OPERATIONS = list(MODEL.operation_names)
QUERY_NAMES = [
    "QueueUrl", "QueueName", "MessageBody", "ReceiptHandle", "Label", "TaskHandle", "SourceArn",
    "DestinationArn", "MaxResults", "NextToken", "QueueNamePrefix", "VisibilityTimeout", "DelaySeconds",
    "WaitTimeSeconds", "MaxNumberOfMessages", "MessageGroupId", "MessageDeduplicationId",
    "MaxNumberOfMessagesPerSecond", "QueueOwnerAWSAccountId", "ReceiveRequestAttemptId",
    "Attribute.{n}.Name", "Attribute.{n}.Value", "AttributeName.{n}", "MessageAttributeName.{n}",
    "MessageAttribute.{n}.Name", "MessageAttribute.{n}.Value.DataType", "MessageAttribute.{n}.Value.StringValue",
    "MessageAttribute.{n}.Value.BinaryValue", "MessageAttribute.{n}.Value.StringListValue.{n}",
    "Tag.{n}.Key", "Tag.{n}.Value", "TagKey.{n}", "AWSAccountId.{n}", "ActionName.{n}",
    "SendMessageBatchRequestEntry.{n}.Id", "SendMessageBatchRequestEntry.{n}.MessageBody",
    "SendMessageBatchRequestEntry.{n}.DelaySeconds", "DeleteMessageBatchRequestEntry.{n}.Id",
    "DeleteMessageBatchRequestEntry.{n}.ReceiptHandle", "ChangeMessageVisibilityBatchRequestEntry.{n}.Id",
    "ChangeMessageVisibilityBatchRequestEntry.{n}.ReceiptHandle",
    "ChangeMessageVisibilityBatchRequestEntry.{n}.VisibilityTimeout", "MessageSystemAttribute.{n}.Name",
    "MessageSystemAttribute.{n}.Value.DataType", "MessageSystemAttribute.{n}.Value.StringValue",
    "Bogus", "Attribute..Name", "Attribute.{n}", "Version",
]  # fmt: skip


class Junk:
    """Values that are wrong, extreme or hostile, for any member."""

    def __init__(self, rng: random.Random, urls: list[str], arns: list[str]) -> None:
        self.rng, self.urls, self.arns = rng, urls, arns

    def text(self) -> str:
        r = self.rng
        return r.choice(
            [
                "",
                "x",
                "All",
                r.choice(self.urls),
                r.choice(self.arns),
                "http://localhost:4566/000000000000/" + "a" * 90,
                "http://[::1/000000000000/q",
                "arn:aws:sqs:us-east-1:000000000000:" + "}{" * 5,
                "\x00\x01\x02 control",
                "\ud800 lone surrogate",
                "😀" * r.randint(1, 50),
                "y" * r.choice([81, 129, 257, 1025, 300_000]),
                "".join(r.choice(string.printable) for _ in range(r.randint(1, 40))),
                '{"deadLetterTargetArn": "' + r.choice(self.arns) + '", "maxReceiveCount": ' + str(r.randint(-2, 2000)) + "}",
                '{"redrivePermission": "byQueue", "sourceQueueArns": ' + json.dumps(self.arns[:2]) + "}",
                "eyJ0YXNrSWQiOiAxfQ==",
                "%%%",
            ]
        )  # fmt: skip

    def number(self) -> Any:
        return self.rng.choice([0, -1, 1, 10, 11, 20, 21, 43_201, 2**31, 2**63, -(2**70), 1.5, 1e308])

    def wrong(self) -> Any:
        r = self.rng
        return r.choice(
            [None, True, [], {}, [1, "a"], {"a": {"b": [None]}}, self.number(), self.text(), [[[[]]]]]
        )


class JsonRequests:
    """Request bodies for ``X-Amz-Target: AmazonSQS.<Op>``, mostly broken."""

    def __init__(self, junk: Junk) -> None:
        self.junk, self.rng = junk, junk.rng

    def value(self, shape: Shape, depth: int = 0) -> Any:
        r = self.rng
        if r.random() < 0.15 or depth > 4:
            return self.junk.wrong()
        kind = shape.type_name
        if kind == "structure":
            out = {n: self.value(m, depth + 1) for n, m in shape.members.items() if r.random() < 0.7}
            if r.random() < 0.2:
                out["Unknown" + str(r.randint(0, 9))] = self.junk.wrong()
            return out
        if kind == "list":
            return [self.value(shape.member, depth + 1) for _ in range(r.choice([0, 1, 2, 11]))]
        if kind == "map":
            return {
                self.junk.text()[:300]: self.value(shape.value, depth + 1)
                for _ in range(r.choice([0, 1, 3, 51]))
            }
        if kind in ("integer", "long"):
            return self.junk.number()
        if kind == "boolean":
            return r.choice([True, False, "true"])
        if kind == "blob":
            return r.choice(["AAE=", "not base64!", ""])
        if shape.enum and r.random() < 0.5:
            return r.choice(shape.enum)
        return self.junk.text()

    def body(self, operation: str) -> bytes:
        r = self.rng
        roll = r.random()
        if roll < 0.08:
            return r.choice(
                [b"", b"{", b"[1,2", b"null", b"42", b'"str"', b"[]", b'{"QueueUrl": }', b"\xff\xfe\x00"]
            )
        if roll < 0.13:
            return bytes(r.getrandbits(8) for _ in range(r.randint(1, 200)))
        doc = self.value(MODEL.operation_model(operation).input_shape)
        raw = json.dumps(doc, allow_nan=True).encode()
        if roll < 0.2 and b'"' in raw:  # invalid UTF-8 inside a string
            at = raw.index(b'"') + 1
            raw = raw[:at] + b"\xc3\x28\xff" + raw[at:]
        return raw

    def request(self) -> tuple[dict[str, str], bytes]:
        r = self.rng
        operation = r.choice(OPERATIONS)
        target = (
            f"AmazonSQS.{operation}" if r.random() > 0.03 else r.choice(["AmazonSQS.Bogus", "AmazonSQS."])
        )
        headers = {
            "X-Amz-Target": target,
            "Content-Type": "application/x-amz-json-1.0",
            "Authorization": AUTH,
        }
        return headers, self.body(operation)


class QueryRequests:
    """Form posts with an ``Action``, junk parameters and broken encodings."""

    def __init__(self, junk: Junk) -> None:
        self.junk, self.rng = junk, junk.rng

    def param(self) -> str:
        r = self.rng
        name = r.choice(QUERY_NAMES).replace("{n}", str(r.choice([1, 1, 2, 0, -1, 11, 99999999999, "x"])))
        value = self.junk.text() if r.random() < 0.8 else str(self.junk.number())
        encoded = quote(value.encode("utf-8", "surrogatepass"), safe="")
        if r.random() < 0.05:
            encoded = r.choice(["%", "%zz", "%ff%fe", "%c3%28", encoded + "%"])
        return f"{quote(name)}={encoded}"

    def request(self) -> tuple[dict[str, str], bytes]:
        r = self.rng
        action = r.choice(OPERATIONS) if r.random() > 0.05 else r.choice(["Bogus", "", "createqueue"])
        params = [f"Action={action}"] + [self.param() for _ in range(r.randint(0, 8))]
        if r.random() < 0.9:
            params.append("Version=2012-11-05")
        r.shuffle(params)
        body = "&".join(params).encode()
        if r.random() < 0.05:
            body += b"&MessageBody=\xff\xfe"
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": AUTH}
        return headers, body


def check_json(response: httpx.Response) -> str | None:
    try:
        doc = json.loads(response.content) if response.content else {}
    except ValueError:
        return "body is not JSON"
    if response.status_code >= 400 and not (isinstance(doc, dict) and doc.get("__type") and "message" in doc):
        return "error body without __type and message"
    return None


def check_query(response: httpx.Response) -> str | None:
    try:
        root = ET.fromstring(response.content)
    except ET.ParseError:
        return "body is not XML"
    if response.status_code >= 400:
        code = root.find("{*}Error/{*}Code")
        if root.tag.split("}")[-1] != "ErrorResponse" or code is None or not code.text:
            return "error body without ErrorResponse/Error/Code"
    return None


@pytest.fixture
def targets(aws) -> Iterator[tuple[list[str], list[str]]]:
    """Real queues (standard, FIFO, and a dead-letter pair) for the junk to reach."""
    sqs = aws("sqs")
    tag = uuid.uuid4().hex[:8]
    dlq = sqs.create_queue(QueueName=f"fuzz-dlq-{tag}")["QueueUrl"]
    dlq_arn = f"arn:aws:sqs:us-east-1:000000000000:fuzz-dlq-{tag}"
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})
    urls = [
        dlq,
        sqs.create_queue(QueueName=f"fuzz-{tag}", Attributes={"RedrivePolicy": policy})["QueueUrl"],
        sqs.create_queue(QueueName=f"fuzz-{tag}.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"],
    ]
    arns = [
        dlq_arn,
        f"arn:aws:sqs:us-east-1:000000000000:fuzz-{tag}",
        "arn:aws:sqs:us-east-1:000000000000:nope",
    ]
    yield urls, arns
    for url in urls:
        try:
            sqs.delete_queue(QueueUrl=url)
        except Exception:
            pass


def run(
    client: httpx.Client, count: int, make: Callable[[], tuple[dict, bytes]], check: Callable
) -> list[str]:
    failures = []
    for _ in range(count):
        headers, body = make()
        response = client.post("/", content=body, headers=headers)
        problem = f"HTTP {response.status_code}" if response.status_code >= 500 else check(response)
        if problem:
            failures.append(
                f"{problem}: {headers.get('X-Amz-Target', '')} {body[:300]!r} -> {response.content[:300]!r}"
            )
    return failures


def test_malformed_requests_never_break_sqs(endpoint, aws, targets):
    urls, arns = targets
    junk = Junk(random.Random(SEED), urls, arns)
    with httpx.Client(base_url=endpoint, timeout=30) as client:
        failures = run(client, JSON_REQUESTS, JsonRequests(junk).request, check_json)
        failures += run(client, QUERY_REQUESTS, QueryRequests(junk).request, check_query)
    assert not failures, f"{len(failures)} bad answers (seed {SEED}), e.g.:\n" + "\n".join(failures[:15])
    sqs = aws("sqs")
    name = f"after-fuzz-{uuid.uuid4().hex[:8]}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="still alive")
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"][0]["Body"] == "still alive"
    sqs.delete_queue(QueueUrl=url)
