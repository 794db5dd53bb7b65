"""Alias operations: CreateAlias, GetAlias, UpdateAlias, DeleteAlias, ListAliases.

An alias names a version (or ``$LATEST``) and may send a share of invokes to one other published
version (``RoutingConfig.AdditionalVersionWeights``); ``common.invocation_record`` does the routing.
"""

from __future__ import annotations

import uuid
from typing import Any

from shared.context import RequestContext
from shared.handlers import Handlers

from .. import errors
from ..function_configs import forget_function
from ..functions import (
    check_input,
    check_max_items,
    check_revision,
    check_routing,
    function_arn,
    paginate,
    resolve,
)
from .common import base_record, store, version_record

handles = Handlers("lambda")


@handles("CreateAlias")
async def create_alias(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check_input("CreateAlias", req)
    base = base_record(ctx, resolve(ctx, req["FunctionName"]).name)
    name = base["Configuration"]["FunctionName"]
    alias = {
        "AliasArn": function_arn(ctx, name, req["Name"]),
        "Name": req["Name"],
        "FunctionVersion": req["FunctionVersion"],
        "Description": req.get("Description") or "",
        "RevisionId": str(uuid.uuid4()),
    }
    alias = _with_routing(ctx, base, alias, req.get("RoutingConfig"))
    if not store(ctx).create_alias(ctx.account_id, ctx.region, name, alias):
        raise errors.resource_conflict(f"Alias already exists: {alias['AliasArn']}")
    return alias


@handles("GetAlias")
async def get_alias(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check_input("GetAlias", req)
    base = base_record(ctx, resolve(ctx, req["FunctionName"]).name)
    return _alias(ctx, base["Configuration"]["FunctionName"], req["Name"])


@handles("UpdateAlias")
async def update_alias(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check_input("UpdateAlias", req)
    base = base_record(ctx, resolve(ctx, req["FunctionName"]).name)
    name = base["Configuration"]["FunctionName"]
    alias = _alias(ctx, name, req["Name"])
    check_revision(alias["RevisionId"], req.get("RevisionId"))
    routing = req.get("RoutingConfig", alias.get("RoutingConfig"))
    alias = {**alias, "RevisionId": str(uuid.uuid4())}
    for member in ("FunctionVersion", "Description"):
        if req.get(member) is not None:
            alias[member] = req[member]
    alias.pop("RoutingConfig", None)
    alias = _with_routing(ctx, base, alias, routing)
    store(ctx).put_alias(ctx.account_id, ctx.region, name, alias)
    return alias


@handles("DeleteAlias")
async def delete_alias(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    """Deleting an alias that is not there is not an error (the function must exist)."""
    check_input("DeleteAlias", req)
    base = base_record(ctx, resolve(ctx, req["FunctionName"]).name)
    name = base["Configuration"]["FunctionName"]
    store(ctx).delete_alias(ctx.account_id, ctx.region, name, req["Name"])
    forget_function(store(ctx).records, ctx.account_id, ctx.region, name, req["Name"])
    return {}


@handles("ListAliases")
async def list_aliases(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    limit = check_max_items(req.get("MaxItems"), 50, 10000)
    base = base_record(ctx, resolve(ctx, req["FunctionName"]).name)
    version = req.get("FunctionVersion")
    aliases = store(ctx).aliases(ctx.account_id, ctx.region, base["Configuration"]["FunctionName"])
    items = [(a["Name"], a) for a in aliases if version is None or a["FunctionVersion"] == version]
    page, marker = paginate(items, req.get("Marker"), limit)
    out: dict[str, Any] = {"Aliases": page}
    if marker:
        out["NextMarker"] = marker
    return out


def _alias(ctx: RequestContext, name: str, alias: str) -> dict[str, Any]:
    found = store(ctx).get_alias(ctx.account_id, ctx.region, name, alias)
    if found is None:
        raise errors.alias_not_found(function_arn(ctx, name, alias))
    return found


def _with_routing(
    ctx: RequestContext, base: dict[str, Any], alias: dict[str, Any], routing: dict[str, Any] | None
) -> dict[str, Any]:
    """``alias`` with its routing, every version it names checked to exist."""
    weights = (routing or {}).get("AdditionalVersionWeights") or {}
    version_record(ctx, base, alias["FunctionVersion"])
    check_routing(weights, alias["FunctionVersion"])
    for version in weights:
        version_record(ctx, base, version)
    return {**alias, "RoutingConfig": {"AdditionalVersionWeights": weights}} if weights else alias
