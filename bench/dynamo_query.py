"""DynamoDB Query returning 1,000 items from a large table: milliseconds per Query.

The table has a hash key ``pk`` and a numeric range key ``sk``; item ``i`` goes to partition
``p{i // 1000}`` with ``sk = i % 1000``, so every partition holds exactly 1,000 small items
(about 40 bytes each: one page, far below the 1 MB limit) and a Query on one ``pk`` returns
all of them. The fill is BatchWriteItem (25 items per call) from 8 threads, each with its own
client, retrying ``UnprocessedItems``; its time is reported, not measured against a target.
Each Query is timed as a boto3 call and as the bare HTTP round trip (bench/timing.py).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from bench import boto_load
from bench.timing import RoundTrips, summary, timed

TABLE = "bench-query"
PARTITION = 1000  # items per partition: what one Query returns
BATCH = 25  # BatchWriteItem's limit
WARMUP = 1
MIN_ROUNDS = 3


def item(i: int) -> dict[str, dict[str, str]]:
    return {"pk": {"S": f"p{i // PARTITION:04d}"}, "sk": {"N": str(i % PARTITION)}, "v": {"S": "x" * 24}}


def fill(clients: list[Any], items: int, timeout: float = 30.0) -> dict[str, Any]:
    """Create the table and write ``items`` items from one thread per client; how long the writes took."""
    _create_table(clients[0], timeout)
    batches = [range(start, min(start + BATCH, items)) for start in range(0, items, BATCH)]
    errors: list[str] = []
    started = time.perf_counter()
    threads = [
        threading.Thread(target=_write_lane, args=(c, batches[n :: len(clients)], errors), daemon=True)
        for n, c in enumerate(clients)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"BatchWriteItem failed: {errors[0]}")
    return {"items": items, "seconds": round(seconds, 1), "items_per_s": round(items / seconds)}


def measure(client: Any, items: int, rounds: int = 30, budget: float = 15.0) -> dict[str, Any]:
    """``rounds`` Queries (after a short warm-up) on the middle partition; each must return 1,000 items.

    A slow server (moto takes about 2 s per Query over 100,000 items) is stopped after
    ``budget`` seconds with at least ``MIN_ROUNDS`` timed; ``n`` in the result says how many.
    """
    partition = item((items // PARTITION // 2) * PARTITION)["pk"]
    for _ in range(WARMUP):
        _query(client, partition)
    round_trips = RoundTrips(client)
    calls: list[float] = []
    deadline = time.perf_counter() + budget
    while len(calls) < rounds and (len(calls) < MIN_ROUNDS or time.perf_counter() < deadline):
        calls.append(timed(_query, client, partition)[1])
    return {
        "items": items,
        "returned": PARTITION,
        "call": summary(calls),
        "http": summary(round_trips.samples),
    }


def _query(client: Any, partition: dict[str, str]) -> None:
    page = client.query(
        TableName=TABLE, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": partition}
    )
    if page.get("Count") != PARTITION or "LastEvaluatedKey" in page:
        raise RuntimeError(
            f"Query returned {page.get('Count')} items (LastEvaluatedKey: {'LastEvaluatedKey' in page}), "
            f"expected {PARTITION} in one page"
        )


def _create_table(client: Any, timeout: float) -> None:
    boto_load._ignore_exists(
        lambda: client.create_table(
            TableName=TABLE,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"},
            ],
            BillingMode="PAY_PER_REQUEST",
        ),
        "ResourceInUseException",
    )
    deadline = time.monotonic() + timeout
    while client.describe_table(TableName=TABLE)["Table"]["TableStatus"] != "ACTIVE":
        if time.monotonic() > deadline:
            raise RuntimeError(f"table {TABLE} not ACTIVE after {timeout:.0f} s")
        time.sleep(0.1)


def _write_lane(client: Any, batches: list[range], errors: list[str]) -> None:
    try:
        for batch in batches:
            pending = {TABLE: [{"PutRequest": {"Item": item(i)}} for i in batch]}
            for _ in range(20):  # UnprocessedItems are retried, a bounded number of times
                pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
                if not pending:
                    break
            else:
                raise RuntimeError(f"items still unprocessed after 20 tries: {len(pending.get(TABLE, []))}")
    except Exception as err:  # noqa: BLE001 - the first failure stops the fill, reported by fill()
        errors.append(f"{type(err).__name__}: {err}"[:300])
