"""Client-side load: boto3 clients in threads, each thread its own client, one operation in a loop.

Each service has a ``setup`` (run once per target, idempotent, returns what the operations
need: a queue URL, say); each workload is an ``op`` called as ``op(client, ctx, thread, i)``. The runner
warms up for ``warmup`` seconds, then times every call for ``duration`` seconds. These figures
include boto3's own cost (signing, serializing, parsing: 1.3-2.8 ms of CPU per call on the 2-core bench machine),
paid in the same process under the GIL: they say what a Python test suite sees, not what the
server can do (that is wrk_load's job).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BUCKET = "bench-bucket"
GET_KEY = "get-1k"
QUEUE = "bench-queue"
TABLE = "bench-table"
PAYLOAD = b"x" * 1024
MAX_CONSECUTIVE_ERRORS = 20  # a broken endpoint stops its thread instead of spinning

Op = Callable[[Any, dict, int, int], bool | None]  # returns False for "did less than the full work"


@dataclass(frozen=True)
class Workload:
    name: str
    service: str
    op: Op


@dataclass
class Result:
    ops: int = 0
    errors: int = 0
    partial: int = 0  # ops that returned False (an empty ReceiveMessage)
    seconds: float = 0.0
    ops_per_s: float = 0.0
    p50_ms: float | None = None
    p99_ms: float | None = None
    error: str | None = None  # the first error seen, or why the run could not happen
    extra: dict = field(default_factory=dict)


# -- clients ---------------------------------------------------------------------------------


def make_clients(service: str, endpoint: str, count: int) -> list[Any]:
    """Create clients up front, one at a time: creating clients concurrently is not thread-safe."""
    session = boto3.session.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
    )
    config = Config(
        retries={"total_max_attempts": 1},
        connect_timeout=5,
        read_timeout=60,
        s3={"addressing_style": "path"},
        max_pool_connections=2,
    )
    return [session.client(service, endpoint_url=endpoint, config=config) for _ in range(count)]


def _ignore_exists(call: Callable[[], Any], *codes: str) -> None:
    try:
        call()
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") not in codes:
            raise


# -- S3 --------------------------------------------------------------------------------------


def s3_setup(client: Any) -> dict:
    # ObjectWriter ownership: ACLs enabled (S3's default since 2023 disables them), so that the
    # object can be public-read: wrk GETs it unsigned, and moto enforces object ACLs on anonymous reads
    _ignore_exists(
        lambda: client.create_bucket(Bucket=BUCKET, ObjectOwnership="ObjectWriter"),
        "BucketAlreadyOwnedByYou",
        "BucketAlreadyExists",
    )
    client.put_object(Bucket=BUCKET, Key=GET_KEY, Body=PAYLOAD, ACL="public-read")
    return {}


def s3_put(client: Any, ctx: dict, thread: int, i: int) -> None:
    client.put_object(Bucket=BUCKET, Key=f"put/{thread}/{i % 1000}", Body=PAYLOAD)


def s3_get(client: Any, ctx: dict, thread: int, i: int) -> None:
    body = client.get_object(Bucket=BUCKET, Key=GET_KEY)["Body"].read()
    if len(body) != len(PAYLOAD):
        raise RuntimeError(f"GetObject returned {len(body)} bytes, expected {len(PAYLOAD)}")


# -- SQS -------------------------------------------------------------------------------------


def sqs_setup(client: Any) -> dict:
    return {"url": client.create_queue(QueueName=QUEUE)["QueueUrl"]}


def sqs_send(client: Any, ctx: dict, thread: int, i: int) -> None:
    client.send_message(QueueUrl=ctx["url"], MessageBody=f"message {thread}/{i} " + "x" * 200)


def sqs_receive_delete(client: Any, ctx: dict, thread: int, i: int) -> bool:
    """One consumer cycle: ReceiveMessage (1 message, no long poll), then DeleteMessage of it."""
    messages = client.receive_message(QueueUrl=ctx["url"], MaxNumberOfMessages=1, WaitTimeSeconds=0).get(
        "Messages", []
    )
    for message in messages:
        client.delete_message(QueueUrl=ctx["url"], ReceiptHandle=message["ReceiptHandle"])
    return bool(messages)


# -- DynamoDB --------------------------------------------------------------------------------


def ddb_setup(client: Any, timeout: float = 30.0) -> dict:
    _ignore_exists(
        lambda: client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        ),
        "ResourceInUseException",
    )
    deadline = time.monotonic() + timeout
    while client.describe_table(TableName=TABLE)["Table"]["TableStatus"] != "ACTIVE":
        if time.monotonic() > deadline:
            raise RuntimeError(f"table {TABLE} not ACTIVE after {timeout:.0f} s")
        time.sleep(0.1)
    client.put_item(TableName=TABLE, Item=ddb_item("get"))
    return {}


def ddb_item(pk: str) -> dict:
    return {"pk": {"S": pk}, "n": {"N": "42"}, "data": {"S": "x" * 100}}


def ddb_put(client: Any, ctx: dict, thread: int, i: int) -> None:
    client.put_item(TableName=TABLE, Item=ddb_item(f"put-{thread}-{i % 1000}"))


def ddb_get(client: Any, ctx: dict, thread: int, i: int) -> None:
    if "Item" not in client.get_item(TableName=TABLE, Key={"pk": {"S": "get"}}):
        raise RuntimeError("GetItem returned no item")


SETUP: dict[str, Callable[[Any], dict]] = {"s3": s3_setup, "sqs": sqs_setup, "dynamodb": ddb_setup}
WORKLOADS: list[Workload] = [
    Workload("S3 PutObject 1 KiB", "s3", s3_put),
    Workload("S3 GetObject 1 KiB", "s3", s3_get),
    Workload("SQS SendMessage", "sqs", sqs_send),
    Workload("SQS Receive+Delete", "sqs", sqs_receive_delete),
    Workload("DynamoDB PutItem", "dynamodb", ddb_put),
    Workload("DynamoDB GetItem", "dynamodb", ddb_get),
]


# -- the runner ------------------------------------------------------------------------------


def run(workload: Workload, clients: list[Any], ctx: dict, duration: float, warmup: float) -> Result:
    """Run ``workload`` on one thread per client; all threads share the same warm-up and end times."""
    start = time.perf_counter() + 0.05  # let every thread get going before the clock matters
    measure_from, end = start + warmup, start + warmup + duration
    lanes = [_Lane() for _ in clients]
    threads = [
        threading.Thread(target=lane.loop, args=(workload.op, client, ctx, n, measure_from, end), daemon=True)
        for n, (lane, client) in enumerate(zip(lanes, clients, strict=True))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return _summarize(lanes, measure_from)


class _Lane:
    """One thread's loop and its own tallies (no locks on the hot path)."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors = 0
        self.partial = 0
        self.first_error: str | None = None
        self.finished = 0.0

    def loop(self, op: Op, client: Any, ctx: dict, thread: int, measure_from: float, end: float) -> None:
        clock = time.perf_counter
        i = consecutive = 0
        while (now := clock()) < end:
            i += 1
            try:
                done = op(client, ctx, thread, i)
            except Exception as err:  # noqa: BLE001 - any failure is a data point, not a crash
                consecutive += 1
                if now >= measure_from:
                    self.errors += 1
                self.first_error = self.first_error or f"{type(err).__name__}: {err}"[:300]
                if consecutive >= MAX_CONSECUTIVE_ERRORS:
                    break
                continue
            consecutive = 0
            if now >= measure_from:
                self.latencies.append(clock() - now)
                self.partial += done is False
        self.finished = clock()


def _summarize(lanes: list[_Lane], measure_from: float) -> Result:
    latencies = sorted(x for lane in lanes for x in lane.latencies)
    seconds = max(lane.finished for lane in lanes) - measure_from
    result = Result(
        ops=len(latencies),
        errors=sum(lane.errors for lane in lanes),
        partial=sum(lane.partial for lane in lanes),
        seconds=round(seconds, 3),
        error=next((lane.first_error for lane in lanes if lane.first_error), None),
    )
    if latencies and seconds > 0:
        result.ops_per_s = round(len(latencies) / seconds, 1)
        result.p50_ms = round(percentile(latencies, 50) * 1000, 3)
        result.p99_ms = round(percentile(latencies, 99) * 1000, 3)
    return result


def percentile(ordered: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    rank = max(1, -(-len(ordered) * pct // 100))  # ceil without floats drifting
    return ordered[int(rank) - 1]
