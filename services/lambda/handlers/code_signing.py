"""Code signing configurations and their attachment to functions.

Stored and answered as Lambda answers them, but not enforced: Flotilla does not verify code
signatures, so ``UntrustedArtifactOnDeployment: Enforce`` refuses nothing.
Records: ``code-signing-config`` (id ``csc-...``; doc = the CodeSigningConfig shape plus ``Tags``)
and ``function-code-signing`` (id = function name; doc ``{"CodeSigningConfigArn": ...}``).
"""

from __future__ import annotations

import re
import secrets
import string
from typing import Any

from shared.aws.errors import AwsError
from shared.context import RequestContext
from shared.handlers import Handlers

from .. import errors
from ..function_configs import CODE_SIGNING_CONFIG, FUNCTION_CODE_SIGNING
from ..functions import function_arn
from .config_support import check, listed, now, page, records, split, target
from .tags import check_tags

handles = Handlers("lambda")

_ARN = re.compile(
    r"arn:aws[a-zA-Z-]*:lambda:(?P<region>[^:]+):(?P<account>\d{12}):code-signing-config:(?P<id>.+)"
)
_ID_ALPHABET = string.ascii_lowercase + string.digits
SHOWN = ("CodeSigningConfigId", "CodeSigningConfigArn", "Description", "AllowedPublishers",
         "CodeSigningPolicies", "LastModified")  # fmt: skip


def _shown(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc[k] for k in SHOWN if k in doc}


def _check_publishers(publishers: dict[str, Any] | None) -> None:
    arns = (publishers or {}).get("SigningProfileVersionArns") or []
    if not 1 <= len(arns) <= 20:
        raise errors.constraints(
            [f"Value '{arns}' at 'allowedPublishers.signingProfileVersionArns' failed to satisfy "
             "constraint: Member must have length " + ("less than or equal to 20" if arns else "greater than or equal to 1")]
        )  # fmt: skip


def _config(ctx: RequestContext, arn: str) -> dict[str, Any]:
    """The configuration an ARN names, in this account and region (raises ResourceNotFoundException)."""
    m = _ARN.fullmatch(arn)
    doc = None
    if m and (m["account"], m["region"]) == (ctx.account_id, ctx.region):
        doc = records(ctx).get(ctx.account_id, ctx.region, CODE_SIGNING_CONFIG, m["id"])
    if doc is None:
        raise errors.resource_not_found(f"The Lambda code signing configuration {arn} can not be found.")
    return doc


def _users(ctx: RequestContext, arn: str) -> list[str]:
    """Names of the functions this configuration is attached to."""
    return [
        name
        for name, doc in records(ctx).list(ctx.account_id, ctx.region, FUNCTION_CODE_SIGNING)
        if doc["CodeSigningConfigArn"] == arn
    ]


@handles("CreateCodeSigningConfig")
async def create_code_signing_config(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check("CreateCodeSigningConfig", req)
    _check_publishers(req.get("AllowedPublishers"))
    check_tags(req.get("Tags") or {})
    csc_id = "csc-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(17))
    doc = {
        "CodeSigningConfigId": csc_id,
        "CodeSigningConfigArn": ctx.arn("lambda", f"code-signing-config:{csc_id}"),
        "Description": req.get("Description") or "",
        "AllowedPublishers": req["AllowedPublishers"],
        "CodeSigningPolicies": {
            "UntrustedArtifactOnDeployment": "Warn",
            **(req.get("CodeSigningPolicies") or {}),
        },
        "LastModified": now(),
        "Tags": req.get("Tags") or {},
    }
    records(ctx).put(ctx.account_id, ctx.region, CODE_SIGNING_CONFIG, csc_id, doc)
    return {"CodeSigningConfig": _shown(doc)}


@handles("GetCodeSigningConfig")
async def get_code_signing_config(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check("GetCodeSigningConfig", req)
    return {"CodeSigningConfig": _shown(_config(ctx, req["CodeSigningConfigArn"]))}


@handles("UpdateCodeSigningConfig")
async def update_code_signing_config(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check("UpdateCodeSigningConfig", req)
    doc = _config(ctx, req["CodeSigningConfigArn"])
    if req.get("AllowedPublishers") is not None:
        _check_publishers(req["AllowedPublishers"])
    for member in ("Description", "AllowedPublishers", "CodeSigningPolicies"):
        if req.get(member) is not None:
            doc[member] = req[member]
    doc["LastModified"] = now()
    records(ctx).put(ctx.account_id, ctx.region, CODE_SIGNING_CONFIG, doc["CodeSigningConfigId"], doc)
    return {"CodeSigningConfig": _shown(doc)}


@handles("DeleteCodeSigningConfig")
async def delete_code_signing_config(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check("DeleteCodeSigningConfig", req)
    doc = _config(ctx, req["CodeSigningConfigArn"])
    if _users(ctx, doc["CodeSigningConfigArn"]):
        raise errors.resource_conflict(
            "The code signing configuration cannot be deleted because it is used by one or more functions."
        )
    records(ctx).delete(ctx.account_id, ctx.region, CODE_SIGNING_CONFIG, doc["CodeSigningConfigId"])
    return {}


@handles("ListCodeSigningConfigs")
async def list_code_signing_configs(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check("ListCodeSigningConfigs", req)
    configs = [_shown(doc) for _, doc in records(ctx).list(ctx.account_id, ctx.region, CODE_SIGNING_CONFIG)]
    items, marker = page(configs, req.get("Marker"), req.get("MaxItems"))
    return listed({}, "CodeSigningConfigs", items, marker)


@handles("ListFunctionsByCodeSigningConfig")
async def list_functions_by_code_signing_config(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check("ListFunctionsByCodeSigningConfig", req)
    arn = _config(ctx, req["CodeSigningConfigArn"])["CodeSigningConfigArn"]
    arns = [function_arn(ctx, name) for name in _users(ctx, arn)]
    items, marker = page(arns, req.get("Marker"), req.get("MaxItems"))
    return listed({}, "FunctionArns", items, marker)


@handles("PutFunctionCodeSigningConfig")
async def put_function_code_signing_config(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check("PutFunctionCodeSigningConfig", req)
    arn = req["CodeSigningConfigArn"]
    try:
        _config(ctx, arn)
    except AwsError:
        raise AwsError(
            "CodeSigningConfigNotFoundException",
            "The code signing configuration cannot be found. Check that the provided configuration is not "
            f"deleted: {arn}.",
            404,
            fields=errors.USER,
        ) from None
    fn = target(ctx, split(ctx, req["FunctionName"])[0])
    records(ctx).put(
        ctx.account_id, ctx.region, FUNCTION_CODE_SIGNING, fn.name, {"CodeSigningConfigArn": arn}
    )
    return {"CodeSigningConfigArn": arn, "FunctionName": fn.name}


@handles("GetFunctionCodeSigningConfig")
async def get_function_code_signing_config(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check("GetFunctionCodeSigningConfig", req)
    fn = target(ctx, split(ctx, req["FunctionName"])[0])
    doc = records(ctx).get(ctx.account_id, ctx.region, FUNCTION_CODE_SIGNING, fn.name)
    return {"CodeSigningConfigArn": doc["CodeSigningConfigArn"], "FunctionName": fn.name} if doc else {}


@handles("DeleteFunctionCodeSigningConfig")
async def delete_function_code_signing_config(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check("DeleteFunctionCodeSigningConfig", req)
    fn = target(ctx, split(ctx, req["FunctionName"])[0])
    records(ctx).delete(ctx.account_id, ctx.region, FUNCTION_CODE_SIGNING, fn.name)
    return {}
