"""Asynchronous invocation settings: Put/Get/Update/Delete/ListFunctionEventInvokeConfigs.

Each configuration is a record (kind ``event-invoke-config``, id ``<name>:<qualifier or $LATEST>``)
whose doc is the FunctionEventInvokeConfig output shape itself; the async invoke queue reads it
as is. ``DestinationConfig`` always carries both ``OnSuccess`` and ``OnFailure`` (``{}`` when
unset), as Lambda answers it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from shared.aws.errors import AwsError
from shared.aws.models import service_model
from shared.context import RequestContext
from shared.handlers import Handlers

from .. import constraints, errors
from ..function_configs import EVENT_INVOKE_CONFIG, key
from ..functions import LATEST, function_arn, parse_ref
from .common import store
from .config_support import Target, check, listed, page, records, split, target

handles = Handlers("lambda")

SETTINGS = ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")
DESTINATION_SERVICES = {
    "OnSuccess": {"sqs", "sns", "lambda", "events"},
    "OnFailure": {"sqs", "sns", "lambda", "events", "s3"},
}
_LAMBDA_ARN = re.compile(r"arn:aws[a-zA-Z-]*:lambda:[^:]+:\d{12}:function:.+")


@handles("PutFunctionEventInvokeConfig")
async def put_function_event_invoke_config(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    fn = _checked(ctx, "PutFunctionEventInvokeConfig", req)
    doc = _config(ctx, fn, req)
    records(ctx).put(ctx.account_id, ctx.region, EVENT_INVOKE_CONFIG, key(fn.name, fn.qualifier), doc)
    return doc


@handles("UpdateFunctionEventInvokeConfig")
async def update_function_event_invoke_config(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    fn = _checked(ctx, "UpdateFunctionEventInvokeConfig", req)
    current = _existing(ctx, fn)
    merged = {k: current[k] for k in SETTINGS if k in current}
    merged.update({k: req[k] for k in SETTINGS if req.get(k) is not None})
    doc = _config(ctx, fn, merged)
    records(ctx).put(ctx.account_id, ctx.region, EVENT_INVOKE_CONFIG, key(fn.name, fn.qualifier), doc)
    return doc


@handles("GetFunctionEventInvokeConfig")
async def get_function_event_invoke_config(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check("GetFunctionEventInvokeConfig", req)
    return _existing(ctx, _named(ctx, req))


@handles("DeleteFunctionEventInvokeConfig")
async def delete_function_event_invoke_config(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check("DeleteFunctionEventInvokeConfig", req)
    fn = _named(ctx, req)
    _existing(ctx, fn)
    records(ctx).delete(ctx.account_id, ctx.region, EVENT_INVOKE_CONFIG, key(fn.name, fn.qualifier))
    return {}


@handles("ListFunctionEventInvokeConfigs")
async def list_function_event_invoke_configs(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check("ListFunctionEventInvokeConfigs", req)
    fn = _function(ctx, split(ctx, req["FunctionName"])[0], None)
    configs = [
        doc
        for id_, doc in records(ctx).list(ctx.account_id, ctx.region, EVENT_INVOKE_CONFIG)
        if id_.rpartition(":")[0] == fn.name
    ]
    items, marker = page(configs, req.get("Marker"), req.get("MaxItems"))
    return listed({}, "FunctionEventInvokeConfigs", items, marker)


def _checked(ctx: RequestContext, operation: str, req: dict[str, Any]) -> Target:
    """Put's and Update's checks, in Lambda's order; the function they configure."""
    check(operation, req)
    if all(req.get(k) is None for k in SETTINGS):
        raise errors.invalid_parameter(
            "You must specify at least one of error handling or destination setting."
        )
    name, qualifier = split(ctx, req["FunctionName"], req.get("Qualifier"))
    fn = _function(ctx, name, qualifier)
    if req.get("DestinationConfig"):
        check_destinations(ctx, fn.name, req["DestinationConfig"])
    return fn


def _function(ctx: RequestContext, name: str, qualifier: str | None) -> Target:
    try:
        return target(ctx, name, qualifier)
    except AwsError as err:
        if err.code == "ResourceNotFoundException":
            raise errors.resource_not_found("The function doesn't exist.") from None
        raise


def _named(ctx: RequestContext, req: dict[str, Any]) -> Target:
    """The function of a Get or Delete; a missing function reads as a missing configuration."""
    name, qualifier = split(ctx, req["FunctionName"], req.get("Qualifier"))
    try:
        return target(ctx, name, qualifier)
    except AwsError as err:
        if err.code == "ResourceNotFoundException":
            raise _not_found(ctx, name, qualifier) from None
        raise


def _not_found(ctx: RequestContext, name: str, qualifier: str | None) -> AwsError:
    arn = function_arn(ctx, name, qualifier or LATEST)
    return errors.resource_not_found(f"The function {arn} doesn't have an EventInvokeConfig")


def _existing(ctx: RequestContext, fn: Target) -> dict[str, Any]:
    doc = records(ctx).get(ctx.account_id, ctx.region, EVENT_INVOKE_CONFIG, key(fn.name, fn.qualifier))
    if doc is None:
        raise _not_found(ctx, fn.name, fn.qualifier)
    return doc


def _config(ctx: RequestContext, fn: Target, settings: dict[str, Any]) -> dict[str, Any]:
    destinations = settings.get("DestinationConfig") or {}
    doc: dict[str, Any] = {
        "LastModified": datetime.now(UTC),
        "FunctionArn": fn.arn(ctx, latest=True),
        "DestinationConfig": {
            "OnSuccess": _destination(destinations.get("OnSuccess")),
            "OnFailure": _destination(destinations.get("OnFailure")),
        },
    }
    for name in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds"):
        if settings.get(name) is not None:
            doc[name] = settings[name]
    return doc


def _destination(value: dict[str, Any] | None) -> dict[str, str]:
    return {"Destination": value["Destination"]} if value and value.get("Destination") else {}


def check_destinations(ctx: RequestContext, function_name: str, config: dict[str, Any]) -> None:
    """Lambda's checks of a DestinationConfig: ARN syntax, a supported service, a real other function."""
    arns = {kind: (config.get(kind) or {}).get("Destination") for kind in ("OnSuccess", "OnFailure")}
    shape = service_model("lambda").shape_for("DestinationArn")
    for kind, arn in arns.items():
        problem = constraints.violation(shape, arn) if arn else None
        if problem:
            raise errors.constraints(
                [f"Value '{arn}' at 'destinationConfig.{kind[:2].lower()}{kind[2:]}.destination' "
                 f"failed to satisfy constraint: {problem}"]
            )  # fmt: skip
    if any(arn and not _valid(ctx, function_name, kind, arn) for kind, arn in arns.items()):
        parts = {k: (f"{k}(destination={v})" if v else "null") for k, v in arns.items()}
        raise errors.invalid_parameter(
            f"The provided destination config DestinationConfig(onSuccess={parts['OnSuccess']}, "
            f"onFailure={parts['OnFailure']}) is invalid."
        )


def _valid(ctx: RequestContext, function_name: str, kind: str, arn: str) -> bool:
    fields = arn.split(":")
    if len(fields) < 6 or fields[2] not in DESTINATION_SERVICES[kind]:
        return False
    if fields[2] != "lambda":
        return True
    ref = parse_ref(arn) if _LAMBDA_ARN.fullmatch(arn) else None
    if (
        ref is None
        or store(ctx).get(ref.account or ctx.account_id, ref.region or ctx.region, ref.name) is None
    ):
        raise errors.invalid_parameter(f"The destination ARN {arn} is invalid.")
    if ref.name == function_name:
        raise errors.invalid_parameter("You can't specify the function as a destination for itself.")
    return True
