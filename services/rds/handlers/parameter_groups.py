"""DB parameter group operations: CreateDBParameterGroup, DescribeDBParameterGroups, DeleteDBParameterGroup."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from shared.context import RequestContext
from shared.handlers import Handlers

from .. import errors
from .. import parameter_groups as groups
from ..storage import RdsStore

handles = Handlers("rds")

DEFAULT_MAX_RECORDS = 100


def store(ctx: RequestContext) -> RdsStore:
    return ctx.state


def _find(ctx: RequestContext, name: str) -> dict[str, Any]:
    name = name.lower()
    group = groups.default_group(ctx, name) or store(ctx).parameter_group(ctx.account_id, ctx.region, name)
    if group is None:
        raise errors.group_not_found(name)
    return group


@handles("CreateDBParameterGroup")
async def create_db_parameter_group(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    name = groups.check_name(req["DBParameterGroupName"])
    family = groups.check_family(req["DBParameterGroupFamily"])
    group = groups.new_group(ctx, name, family, req["Description"])
    if not store(ctx).create_parameter_group(ctx.account_id, ctx.region, group, req.get("Tags") or []):
        raise errors.group_exists(name)
    return {"DBParameterGroup": group}


@handles("DescribeDBParameterGroups")
async def describe_db_parameter_groups(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    limit = req.get("MaxRecords") or DEFAULT_MAX_RECORDS
    if not 20 <= limit <= 100:
        raise errors.invalid_max_records(limit)
    if req.get("DBParameterGroupName"):
        every = [_find(ctx, req["DBParameterGroupName"])]
    else:
        every = groups.default_groups(ctx) + store(ctx).parameter_groups(ctx.account_id, ctx.region)
        every.sort(key=lambda g: g["DBParameterGroupName"])
    after = _read_marker(req["Marker"]) if req.get("Marker") else ""
    rest = [g for g in every if g["DBParameterGroupName"] > after]
    out: dict[str, Any] = {"DBParameterGroups": rest[:limit]}
    if len(rest) > limit:
        out["Marker"] = _marker(rest[limit - 1]["DBParameterGroupName"])
    return out


@handles("DeleteDBParameterGroup")
async def delete_db_parameter_group(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    name = req["DBParameterGroupName"].lower()
    if groups.default_group(ctx, name) is not None:
        raise errors.default_group_undeletable()
    if not store(ctx).delete_parameter_group(ctx.account_id, ctx.region, name):
        raise errors.group_not_found(name)
    return {}


def _marker(last_name: str) -> str:
    """An opaque marker: the last name of the page, base64url-encoded."""
    return base64.urlsafe_b64encode(last_name.encode()).decode()


def _read_marker(marker: str) -> str:
    try:
        return base64.urlsafe_b64decode(marker.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise errors.invalid_marker(marker) from None
