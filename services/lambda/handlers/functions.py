"""Function operations: Create, Get, GetConfiguration, List, Delete, UpdateFunctionCode and -Configuration.

Updates apply at once: their answer says ``LastUpdateStatus: InProgress`` as AWS's does, and every
read after it sees ``Successful`` (so ``function_updated_v2`` waiters return on their first poll).
CreateFunction and PublishVersion likewise answer ``State: Pending``; reads see ``Active``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.context import RequestContext
from shared.handlers import Handlers

from .. import errors
from ..function_configs import forget_function
from ..functions import (
    LATEST,
    Code,
    alias_versions,
    apply_updates,
    as_in_progress,
    as_list_item,
    as_pending,
    check_create,
    check_input,
    check_max_items,
    check_revision,
    check_update,
    function_arn,
    is_version,
    new_configuration,
    paginate,
    qualified,
    resolve,
    revised,
)
from .common import (
    base_record,
    changed,
    check_sizes,
    configuration_view,
    function_record,
    keep_code,
    layer_views,
    load_code,
    publish,
    resolve_layers,
    store,
)

handles = Handlers("lambda")

DEFAULT_MAX_ITEMS = 50


@handles("CreateFunction")
async def create_function(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check_create(req)
    name = resolve(ctx, req["FunctionName"]).name
    if store(ctx).get(ctx.account_id, ctx.region, name) is not None:
        raise errors.function_exists(name)
    package_type = req.get("PackageType") or "Zip"
    layers = resolve_layers(ctx, req.get("Layers") or [])
    code, data = await load_code(ctx, req.get("Code") or {}, package_type, "CreateFunction")
    check_sizes(code.unzipped, layers)
    config = new_configuration(ctx, name, req, code, datetime.now(UTC), layer_views(layers))
    doc = _new_record(req, config, code, layers)
    if data is not None:
        store(ctx).save_code(ctx.account_id, ctx.region, name, data)
    if not store(ctx).create(ctx.account_id, ctx.region, name, doc):
        raise errors.function_exists(name)
    await _register(ctx, name)
    if req.get("Publish"):
        config, _ = publish(ctx, doc, req.get("Description"))
    return as_pending(config)


@handles("GetFunction")
async def get_function(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    name, qualifier = qualified(ctx, req["FunctionName"], req.get("Qualifier"))
    doc = function_record(ctx, name, qualifier)
    out: dict[str, Any] = {
        "Configuration": configuration_view(ctx, doc, qualifier),
        "Code": _code_location(ctx, doc),
    }
    if doc.get("Tags"):
        out["Tags"] = doc["Tags"]
    if doc.get("Concurrency"):
        out["Concurrency"] = doc["Concurrency"]
    return out


@handles("GetFunctionConfiguration")
async def get_function_configuration(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    name, qualifier = qualified(ctx, req["FunctionName"], req.get("Qualifier"))
    return configuration_view(ctx, function_record(ctx, name, qualifier), qualifier)


@handles("ListFunctions")
async def list_functions(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    limit = check_max_items(req.get("MaxItems"), DEFAULT_MAX_ITEMS, 10000)
    every_version = req.get("FunctionVersion")
    if every_version not in (None, "ALL"):
        raise errors.constraints([
            f"Value '{every_version}' at 'functionVersion' failed to satisfy constraint: "
            "Member must satisfy enum value set: [ALL]"
        ])  # fmt: skip
    items = []
    for name in store(ctx).names(ctx.account_id, ctx.region):
        doc = store(ctx).get(ctx.account_id, ctx.region, name)
        if doc is None:
            continue
        if not every_version:
            items.append(((name, -1), doc["Configuration"]))
            continue
        items.append(((name, -1), configuration_view(ctx, doc, LATEST)))
        for number, version in store(ctx).versions(ctx.account_id, ctx.region, name):
            items.append(((name, int(number)), version["Configuration"]))
    page, marker = paginate(items, req.get("Marker"), limit)
    out: dict[str, Any] = {"Functions": [as_list_item(config) for config in page]}
    if marker:
        out["NextMarker"] = marker
    return out


@handles("DeleteFunction")
async def delete_function(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    name, qualifier = qualified(ctx, req["FunctionName"], req.get("Qualifier"))
    if qualifier == LATEST:
        raise errors.invalid_parameter("$LATEST version cannot be deleted without deleting the function.")
    if qualifier is None:
        base_record(ctx, name)
        store(ctx).delete(ctx.account_id, ctx.region, name)
        forget_function(store(ctx).records, ctx.account_id, ctx.region, name)  # policy, URLs, configs
        if store(ctx).registry is not None:
            await store(ctx).registry.delete(function_arn(ctx, name))
        await _discard_environments(ctx, name)
        return {"StatusCode": 204}
    if not is_version(qualifier):  # an alias: DeleteAlias deletes those
        raise errors.function_not_found(function_arn(ctx, name, qualifier))
    function_record(ctx, name, qualifier)
    _check_unaliased(ctx, name, qualifier)
    store(ctx).delete_version(ctx.account_id, ctx.region, name, qualifier)
    forget_function(store(ctx).records, ctx.account_id, ctx.region, name, qualifier)
    keep_code(ctx, name)
    await _discard_environments(ctx, name, qualifier)
    return {"StatusCode": 204}


@handles("UpdateFunctionCode")
async def update_function_code(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check_input("UpdateFunctionCode", req)
    doc = base_record(ctx, resolve(ctx, req["FunctionName"]).name)
    config = doc["Configuration"]
    check_revision(config["RevisionId"], req.get("RevisionId"))
    code, data = await load_code(ctx, req, config["PackageType"], "UpdateFunctionCode")
    check_sizes(code.unzipped, doc.get("LayerCode") or [])
    updates: dict[str, Any] = {"CodeSha256": code.sha256, "CodeSize": code.size}
    if req.get("Architectures"):
        updates["Architectures"] = req["Architectures"]
    config = revised(config, **updates)
    if req.get("DryRun"):
        return as_in_progress(config)
    name = config["FunctionName"]
    if data is not None:
        store(ctx).save_code(ctx.account_id, ctx.region, name, data)
    doc = changed({**doc, "Configuration": config, "CodeHex": code.hex, "CodeUnzipped": code.unzipped})
    if req.get("ImageUri"):
        doc["ImageUri"] = req["ImageUri"]
    store(ctx).put(ctx.account_id, ctx.region, name, doc)
    keep_code(ctx, name)
    if req.get("Publish"):
        return as_pending(publish(ctx, doc)[0])
    return as_in_progress(config)


@handles("UpdateFunctionConfiguration")
async def update_function_configuration(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    doc = base_record(ctx, resolve(ctx, req["FunctionName"]).name)
    config = doc["Configuration"]
    check_revision(config["RevisionId"], req.get("RevisionId"))
    check_update(config, req)
    layer_code = doc.get("LayerCode") or []
    if req.get("Layers") is not None:
        layer_code = resolve_layers(ctx, req["Layers"])
        check_sizes(doc.get("CodeUnzipped", 0), layer_code)
    config = revised(apply_updates(config, req))
    config.pop("Layers", None)
    if layer_code:
        config["Layers"] = layer_views(layer_code)
    doc = changed({**doc, "Configuration": config, "LayerCode": layer_code})
    store(ctx).put(ctx.account_id, ctx.region, config["FunctionName"], doc)
    return as_in_progress(config)


def _new_record(
    req: dict[str, Any], config: dict[str, Any], code: Code, layers: list[dict[str, Any]]
) -> dict[str, Any]:
    """A new function's record: $LATEST's configuration, code and layers, and the function's tags."""
    doc = {
        "Configuration": config,
        "Tags": req.get("Tags") or {},
        "CodeHex": code.hex,
        "CodeUnzipped": code.unzipped,
        "LayerCode": layers,
        "NextVersion": 1,
    }
    if config["PackageType"] == "Image":
        doc["ImageUri"] = req["Code"]["ImageUri"]
    return changed(doc)


def _code_location(ctx: RequestContext, doc: dict[str, Any]) -> dict[str, Any]:
    if doc.get("ImageUri"):
        return {"RepositoryType": "ECR", "ImageUri": doc["ImageUri"], "ResolvedImageUri": doc["ImageUri"]}
    name = doc["Configuration"]["FunctionName"]
    return {
        "RepositoryType": "S3",
        "Location": store(ctx).code_url(ctx.account_id, ctx.region, name, doc["CodeHex"]),
    }


async def _discard_environments(ctx: RequestContext, name: str, version: str | None = None) -> None:
    """Kill the deleted function's (or version's) execution environments now, not after the idle time."""
    if store(ctx).invoker is not None:
        await store(ctx).invoker.discard(ctx.account_id, ctx.region, name, version)


def _check_unaliased(ctx: RequestContext, name: str, version: str) -> None:
    """A version an alias points to cannot be deleted (Lambda names the aliases)."""
    users = [
        a["Name"]
        for a in store(ctx).aliases(ctx.account_id, ctx.region, name)
        if version in alias_versions(a)
    ]
    if users:
        raise errors.resource_conflict(
            f"Unable to delete version because the following aliases reference it: [{', '.join(users)}]"
        )


async def _register(ctx: RequestContext, name: str) -> None:
    """Publish the function's ARN in the fleet's registry (S3 notifications check destinations there)."""
    registry = store(ctx).registry
    if registry is not None:
        attrs = {"name": name, "account": ctx.account_id, "region": ctx.region}
        await registry.put(function_arn(ctx, name), attrs)
