"""Tags: TagResource, UntagResource, ListTags.

A function's tags are kept in its record (``doc["Tags"]``), a code signing configuration's in
its own record. Tagging a function gives ``$LATEST`` a new RevisionId, as Lambda does. Tags on
event source mappings are not supported yet.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from shared.aws.models import service_model
from shared.context import RequestContext
from shared.handlers import Handlers

from .. import errors
from ..function_configs import CODE_SIGNING_CONFIG
from .common import function_record, save_function
from .config_support import check, records, split

handles = Handlers("lambda")

MAX_TAGS = 50
RESERVED_PREFIX = "aws:"
_TAG_PUNCTUATION = set("_.:/=+-@")
_CSC_ARN = re.compile(
    r"arn:aws[a-zA-Z-]*:lambda:(?P<region>[^:]+):(?P<account>\d{12}):code-signing-config:(?P<id>csc-[a-z0-9]{17})"
)
_ESM_ARN = re.compile(r"arn:aws[a-zA-Z-]*:lambda:[^:]+:\d{12}:event-source-mapping:.+")
_QUALIFIED = (
    "Tagging operations are permitted on Lambda functions only. Tags on aliases and versions are not "
    "supported. Please specify either a function name or a function ARN."
)


@handles("TagResource")
async def tag_resource(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check("TagResource", req)
    tags = req.get("Tags") or {}
    if not tags:
        raise errors.invalid_parameter("An error occurred and the request cannot be processed.")
    check_tags(tags)
    owner = _owner(ctx, req["Resource"])
    merged = {**owner.get("Tags", {}), **tags}
    if len(merged) > MAX_TAGS:
        raise errors.invalid_parameter("Number of tags exceeds function tag limit.")
    owner["Tags"] = merged
    _save(ctx, req["Resource"], owner)
    return {}


@handles("UntagResource")
async def untag_resource(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check("UntagResource", req)
    if not req.get("TagKeys"):
        raise errors.constraints(
            ["Value null at 'tagKeys' failed to satisfy constraint: Member must not be null"]
        )
    owner = _owner(ctx, req["Resource"])
    owner["Tags"] = {k: v for k, v in owner.get("Tags", {}).items() if k not in set(req["TagKeys"])}
    _save(ctx, req["Resource"], owner)
    return {}


@handles("ListTags")
async def list_tags(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check("ListTags", req)
    return {"Tags": _owner(ctx, req["Resource"]).get("Tags", {})}


def check_tags(tags: dict[str, str]) -> None:
    """Lambda's limits on tags (also for CreateFunction and CreateCodeSigningConfig)."""
    if len(tags) > MAX_TAGS:
        raise errors.invalid_parameter("Number of tags exceeds function tag limit.")
    for k in tags:
        if k.lower().startswith(RESERVED_PREFIX):
            raise errors.invalid_parameter(
                f"Tag key '{k}' is not valid: the prefix 'aws:' is reserved for AWS use."
            )
    problems = [p for p in (_map_violation(tags, "keys", "TagKey", tags.keys()),
                            _map_violation(tags, "value", "TagValue", tags.values())) if p]  # fmt: skip
    if problems:
        raise errors.constraints(problems)


def _tag_text(value: str) -> bool:
    return all(c.isalpha() or c.isspace() or c.isnumeric() or c in _TAG_PUNCTUATION for c in value)


def _map_violation(tags: dict[str, str], part: str, shape_name: str, values: Any) -> str | None:
    """A ``Map keys/value must satisfy constraint`` line, as Lambda's validation words it."""
    meta = service_model("lambda").shape_for(shape_name).metadata
    if all(meta["min"] <= len(v) <= meta["max"] and _tag_text(v) for v in values):
        return None
    shown = "{" + ", ".join(f"{k}={v}" for k, v in tags.items()) + "}"
    rules = (
        f"Member must have length less than or equal to {meta['max']}, "
        f"Member must have length greater than or equal to {meta['min']}, "
        f"Member must satisfy regular expression pattern: {meta['pattern']}, Member must not be null"
    )
    return f"Value '{shown}' at 'tags' failed to satisfy constraint: Map {part} must satisfy constraint: [{rules}]"


def _owner(ctx: RequestContext, resource: str) -> dict[str, Any]:
    """The record holding the resource's tags: a function record or a code signing configuration."""
    csc = _CSC_ARN.fullmatch(resource)
    if csc:
        doc = None
        if (csc["account"], csc["region"]) == (ctx.account_id, ctx.region):
            doc = records(ctx).get(ctx.account_id, ctx.region, CODE_SIGNING_CONFIG, csc["id"])
        if doc is None:
            raise errors.resource_not_found(
                f"The Lambda code signing configuration {resource} can not be found."
            )
        return doc
    if _ESM_ARN.fullmatch(resource):
        raise errors.unsupported("tags on event source mappings")
    name, qualifier = split(ctx, resource)
    if qualifier:
        raise errors.invalid_parameter(_QUALIFIED)
    return function_record(ctx, name)


def _save(ctx: RequestContext, resource: str, owner: dict[str, Any]) -> None:
    csc = _CSC_ARN.fullmatch(resource)
    if csc:
        records(ctx).put(ctx.account_id, ctx.region, CODE_SIGNING_CONFIG, csc["id"], owner)
        return
    owner["Configuration"]["RevisionId"] = str(uuid.uuid4())
    save_function(ctx, owner)
