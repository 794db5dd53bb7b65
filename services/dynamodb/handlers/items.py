"""Item operations: PutItem, GetItem."""

from __future__ import annotations

from typing import Any

from shared.context import RequestContext
from shared.handlers import Handlers

from .. import errors
from ..paths import parse_projection, project
from ..values import canonical_item, item_size
from .common import check_names_used, consumed, item_key, lookup_key, read_units, store, table, write_units

handles = Handlers("dynamodb")

MAX_ITEM_SIZE = 400 * 1024
PUT_RETURN_VALUES = ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW")


def _reject_unsupported(req: dict[str, Any], operation: str, *parameters: str) -> None:
    for parameter in parameters:
        if req.get(parameter) is not None:
            raise errors.unsupported(parameter, operation)


def _no_expression_extras(req: dict[str, Any], *extras: str) -> None:
    """Expression attribute names/values given to a request that uses no expression."""
    for parameter in extras:
        if req.get(parameter) is not None:
            raise errors.validation(f"{parameter} can only be specified when using expressions")


def _check_put_return_values(req: dict[str, Any]) -> str:
    mode = req.get("ReturnValues", "NONE")
    if mode not in PUT_RETURN_VALUES:
        raise errors.constraints(
            [
                f"Value '{mode}' at 'returnValues' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(PUT_RETURN_VALUES)}]"
            ]
        )
    if mode not in ("NONE", "ALL_OLD"):
        raise errors.validation("ReturnValues can only be ALL_OLD or NONE")
    return mode


@handles("PutItem")
async def put_item(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    desc = table(ctx, req["TableName"])
    _reject_unsupported(req, "PutItem", "ConditionExpression", "Expected", "ConditionalOperator")
    _no_expression_extras(req, "ExpressionAttributeNames", "ExpressionAttributeValues")
    mode = _check_put_return_values(req)
    item = canonical_item(req["Item"])
    pk, sk = item_key(desc, item)
    size = item_size(item)
    if size > MAX_ITEM_SIZE:
        raise errors.validation("Item size has exceeded the maximum allowed size")
    old = store(ctx).put_item(desc["TableId"], pk, sk, item, size)
    out = consumed(req, desc["TableName"], write_units(max(size, item_size(old) if old else 0)))
    if mode == "ALL_OLD" and old:
        out["Attributes"] = old
    return out


def _projection(req: dict[str, Any]) -> list | None:
    """The paths GetItem returns (None: the whole item), from ProjectionExpression or AttributesToGet."""
    expression, legacy = req.get("ProjectionExpression"), req.get("AttributesToGet")
    if expression is not None and legacy is not None:
        raise errors.validation(
            "Can not use both expression and non-expression parameters in the same request: "
            "Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}"
        )
    if expression is None:
        _no_expression_extras(req, "ExpressionAttributeNames")
        return [(name,) for name in legacy] if legacy is not None else None
    names = req.get("ExpressionAttributeNames") or {}
    paths, used = parse_projection(expression, names)
    check_names_used(names, used)
    return paths


@handles("GetItem")
async def get_item(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    desc = table(ctx, req["TableName"])
    pk, sk = lookup_key(desc, canonical_item(req["Key"]))
    paths = _projection(req)
    item = store(ctx).get_item(desc["TableId"], pk, sk)
    units = read_units(item_size(item) if item else 0, bool(req.get("ConsistentRead")))
    out = consumed(req, desc["TableName"], units)
    if item is not None:
        out["Item"] = item if paths is None else project(item, paths)
    return out
