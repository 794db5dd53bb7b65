"""What the DynamoDB handlers share: the store, table lookup, key extraction, consumed capacity."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from shared.context import RequestContext

from .. import errors, schema
from ..storage import DynamoStore
from ..values import AttributeValue, key_bytes

READ_UNIT, WRITE_UNIT = 4096, 1024


def store(ctx: RequestContext) -> DynamoStore:
    return ctx.state


def table(ctx: RequestContext, name: str, *, control_plane: bool = False) -> dict[str, Any]:
    """The stored description of table ``name``; DynamoDB words 'not found' differently for item calls."""
    schema.check_table_name(name)
    desc = store(ctx).table(ctx.account_id, ctx.region, name)
    if desc is None:
        raise errors.table_not_found(name) if control_plane else errors.resource_not_found()
    return desc


def _empty_key_value(name: str, value: AttributeValue) -> None:
    ((kind, v),) = value.items()
    if kind in ("S", "B") and len(v) == 0:
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
        (actual,) = value
        if actual != types[name]:
            raise errors.invalid_parameters(
                f"Type mismatch for key {name} expected: {types[name]} actual: {actual}"
            )
        _empty_key_value(name, value)
    return _key_tuple(desc, item)


def lookup_key(desc: Mapping[str, Any], key: Mapping[str, AttributeValue]) -> tuple[bytes, bytes]:
    """(pk, sk) of a ``Key`` parameter: exactly the key attributes, of their declared types."""
    types = schema.key_types(desc)
    if set(key) != set(types) or any(next(iter(key[n])) != t for n, t in types.items()):
        raise errors.validation("The provided key element does not match the schema")
    for name, value in key.items():
        _empty_key_value(name, value)
    return _key_tuple(desc, key)


def _key_tuple(desc: Mapping[str, Any], item: Mapping[str, AttributeValue]) -> tuple[bytes, bytes]:
    names = schema.key_names(desc)
    pk = key_bytes(item[names[0]])
    sk = key_bytes(item[names[1]]) if len(names) == 2 else b""
    return pk, sk


def consumed(req: Mapping[str, Any], table_name: str, units: float) -> dict[str, Any]:
    """The ConsumedCapacity member when the caller asked for it (TOTAL or INDEXES)."""
    mode = req.get("ReturnConsumedCapacity", "NONE")
    if mode == "NONE":
        return {}
    capacity: dict[str, Any] = {"TableName": table_name, "CapacityUnits": units}
    if mode == "INDEXES":
        capacity["Table"] = {"CapacityUnits": units}
    return {"ConsumedCapacity": capacity}


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / READ_UNIT))
    return float(units) if consistent else units / 2


def write_units(size: int) -> float:
    return float(max(1, math.ceil(size / WRITE_UNIT)))


def check_names_used(names: Mapping[str, str] | None, used: set[str]) -> None:
    unused = sorted(set(names or {}) - used)
    if unused:
        raise errors.validation(
            f"Value provided in ExpressionAttributeNames unused in expressions: keys: {{{', '.join(unused)}}}"
        )
