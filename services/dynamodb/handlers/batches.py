"""BatchGetItem and BatchWriteItem.

Every request is checked (tables, keys, duplicates, limits) before any item is read or
written. A batch write runs in one SQLite transaction, so nothing is ever left unprocessed;
a batch get stops at 16 MB of items and hands the rest back as UnprocessedKeys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.context import RequestContext
from shared.handlers import Handlers

from .. import errors
from ..changes import record_change
from ..storage import RowKey
from ..values import Item
from .common import capacities, item_collection_metrics, key_of, read_units, store, table
from .items import ItemWrite, prepare_delete, prepare_put, projection

handles = Handlers("dynamodb")

MAX_GET_KEYS, MAX_WRITES = 100, 25
MAX_GET_SIZE = 16 * 1024 * 1024


def _not_empty(requests: Mapping[str, Any]) -> None:
    if not requests:
        raise errors.constraints(
            [
                "Value '{}' at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1"
            ]
        )


def _no_duplicates(seen: set[tuple[str, RowKey]], table_id: str, key: RowKey) -> None:
    if (table_id, key) in seen:
        raise errors.validation("Provided list of item keys contains duplicates")
    seen.add((table_id, key))


# -- BatchGetItem -------------------------------------------------------------------------------


def _get_plan(ctx: RequestContext, requests: Mapping[str, Any]) -> list[tuple[str, dict, Mapping, Any, list]]:
    """(requested name, table, request, projection, keys) per table, everything checked."""
    if sum(len(spec.get("Keys") or ()) for spec in requests.values()) > MAX_GET_KEYS:
        raise errors.validation("Too many items requested for the BatchGetItem call")
    seen: set[tuple[str, RowKey]] = set()
    plan = []
    for name, spec in requests.items():
        desc = table(ctx, name)
        if not spec.get("Keys"):
            raise errors.constraints(
                [
                    f"Value '[]' at 'requestItems.{name}.member.keys' failed to satisfy constraint: "
                    "Member must have length greater than or equal to 1"
                ]
            )
        cut = projection(spec)
        keys = [key_of(desc, raw) for raw in spec["Keys"]]
        for key, _ in keys:
            _no_duplicates(seen, desc["TableId"], key)
        plan.append((name, desc, spec, cut, keys))
    return plan


@handles("BatchGetItem")
async def batch_get_item(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    requests = req["RequestItems"]
    _not_empty(requests)
    plan = _get_plan(ctx, requests)
    responses: dict[str, list[Item]] = {}
    unprocessed: dict[str, Any] = {}
    spent: list[tuple[dict[str, Any], dict[str, float]]] = []
    size = 0
    for name, desc, spec, cut, keys in plan:
        found = responses.setdefault(name, [])
        for key, key_item in keys:
            if size >= MAX_GET_SIZE:
                left = unprocessed.setdefault(name, {**spec, "Keys": []})
                left["Keys"].append(key_item)
                continue
            row = store(ctx).get(desc["TableId"], key)
            size += row.size if row else 0
            spent.append((desc, {"": read_units(row.size if row else 0, bool(spec.get("ConsistentRead")))}))
            if row is not None:
                item = row.item()
                found.append(cut(item) if cut else item)
    return {"Responses": responses, "UnprocessedKeys": unprocessed, **capacities(req, spent)}


# -- BatchWriteItem -----------------------------------------------------------------------------


def _write_plan(ctx: RequestContext, requests: Mapping[str, Any]) -> list[ItemWrite]:
    if sum(len(writes) for writes in requests.values()) > MAX_WRITES:
        raise errors.validation("Too many items requested for the BatchWriteItem call")
    seen: set[tuple[str, RowKey]] = set()
    plan = []
    for name, writes in requests.items():
        desc = table(ctx, name)
        for request in writes:
            put, delete = request.get("PutRequest"), request.get("DeleteRequest")
            if (put is None) == (delete is None):
                raise errors.validation(
                    "Supplied WriteRequest must contain exactly one of the supported requests: PutRequest, DeleteRequest"
                )
            write = prepare_put(desc, put) if put is not None else prepare_delete(desc, delete)
            _no_duplicates(seen, desc["TableId"], write.key)
            plan.append(write)
    return plan


@handles("BatchWriteItem")
async def batch_write_item(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    requests = req["RequestItems"]
    _not_empty(requests)
    plan = _write_plan(ctx, requests)
    done: list[tuple[ItemWrite, Item | None, Item | None]] = []
    spent = []
    with store(ctx).transaction():
        for write in plan:
            old = write.read(ctx)
            new = write.build(old) if write.build else old
            spent.append((write.desc, write.commit(ctx, old, new)))
            done.append((write, old, new))
    for write, old, new in done:
        record_change(ctx, write.desc, old, new)
    out: dict[str, Any] = {"UnprocessedItems": {}, **capacities(req, spent)}
    metrics: dict[str, list[dict[str, Any]]] = {}
    for write, _, _ in done:
        found = item_collection_metrics(ctx, req, write.desc, write.key_item)
        if found:
            metrics.setdefault(write.desc["TableName"], []).append(found)
    if metrics:
        out["ItemCollectionMetrics"] = metrics
    return out
