"""Function URLs: Create/Get/Update/Delete/ListFunctionUrlConfigs.

The records and the URL format are described in ``urls_config``; the invoke side serves the URLs.
A URL belongs to the unqualified function or to an alias (never to ``$LATEST`` or a version: the
model's qualifier pattern refuses those).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.aws.errors import AwsError
from shared.context import RequestContext
from shared.handlers import Handlers

from .. import errors, urls_config
from .common import store
from .config_support import Target, check, listed, page, split, target

handles = Handlers("lambda")

OUTPUT = ("FunctionUrl", "FunctionArn", "AuthType", "Cors", "CreationTime", "LastModifiedTime", "InvokeMode")


def _time() -> str:
    """Function URL timestamps: ISO 8601 with microseconds, ``Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _out(doc: dict[str, Any], *leave_out: str) -> dict[str, Any]:
    return {k: doc[k] for k in OUTPUT if k in doc and k not in leave_out}


def _function(ctx: RequestContext, req: dict[str, Any], missing: str) -> Target:
    name, qualifier = split(ctx, req["FunctionName"], req.get("Qualifier"))
    try:
        return target(ctx, name, qualifier)
    except AwsError as err:
        if err.code == "ResourceNotFoundException":
            raise errors.resource_not_found(missing) from None
        raise


def _existing(ctx: RequestContext, fn: Target) -> dict[str, Any]:
    doc = urls_config.for_function(store(ctx), ctx.account_id, ctx.region, fn.name, fn.qualifier)
    if doc is None:
        raise errors.resource_not_found()
    return doc


@handles("CreateFunctionUrlConfig")
async def create_function_url_config(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check("CreateFunctionUrlConfig", req)
    fn = _function(ctx, req, "Function does not exist")
    old = urls_config.for_function(store(ctx), ctx.account_id, ctx.region, fn.name, fn.qualifier)
    if old is not None:
        raise errors.resource_conflict(
            f"Failed to create function url config for [functionArn = {old['FunctionArn']}]. "
            "Error message:  FunctionUrlConfig exists for this Lambda function"
        )
    url_id = urls_config.new_url_id()
    created = _time()
    doc: dict[str, Any] = {
        "FunctionUrl": urls_config.function_url(store(ctx).external_url, url_id, ctx.region),
        "FunctionArn": fn.arn(ctx),
        "AuthType": req["AuthType"],
        "CreationTime": created,
        "LastModifiedTime": created,
        "InvokeMode": req.get("InvokeMode") or "BUFFERED",
        "FunctionName": fn.name,
        "Qualifier": fn.qualifier,
    }
    if req.get("Cors") is not None:
        doc["Cors"] = req["Cors"]
    urls_config.save(store(ctx), ctx.account_id, ctx.region, url_id, doc)
    return _out(doc, "LastModifiedTime")


@handles("GetFunctionUrlConfig")
async def get_function_url_config(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check("GetFunctionUrlConfig", req)
    fn = _function(ctx, req, "The resource you requested does not exist.")
    return _out(_existing(ctx, fn))


@handles("UpdateFunctionUrlConfig")
async def update_function_url_config(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check("UpdateFunctionUrlConfig", req)
    fn = _function(ctx, req, "Function does not exist")
    doc = _existing(ctx, fn)
    for member in ("AuthType", "Cors", "InvokeMode"):
        if req.get(member) is not None:
            doc[member] = req[member]
    doc["LastModifiedTime"] = _time()
    urls_config.save(store(ctx), ctx.account_id, ctx.region, urls_config.url_id_of(doc), doc)
    return _out(doc)


@handles("DeleteFunctionUrlConfig")
async def delete_function_url_config(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check("DeleteFunctionUrlConfig", req)
    fn = _function(ctx, req, "The resource you requested does not exist.")
    urls_config.delete(store(ctx), ctx.account_id, ctx.region, _existing(ctx, fn))
    return {}


@handles("ListFunctionUrlConfigs")
async def list_function_url_configs(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check("ListFunctionUrlConfigs", req)
    fn = _function(ctx, {"FunctionName": split(ctx, req["FunctionName"])[0]}, "Function does not exist")
    configs = [_out(doc) for doc in urls_config.of_function(store(ctx), ctx.account_id, ctx.region, fn.name)]
    items, marker = page(configs, req.get("Marker"), req.get("MaxItems"))
    return listed({}, "FunctionUrlConfigs", items, marker)
