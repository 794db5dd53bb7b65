"""Layer operations: Publish, Get, GetByArn, List layers and versions, Delete, and layer permissions.

Layer versions are numbered per layer from 1 and never reused. Deleting a version deletes its
record; its zip stays, so functions that use it keep running (as on AWS).
"""

from __future__ import annotations

from typing import Any

from shared.context import RequestContext
from shared.handlers import Handlers

from .. import errors
from .. import layers as model
from ..functions import check_input, check_max_items, check_unzipped, now, paginate, zip_code
from .common import fetch_s3, store

handles = Handlers("lambda")

MAX_ITEMS = 50


@handles("PublishLayerVersion")
async def publish_layer_version(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check_input("PublishLayerVersion", req)
    ref = model.resolve_name(ctx, req["LayerName"])
    if ref.account != ctx.account_id:
        raise errors.resource_not_found()
    content = req.get("Content") or {}
    if content.get("ZipFile") is not None:
        data, direct = content["ZipFile"], True
    elif content.get("S3Bucket") and content.get("S3Key"):
        data = await fetch_s3(ctx, content["S3Bucket"], content["S3Key"], content.get("S3ObjectVersion"))
        direct = False
    else:
        raise errors.invalid_parameter("Please provide a source for the layer content.")
    code = zip_code(data, "PublishLayerVersion", direct=direct)
    check_unzipped(code.unzipped, 0)
    store(ctx).save_layer_zip(ctx.account_id, ctx.region, data)
    number = store(ctx).next_layer_version(ctx.account_id, ctx.region, ref.name)
    output = model.new_version(ctx, ref.name, number, req, code.sha256, code.size, now())
    doc = {"Output": output, "Hex": code.hex, "Unzipped": code.unzipped}
    store(ctx).put_layer_version(ctx.account_id, ctx.region, ref.name, number, doc)
    return _output(ctx, doc)


@handles("GetLayerVersion")
async def get_layer_version(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    model.check_version_number(req["VersionNumber"])
    ref = model.resolve_name(ctx, req["LayerName"])
    return _output(ctx, _version(ctx, ref.account, ref.name, req["VersionNumber"]))


@handles("GetLayerVersionByArn")
async def get_layer_version_by_arn(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check_input("GetLayerVersionByArn", req)
    ref = model.parse_version_arn(req["Arn"])
    if ref is None or ref.region != ctx.region:
        raise errors.resource_not_found()
    return _output(ctx, _version(ctx, ref.account, ref.name, ref.version or 0))


@handles("ListLayers")
async def list_layers(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    limit = check_max_items(req.get("MaxItems"), MAX_ITEMS, MAX_ITEMS)
    items = []
    for name in store(ctx).layer_names(ctx.account_id, ctx.region):
        latest = _matching(ctx, ctx.account_id, name, req)
        if latest:
            newest = {"LayerArn": latest[0]["LayerArn"], "LatestMatchingVersion": model.list_item(latest[0])}
            items.append((name, {"LayerName": name, **newest}))
    page, marker = paginate(items, req.get("Marker"), limit)
    return _listed({"Layers": page}, marker)


@handles("ListLayerVersions")
async def list_layer_versions(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    limit = check_max_items(req.get("MaxItems"), MAX_ITEMS, MAX_ITEMS)
    ref = model.resolve_name(ctx, req["LayerName"])
    items = [(-out["Version"], model.list_item(out)) for out in _matching(ctx, ref.account, ref.name, req)]
    page, marker = paginate(items, req.get("Marker"), limit)
    return _listed({"LayerVersions": page}, marker)


@handles("DeleteLayerVersion")
async def delete_layer_version(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    """Deleting a version that is not there is not an error (as on AWS)."""
    model.check_version_number(req["VersionNumber"])
    ref = model.resolve_name(ctx, req["LayerName"])
    if ref.account == ctx.account_id:
        store(ctx).delete_layer_version(ctx.account_id, ctx.region, ref.name, req["VersionNumber"])
    return {}


@handles("AddLayerVersionPermission")
async def add_layer_version_permission(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check_input("AddLayerVersionPermission", req)
    ref, doc = _permission_target(ctx, req)
    policy = doc.get("Policy") or model.empty_policy()
    if req["StatementId"] in policy["Statements"]:
        raise errors.resource_conflict(
            f"The statement id ({req['StatementId']}) provided already exists. "
            "Please provide a new statement id, or remove the existing statement."
        )
    _check_policy_revision(policy, req)
    statement = model.statement(ctx, doc["Output"]["LayerVersionArn"], req)
    policy = {"Statements": {**policy["Statements"], req["StatementId"]: statement}, **_new_revision()}
    store(ctx).put_layer_version(
        ref.account, ref.region, ref.name, req["VersionNumber"], {**doc, "Policy": policy}
    )
    return {"Statement": model.as_json(statement), "RevisionId": policy["RevisionId"]}


@handles("RemoveLayerVersionPermission")
async def remove_layer_version_permission(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    ref, doc = _permission_target(ctx, req)
    policy = doc.get("Policy") or model.empty_policy()
    _check_policy_revision(policy, req)
    if req["StatementId"] not in policy["Statements"]:
        raise errors.resource_not_found(f"Statement {req['StatementId']} is not found in resource policy.")
    statements = {k: v for k, v in policy["Statements"].items() if k != req["StatementId"]}
    policy = {"Statements": statements, **_new_revision()} if statements else None
    store(ctx).put_layer_version(
        ref.account, ref.region, ref.name, req["VersionNumber"], {**doc, "Policy": policy}
    )
    return {}


@handles("GetLayerVersionPolicy")
async def get_layer_version_policy(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    _ref, doc = _permission_target(ctx, req)
    if not doc.get("Policy"):
        raise errors.resource_not_found("No policy is associated with the given resource.")
    return {"Policy": model.policy_document(doc["Policy"]), "RevisionId": doc["Policy"]["RevisionId"]}


def _version(ctx: RequestContext, account: str, name: str, number: int) -> dict[str, Any]:
    doc = store(ctx).get_layer_version(account, ctx.region, name, number)
    if doc is None:
        raise errors.resource_not_found()
    return doc


def _output(ctx: RequestContext, doc: dict[str, Any]) -> dict[str, Any]:
    """The stored output with ``Content.Location`` (where the fleet serves the zip) filled in."""
    output = doc["Output"]
    account = output["LayerArn"].split(":")[4]
    location = store(ctx).layer_url(account, ctx.region, doc["Hex"])
    return {**output, "Content": {"Location": location, **output["Content"]}}


def _matching(ctx: RequestContext, account: str, name: str, req: dict[str, Any]) -> list[dict[str, Any]]:
    """The layer's version outputs (newest first) that pass the request's runtime/architecture filters."""
    runtime, architecture = req.get("CompatibleRuntime"), req.get("CompatibleArchitecture")
    versions = store(ctx).layer_versions(account, ctx.region, name)
    return [doc["Output"] for doc in versions if model.matches(doc["Output"], runtime, architecture)]


def _permission_target(ctx: RequestContext, req: dict[str, Any]) -> tuple[model.LayerRef, dict[str, Any]]:
    """The layer version a permission operation names; Lambda's not-found names its ARN."""
    model.check_version_number(req["VersionNumber"])
    ref = model.resolve_name(ctx, req["LayerName"])
    doc = store(ctx).get_layer_version(ref.account, ref.region, ref.name, req["VersionNumber"])
    if doc is None:
        arn = f"{model.layer_arn(ctx, ref.name, ref.account)}:{req['VersionNumber']}"
        raise errors.resource_not_found(f"Layer version {arn} does not exist.")
    return ref, doc


def _check_policy_revision(policy: dict[str, Any], req: dict[str, Any]) -> None:
    if req.get("RevisionId") and req["RevisionId"] != policy["RevisionId"]:
        raise errors.precondition_failed("GetLayerPolicy")


def _new_revision() -> dict[str, str]:
    return {"RevisionId": model.empty_policy()["RevisionId"]}


def _listed(out: dict[str, Any], marker: str | None) -> dict[str, Any]:
    if marker:
        out["NextMarker"] = marker
    return out
