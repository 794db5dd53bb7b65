"""The TTL sweep: a background task that deletes expired items, as DynamoDB's TTL process does.

An item expires when its table has TTL enabled and the item's TTL attribute is a Number of epoch
seconds in the past. As in DynamoDB, items whose TTL is more than five years in the past are
left alone (DynamoDB takes such values for mistakes), and any other type is ignored. Each
deletion removes the item's index rows and records a REMOVE stream record whose userIdentity
is the DynamoDB service. Candidates are found in SQL (``json_each`` on the stored item, no
parsing in Python) and deleted in batches of ``BATCH``, one transaction each, giving the event
loop back between batches. The same task trims stream records older than 24 hours.

Interval: ``FLOTILLA_DYNAMODB_TTL_INTERVAL`` seconds (default 30).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from decimal import Decimal, InvalidOperation
from typing import Any

from shared import tasks
from shared.context import RequestContext
from shared.settings import Settings

from . import indexes, schema
from .changes import record_change
from .storage import TABLE, DynamoStore, RowKey
from .streams import SERVICE_IDENTITY, stream_log
from .values import Item

log = logging.getLogger("flotilla.dynamodb.ttl")

DEFAULT_INTERVAL = 30.0
BATCH = 100
MAX_AGE = 5 * 365 * 24 * 3600.0  # TTL values further in the past are not deleted (as DynamoDB)

_CANDIDATES = """
SELECT items.pk, items.sk FROM items, json_each(items.doc) AS attr
WHERE items.table_id = ? AND items.idx = ? AND (items.pk, items.sk) > (?, ?)
  AND attr.key = ? AND json_extract(attr.value, '$.N') IS NOT NULL
  AND CAST(json_extract(attr.value, '$.N') AS REAL) BETWEEN ? AND ?
ORDER BY items.pk, items.sk LIMIT ?
"""


def interval(settings: Settings) -> float:
    """Seconds between sweeps, from ``FLOTILLA_DYNAMODB_TTL_INTERVAL``."""
    try:
        value = float(settings.extra.get("ttl_interval", DEFAULT_INTERVAL))
    except ValueError:
        return DEFAULT_INTERVAL
    return value if value > 0 else DEFAULT_INTERVAL


def expired(item: Item | None, attribute: str, now: float) -> bool:
    """Whether an item is due for deletion by TTL at ``now`` (exact decimal comparison)."""
    value = (item or {}).get(attribute) or {}
    try:
        when = Decimal(value["N"]) if "N" in value else None
    except InvalidOperation:
        return False
    return when is not None and now - MAX_AGE <= when < Decimal(repr(now))


def _ttl_tables(store: DynamoStore) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(account, region, description) of every table with TTL enabled, in every scope."""
    rows = store.connection.execute("SELECT account, region, doc FROM tables").fetchall()
    for account, region, doc in rows:
        desc = json.loads(doc)
        if schema.ttl_attribute(desc):
            yield account, region, desc


def _candidates(store: DynamoStore, desc: dict[str, Any], after: RowKey, now: float) -> list[RowKey]:
    rows = store.connection.execute(
        _CANDIDATES,
        (desc["TableId"], TABLE, after.pk, after.sk, schema.ttl_attribute(desc), now - MAX_AGE, now, BATCH),
    )
    return [RowKey(pk, sk) for pk, sk in rows]


def _delete_batch(
    store: DynamoStore, ctx: RequestContext, desc: dict[str, Any], keys: list[RowKey], now: float
) -> int:
    """Delete the still-expired items of ``keys`` in one transaction, then record their REMOVEs."""
    attribute = schema.ttl_attribute(desc) or ""
    gone: list[Item] = []
    with store.transaction():
        for key in keys:
            old = store.get_item(desc["TableId"], key.pk, key.sk)
            if expired(old, attribute, now):
                indexes.write_item(store, desc, key, old, None)
                gone.append(old)  # type: ignore[arg-type]
    for old in gone:
        record_change(ctx, desc, old, None, user_identity=SERVICE_IDENTITY)
    return len(gone)


async def sweep_once(store: DynamoStore, now: float) -> int:
    """Delete every item expired at ``now`` in every table with TTL enabled; how many were deleted."""
    deleted = 0
    for account, region, desc in list(_ttl_tables(store)):
        ctx = RequestContext("dynamodb", "TimeToLive", "ttl-sweep", account, region, state=store)
        after = RowKey(b"", b"")
        while keys := _candidates(store, desc, after, now):
            deleted += _delete_batch(store, ctx, desc, keys, now)
            after = keys[-1]
            await asyncio.sleep(0)
    return deleted


async def run(store: DynamoStore, every: float) -> None:
    """Sweep, trim the streams, sleep; forever. A failing round is logged and the next one tried."""
    while True:
        try:
            now = time.time()
            deleted = await sweep_once(store, now)
            if deleted:
                log.info("ttl: deleted %d expired items", deleted)
            stream_log(store).trim(now)
        except Exception:
            log.exception("ttl: sweep failed")
        await asyncio.sleep(every)


def running(store: DynamoStore, every: float) -> AbstractAsyncContextManager[asyncio.Task[None]]:
    """The sweep as a task for the duration of the block (cancelled and awaited on exit)."""
    return tasks.running(run(store, every), "dynamodb-ttl")
