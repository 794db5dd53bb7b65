"""Table operations: CreateTable, DescribeTable, ListTables, UpdateTable, DeleteTable.

Status transitions are instant: a table is ACTIVE as soon as CreateTable returns, and an index
UpdateTable creates is backfilled before UpdateTable returns. Responses still carry the status
DynamoDB answers with at that moment (UPDATING, an index CREATING or DELETING), so code written
for AWS sees the same shapes, and a describe or a waiter right after sees ACTIVE.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from shared.aws.errors import AwsError
from shared.context import RequestContext
from shared.handlers import Handlers

from .. import errors, indexes, schema, tables_store
from .common import store

handles = Handlers("dynamodb")

AT_LEAST_ONE = (
    "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates, "
    "SSESpecification, ReplicaUpdates, MultiAccountReplicaReady, ReplicaTransitRoleArn, MultiRegionConsistency, "
    "DeletionProtectionEnabled, OnDemandThroughput, WarmThroughput or TableClass is required"
)
CHANGES = (
    "ProvisionedThroughput",
    "BillingMode",
    "StreamSpecification",
    "GlobalSecondaryIndexUpdates",
    "SSESpecification",
    "ReplicaUpdates",
    "DeletionProtectionEnabled",
    "OnDemandThroughput",
    "WarmThroughput",
    "TableClass",
    "MultiRegionConsistency",
    "GlobalTableWitnessUpdates",
)
# Changes DynamoDB accepts only on their own, in the order its message names them.
EXCLUSIVE = (
    ("SSESpecification", "Server-Side Encryption modification"),
    ("TableClass", "TableClass modification"),
    ("DeletionProtectionEnabled", "DeletionProtection modification"),
    ("WarmThroughput", "WarmThroughput"),
)
UPDATE_UNSUPPORTED = (
    "ReplicaUpdates",
    "MultiRegionConsistency",
    "GlobalTableWitnessUpdates",
    "VectorIndexUpdates",
    "GlobalTableSettingsReplicationMode",
)


def described(ctx: RequestContext, desc: dict[str, Any], status: str = "ACTIVE") -> dict[str, Any]:
    count, size = store(ctx).table_stats(desc["TableId"])
    return schema.describe(desc, status, count, size, tables_store.index_stats(store(ctx), desc))


def lookup(ctx: RequestContext, name_or_arn: str) -> dict[str, Any]:
    """The stored description of a table named by name or ARN (control-plane 'not found' wording)."""
    name = schema.table_name(ctx, name_or_arn)
    desc = store(ctx).table(ctx.account_id, ctx.region, name)
    if desc is None:
        raise errors.table_not_found(name)
    return desc


@handles("CreateTable")
async def create_table(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    schema.check_create(req)
    desc = schema.new_description(ctx, req, time.time())
    if not store(ctx).create_table(ctx.account_id, ctx.region, desc):
        raise errors.table_exists(req["TableName"])
    return {"TableDescription": described(ctx, desc)}


@handles("DescribeTable")
async def describe_table(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    return {"Table": described(ctx, lookup(ctx, req["TableName"]))}


@handles("DeleteTable")
async def delete_table(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    desc = lookup(ctx, req["TableName"])
    if desc.get("DeletionProtectionEnabled"):
        raise errors.validation(
            "Resource cannot be deleted as it is currently protected against deletion. "
            "Disable deletion protection first."
        )
    out = described(ctx, desc, status="DELETING")
    store(ctx).delete_table(ctx.account_id, ctx.region, desc["TableName"])
    return {"TableDescription": out}


@handles("ListTables")
async def list_tables(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    limit = req.get("Limit", 100)
    violations = []
    if not 1 <= limit <= 100:
        bound = "greater than or equal to 1" if limit < 1 else "less than or equal to 100"
        violations.append(
            f"Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value {bound}"
        )
    start = req.get("ExclusiveStartTableName")
    if start is not None:
        violations += schema.name_violations(start, "exclusiveStartTableName")
    if violations:
        raise errors.constraints(violations)
    names = store(ctx).table_names(ctx.account_id, ctx.region, start or "", limit + 1)
    out: dict[str, Any] = {"TableNames": names[:limit]}
    if len(names) > limit:
        out["LastEvaluatedTableName"] = names[limit - 1]
    return out


# -- UpdateTable ---------------------------------------------------------------------------------


def _index_action(update: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    actions = [(kind, update[kind]) for kind in ("Update", "Create", "Delete") if update.get(kind)]
    if not actions:
        raise errors.invalid_parameters(
            "One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, "
            "GlobalSecondaryIndexUpdate.Delete must not be null"
        )
    if len(actions) > 1:
        raise errors.invalid_parameters(
            "Only one global secondary index action is allowed per GlobalSecondaryIndexUpdate object"
        )
    return actions[0]


def _index_actions(req: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """GlobalSecondaryIndexUpdates as (kind, action), checked for shape before the table is read."""
    violations: list[str] = []
    actions, names = [], set()
    for i, update in enumerate(req.get("GlobalSecondaryIndexUpdates") or (), 1):
        kind, action = _index_action(update)
        where = f"globalSecondaryIndexUpdates.{i}.member.{kind.lower()}"
        if kind == "Create":
            schema.index_violations(violations, action, where)
        else:
            violations += schema.name_violations(action["IndexName"], f"{where}.indexName")
        if action["IndexName"] in names:
            raise errors.invalid_parameters(
                "Only one global secondary index update per index is allowed simultaneously. "
                f"Index: {action['IndexName']}"
            )
        names.add(action["IndexName"])
        actions.append((kind, action))
    if violations:
        raise errors.constraints(violations)
    return actions


def _check_update_request(req: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    given = [k for k in CHANGES if req.get(k) is not None and req.get(k) != []]
    if not given:
        raise errors.validation(AT_LEAST_ONE)
    for parameter in UPDATE_UNSUPPORTED:
        if req.get(parameter):
            raise errors.unsupported(parameter, "UpdateTable")
    for member, label in EXCLUSIVE:
        if member in given and len(given) > 1:
            raise errors.invalid_parameters(f"{label} must be the only operation in the request")
    violations: list[str] = []
    schema.enum_violation(violations, req.get("BillingMode"), "billingMode", schema.BILLING_MODES)
    schema.capacity_violations(violations, req.get("ProvisionedThroughput"), "provisionedThroughput")
    if violations:
        raise errors.constraints(violations)
    actions = _index_actions(req)
    creates = sum(1 for kind, _ in actions if kind != "Update")
    if req.get("StreamSpecification") and req.get("ProvisionedThroughput"):
        raise errors.invalid_parameters("You cannot modify stream status while updating table IOPS")
    if creates and req.get("ProvisionedThroughput"):
        raise errors.invalid_parameters("You cannot create or delete index while updating table IOPS")
    if creates and req.get("StreamSpecification"):
        raise errors.invalid_parameters("You cannot create or delete index while changing stream status")
    if creates > 1:
        raise AwsError(
            "LimitExceededException",
            "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table",
        )
    schema.check_capacity_bounds(req.get("ProvisionedThroughput"))
    schema.check_table_class(req.get("TableClass"))
    return actions


def _change_throughput(current: dict[str, Any], given: Mapping[str, int], what: str, now: float) -> None:
    old_r, old_w = current["ReadCapacityUnits"], current["WriteCapacityUnits"]
    new_r, new_w = given["ReadCapacityUnits"], given["WriteCapacityUnits"]
    if (old_r, old_w) == (new_r, new_w):
        raise errors.validation(
            f"The provisioned throughput for the {what} will not change. The requested value equals the current "
            f"value. Current ReadCapacityUnits provisioned for the {what}: {old_r}. Requested ReadCapacityUnits: "
            f"{new_r}. Current WriteCapacityUnits provisioned for the {what}: {old_w}. Requested "
            f"WriteCapacityUnits: {new_w}. Refer to the Amazon DynamoDB Developer Guide for current limits and "
            "how to request higher limits."
        )
    if new_r > old_r or new_w > old_w:
        current["LastIncreaseDateTime"] = now
    if new_r < old_r or new_w < old_w:
        current["LastDecreaseDateTime"] = now
        current["NumberOfDecreasesToday"] = current.get("NumberOfDecreasesToday", 0) + 1
    current.update(ReadCapacityUnits=new_r, WriteCapacityUnits=new_w)


def _zero_throughput(current: dict[str, Any]) -> None:
    current.update(ReadCapacityUnits=0, WriteCapacityUnits=0)


def _change_billing(desc: dict[str, Any], req: Mapping[str, Any], now: float) -> str:
    """Apply BillingMode and table ProvisionedThroughput; returns the table's billing mode after."""
    current = desc["BillingModeSummary"]["BillingMode"]
    mode = req.get("BillingMode") or current
    given = req.get("ProvisionedThroughput")
    if mode == "PAY_PER_REQUEST":
        if given:
            message = (
                "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is "
                "PAY_PER_REQUEST"
            )
            raise errors.invalid_parameters(message) if req.get("BillingMode") else errors.validation(message)
        if current != mode:
            desc["BillingModeSummary"] = {"BillingMode": mode, "LastUpdateToPayPerRequestDateTime": now}
            _zero_throughput(desc["ProvisionedThroughput"])
            for index in desc.get("GlobalSecondaryIndexes") or ():
                _zero_throughput(index["ProvisionedThroughput"])
        return mode
    if current == "PAY_PER_REQUEST":
        if not given:
            raise errors.invalid_parameters(
                "ProvisionedThroughput must be specified when BillingMode is PROVISIONED"
            )
        desc["BillingModeSummary"] = {**desc["BillingModeSummary"], "BillingMode": mode}
    if given:
        _change_throughput(desc["ProvisionedThroughput"], given, "table", now)
    return mode


def _change_stream(desc: dict[str, Any], spec: Mapping[str, Any], now: float) -> None:
    enabled = (desc.get("StreamSpecification") or {}).get("StreamEnabled")
    name = desc["TableName"]
    if spec["StreamEnabled"]:
        if enabled:
            raise errors.validation(f"Table already has an enabled stream: TableName: {name}")
        if not spec.get("StreamViewType"):
            raise errors.invalid_parameters("If stream is being enabled then UpdateViewType is required")
        schema.enable_stream(desc, spec["StreamViewType"], now)
        return
    if spec.get("StreamViewType"):
        raise errors.invalid_parameters(
            "If stream is being disabled, then UpdateViewType must not be specified"
        )
    if not enabled:
        raise errors.validation(f"Table has no stream to disable: TableName: {name}")
    del desc["StreamSpecification"]  # LatestStreamArn and LatestStreamLabel stay, as in DynamoDB


def _change_sse(ctx: RequestContext, desc: dict[str, Any], spec: Mapping[str, Any]) -> None:
    schema.check_sse(spec)
    if not spec.get("Enabled"):
        if "SSEDescription" not in desc:
            raise errors.invalid_parameters("Table is already encrypted by default")
        del desc["SSEDescription"]
        return
    wanted = schema.sse_description(ctx, spec)
    if desc.get("SSEDescription") == wanted:
        raise errors.invalid_parameters(
            "Table is already encrypted with given KMSMasterKeyId. Use KMSMasterKeyId parameter if you want to "
            "change Master Key"
        )
    desc["SSEDescription"] = wanted


def _index_names(desc: Mapping[str, Any], member: str) -> list[str]:
    return [i["IndexName"] for i in desc.get(member) or ()]


def _index_not_found(desc: Mapping[str, Any], name: str) -> AwsError:
    return AwsError(
        "ResourceNotFoundException",
        f"Requested resource not found: Index {name} for table {desc['TableName']}",
    )


def _global_index(desc: Mapping[str, Any], name: str, verb: str) -> dict[str, Any]:
    if name in _index_names(desc, "LocalSecondaryIndexes"):
        raise errors.validation(f"Cannot {verb} an index that is not a GlobalSecondaryIndex: {name}")
    for index in desc.get("GlobalSecondaryIndexes") or ():
        if index["IndexName"] == name:
            return index
    raise _index_not_found(desc, name)


def _used_definitions(desc: dict[str, Any], definitions: list[dict[str, str]]) -> list[dict[str, str]]:
    """The definitions of attributes some key schema uses (DynamoDB keeps no others)."""
    keyed = [desc, *(desc.get("GlobalSecondaryIndexes") or ()), *(desc.get("LocalSecondaryIndexes") or ())]
    used = {k["AttributeName"] for s in keyed for k in s["KeySchema"]}
    return [d for d in definitions if d["AttributeName"] in used]


def _create_index(
    desc: dict[str, Any], action: Mapping[str, Any], req: Mapping[str, Any], billing: str
) -> None:
    name = action["IndexName"]
    if name in _index_names(desc, "GlobalSecondaryIndexes") + _index_names(desc, "LocalSecondaryIndexes"):
        raise errors.validation("Attempting to create an index which already exists")
    if len(desc.get("GlobalSecondaryIndexes") or ()) >= schema.MAX_GSIS:
        raise AwsError(
            "LimitExceededException",
            f"One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the per-table limit "
            f"of {schema.MAX_GSIS}",
        )
    if req.get("AttributeDefinitions") is None:
        raise errors.invalid_parameters(f"AttributeDefinitions is not specified for index: {name}")
    known = {d["AttributeName"] for d in desc["AttributeDefinitions"]}
    merged = desc["AttributeDefinitions"] + [
        d for d in req["AttributeDefinitions"] if d["AttributeName"] not in known
    ]
    schema.check_index_keys(action, [d["AttributeName"] for d in merged])
    schema.check_projection(action["Projection"])
    schema.check_global_throughput(action, billing, updating=True)
    desc.setdefault("GlobalSecondaryIndexes", []).append(schema.global_index(desc["TableArn"], action))
    desc["AttributeDefinitions"] = _used_definitions(desc, merged)


def _delete_index(desc: dict[str, Any], action: Mapping[str, Any]) -> dict[str, Any]:
    index = _global_index(desc, action["IndexName"], "delete")
    desc["GlobalSecondaryIndexes"].remove(index)
    if not desc["GlobalSecondaryIndexes"]:
        del desc["GlobalSecondaryIndexes"]
    desc["AttributeDefinitions"] = _used_definitions(desc, desc["AttributeDefinitions"])
    return index


def _update_index(desc: dict[str, Any], action: Mapping[str, Any], billing: str, now: float) -> None:
    name = action["IndexName"]
    index = _global_index(desc, name, "update")
    given = action.get("ProvisionedThroughput")
    if billing == "PAY_PER_REQUEST" and given:
        raise errors.invalid_parameters(
            f"The only Updates for index: {name} when TableThroughputMode is PAY_PER_REQUEST can be to "
            "OnDemandThroughput, WarmThroughput"
        )
    if given:
        _change_throughput(index["ProvisionedThroughput"], given, f"index {name}", now)
    if action.get("OnDemandThroughput"):
        index["OnDemandThroughput"] = action["OnDemandThroughput"]


def _check_indexes_provisioned(desc: Mapping[str, Any], was: str, billing: str) -> None:
    """Leaving on-demand, every global index needs its own throughput in the same request."""
    if was != "PAY_PER_REQUEST" or billing != "PROVISIONED":
        return
    for index in desc.get("GlobalSecondaryIndexes") or ():
        if not index["ProvisionedThroughput"]["ReadCapacityUnits"]:
            raise errors.invalid_parameters(
                f"ProvisionedThroughput must be specified for index: {index['IndexName']}"
            )


class _Outcome:
    """What an UpdateTable did, for the response's statuses and for the index rows to build or drop."""

    def __init__(self) -> None:
        self.created: list[str] = []
        self.deleted: list[dict[str, Any]] = []
        self.updated: list[str] = []


def _apply_indexes(
    desc: dict[str, Any], req: Mapping[str, Any], actions: list, billing: str, now: float, outcome: _Outcome
) -> None:
    for kind, action in actions:
        if kind == "Create":
            _create_index(desc, action, req, billing)
            outcome.created.append(action["IndexName"])
        elif kind == "Delete":
            outcome.deleted.append(_delete_index(desc, action))
        else:
            _update_index(desc, action, billing, now)
            outcome.updated.append(action["IndexName"])


def _apply_update(
    ctx: RequestContext, desc: dict[str, Any], req: Mapping[str, Any], actions: list, now: float
) -> _Outcome:
    outcome = _Outcome()
    was = desc["BillingModeSummary"]["BillingMode"]
    billing = _change_billing(desc, req, now)
    _apply_indexes(desc, req, actions, billing, now, outcome)
    _check_indexes_provisioned(desc, was, billing)
    if req.get("StreamSpecification"):
        _change_stream(desc, req["StreamSpecification"], now)
    if req.get("SSESpecification") is not None:
        _change_sse(ctx, desc, req["SSESpecification"])
    if req.get("TableClass"):
        desc["TableClassSummary"] = {"TableClass": req["TableClass"], "LastUpdateDateTime": now}
    if req.get("DeletionProtectionEnabled") is not None:
        desc["DeletionProtectionEnabled"] = req["DeletionProtectionEnabled"]
    if req.get("OnDemandThroughput"):
        desc["OnDemandThroughput"] = req["OnDemandThroughput"]
    if req.get("WarmThroughput"):
        desc["WarmThroughput"] = dict(req["WarmThroughput"], Status="ACTIVE")
    for index in outcome.deleted:
        store(ctx).drop_index(desc["TableId"], index["IndexName"])
    for name in outcome.created:
        indexes.backfill(store(ctx), desc, name)
    return outcome


def _update_response(
    ctx: RequestContext, desc: dict[str, Any], req: Mapping[str, Any], outcome: _Outcome
) -> dict:
    only_protection = [k for k in CHANGES if req.get(k) is not None] == ["DeletionProtectionEnabled"]
    out = described(ctx, desc, "ACTIVE" if only_protection else "UPDATING")
    for index in out.get("GlobalSecondaryIndexes") or ():
        if index["IndexName"] in outcome.created:
            index.update(IndexStatus="CREATING", Backfilling=False)
        elif index["IndexName"] in outcome.updated:
            index["IndexStatus"] = "UPDATING"
    for index in outcome.deleted:
        gone = schema.describe({**desc, "GlobalSecondaryIndexes": [index]}, "UPDATING", 0, 0)
        out.setdefault("GlobalSecondaryIndexes", []).append(
            dict(gone["GlobalSecondaryIndexes"][0], IndexStatus="DELETING")
        )
    return out


@handles("UpdateTable")
async def update_table(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    actions = _check_update_request(req)
    name = lookup(ctx, req["TableName"])["TableName"]
    now = time.time()
    desc, outcome = tables_store.update(
        store(ctx), ctx.account_id, ctx.region, name, lambda d: _apply_update(ctx, d, req, actions, now)
    )
    return {"TableDescription": _update_response(ctx, desc, req, outcome)}
