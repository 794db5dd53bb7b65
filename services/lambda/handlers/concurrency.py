"""Concurrency: reserved (Put/Get/DeleteFunctionConcurrency) and provisioned (...ProvisionedConcurrencyConfig).

Reserved concurrency is kept in the function record as ``doc["Concurrency"] =
{"ReservedConcurrentExecutions": n}`` (GetFunction shows it; invoke throttles on it). The
account's limit is ``FLOTILLA_LAMBDA_CONCURRENCY`` (default 1000) and, as in AWS, reservations
must leave at least 100 of it unreserved (all of it when the limit is below 100).

Provisioned concurrency is recorded (kind ``provisioned-concurrency``) and reported ``READY`` at
once with everything allocated: Flotilla keeps no environments warm for it.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from shared.aws.errors import AwsError
from shared.context import RequestContext
from shared.handlers import Handlers

from .. import errors
from ..function_configs import PROVISIONED_CONCURRENCY, key
from ..functions import LATEST, function_arn, is_version
from .common import save_function, store
from .config_support import check, function_docs, listed, now, page, records, split, target, unqualified

handles = Handlers("lambda")

DEFAULT_LIMIT = 1000
MIN_UNRESERVED = 100


def account_limit(ctx: RequestContext) -> int:
    settings = getattr(ctx.state, "settings", None)
    return int(settings.extra.get("concurrency", DEFAULT_LIMIT)) if settings else DEFAULT_LIMIT


def min_unreserved(limit: int) -> int:
    return min(MIN_UNRESERVED, limit)


def reserved(doc: dict[str, Any]) -> int | None:
    return (doc.get("Concurrency") or {}).get("ReservedConcurrentExecutions")


def provisioned_by_function(ctx: RequestContext, skip: str | None = None) -> dict[str, int]:
    """Provisioned concurrency per function name (leaving out the config with id ``skip``)."""
    totals: dict[str, int] = defaultdict(int)
    for id_, doc in records(ctx).list(ctx.account_id, ctx.region, PROVISIONED_CONCURRENCY):
        if id_ != skip:
            totals[doc["FunctionName"]] += doc["RequestedProvisionedConcurrentExecutions"]
    return totals


def claimed(ctx: RequestContext, skip_function: str | None = None, skip_config: str | None = None) -> int:
    """Concurrency taken from the unreserved pool: each function's reservation, or else its provisioned."""
    provisioned = provisioned_by_function(ctx, skip_config)
    total = 0
    for doc in function_docs(ctx):
        name = doc["Configuration"]["FunctionName"]
        if name == skip_function:
            continue
        own = reserved(doc)
        total += own if own is not None else provisioned.get(name, 0)
    return total


def unreserved(ctx: RequestContext) -> int:
    return account_limit(ctx) - claimed(ctx)


def _below_minimum(what: str, limit: int) -> AwsError:
    return errors.invalid_parameter(
        f"Specified {what} for function decreases account's UnreservedConcurrentExecution below its "
        f"minimum value of [{min_unreserved(limit)}]."
    )


@handles("PutFunctionConcurrency")
async def put_function_concurrency(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check("PutFunctionConcurrency", req)
    fn = unqualified(ctx, req["FunctionName"])
    wanted = req["ReservedConcurrentExecutions"]
    limit = account_limit(ctx)
    if limit - claimed(ctx, skip_function=fn.name) - wanted < min_unreserved(limit):
        raise _below_minimum("ReservedConcurrentExecutions", limit)
    provisioned = provisioned_by_function(ctx).get(fn.name, 0)
    if provisioned > wanted:
        raise errors.invalid_parameter(
            f" ReservedConcurrentExecutions  {wanted} should not be lower than function's total "
            f"provisioned concurrency [{provisioned}]."
        )
    fn.doc["Concurrency"] = {"ReservedConcurrentExecutions": wanted}
    save_function(ctx, fn.doc)
    return {"ReservedConcurrentExecutions": wanted}


@handles("GetFunctionConcurrency")
async def get_function_concurrency(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check("GetFunctionConcurrency", req)
    value = reserved(unqualified(ctx, req["FunctionName"]).doc)
    return {} if value is None else {"ReservedConcurrentExecutions": value}


@handles("DeleteFunctionConcurrency")
async def delete_function_concurrency(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check("DeleteFunctionConcurrency", req)
    fn = unqualified(ctx, req["FunctionName"])
    if reserved(fn.doc) is not None:
        fn.doc["Concurrency"] = {}  # save_function merges keys: an emptied value, not a missing one
        save_function(ctx, fn.doc)
    return {}


# -- provisioned concurrency ------------------------------------------------------------------


def _published(ctx: RequestContext, req: dict[str, Any], latest_message: str) -> tuple[str, str]:
    """Name and qualifier of a request that must name a version or an alias (it exists)."""
    name, qualifier = split(ctx, req["FunctionName"], req.get("Qualifier"))
    if not qualifier or qualifier == LATEST:
        raise errors.invalid_parameter(latest_message)
    target(ctx, name, qualifier)
    return name, qualifier


def _out(ctx: RequestContext, doc: dict[str, Any], with_arn: bool = False) -> dict[str, Any]:
    n = doc["RequestedProvisionedConcurrentExecutions"]
    out: dict[str, Any] = {
        "RequestedProvisionedConcurrentExecutions": n,
        "AvailableProvisionedConcurrentExecutions": n,
        "AllocatedProvisionedConcurrentExecutions": n,
        "Status": "READY",
        "LastModified": doc["LastModified"],
    }
    if with_arn:
        out = {"FunctionArn": function_arn(ctx, doc["FunctionName"], doc["Qualifier"]), **out}
    return out


def _check_overlap(ctx: RequestContext, name: str, qualifier: str) -> None:
    """A version and an alias pointing at it cannot both have provisioned concurrency."""
    configured = {
        doc["Qualifier"]
        for doc in (d for _, d in records(ctx).list(ctx.account_id, ctx.region, PROVISIONED_CONCURRENCY))
        if doc["FunctionName"] == name and doc["Qualifier"] != qualifier
    }
    aliases = store(ctx).aliases(ctx.account_id, ctx.region, name)
    if is_version(qualifier):
        if any(a["Name"] in configured and a["FunctionVersion"] == qualifier for a in aliases):
            raise errors.resource_conflict("Version is pointed by a Provisioned Concurrency alias")
    elif any(a["Name"] == qualifier and a["FunctionVersion"] in configured for a in aliases):
        raise errors.resource_conflict(
            "Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version"
        )


@handles("PutProvisionedConcurrencyConfig")
async def put_provisioned_concurrency_config(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check("PutProvisionedConcurrencyConfig", req)
    name, qualifier = _published(
        ctx, req, "Provisioned Concurrency Configs cannot be applied to unpublished function versions."
    )
    wanted = req["ProvisionedConcurrentExecutions"]
    id_ = key(name, qualifier)
    _check_overlap(ctx, name, qualifier)
    others = provisioned_by_function(ctx, skip=id_).get(name, 0)
    own_reserved = reserved(target(ctx, name).doc)
    if own_reserved is not None and others + wanted > own_reserved:
        raise errors.invalid_parameter(
            "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution "
            "for function"
        )
    limit = account_limit(ctx)
    if own_reserved is None and limit - claimed(ctx, skip_config=id_) - wanted < min_unreserved(limit):
        raise _below_minimum("ConcurrentExecutions", limit)
    doc = {
        "FunctionName": name,
        "Qualifier": qualifier,
        "RequestedProvisionedConcurrentExecutions": wanted,
        "LastModified": now(),
    }
    records(ctx).put(ctx.account_id, ctx.region, PROVISIONED_CONCURRENCY, id_, doc)
    return _out(ctx, doc)


@handles("GetProvisionedConcurrencyConfig")
async def get_provisioned_concurrency_config(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check("GetProvisionedConcurrencyConfig", req)
    name, qualifier = _published(
        ctx, req, "The function resource provided must be an alias or a published version."
    )
    doc = records(ctx).get(ctx.account_id, ctx.region, PROVISIONED_CONCURRENCY, key(name, qualifier))
    if doc is None:
        raise AwsError(
            "ProvisionedConcurrencyConfigNotFoundException",
            "No Provisioned Concurrency Config found for this function",
            404,
            fields=errors.USER,
        )
    return _out(ctx, doc)


@handles("DeleteProvisionedConcurrencyConfig")
async def delete_provisioned_concurrency_config(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check("DeleteProvisionedConcurrencyConfig", req)
    name, qualifier = _published(
        ctx, req, "The function resource provided must be an alias or a published version."
    )
    records(ctx).delete(ctx.account_id, ctx.region, PROVISIONED_CONCURRENCY, key(name, qualifier))
    return {}


@handles("ListProvisionedConcurrencyConfigs")
async def list_provisioned_concurrency_configs(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check("ListProvisionedConcurrencyConfigs", req)
    fn = target(ctx, split(ctx, req["FunctionName"])[0])
    configs = [
        _out(ctx, doc, with_arn=True)
        for _, doc in records(ctx).list(ctx.account_id, ctx.region, PROVISIONED_CONCURRENCY)
        if doc["FunctionName"] == fn.name
    ]
    items, marker = page(configs, req.get("Marker"), req.get("MaxItems"))
    return listed({}, "ProvisionedConcurrencyConfigs", items, marker)
