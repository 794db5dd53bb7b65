"""Item operations: PutItem, GetItem, UpdateItem, DeleteItem, and the write steps batches and
transactions share.

A write is prepared first (``ItemWrite``: parameters checked, expressions parsed, nothing read),
then run: read the old item, test the condition, build the new item, write it and its index
rows. Transactions run the first three steps for every item before writing any.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.context import RequestContext
from shared.handlers import Handlers

from .. import errors, indexes, schema
from ..changes import record_change
from ..conditions import RequestExpressions, legacy_condition, legacy_update, no_mixing
from ..storage import RowKey
from ..values import Item, item_size
from .common import (
    MAX_ITEM_SIZE,
    RETURN_VALUES,
    condition_failed,
    consumed,
    item_collection_metrics,
    key_of,
    new_item,
    on_failure_mode,
    read_units,
    return_values,
    returned,
    store,
    table,
)

handles = Handlers("dynamodb")

Builder = Callable[[Item | None], Item | None]


@dataclass
class ItemWrite:
    """One prepared write: where, under which condition, and how the new item follows from the old."""

    desc: dict[str, Any]
    key: RowKey
    key_item: Item
    spec: Mapping[str, Any]
    condition: Any | None = None
    build: Builder | None = None  # None: a ConditionCheck, nothing is written
    touched: list[tuple[str | int, ...]] | None = field(default=None)  # the paths an update writes
    size: int | None = None  # what counts toward a transaction's 4 MB: the item put, else the key

    def __post_init__(self) -> None:
        on_failure_mode(self.spec)  # an invalid mode is refused before anything is read
        if self.size is None:
            self.size = item_size(self.key_item)

    def test(self, old: Item | None) -> None:
        """Raise ConditionalCheckFailedException when the condition does not hold for ``old``."""
        if self.condition is not None and not self.condition.matches(old or {}):
            raise condition_failed(self.spec, old)

    def read(self, ctx: RequestContext) -> Item | None:
        row = store(ctx).get(self.desc["TableId"], self.key)
        return row.item() if row else None

    def commit(self, ctx: RequestContext, old: Item | None, new: Item | None) -> dict[str, float]:
        """Write the new item (or delete) with its index rows; the units spent.

        The caller records the change (changes.record_change) once its transaction committed.
        """
        if old is None and new is None:
            return {"": 1.0}
        return indexes.write_item(store(ctx), self.desc, self.key, old, new)


def _condition(spec: Mapping[str, Any], ex: RequestExpressions, *expressions: str) -> Any | None:
    """The write's condition, from ConditionExpression or the legacy Expected/ConditionalOperator."""
    no_mixing(
        spec, ("Expected", "ConditionalOperator", "AttributeUpdates"), ("ConditionExpression", *expressions)
    )
    if spec.get("ConditionExpression") is not None:
        return ex.condition(spec["ConditionExpression"])
    return legacy_condition(spec.get("Expected"), spec.get("ConditionalOperator"))


def prepare_put(desc: dict[str, Any], spec: Mapping[str, Any]) -> ItemWrite:
    ex = RequestExpressions(spec)
    condition = _condition(spec, ex)
    ex.check_unused()
    key, item = new_item(desc, spec["Item"])
    key_item = {name: item[name] for name in schema.key_names(desc)}
    return ItemWrite(desc, key, key_item, spec, condition, lambda old: item, size=item_size(item))


def prepare_delete(desc: dict[str, Any], spec: Mapping[str, Any]) -> ItemWrite:
    ex = RequestExpressions(spec)
    condition = _condition(spec, ex)
    ex.check_unused()
    key, key_item = key_of(desc, spec["Key"])
    return ItemWrite(desc, key, key_item, spec, condition, lambda old: None)


def prepare_check(desc: dict[str, Any], spec: Mapping[str, Any]) -> ItemWrite:
    ex = RequestExpressions(spec)
    condition = ex.condition(spec.get("ConditionExpression"))
    ex.check_unused()
    key, key_item = key_of(desc, spec["Key"])
    return ItemWrite(desc, key, key_item, spec, condition, None)


def prepare_update(desc: dict[str, Any], spec: Mapping[str, Any]) -> ItemWrite:
    ex = RequestExpressions(spec)
    condition = _condition(spec, ex, "UpdateExpression")
    update = ex.update(spec.get("UpdateExpression")) or legacy_update(spec.get("AttributeUpdates"))
    ex.check_unused()
    key, key_item = key_of(desc, spec["Key"])
    touched = list(update.paths) if update is not None else []
    _no_key_updated(desc, touched)

    def build(old: Item | None) -> Item:
        base = dict(old) if old is not None else dict(key_item)
        new = update.apply(base) if update is not None else base
        _check_updated(desc, new)
        return new

    return ItemWrite(desc, key, key_item, spec, condition, build, touched)


def _no_key_updated(desc: Mapping[str, Any], touched: list[tuple[str | int, ...]]) -> None:
    """DynamoDB refuses an update naming a key attribute before reading anything, even to its own value."""
    keys = schema.key_names(desc)
    for path in touched:
        if path[0] in keys:
            raise errors.invalid_parameters(
                f"Cannot update attribute {path[0]}. This attribute is part of the key"
            )


def _check_updated(desc: Mapping[str, Any], new: Item) -> None:
    indexes.check_item(desc, new)
    if item_size(new) > MAX_ITEM_SIZE:
        raise errors.validation("Item size to update has exceeded the maximum allowed size")


def run_write(ctx: RequestContext, write: ItemWrite) -> tuple[Item | None, Item | None, dict[str, float]]:
    """Read, test, build and commit one write in one SQLite transaction: (old, new, units)."""
    with store(ctx).transaction():
        old = write.read(ctx)
        write.test(old)
        new = write.build(old) if write.build else old
        units = write.commit(ctx, old, new) if write.build else {}
    if write.build:
        record_change(ctx, write.desc, old, new)
    return old, new, units


def _write_output(ctx: RequestContext, req: Mapping[str, Any], write: ItemWrite, mode: str) -> dict[str, Any]:
    old, new, units = run_write(ctx, write)
    out = consumed(req, write.desc, units)
    attributes = returned(mode, old, new, write.touched)
    if attributes:
        out["Attributes"] = attributes
    metrics = item_collection_metrics(ctx, req, write.desc, write.key_item)
    if metrics:
        out["ItemCollectionMetrics"] = metrics
    return out


@handles("PutItem")
async def put_item(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    desc = table(ctx, req["TableName"])
    mode = return_values(req)
    return _write_output(ctx, req, prepare_put(desc, req), mode)


@handles("DeleteItem")
async def delete_item(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    desc = table(ctx, req["TableName"])
    mode = return_values(req)
    return _write_output(ctx, req, prepare_delete(desc, req), mode)


@handles("UpdateItem")
async def update_item(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    desc = table(ctx, req["TableName"])
    mode = return_values(req, RETURN_VALUES)
    return _write_output(ctx, req, prepare_update(desc, req), mode)


# -- reads --------------------------------------------------------------------------------------


def projection(spec: Mapping[str, Any]) -> Callable[[Item], Item] | None:
    """How to cut a returned item (None: whole), from ProjectionExpression or AttributesToGet."""
    expression, legacy = spec.get("ProjectionExpression"), spec.get("AttributesToGet")
    if expression is not None and legacy is not None:
        raise errors.validation(
            "Can not use both expression and non-expression parameters in the same request: "
            "Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}"
        )
    ex = RequestExpressions(spec)
    parsed = ex.projection(expression) if expression is not None else None
    ex.check_unused()
    if parsed is not None:
        return parsed.apply
    if legacy is not None:
        wanted = set(legacy)
        return lambda item: {k: v for k, v in item.items() if k in wanted}
    return None


def read_item(ctx: RequestContext, desc: Mapping[str, Any], raw_key: Mapping[str, Any]) -> Item | None:
    key, _ = key_of(desc, raw_key)
    row = store(ctx).get(desc["TableId"], key)
    return row.item() if row else None


@handles("GetItem")
async def get_item(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    desc = table(ctx, req["TableName"])
    cut = projection(req)
    item = read_item(ctx, desc, req["Key"])
    units = read_units(item_size(item) if item else 0, bool(req.get("ConsistentRead")))
    out = consumed(req, desc, {"": units})
    if item is not None:
        out["Item"] = cut(item) if cut else item
    return out
