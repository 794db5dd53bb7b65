"""What every Lambda handler needs: the store, the function (version, alias) a name or ARN refers to,
the code of a request (zip, S3 object or image), layers, and publishing a version.

A function record (``doc``) holds the ``$LATEST`` configuration and everything that belongs to the
whole function (``Tags``, ``Concurrency`` ...). A published version is a record of its own holding
only the keys in ``VERSION_KEYS``; ``function_record`` answers a version (or an alias's version) as
the function record with those keys replaced, so callers see one shape whatever the qualifier.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx

from shared.aws.client import AwsCallError
from shared.context import RequestContext

from .. import errors, layers
from ..functions import (
    IMAGE_URI_MISSING,
    IMAGE_URI_UNWANTED,
    LATEST,
    Code,
    check_unzipped,
    function_arn,
    image_code,
    is_version,
    pick_version,
    qualified,
    version_configuration,
    zip_code,
)
from ..storage import LambdaStore

# The keys of a record that differ per version; the others belong to the function.
VERSION_KEYS = ("Configuration", "CodeHex", "CodeUnzipped", "LayerCode", "ImageUri")
# Bookkeeping of versions, only ever written by this module.
INTERNAL_KEYS = ("NextVersion", "LastPublished", "PublishedRevision", "ContentRevision")


def store(ctx: RequestContext) -> LambdaStore:
    return ctx.state


# -- reading functions ----------------------------------------------------------------------------


def base_record(ctx: RequestContext, name: str, qualifier: str | None = None) -> dict[str, Any]:
    """The function's own record (``$LATEST``); ResourceNotFoundException naming ``qualifier``."""
    doc = store(ctx).get(ctx.account_id, ctx.region, name)
    if doc is None:
        raise errors.function_not_found(function_arn(ctx, name, qualifier))
    return doc


def version_record(ctx: RequestContext, base: dict[str, Any], number: str) -> dict[str, Any]:
    """``base`` as seen at version ``number`` (``$LATEST``: ``base`` itself)."""
    if number == LATEST:
        return base
    name = base["Configuration"]["FunctionName"]
    version = store(ctx).get_version(ctx.account_id, ctx.region, name, number)
    if version is None:
        raise errors.function_not_found(function_arn(ctx, name, number))
    return {**base, **{k: version[k] for k in VERSION_KEYS if k in version}}


def alias_record(ctx: RequestContext, name: str, alias: str) -> dict[str, Any] | None:
    return store(ctx).get_alias(ctx.account_id, ctx.region, name, alias)


def function_record(ctx: RequestContext, name_or_arn: str, qualifier: str | None = None) -> dict[str, Any]:
    """The record of the function named by name, partial or full ARN, at ``qualifier`` (a version
    number, ``$LATEST`` or an alias name; or the one in the ARN). ``doc["Configuration"]`` and
    ``doc["CodeHex"]`` are those of that version; raises ResourceNotFoundException."""
    name, qualifier = qualified(ctx, name_or_arn, qualifier)
    base = base_record(ctx, name, qualifier)
    if qualifier is None or qualifier == LATEST or is_version(qualifier):
        return version_record(ctx, base, qualifier or LATEST)
    alias = alias_record(ctx, name, qualifier)
    if alias is None:
        raise errors.function_not_found(function_arn(ctx, name, qualifier))
    return version_record(ctx, base, alias["FunctionVersion"])


def invocation_record(
    ctx: RequestContext, name_or_arn: str, qualifier: str | None = None
) -> tuple[dict[str, Any], str]:
    """The record to run for an invoke of ``name_or_arn``/``qualifier``, and the version it runs:
    an alias with ``RoutingConfig`` picks one of its two versions at random, by weight."""
    name, qualifier = qualified(ctx, name_or_arn, qualifier)
    base = base_record(ctx, name, qualifier)
    if qualifier is None or qualifier == LATEST or is_version(qualifier):
        version = qualifier or LATEST
    else:
        alias = alias_record(ctx, name, qualifier)
        if alias is None:
            raise errors.function_not_found(function_arn(ctx, name, qualifier))
        version = pick_version(alias)
    return version_record(ctx, base, version), version


def save_function(ctx: RequestContext, doc: dict[str, Any]) -> None:
    """Write back a function record read with ``function_record`` (tags, concurrency ... changed).

    The function-wide keys are written to the function's own record, whatever version ``doc`` was
    read at. A ``$LATEST`` record's configuration is written back too (read and save it without an
    ``await`` in between); a version's never is: versions are immutable. A function deleted in the
    meantime stays deleted.
    """
    name = doc["Configuration"]["FunctionName"]
    current = store(ctx).get(ctx.account_id, ctx.region, name)
    if current is None:
        return
    owned = INTERNAL_KEYS + (() if doc["Configuration"]["Version"] == LATEST else VERSION_KEYS)
    merged = {**current, **{k: v for k, v in doc.items() if k not in owned}}
    store(ctx).put(ctx.account_id, ctx.region, name, merged)


def configuration_view(ctx: RequestContext, doc: dict[str, Any], qualifier: str | None) -> dict[str, Any]:
    """The configuration GetFunction answers: ARN qualified as asked (``:$LATEST``, ``:alias``)."""
    config = doc["Configuration"]
    if not qualifier:
        return config
    return {**config, "FunctionArn": function_arn(ctx, config["FunctionName"], qualifier)}


# -- code -----------------------------------------------------------------------------------------


async def fetch_s3(ctx: RequestContext, bucket: str, key: str, version: str | None) -> bytes:
    """An object's bytes, through the fleet's S3 API; S3's error as Lambda reports it."""
    client = store(ctx).aws()
    if client is None:
        raise errors.unsupported("code in S3 without the fleet")
    params = {"Bucket": bucket, "Key": key, **({"VersionId": version} if version else {})}
    try:
        out = await client.call("s3", "GetObject", params, account=ctx.account_id, region=ctx.region)
    except AwsCallError as err:
        raise errors.invalid_parameter(
            f"Error occurred while GetObject. S3 Error Code: {err.code}. S3 Error Message: {err.message}"
        ) from None
    except httpx.HTTPError as err:
        raise errors.service_error(f"Error occurred while GetObject: S3 is not reachable ({err}).") from None
    return out["Body"]


async def load_code(
    ctx: RequestContext, source: dict[str, Any], package_type: str, operation: str
) -> tuple[Code, bytes | None]:
    """The code named by ``ZipFile``, ``S3Bucket``/``S3Key``/``S3ObjectVersion`` or ``ImageUri``, and
    the zip bytes to store (None for an image)."""
    if package_type == "Image":
        if not source.get("ImageUri"):
            raise errors.invalid_parameter(IMAGE_URI_MISSING.format(verb="updating"))
        return image_code(source["ImageUri"]), None
    if source.get("ImageUri"):
        raise errors.invalid_parameter(IMAGE_URI_UNWANTED.format(verb="updating"))
    if source.get("ZipFile") is not None:
        data = source["ZipFile"]
        return zip_code(data, operation, direct=True), data
    if not (source.get("S3Bucket") and source.get("S3Key")):
        raise errors.invalid_parameter("Please provide a source for function code.")
    data = await fetch_s3(ctx, source["S3Bucket"], source["S3Key"], source.get("S3ObjectVersion"))
    return zip_code(data, operation, direct=False), data


def keep_code(ctx: RequestContext, name: str) -> None:
    """Delete the function's zips that neither ``$LATEST`` nor a version uses any more."""
    account, region = ctx.account_id, ctx.region
    base = store(ctx).get(account, region, name)
    used = {doc.get("CodeHex", "") for _, doc in store(ctx).versions(account, region, name)}
    used.add((base or {}).get("CodeHex", ""))
    store(ctx).drop_code(account, region, name, used)


# -- layers ---------------------------------------------------------------------------------------


def resolve_layers(ctx: RequestContext, arns: list[str]) -> list[dict[str, Any]]:
    """The layer versions a function's ``Layers`` names, each known to exist (in this region, in any
    account of the fleet: layer permissions are not enforced)."""
    out = []
    for arn in arns:
        ref = layers.parse_version_arn(arn)
        if ref is None:
            raise errors.layer_version_missing(arn)
        if ref.region != ctx.region:
            raise errors.invalid_parameter(
                "Layers are not in the same region as the function. "
                f"Layers are expected to be in region {ctx.region}."
            )
        doc = store(ctx).get_layer_version(ref.account, ref.region, ref.name, ref.version)
        if doc is None:
            raise errors.layer_version_missing(arn)
        out.append({
            "Arn": arn, "CodeSize": doc["Output"]["Content"]["CodeSize"], "Hex": doc["Hex"],
            "Unzipped": doc["Unzipped"], "Account": ref.account, "Region": ref.region,
        })  # fmt: skip
    return out


def layer_views(resolved: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``Layers`` as the configuration shows them."""
    return [{"Arn": layer["Arn"], "CodeSize": layer["CodeSize"]} for layer in resolved]


def check_sizes(code_unzipped: int, resolved: list[dict[str, Any]]) -> None:
    check_unzipped(code_unzipped, sum(layer["Unzipped"] for layer in resolved))


def layer_paths(ctx: RequestContext, doc: dict[str, Any]) -> tuple[Path, ...]:
    """The zips of the layers of ``doc``'s version, in the configuration's order (extracted into /opt
    in this order, later ones over earlier ones)."""
    found = doc.get("LayerCode") or []
    return tuple(store(ctx).layer_path(layer["Account"], layer["Region"], layer["Hex"]) for layer in found)


# -- versions -------------------------------------------------------------------------------------


def changed(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` after a change of $LATEST's code or configuration: the next PublishVersion publishes."""
    return {**doc, "ContentRevision": str(uuid.uuid4())}


def publish(
    ctx: RequestContext, doc: dict[str, Any], description: str | None = None
) -> tuple[dict[str, Any], bool]:
    """Publish ``$LATEST`` of the function record ``doc`` as its next version; the version's
    configuration and whether it is new. Nothing changed since the last version: that version."""
    account, region = ctx.account_id, ctx.region
    name = doc["Configuration"]["FunctionName"]
    last = doc.get("LastPublished")
    if last and doc.get("PublishedRevision") == doc.get("ContentRevision"):
        previous = store(ctx).get_version(account, region, name, last)
        if previous is not None:
            return previous["Configuration"], False
    number = str(doc.get("NextVersion", 1))
    config = version_configuration(ctx, doc["Configuration"], number, description)
    version = {k: doc[k] for k in VERSION_KEYS if k in doc}
    store(ctx).put_version(account, region, name, number, {**version, "Configuration": config})
    bookkeeping = {"NextVersion": int(number) + 1, "LastPublished": number}
    store(ctx).put(
        account, region, name, {**doc, **bookkeeping, "PublishedRevision": doc.get("ContentRevision")}
    )
    return config, True
