"""CreateTable's rules (key schema, attribute definitions, billing) and the TableDescription we keep.

A table's description is stored as DynamoDB returns it, with times as epoch seconds; the
live parts (ItemCount, TableSizeBytes, status) are filled in on read.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from shared.context import RequestContext

from . import errors

_TABLE_NAME = re.compile(r"[a-zA-Z0-9_.-]+")
KEY_TYPES = ("HASH", "RANGE")
ATTRIBUTE_TYPES = ("B", "N", "S")
BILLING_MODES = ("PROVISIONED", "PAY_PER_REQUEST")
TABLE_CLASSES = ("STANDARD", "STANDARD_INFREQUENT_ACCESS")
# CreateTable parameters without behaviour here yet: rejected by name, never ignored.
UNSUPPORTED = (
    "LocalSecondaryIndexes",
    "GlobalSecondaryIndexes",
    "ResourcePolicy",
    "GlobalTableSourceArn",
    "GlobalTableSettingsReplicationMode",
    "VectorIndexes",
)


def _enum(violations: list[str], value: Any, where: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        violations.append(
            f"Value '{value}' at '{where}' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{', '.join(allowed)}]"
        )


def table_name_violations(name: str, where: str = "tableName") -> list[str]:
    out = []
    if len(name) < 3:
        out.append(
            f"Value '{name}' at '{where}' failed to satisfy constraint: Member must have length greater than or equal to 3"
        )
    if len(name) > 255:
        out.append(
            f"Value '{name}' at '{where}' failed to satisfy constraint: Member must have length less than or equal to 255"
        )
    if not _TABLE_NAME.fullmatch(name):
        out.append(
            f"Value '{name}' at '{where}' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        )
    return out


def check_table_name(name: str) -> None:
    violations = table_name_violations(name)
    if violations:
        raise errors.constraints(violations)


def _constraint_violations(req: Mapping[str, Any]) -> list[str]:
    out = table_name_violations(req["TableName"])
    schema = req["KeySchema"]
    if len(schema) > 2:
        out.append(
            f"Value '{schema}' at 'keySchema' failed to satisfy constraint: Member must have length less than or equal to 2"
        )
    if not schema:
        out.append(
            "Value '[]' at 'keySchema' failed to satisfy constraint: Member must have length greater than or equal to 1"
        )
    for i, element in enumerate(schema, 1):
        _enum(out, element["KeyType"], f"keySchema.{i}.member.keyType", KEY_TYPES)
    for i, definition in enumerate(req["AttributeDefinitions"], 1):
        _enum(
            out,
            definition["AttributeType"],
            f"attributeDefinitions.{i}.member.attributeType",
            ATTRIBUTE_TYPES,
        )
    if "BillingMode" in req:
        _enum(out, req["BillingMode"], "billingMode", BILLING_MODES)
    if "TableClass" in req:
        _enum(out, req["TableClass"], "tableClass", TABLE_CLASSES)
    for field in ("ReadCapacityUnits", "WriteCapacityUnits"):
        value = (req.get("ProvisionedThroughput") or {}).get(field)
        if value is not None and value < 1:
            where = "provisionedThroughput." + field[0].lower() + field[1:]
            out.append(
                f"Value '{value}' at '{where}' failed to satisfy constraint: Member must have value greater than or equal to 1"
            )
    return out


def _check_key_schema(schema: list[dict[str, str]]) -> None:
    if schema[0]["KeyType"] != "HASH":
        raise errors.validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
    if len(schema) == 2:
        if schema[1]["KeyType"] != "RANGE":
            raise errors.validation("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")
        if schema[0]["AttributeName"] == schema[1]["AttributeName"]:
            raise errors.validation(
                "Both the Hash Key and the Range Key element in the KeySchema have the same name"
            )


def _check_definitions(schema: list[dict[str, str]], definitions: list[dict[str, str]]) -> None:
    defined = [d["AttributeName"] for d in definitions]
    if len(set(defined)) != len(defined):
        raise errors.validation("Cannot have two attributes with the same name")
    keys = [k["AttributeName"] for k in schema]
    missing = [k for k in keys if k not in defined]
    if missing:
        raise errors.invalid_parameters(
            "Some index key attributes are not defined in AttributeDefinitions. "
            f"Keys: [{', '.join(keys)}], AttributeDefinitions: [{', '.join(defined)}]"
        )
    if len(defined) != len(keys):
        raise errors.invalid_parameters(
            "Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions"
        )


def _check_billing(req: Mapping[str, Any]) -> None:
    throughput = req.get("ProvisionedThroughput")
    if req.get("BillingMode") == "PAY_PER_REQUEST":
        if throughput:
            raise errors.invalid_parameters(
                "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"
            )
    elif not throughput:
        raise errors.invalid_parameters(
            "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED"
        )


def _check_supported(req: Mapping[str, Any]) -> None:
    for parameter in UNSUPPORTED:
        if req.get(parameter):
            raise errors.unsupported(parameter, "CreateTable")
    if (req.get("StreamSpecification") or {}).get("StreamEnabled"):
        raise errors.unsupported("StreamSpecification", "CreateTable")


def check_create(req: Mapping[str, Any]) -> None:
    """Every rule DynamoDB applies to a CreateTable request, in DynamoDB's order."""
    violations = _constraint_violations(req)
    if violations:
        raise errors.constraints(violations)
    _check_key_schema(req["KeySchema"])
    _check_definitions(req["KeySchema"], req["AttributeDefinitions"])
    _check_billing(req)
    _check_supported(req)


def _throughput(req: Mapping[str, Any]) -> dict[str, int]:
    given = req.get("ProvisionedThroughput") or {}
    return {
        "NumberOfDecreasesToday": 0,
        "ReadCapacityUnits": given.get("ReadCapacityUnits", 0),
        "WriteCapacityUnits": given.get("WriteCapacityUnits", 0),
    }


def _sse(ctx: RequestContext, spec: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not spec or not spec.get("Enabled"):
        return None
    key = spec.get("KMSMasterKeyId") or ctx.arn("kms", f"key/{uuid.uuid4()}")
    return {"Status": "ENABLED", "SSEType": spec.get("SSEType", "KMS"), "KMSMasterKeyArn": key}


def new_description(ctx: RequestContext, req: Mapping[str, Any], now: float) -> dict[str, Any]:
    """The stored description of a table CreateTable accepted (times as epoch seconds)."""
    name = req["TableName"]
    billing = req.get("BillingMode", "PROVISIONED")
    desc: dict[str, Any] = {
        "AttributeDefinitions": req["AttributeDefinitions"],
        "TableName": name,
        "KeySchema": req["KeySchema"],
        "CreationDateTime": now,
        "ProvisionedThroughput": _throughput(req),
        "TableArn": ctx.arn("dynamodb", f"table/{name}"),
        "TableId": str(uuid.uuid4()),
        "BillingModeSummary": {"BillingMode": billing},
        "DeletionProtectionEnabled": bool(req.get("DeletionProtectionEnabled", False)),
    }
    if billing == "PAY_PER_REQUEST":
        desc["BillingModeSummary"]["LastUpdateToPayPerRequestDateTime"] = now
    if req.get("TableClass"):
        desc["TableClassSummary"] = {"TableClass": req["TableClass"]}
    optional = {
        "SSEDescription": _sse(ctx, req.get("SSESpecification")),
        "OnDemandThroughput": req.get("OnDemandThroughput"),
        "WarmThroughput": dict(req["WarmThroughput"], Status="ACTIVE") if req.get("WarmThroughput") else None,
    }
    desc.update({k: v for k, v in optional.items() if v})
    return desc


def _datetime(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def describe(stored: Mapping[str, Any], status: str, item_count: int, size: int) -> dict[str, Any]:
    """The TableDescription output shape: stored fields, live counters, datetimes."""
    out = {**stored, "TableStatus": status, "ItemCount": item_count, "TableSizeBytes": size}
    out["CreationDateTime"] = _datetime(stored["CreationDateTime"])
    summary = dict(stored["BillingModeSummary"])
    if "LastUpdateToPayPerRequestDateTime" in summary:
        summary["LastUpdateToPayPerRequestDateTime"] = _datetime(summary["LastUpdateToPayPerRequestDateTime"])
    out["BillingModeSummary"] = summary
    return out


def key_names(stored: Mapping[str, Any]) -> list[str]:
    """[hash] or [hash, range]."""
    return [element["AttributeName"] for element in stored["KeySchema"]]


def key_types(stored: Mapping[str, Any]) -> dict[str, str]:
    names = set(key_names(stored))
    return {
        d["AttributeName"]: d["AttributeType"]
        for d in stored["AttributeDefinitions"]
        if d["AttributeName"] in names
    }
