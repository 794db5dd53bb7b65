"""What the DynamoDB handlers share: the store, table lookup, keys, capacity, return-value rules."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from shared.context import RequestContext

from .. import errors, indexes, schema
from ..paths import Path, project
from ..storage import TABLE, DynamoStore, RowKey
from ..values import AttributeValue, Item, canonical_item, item_size, key_bytes, kind_of

READ_UNIT, WRITE_UNIT = 4096, 1024
MAX_ITEM_SIZE = 400 * 1024
RETURN_VALUES = ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW")
GIGABYTE = 1024**3


def store(ctx: RequestContext) -> DynamoStore:
    return ctx.state


def table(ctx: RequestContext, name: str, *, control_plane: bool = False) -> dict[str, Any]:
    """The stored description of table ``name``; DynamoDB words 'not found' differently for item calls."""
    name = schema.table_name(ctx, name)
    desc = store(ctx).table(ctx.account_id, ctx.region, name)
    if desc is None:
        raise errors.table_not_found(name) if control_plane else errors.resource_not_found()
    return desc


# -- keys ---------------------------------------------------------------------------------------


def _empty_key_value(name: str, value: AttributeValue) -> None:
    kind = kind_of(value)
    if kind in ("S", "B") and len(value[kind]) == 0:
        noun = "string" if kind == "S" else "binary"
        raise errors.validation(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot "
            f"contain an empty {noun} value. Key: {name}"
        )


def item_key(desc: Mapping[str, Any], item: Mapping[str, AttributeValue]) -> tuple[bytes, bytes]:
    """(pk, sk) of an item being written: every key attribute present, of its declared type."""
    types = schema.key_types(desc)
    for name in schema.key_names(desc):
        value = item.get(name)
        if value is None:
            raise errors.invalid_parameters(f"Missing the key {name} in the item")
        if kind_of(value) != types[name]:
            raise errors.invalid_parameters(
                f"Type mismatch for key {name} expected: {types[name]} actual: {kind_of(value)}"
            )
        _empty_key_value(name, value)
    return indexes.row_key(schema.key_names(desc), item)


def lookup_key(desc: Mapping[str, Any], key: Mapping[str, AttributeValue]) -> tuple[bytes, bytes]:
    """(pk, sk) of a ``Key`` parameter: exactly the key attributes, of their declared types."""
    types = schema.key_types(desc)
    if set(key) != set(types) or any(kind_of(key[n]) != t for n, t in types.items()):
        raise errors.validation("The provided key element does not match the schema")
    for name, value in key.items():
        _empty_key_value(name, value)
    return indexes.row_key(schema.key_names(desc), key)


def key_of(desc: Mapping[str, Any], raw_key: Mapping[str, Any]) -> tuple[RowKey, Item]:
    """A ``Key`` parameter checked and canonical: its row key and its attributes."""
    key = canonical_item(raw_key)
    return RowKey(*lookup_key(desc, key)), key


def new_item(desc: Mapping[str, Any], raw_item: Mapping[str, Any]) -> tuple[RowKey, Item]:
    """An ``Item`` parameter checked (types, keys, index keys, size) and canonical."""
    item = canonical_item(raw_item)
    key = RowKey(*item_key(desc, item))
    indexes.check_item(desc, item)
    if item_size(item) > MAX_ITEM_SIZE:
        raise errors.validation("Item size has exceeded the maximum allowed size")
    return key, item


# -- consumed capacity --------------------------------------------------------------------------


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / READ_UNIT))
    return float(units) if consistent else units / 2


def write_units(size: int) -> float:
    return float(max(1, math.ceil(size / WRITE_UNIT)))


def capacity(mode: str | None, desc: Mapping[str, Any], units: Mapping[str, float]) -> dict[str, Any] | None:
    """A ConsumedCapacity for ``units`` by index name ('' the table), as ReturnConsumedCapacity asks."""
    if mode in (None, "NONE"):
        return None
    out: dict[str, Any] = {"TableName": desc["TableName"], "CapacityUnits": float(sum(units.values()))}
    if mode == "INDEXES":
        out["Table"] = {"CapacityUnits": float(units.get(TABLE, 0.0))}
        for index in indexes.indexes_of(desc):
            if index.name in units:
                member = "GlobalSecondaryIndexes" if index.is_global else "LocalSecondaryIndexes"
                out.setdefault(member, {})[index.name] = {"CapacityUnits": float(units[index.name])}
    return out


def capacities(
    req: Mapping[str, Any], spent: list[tuple[dict[str, Any], dict[str, float]]], factor: float = 1.0
) -> dict[str, Any]:
    """``ConsumedCapacity`` of a multi-item request: one entry per table, its items' units summed
    (``factor`` 2 for transactions, whose reads and writes cost twice)."""
    by_table: dict[str, tuple[dict[str, Any], dict[str, float]]] = {}
    for desc, units in spent:
        _, total = by_table.setdefault(desc["TableName"], (desc, {}))
        for name, value in units.items():
            total[name] = total.get(name, 0.0) + factor * value
    found = [capacity(req.get("ReturnConsumedCapacity"), desc, units) for desc, units in by_table.values()]
    return {"ConsumedCapacity": found} if found and found[0] is not None else {}


def consumed(req: Mapping[str, Any], desc: Mapping[str, Any], units: Mapping[str, float]) -> dict[str, Any]:
    """The ConsumedCapacity member of a single-table output, when asked for."""
    found = capacity(req.get("ReturnConsumedCapacity"), desc, units)
    return {"ConsumedCapacity": found} if found else {}


def item_collection_metrics(
    ctx: RequestContext, req: Mapping[str, Any], desc: Mapping[str, Any], item: Item
) -> dict[str, Any] | None:
    """ItemCollectionMetrics: only with ReturnItemCollectionMetrics=SIZE on a table with local indexes."""
    local = [i.name for i in indexes.indexes_of(desc) if not i.is_global]
    if req.get("ReturnItemCollectionMetrics") != "SIZE" or not local:
        return None
    hash_key = schema.key_names(desc)[0]
    size = store(ctx).collection_size(desc["TableId"], key_bytes(item[hash_key]), local)
    low = float(math.floor(size / GIGABYTE))
    return {"ItemCollectionKey": {hash_key: item[hash_key]}, "SizeEstimateRangeGB": [low, low + 1.0]}


# -- return values and condition failures -------------------------------------------------------


def return_values(req: Mapping[str, Any], allowed: tuple[str, ...] = ("NONE", "ALL_OLD")) -> str:
    """The ReturnValues mode, checked against the enum and against what the operation accepts."""
    mode = req.get("ReturnValues") or "NONE"
    if mode not in RETURN_VALUES:
        raise errors.constraints(
            [
                f"Value '{mode}' at 'returnValues' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(RETURN_VALUES)}]"
            ]
        )
    if mode not in allowed:
        raise errors.validation("ReturnValues can only be ALL_OLD or NONE")
    return mode


def on_failure_mode(spec: Mapping[str, Any]) -> str:
    mode = spec.get("ReturnValuesOnConditionCheckFailure") or "NONE"
    if mode not in ("NONE", "ALL_OLD"):
        raise errors.constraints(
            [
                f"Value '{mode}' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: "
                "Member must satisfy enum value set: [ALL_OLD, NONE]"
            ]
        )
    return mode


def condition_failed(spec: Mapping[str, Any], old: Item | None) -> errors.AwsError:
    fields = {"Item": old} if old and on_failure_mode(spec) == "ALL_OLD" else {}
    return errors.AwsError("ConditionalCheckFailedException", "The conditional request failed", fields=fields)


def returned(mode: str, old: Item | None, new: Item | None, touched: list[Path] | None = None) -> Item | None:
    """The Attributes ReturnValues asks for (None: leave the member out).

    UPDATED_OLD / UPDATED_NEW return the paths the update wrote, nested as in the item.
    """
    if mode == "ALL_OLD":
        found = old
    elif mode == "ALL_NEW":
        found = new
    elif mode in ("UPDATED_OLD", "UPDATED_NEW"):
        source = (old if mode == "UPDATED_OLD" else new) or {}
        found = project(source, touched or [])
    else:
        found = None
    return found or None
