"""Read-modify-write of a stored table description (UpdateTable, tags, TTL, backups, policies).

Descriptions live in DynamoStore's ``tables`` table as JSON; a change is read and written back
inside one store transaction, so two concurrent updates of one table cannot lose each other's
writes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from . import errors
from .storage import DynamoStore

T = TypeVar("T")


def update(
    store: DynamoStore, account: str, region: str, name: str, change: Callable[[dict[str, Any]], T]
) -> tuple[dict[str, Any], T]:
    """Apply ``change`` to the stored description of table ``name`` (in place) and store it.

    ``change`` may raise to leave the table as it was; it returns what the caller wants back.
    """
    with store.transaction():
        desc = store.table(account, region, name)
        if desc is None:
            raise errors.table_not_found(name)
        result = change(desc)
        store.replace_table(account, region, desc)
    return desc, result


def index_stats(store: DynamoStore, desc: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """(item count, size in bytes) of each secondary index of a table."""
    names = [
        i["IndexName"] for m in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes") for i in desc.get(m) or ()
    ]
    return {name: store.table_stats(desc["TableId"], name) for name in names}
