"""The rest of DynamoDB's control plane: tags, TTL settings, continuous backups, resource policies,
DescribeLimits and DescribeEndpoints.

Everything here is a setting stored with the table's description (``_Tags``, ``_TimeToLive``,
``_PointInTimeRecovery``, ``_Policies``), so it goes when the table goes. TTL and point-in-time
recovery settle at once (AWS shows no ENABLING either); the TTL sweep that deletes expired items
reads ``schema.ttl_attribute``. The TTL change cooldown AWS enforces (about 30 minutes) is not
modelled: it would only slow tests down.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from shared.aws.errors import AwsError
from shared.context import RequestContext
from shared.handlers import Handlers

from .. import errors, schema, tables_store
from .common import store
from .tables import lookup

handles = Handlers("dynamodb")

LIMITS = {
    "AccountMaxReadCapacityUnits": 80000,
    "AccountMaxWriteCapacityUnits": 80000,
    "TableMaxReadCapacityUnits": 40000,
    "TableMaxWriteCapacityUnits": 40000,
}
DEFAULT_RECOVERY_DAYS = 35
RESTORE_LAG = 300.0  # LatestRestorableDateTime trails now by five minutes


def _update(ctx: RequestContext, name: str, change) -> tuple[dict[str, Any], Any]:
    return tables_store.update(store(ctx), ctx.account_id, ctx.region, name, change)


# -- resource ARNs (tags and policies) -----------------------------------------------------------


def _split_arn(ctx: RequestContext, arn: str, *, policy: bool) -> tuple[str, str]:
    """(table name, kind) of a table or stream ARN in this account and region, kind 'table' or 'stream'."""
    if not arn.startswith("arn:"):
        raise errors.invalid_parameters(f"ARNs must start with 'arn:': {arn}")
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "dynamodb" or not parts[5].startswith("table/"):
        raise errors.invalid_parameters(f"Provided Arn is not a DynamoDB resource arn: {arn}")
    partition, region, account, resource = parts[1], parts[3], parts[4], parts[5]
    if policy and account != ctx.account_id:
        raise errors.validation(
            "This action is only supported by accounts that match the resource owner’s account."
        )
    if (partition, region, account) != (ctx.partition, ctx.region, ctx.account_id):
        if policy:
            raise errors.invalid_parameters(f"Invalid resource Arn: {arn}")
        raise errors.validation(f"Invalid TableArn: Invalid ResourceArn provided as input {arn}")
    segments = resource.split("/")
    if len(segments) == 2 and segments[1]:
        return segments[1], "table"
    if len(segments) == 4 and segments[2] == "stream":
        return segments[1], "stream"
    if len(segments) >= 3 and segments[2] == "index":
        raise errors.invalid_parameters(
            f"Invalid resource arn provided, only table or stream is accepted. Provided resource arn: {arn}"
        )
    raise errors.invalid_parameters(f"Provided Arn is not a DynamoDB resource arn: {arn}")


def _tagged_table(ctx: RequestContext, arn: str) -> str:
    name, _ = _split_arn(ctx, arn, policy=False)
    if store(ctx).table(ctx.account_id, ctx.region, name) is None:
        raise AwsError(
            "ResourceNotFoundException", f"Requested resource not found: ResourcArn: {arn} not found"
        )
    return name


# -- tags ----------------------------------------------------------------------------------------


@handles("TagResource")
async def tag_resource(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    if not req["Tags"]:
        raise errors.validation("Atleast one Tag needs to be provided as Input.")
    schema.check_tags(req["Tags"])
    name = _tagged_table(ctx, req["ResourceArn"])

    def tag(desc: dict[str, Any]) -> None:
        merged = {t["Key"]: t["Value"] for t in desc.get("_Tags") or ()}
        merged.update({t["Key"]: t["Value"] for t in req["Tags"]})
        schema.check_tag_count(merged)
        desc["_Tags"] = [{"Key": k, "Value": v} for k, v in merged.items()]

    _update(ctx, name, tag)
    return {}


@handles("UntagResource")
async def untag_resource(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    if not req["TagKeys"]:
        raise errors.validation("Atleast one Tag Key needs to be provided as Input.")
    name = _tagged_table(ctx, req["ResourceArn"])
    gone = set(req["TagKeys"])

    def untag(desc: dict[str, Any]) -> None:
        desc["_Tags"] = [t for t in desc.get("_Tags") or () if t["Key"] not in gone]

    _update(ctx, name, untag)
    return {}


@handles("ListTagsOfResource")
async def list_tags_of_resource(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    name = _tagged_table(ctx, req["ResourceArn"])
    desc = store(ctx).table(ctx.account_id, ctx.region, name) or {}
    return {"Tags": list(desc.get("_Tags") or ())}


# -- time to live --------------------------------------------------------------------------------


def _check_ttl_attribute(name: str) -> None:
    if not 1 <= len(name) <= 255:
        bound = "greater than or equal to 1" if not name else "less than or equal to 255"
        raise errors.constraints(
            [
                f"Value '{name}' at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: "
                f"Member must have length {bound}"
            ]
        )


def _change_ttl(desc: dict[str, Any], enabled: bool, attribute: str) -> None:
    current = desc.get("_TimeToLive") or {"TimeToLiveStatus": "DISABLED"}
    active = current["TimeToLiveStatus"] in ("ENABLED", "ENABLING")
    if active and current.get("AttributeName") != attribute:
        raise errors.validation(
            f"TimeToLive is active on a different AttributeName: current AttributeName is {current['AttributeName']}"
        )
    if enabled and active:
        raise errors.validation("TimeToLive is already enabled")
    if not enabled and not active:
        raise errors.validation("TimeToLive is already disabled")
    desc["_TimeToLive"] = (
        {"TimeToLiveStatus": "ENABLED", "AttributeName": attribute}
        if enabled
        else {"TimeToLiveStatus": "DISABLED"}
    )


@handles("UpdateTimeToLive")
async def update_time_to_live(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    spec = req["TimeToLiveSpecification"]
    _check_ttl_attribute(spec["AttributeName"])
    name = lookup(ctx, req["TableName"])["TableName"]
    _update(ctx, name, lambda desc: _change_ttl(desc, spec["Enabled"], spec["AttributeName"]))
    return {"TimeToLiveSpecification": {"Enabled": spec["Enabled"], "AttributeName": spec["AttributeName"]}}


@handles("DescribeTimeToLive")
async def describe_time_to_live(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    desc = lookup(ctx, req["TableName"])
    return {"TimeToLiveDescription": dict(desc.get("_TimeToLive") or {"TimeToLiveStatus": "DISABLED"})}


# -- continuous backups (point-in-time recovery) -------------------------------------------------


def _backups_table(ctx: RequestContext, name_or_arn: str) -> dict[str, Any]:
    name = schema.table_name(ctx, name_or_arn)
    desc = store(ctx).table(ctx.account_id, ctx.region, name)
    if desc is None:
        raise AwsError("TableNotFoundException", f"Table not found: {name}")
    return desc


def _check_recovery_spec(spec: Mapping[str, Any]) -> None:
    days = spec.get("RecoveryPeriodInDays")
    if days is not None and not 1 <= days <= DEFAULT_RECOVERY_DAYS:
        bound = "greater than or equal to 1" if days < 1 else f"less than or equal to {DEFAULT_RECOVERY_DAYS}"
        raise errors.constraints(
            [
                f"Value '{days}' at 'pointInTimeRecoverySpecification.recoveryPeriodInDays' failed to satisfy "
                f"constraint: Member must have value {bound}"
            ]
        )
    if days is not None and not spec["PointInTimeRecoveryEnabled"]:
        raise errors.validation(
            "Invalid Request: Cannot specify RecoveryPeriodInDays when disabling point-in-time recovery."
        )


def _change_recovery(desc: dict[str, Any], spec: Mapping[str, Any], now: float) -> None:
    current = desc.get("_PointInTimeRecovery")
    if not spec["PointInTimeRecoveryEnabled"]:
        desc.pop("_PointInTimeRecovery", None)
        return
    days = spec.get("RecoveryPeriodInDays") or (current or {}).get(
        "RecoveryPeriodInDays", DEFAULT_RECOVERY_DAYS
    )
    desc["_PointInTimeRecovery"] = {
        "EnabledAt": (current or {}).get("EnabledAt", now),
        "RecoveryPeriodInDays": days,
    }


def _backups(desc: Mapping[str, Any], now: float) -> dict[str, Any]:
    recovery = desc.get("_PointInTimeRecovery")
    if recovery is None:
        pitr: dict[str, Any] = {"PointInTimeRecoveryStatus": "DISABLED"}
    else:
        enabled_at = recovery["EnabledAt"]
        pitr = {
            "PointInTimeRecoveryStatus": "ENABLED",
            "RecoveryPeriodInDays": recovery["RecoveryPeriodInDays"],
            "EarliestRestorableDateTime": datetime.fromtimestamp(enabled_at, UTC),
            "LatestRestorableDateTime": datetime.fromtimestamp(max(enabled_at, now - RESTORE_LAG), UTC),
        }
    return {"ContinuousBackupsStatus": "ENABLED", "PointInTimeRecoveryDescription": pitr}


@handles("UpdateContinuousBackups")
async def update_continuous_backups(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    spec = req["PointInTimeRecoverySpecification"]
    _check_recovery_spec(spec)
    name = _backups_table(ctx, req["TableName"])["TableName"]
    now = time.time()
    desc, _ = _update(ctx, name, lambda d: _change_recovery(d, spec, now))
    return {"ContinuousBackupsDescription": _backups(desc, now)}


@handles("DescribeContinuousBackups")
async def describe_continuous_backups(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    return {"ContinuousBackupsDescription": _backups(_backups_table(ctx, req["TableName"]), time.time())}


# -- resource policies ---------------------------------------------------------------------------


def _policy_not_found(message: str) -> AwsError:
    return AwsError(
        "PolicyNotFoundException", f"Resource-based policy not found for the provided ResourceArn: {message}"
    )


def _check_revision(name: str, current: Mapping[str, str] | None, expected: str | None) -> None:
    if expected is None:
        return
    if expected == "NO_POLICY" and current is not None:
        raise _policy_not_found(
            f"Requested policy update expecting none to be present for table {name}, but a policy exists with "
            f"revision id {current['RevisionId']}."
        )
    if expected != "NO_POLICY" and (current is None or current["RevisionId"] != expected):
        actual = current["RevisionId"] if current else "none"
        raise _policy_not_found(
            f"Requested update for policy with revision id {expected}, but the policy associated to target "
            f"table {name} has revision id {actual}."
        )


def _policy_table(ctx: RequestContext, arn: str) -> str:
    name, _ = _split_arn(ctx, arn, policy=True)
    if store(ctx).table(ctx.account_id, ctx.region, name) is None:
        raise errors.table_not_found(name)
    return name


@handles("PutResourcePolicy")
async def put_resource_policy(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    arn = req["ResourceArn"]
    name = _policy_table(ctx, arn)
    schema.check_policy(req["Policy"])

    def put(desc: dict[str, Any]) -> str:
        policies = desc.setdefault("_Policies", {})
        current = policies.get(arn)
        _check_revision(name, current, req.get("ExpectedRevisionId"))
        if current is not None and current["Policy"] == req["Policy"]:
            return current["RevisionId"]
        policies[arn] = {"Policy": req["Policy"], "RevisionId": schema.new_revision()}
        return policies[arn]["RevisionId"]

    _, revision = _update(ctx, name, put)
    return {"RevisionId": revision}


@handles("GetResourcePolicy")
async def get_resource_policy(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    arn = req["ResourceArn"]
    name = _policy_table(ctx, arn)
    desc = store(ctx).table(ctx.account_id, ctx.region, name) or {}
    policy = (desc.get("_Policies") or {}).get(arn)
    if policy is None:
        raise _policy_not_found(arn)
    return dict(policy)


@handles("DeleteResourcePolicy")
async def delete_resource_policy(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    arn = req["ResourceArn"]
    name = _policy_table(ctx, arn)

    def delete(desc: dict[str, Any]) -> str:
        current = (desc.get("_Policies") or {}).get(arn)
        if current is None:
            raise _policy_not_found(arn)
        _check_revision(name, current, req.get("ExpectedRevisionId"))
        del desc["_Policies"][arn]
        return current["RevisionId"]

    _, revision = _update(ctx, name, delete)
    return {"RevisionId": revision}


# -- account-wide --------------------------------------------------------------------------------


@handles("DescribeLimits")
async def describe_limits(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    return dict(LIMITS)


def _endpoint_address(ctx: RequestContext) -> str:
    """host[:port] clients should use: the emulator's external URL, else the Host the request came to."""
    external = getattr(store(ctx), "external_url", None)
    if external:
        return urlsplit(external).netloc or external
    host = ctx.request.headers.get("host") if ctx.request is not None else None
    return host or "localhost:4566"


@handles("DescribeEndpoints")
async def describe_endpoints(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    return {"Endpoints": [{"Address": _endpoint_address(ctx), "CachePeriodInMinutes": 1440}]}
