"""The one place every committed item write passes through: where DynamoDB Streams hooks in.

Handlers call ``record_change`` after a write has been committed (PutItem, UpdateItem,
DeleteItem, BatchWriteItem, TransactWriteItems; TTL deletions with the service's
``user_identity``, streams.SERVICE_IDENTITY). A write that changed nothing (a delete of a
missing item, a put of the same item) is not a change, and DynamoDB writes no record for it.
The record is stored in its own small transaction right after the item's (see streams.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.context import RequestContext

from .streams import stream_log
from .values import Item


def record_change(
    ctx: RequestContext,
    table: Mapping[str, Any],
    old_item: Item | None,
    new_item: Item | None,
    user_identity: Mapping[str, str] | None = None,
) -> None:
    """Record that an item of ``table`` (its stored description) went from ``old_item`` to ``new_item``."""
    if old_item == new_item:
        return
    if not (table.get("StreamSpecification") or {}).get("StreamEnabled"):
        return
    stream_log(ctx.state).append(ctx.account_id, ctx.region, table, old_item, new_item, user_identity)
