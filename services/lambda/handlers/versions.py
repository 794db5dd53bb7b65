"""Version operations: PublishVersion, ListVersionsByFunction.

A version is a frozen copy of ``$LATEST``'s configuration with its own number and RevisionId; it
shares ``$LATEST``'s content-addressed zip. Publishing when nothing changed since the last version
answers that version (as AWS does); numbers are never reused.
"""

from __future__ import annotations

from typing import Any

from shared.context import RequestContext
from shared.handlers import Handlers

from .. import errors
from ..functions import (
    LATEST,
    as_list_item,
    as_pending,
    check_input,
    check_max_items,
    check_revision,
    paginate,
    resolve,
)
from .common import base_record, configuration_view, publish, store

handles = Handlers("lambda")


@handles("PublishVersion")
async def publish_version(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check_input("PublishVersion", req)
    doc = base_record(ctx, resolve(ctx, req["FunctionName"]).name)
    config = doc["Configuration"]
    check_revision(config["RevisionId"], req.get("RevisionId"))
    given = req.get("CodeSha256")
    if given and given != config["CodeSha256"]:
        raise errors.invalid_parameter(
            f"CodeSHA256 ({given}) is different from current CodeSHA256 in $LATEST ({config['CodeSha256']}). "
            "Please try again with the CodeSHA256 in $LATEST."
        )
    version, new = publish(ctx, doc, req.get("Description"))
    return as_pending(version) if new else version


@handles("ListVersionsByFunction")
async def list_versions_by_function(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    limit = check_max_items(req.get("MaxItems"), 50, 10000)
    doc = base_record(ctx, resolve(ctx, req["FunctionName"]).name)
    name = doc["Configuration"]["FunctionName"]
    items = [(-1, configuration_view(ctx, doc, LATEST))]
    items += [(int(n), v["Configuration"]) for n, v in store(ctx).versions(ctx.account_id, ctx.region, name)]
    page, marker = paginate(items, req.get("Marker"), limit)
    out: dict[str, Any] = {"Versions": [as_list_item(config) for config in page]}
    if marker:
        out["NextMarker"] = marker
    return out
