"""Table operations: CreateTable, DescribeTable, ListTables, DeleteTable."""

from __future__ import annotations

import time
from typing import Any

from shared.context import RequestContext
from shared.handlers import Handlers

from .. import errors, schema
from .common import store, table

handles = Handlers("dynamodb")


def _description(ctx: RequestContext, desc: dict[str, Any], status: str = "ACTIVE") -> dict[str, Any]:
    count, size = store(ctx).table_stats(desc["TableId"])
    return schema.describe(desc, status, count, size)


@handles("CreateTable")
async def create_table(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    schema.check_create(req)
    desc = schema.new_description(ctx, req, time.time())
    if not store(ctx).create_table(ctx.account_id, ctx.region, desc):
        raise errors.table_exists(req["TableName"])
    return {"TableDescription": _description(ctx, desc)}


@handles("DescribeTable")
async def describe_table(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    return {"Table": _description(ctx, table(ctx, req["TableName"], control_plane=True))}


@handles("DeleteTable")
async def delete_table(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    desc = table(ctx, req["TableName"], control_plane=True)
    if desc.get("DeletionProtectionEnabled"):
        raise errors.validation(
            "Resource cannot be deleted as it is currently protected against deletion. "
            "Disable deletion protection first."
        )
    described = _description(ctx, desc, status="DELETING")
    store(ctx).delete_table(ctx.account_id, ctx.region, req["TableName"])
    return {"TableDescription": described}


@handles("ListTables")
async def list_tables(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    limit = req.get("Limit", 100)
    violations = []
    if not 1 <= limit <= 100:
        bound = "greater than or equal to 1" if limit < 1 else "less than or equal to 100"
        violations.append(
            f"Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value {bound}"
        )
    start = req.get("ExclusiveStartTableName")
    if start is not None:
        violations += schema.table_name_violations(start, "exclusiveStartTableName")
    if violations:
        raise errors.constraints(violations)
    names = store(ctx).table_names(ctx.account_id, ctx.region, start or "", limit + 1)
    out: dict[str, Any] = {"TableNames": names[:limit]}
    if len(names) > limit:
        out["LastEvaluatedTableName"] = names[limit - 1]
    return out
