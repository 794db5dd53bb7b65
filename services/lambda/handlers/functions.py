"""Function operations: CreateFunction, GetFunction, ListFunctions, DeleteFunction."""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import UTC, datetime
from typing import Any

from shared.context import RequestContext
from shared.handlers import Handlers

from .. import errors
from ..functions import LATEST, check_create, new_configuration, resolve
from .common import function_record, store

handles = Handlers("lambda")

DEFAULT_MAX_ITEMS = 50


@handles("CreateFunction")
async def create_function(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    zip_bytes = check_create(req)
    name = resolve(ctx, req["FunctionName"]).name
    config = new_configuration(ctx, name, req, zip_bytes, datetime.now(UTC))
    doc = {
        "Configuration": config,
        "Tags": req.get("Tags") or {},
        "CodeHex": hashlib.sha256(zip_bytes).hexdigest(),
    }
    if not store(ctx).create(ctx.account_id, ctx.region, name, doc):
        raise errors.function_exists(name)
    try:
        store(ctx).save_code(ctx.account_id, ctx.region, name, zip_bytes)
    except OSError:
        store(ctx).delete(ctx.account_id, ctx.region, name)
        raise
    return config


@handles("GetFunction")
async def get_function(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    doc = function_record(ctx, req["FunctionName"], req.get("Qualifier"))
    name = doc["Configuration"]["FunctionName"]
    out: dict[str, Any] = {
        "Configuration": doc["Configuration"],
        "Code": {
            "RepositoryType": "S3",
            "Location": store(ctx).code_url(ctx.account_id, ctx.region, name, doc["CodeHex"]),
        },
    }
    if doc["Tags"]:
        out["Tags"] = doc["Tags"]
    return out


@handles("ListFunctions")
async def list_functions(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    limit = req.get("MaxItems") or DEFAULT_MAX_ITEMS
    if not 1 <= limit <= 10000:
        raise errors.constraints(
            [f"Value '{limit}' at 'maxItems' failed to satisfy constraint: Member must have value "
             + ("greater than or equal to 1" if limit < 1 else "less than or equal to 10000")]
        )  # fmt: skip
    after = _read_marker(req["Marker"]) if req.get("Marker") else ""
    names = [n for n in store(ctx).names(ctx.account_id, ctx.region) if n > after]
    page = names[:limit]
    functions = [store(ctx).get(ctx.account_id, ctx.region, n) for n in page]
    out: dict[str, Any] = {"Functions": [doc["Configuration"] for doc in functions if doc is not None]}
    if len(names) > limit:
        out["NextMarker"] = _marker(page[-1])
    return out


@handles("DeleteFunction")
async def delete_function(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    if req.get("Qualifier") == LATEST:
        raise errors.invalid_parameter("$LATEST version cannot be deleted without deleting the function.")
    doc = function_record(ctx, req["FunctionName"], req.get("Qualifier"))
    store(ctx).delete(ctx.account_id, ctx.region, doc["Configuration"]["FunctionName"])
    return {"StatusCode": 204}


def _marker(last_name: str) -> str:
    """An opaque marker: the last name of the page, base64url-encoded."""
    return base64.urlsafe_b64encode(last_name.encode()).decode()


def _read_marker(marker: str) -> str:
    try:
        return base64.urlsafe_b64decode(marker.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise errors.invalid_parameter(f"Invalid marker: {marker}") from None
