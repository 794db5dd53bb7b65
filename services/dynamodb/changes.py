"""The one place every committed item write passes through: where DynamoDB Streams will hook in.

Handlers call ``record_change`` after a write has been committed (PutItem, UpdateItem,
DeleteItem, BatchWriteItem, TransactWriteItems; TTL deletions with the service's
``user_identity``). A write that changed nothing (a delete of a missing item) is not a change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.context import RequestContext

from .values import Item


def record_change(
    ctx: RequestContext,
    table: Mapping[str, Any],
    old_item: Item | None,
    new_item: Item | None,
    user_identity: Mapping[str, str] | None = None,
) -> None:
    """Record that an item of ``table`` (its stored description) went from ``old_item`` to ``new_item``."""
    if old_item is None and new_item is None:
        return
