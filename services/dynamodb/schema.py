"""CreateTable's rules (key schema, attribute definitions, indexes, billing, streams, SSE, tags) and
the TableDescription we keep.

A table's description is stored as DynamoDB returns it, with times as epoch seconds; the live
parts (ItemCount, TableSizeBytes, index counts, status) are filled in on read. Settings that
DynamoDB keeps beside the description (tags, TTL, point-in-time recovery, resource policies)
are stored in the same document under keys starting with ``_``, which ``describe`` leaves out.
Messages are DynamoDB's own, including its oddities ("UpdateViewType", "ResourcArn").
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from shared.context import RequestContext

from . import errors

_NAME = re.compile(r"[a-zA-Z0-9_.-]+")
KEY_TYPES = ("HASH", "RANGE")
ATTRIBUTE_TYPES = ("B", "N", "S")
BILLING_MODES = ("PROVISIONED", "PAY_PER_REQUEST")
TABLE_CLASSES = ("STANDARD", "STANDARD_INFREQUENT_ACCESS")
PROJECTION_TYPES = ("ALL", "KEYS_ONLY", "INCLUDE")
STREAM_VIEW_TYPES = ("NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY")
SSE_TYPES = ("AES256", "KMS")
MAX_GSIS, MAX_LSIS, MAX_TAGS = 20, 5, 50
MAX_CAPACITY = 1_000_000_000_000
PRIVATE = "_"  # prefix of stored keys that are not part of the TableDescription
# CreateTable parameters without behaviour here yet: rejected by name, never ignored.
UNSUPPORTED = ("GlobalTableSourceArn", "GlobalTableSettingsReplicationMode", "VectorIndexes")


# -- the framework's constraint messages ----------------------------------------------------------


def enum_violation(violations: list[str], value: Any, where: str, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        violations.append(
            f"Value '{value}' at '{where}' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{', '.join(allowed)}]"
        )


def name_violations(name: str, where: str) -> list[str]:
    """Table and index names: 3 to 255 characters of [a-zA-Z0-9_.-]."""
    out = []
    prefix = f"Value '{name}' at '{where}' failed to satisfy constraint: "
    if len(name) < 3:
        out.append(prefix + "Member must have length greater than or equal to 3")
    if len(name) > 255:
        out.append(prefix + "Member must have length less than or equal to 255")
    if not _NAME.fullmatch(name):
        out.append(prefix + "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
    return out


def table_name_violations(name: str, where: str = "tableName") -> list[str]:
    """A TableName parameter is a name or (since 2024) the table's ARN."""
    if name.startswith("arn:"):
        if len(name) > 1024:
            return [
                f"Value '{name}' at '{where}' failed to satisfy constraint: "
                "Member must have length less than or equal to 1024"
            ]
        return []
    return name_violations(name, where)


def check_table_name(name: str) -> None:
    violations = table_name_violations(name)
    if violations:
        raise errors.constraints(violations)


def table_name(ctx: RequestContext, name_or_arn: str) -> str:
    """The table name of a TableName parameter, which may be the table's ARN in this account and region."""
    check_table_name(name_or_arn)
    if not name_or_arn.startswith("arn:"):
        return name_or_arn
    prefix = ctx.arn("dynamodb", "table/")
    name = name_or_arn[len(prefix) :] if name_or_arn.startswith(prefix) else ""
    if not name or "/" in name:
        raise errors.validation(f"Invalid TableArn: Invalid ResourceArn provided as input {name_or_arn}")
    return name


def capacity_violations(out: list[str], throughput: Mapping[str, Any] | None, where: str) -> None:
    for field in ("ReadCapacityUnits", "WriteCapacityUnits"):
        value = (throughput or {}).get(field)
        if value is not None and value < 1:
            out.append(
                f"Value '{value}' at '{where}.{field[0].lower()}{field[1:]}' failed to satisfy constraint: "
                "Member must have value greater than or equal to 1"
            )


def _key_schema_violations(out: list[str], schema: Sequence[Mapping[str, Any]], where: str) -> None:
    if len(schema) > 2:
        out.append(
            f"Value '{list(schema)}' at '{where}' failed to satisfy constraint: "
            "Member must have length less than or equal to 2"
        )
    if not schema:
        out.append(
            f"Value '[]' at '{where}' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1"
        )
    for i, element in enumerate(schema, 1):
        enum_violation(out, element["KeyType"], f"{where}.{i}.member.keyType", KEY_TYPES)


def index_violations(out: list[str], index: Mapping[str, Any], where: str) -> None:
    """The constraints of one index definition (name, key schema, projection, throughput)."""
    out += name_violations(index["IndexName"], f"{where}.indexName")
    _key_schema_violations(out, index["KeySchema"], f"{where}.keySchema")
    enum_violation(
        out, index["Projection"].get("ProjectionType"), f"{where}.projection.projectionType", PROJECTION_TYPES
    )
    capacity_violations(out, index.get("ProvisionedThroughput"), f"{where}.provisionedThroughput")


def _constraint_violations(req: Mapping[str, Any]) -> list[str]:
    out = table_name_violations(req["TableName"])
    missing = [
        w
        for m, w in (("KeySchema", "keySchema"), ("AttributeDefinitions", "attributeDefinitions"))
        if req.get(m) is None
    ]
    if missing:  # optional in botocore's model, required by DynamoDB
        return out + [
            f"Value null at '{w}' failed to satisfy constraint: Member must not be null" for w in missing
        ]
    _key_schema_violations(out, req["KeySchema"], "keySchema")
    for i, definition in enumerate(req["AttributeDefinitions"], 1):
        enum_violation(
            out,
            definition["AttributeType"],
            f"attributeDefinitions.{i}.member.attributeType",
            ATTRIBUTE_TYPES,
        )
    enum_violation(out, req.get("BillingMode"), "billingMode", BILLING_MODES)
    capacity_violations(out, req.get("ProvisionedThroughput"), "provisionedThroughput")
    for member, where in (
        ("LocalSecondaryIndexes", "localSecondaryIndexes"),
        ("GlobalSecondaryIndexes", "globalSecondaryIndexes"),
    ):
        for i, index in enumerate(req.get(member) or (), 1):
            index_violations(out, index, f"{where}.{i}.member")
    stream = req.get("StreamSpecification") or {}
    enum_violation(out, stream.get("StreamViewType"), "streamSpecification.streamViewType", STREAM_VIEW_TYPES)
    enum_violation(
        out, (req.get("SSESpecification") or {}).get("SSEType"), "sSESpecification.sSEType", SSE_TYPES
    )
    return out


# -- key schemas and attribute definitions -------------------------------------------------------


def _listed(names: Sequence[str]) -> str:
    return "[" + ", ".join(names) + "]"


def check_key_schema(schema: Sequence[Mapping[str, str]]) -> None:
    names = [element["AttributeName"] for element in schema]
    if len(names) == 2 and names[0] == names[1]:
        raise errors.validation(
            "Both the Hash Key and the Range Key element in the KeySchema have the same name"
        )
    if schema[0]["KeyType"] != "HASH":
        raise errors.validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
    if len(schema) == 2 and schema[1]["KeyType"] != "RANGE":
        raise errors.validation("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")


def _unique(names: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(names))


def _indexes(req: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [*(req.get("GlobalSecondaryIndexes") or ()), *(req.get("LocalSecondaryIndexes") or ())]


def _check_table_definitions(req: Mapping[str, Any], defined: list[str]) -> None:
    """The table's own keys against AttributeDefinitions (DynamoDB checks these before the indexes)."""
    keys = [k["AttributeName"] for k in req["KeySchema"]]
    has_indexes = bool(_indexes(req))
    if all(k in defined for k in keys):
        return
    if len(keys) > len(defined) and not has_indexes:
        raise errors.validation("Invalid KeySchema: Some index key attribute have no definition")
    raise errors.invalid_parameters(
        "Some index key attributes are not defined in AttributeDefinitions. "
        f"Keys: {_listed(keys)}, AttributeDefinitions: {_listed(defined)}"
    )


def _check_unused_definitions(req: Mapping[str, Any], defined: list[str]) -> None:
    used = _unique([k["AttributeName"] for s in [req, *_indexes(req)] for k in s["KeySchema"]])
    if set(defined) <= set(used):
        return
    if not _indexes(req):
        raise errors.invalid_parameters(
            "Number of attributes in KeySchema does not exactly match number of attributes defined in "
            "AttributeDefinitions"
        )
    raise errors.invalid_parameters(
        f"Some AttributeDefinitions are not used. AttributeDefinitions: {_listed(defined)}, "
        f"keys used: {_listed(used)}"
    )


def _check_duplicate_definitions(definitions: Sequence[Mapping[str, str]]) -> list[str]:
    defined = [d["AttributeName"] for d in definitions]
    seen: set[str] = set()
    for name in defined:
        if name in seen:
            raise errors.validation(f"Attribute Name is duplicated: {name}")
        seen.add(name)
    return defined


# -- indexes -------------------------------------------------------------------------------------


def check_projection(projection: Mapping[str, Any]) -> None:
    kind, non_key = projection.get("ProjectionType"), projection.get("NonKeyAttributes")
    if kind is None:
        raise errors.invalid_parameters("Unknown ProjectionType: null")
    if non_key is not None and kind != "INCLUDE":
        raise errors.invalid_parameters(f"ProjectionType is {kind}, but NonKeyAttributes is specified")
    if kind == "INCLUDE" and not non_key:
        raise errors.invalid_parameters("ProjectionType is INCLUDE, but NonKeyAttributes is not specified")
    for i, name in enumerate(non_key or ()):
        if name in non_key[:i]:
            raise errors.invalid_parameters(f"Duplicate element in NonKeyAttributes: {name}")


def check_index_keys(index: Mapping[str, Any], defined: Sequence[str]) -> None:
    keys = [k["AttributeName"] for k in index["KeySchema"]]
    if any(k not in defined for k in keys):
        raise errors.invalid_parameters(
            "Some index key attributes are not defined in AttributeDefinitions. "
            f"Keys: {_listed(keys)}, AttributeDefinitions: {_listed(list(defined))}"
        )
    check_key_schema(index["KeySchema"])


def _check_local_index(req: Mapping[str, Any], index: Mapping[str, Any], defined: list[str]) -> None:
    name = index["IndexName"]
    check_index_keys(index, defined)
    if len(index["KeySchema"]) != 2:
        raise errors.invalid_parameters(f"Index KeySchema does not have a range key for index: {name}")
    index_hash, table_hash = index["KeySchema"][0]["AttributeName"], req["KeySchema"][0]["AttributeName"]
    if index_hash != table_hash:
        raise errors.invalid_parameters(
            "Index KeySchema does not have the same leading hash key as table KeySchema for index: "
            f"{name}. index hash key: {index_hash}, table hash key: {table_hash}"
        )
    check_projection(index["Projection"])


def check_global_throughput(index: Mapping[str, Any], billing: str, *, updating: bool = False) -> None:
    name, throughput = index["IndexName"], index.get("ProvisionedThroughput")
    if billing == "PAY_PER_REQUEST" and throughput:
        raise errors.invalid_parameters(
            f"Neither ReadCapacityUnits nor WriteCapacityUnits can be specified for index: {name} "
            "when BillingMode is PAY_PER_REQUEST"
            if updating
            else f"ProvisionedThroughput should not be specified for index: {name} when BillingMode is "
            "PAY_PER_REQUEST"
        )
    if billing == "PROVISIONED" and not throughput:
        raise errors.invalid_parameters(
            f"ProvisionedThroughput must be specified for index: {name}"
            if updating
            else f"ProvisionedThroughput is not specified for index: {name}"
        )


def _check_global_index(index: Mapping[str, Any], defined: list[str], billing: str) -> None:
    check_index_keys(index, defined)
    check_projection(index["Projection"])
    check_global_throughput(index, billing)


def _check_index_lists(req: Mapping[str, Any], defined: list[str]) -> None:
    billing = req.get("BillingMode") or "PROVISIONED"
    names: set[str] = set()
    for member, limit in (("LocalSecondaryIndexes", MAX_LSIS), ("GlobalSecondaryIndexes", MAX_GSIS)):
        indexes = req.get(member)
        if indexes is None:
            continue
        if not indexes:
            raise errors.invalid_parameters(f"List of {member} is empty")
        if member == "LocalSecondaryIndexes" and len(req["KeySchema"]) != 2:
            raise errors.invalid_parameters(
                "Table KeySchema does not have a range key, which is required when specifying a "
                "LocalSecondaryIndex"
            )
        for index in indexes:
            if member == "LocalSecondaryIndexes":
                _check_local_index(req, index, defined)
            else:
                _check_global_index(index, defined, billing)
            if index["IndexName"] in names:
                raise errors.invalid_parameters(f"Duplicate index name: {index['IndexName']}")
            names.add(index["IndexName"])
        if len(indexes) > limit:
            raise errors.invalid_parameters(
                f"GlobalSecondaryIndex count exceeds the per-table limit of {limit}"
                if member == "GlobalSecondaryIndexes"
                else f"Number of LocalSecondaryIndexes exceeds per-table limit of {limit}"
            )


# -- billing, streams, SSE, table class, tags ----------------------------------------------------


def check_capacity_bounds(throughput: Mapping[str, Any] | None) -> None:
    for field in ("ReadCapacityUnits", "WriteCapacityUnits"):
        value = (throughput or {}).get(field)
        if value is not None and value > MAX_CAPACITY:
            raise errors.validation(f"Given value {value} for {field} is out of bounds")


def _check_billing(req: Mapping[str, Any]) -> None:
    throughput = req.get("ProvisionedThroughput")
    if req.get("BillingMode") == "PAY_PER_REQUEST":
        if throughput:
            raise errors.invalid_parameters(
                "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is "
                "PAY_PER_REQUEST"
            )
        return
    if not throughput or not throughput.get("ReadCapacityUnits") or not throughput.get("WriteCapacityUnits"):
        raise errors.invalid_parameters(
            "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED"
        )
    check_capacity_bounds(throughput)


def _check_create_stream(spec: Mapping[str, Any] | None) -> None:
    if spec is None:
        return
    if spec.get("StreamEnabled") and not spec.get("StreamViewType"):
        raise errors.invalid_parameters(
            "Table is being created with a stream enabled, UpdateViewType is required"
        )
    if not spec.get("StreamEnabled") and spec.get("StreamViewType"):
        raise errors.invalid_parameters(
            "Table is being created with a stream disabled, UpdateViewType should not be specified"
        )


def check_sse(spec: Mapping[str, Any] | None) -> None:
    if not spec:
        return
    if not spec.get("Enabled"):
        for member in ("SSEType", "KMSMasterKeyId"):
            if spec.get(member):
                raise errors.invalid_parameters(f"{member} can not be specified if Enabled is false")
        return
    if spec.get("SSEType") == "AES256":
        raise errors.invalid_parameters("SSEType AES256 is not supported")
    if spec.get("KMSMasterKeyId") and spec.get("SSEType") not in (None, "KMS"):
        raise errors.invalid_parameters("SSEType KMS is required if KMSMasterKeyId is specified")


def check_table_class(value: str | None) -> None:
    if value is not None and value not in TABLE_CLASSES:
        raise errors.validation(
            "Invalid table-class parameter provided. Please try again with a valid table-class value: "
            f"[{', '.join(TABLE_CLASSES)}]."
        )


def check_tags(tags: Sequence[Mapping[str, str]]) -> None:
    """TagResource's and CreateTable's rules for a list of tags."""
    seen: set[str] = set()
    for tag in tags:
        key, value = tag["Key"], tag["Value"]
        if not 1 <= len(key) <= 128:
            raise errors.validation(f"The Tag Key provided is invalid, Key: {key}")
        if len(value) > 256:
            raise errors.validation(f"The Tag Value provided is invalid, Value: {value}")
        if key.startswith("aws:"):
            raise errors.validation(f"Tag Key cannot be prefixed with aws:, Key: {key}")
        if key in seen:
            raise errors.validation(f"Duplicate Tag Keys provided as input: Duplicate Tag Key found {key}")
        seen.add(key)


def check_tag_count(tags: Sequence[Any]) -> None:
    if len(tags) > MAX_TAGS:
        raise errors.validation("Number of Tags exceed the current limit for the provided ResourceArn")


def _check_supported(req: Mapping[str, Any]) -> None:
    for parameter in UNSUPPORTED:
        if req.get(parameter):
            raise errors.unsupported(parameter, "CreateTable")


def check_create(req: Mapping[str, Any]) -> None:
    """Every rule DynamoDB applies to a CreateTable request, in DynamoDB's order."""
    violations = _constraint_violations(req)
    if violations:
        raise errors.constraints(violations)
    check_table_class(req.get("TableClass"))
    _check_billing(req)
    defined = _check_duplicate_definitions(req["AttributeDefinitions"])
    _check_table_definitions(req, defined)
    check_key_schema(req["KeySchema"])
    _check_index_lists(req, defined)
    _check_unused_definitions(req, defined)
    _check_create_stream(req.get("StreamSpecification"))
    check_sse(req.get("SSESpecification"))
    check_tags(req.get("Tags") or ())
    check_tag_count(req.get("Tags") or ())
    if req.get("ResourcePolicy"):
        check_policy(req["ResourcePolicy"])
    _check_supported(req)


# -- the stored description ----------------------------------------------------------------------


def throughput(given: Mapping[str, Any] | None) -> dict[str, Any]:
    given = given or {}
    return {
        "NumberOfDecreasesToday": 0,
        "ReadCapacityUnits": given.get("ReadCapacityUnits", 0),
        "WriteCapacityUnits": given.get("WriteCapacityUnits", 0),
    }


def sse_description(ctx: RequestContext, spec: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """KMS encryption with the given key, or with the account's AWS managed key (aws/dynamodb)."""
    if not spec or not spec.get("Enabled"):
        return None
    key = spec.get("KMSMasterKeyId")
    if not key:
        managed = uuid.uuid5(uuid.NAMESPACE_URL, f"aws/dynamodb/{ctx.account_id}/{ctx.region}")
        key = ctx.arn("kms", f"key/{managed}")
    elif not key.startswith("arn:"):
        key = ctx.arn("kms", key if key.startswith("alias/") else f"key/{key}")
    return {"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": key}


def stream_label(now: float) -> str:
    """DynamoDB's stream label: the enabling time, ISO 8601 with milliseconds."""
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


def enable_stream(desc: dict[str, Any], view_type: str, now: float) -> None:
    label = stream_label(now)
    desc["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view_type}
    desc["LatestStreamLabel"] = label
    desc["LatestStreamArn"] = f"{desc['TableArn']}/stream/{label}"


def global_index(table_arn: str, index: Mapping[str, Any], status: str = "ACTIVE") -> dict[str, Any]:
    out = {
        "IndexName": index["IndexName"],
        "KeySchema": index["KeySchema"],
        "Projection": index["Projection"],
        "IndexStatus": status,
        "ProvisionedThroughput": throughput(index.get("ProvisionedThroughput")),
        "IndexArn": f"{table_arn}/index/{index['IndexName']}",
    }
    if index.get("OnDemandThroughput"):
        out["OnDemandThroughput"] = index["OnDemandThroughput"]
    return out


def _local_index(table_arn: str, index: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "IndexName": index["IndexName"],
        "KeySchema": index["KeySchema"],
        "Projection": index["Projection"],
        "IndexArn": f"{table_arn}/index/{index['IndexName']}",
    }


def new_description(ctx: RequestContext, req: Mapping[str, Any], now: float) -> dict[str, Any]:
    """The stored description of a table CreateTable accepted (times as epoch seconds)."""
    name = req["TableName"]
    arn = ctx.arn("dynamodb", f"table/{name}")
    billing = req.get("BillingMode", "PROVISIONED")
    desc: dict[str, Any] = {
        "AttributeDefinitions": req["AttributeDefinitions"],
        "TableName": name,
        "KeySchema": req["KeySchema"],
        "CreationDateTime": now,
        "ProvisionedThroughput": throughput(req.get("ProvisionedThroughput")),
        "TableArn": arn,
        "TableId": str(uuid.uuid4()),
        "BillingModeSummary": {"BillingMode": billing},
        "DeletionProtectionEnabled": bool(req.get("DeletionProtectionEnabled", False)),
    }
    if billing == "PAY_PER_REQUEST":
        desc["BillingModeSummary"]["LastUpdateToPayPerRequestDateTime"] = now
    if req.get("LocalSecondaryIndexes"):
        desc["LocalSecondaryIndexes"] = [_local_index(arn, i) for i in req["LocalSecondaryIndexes"]]
    if req.get("GlobalSecondaryIndexes"):
        desc["GlobalSecondaryIndexes"] = [global_index(arn, i) for i in req["GlobalSecondaryIndexes"]]
    if (req.get("StreamSpecification") or {}).get("StreamEnabled"):
        enable_stream(desc, req["StreamSpecification"]["StreamViewType"], now)
    if req.get("TableClass"):
        desc["TableClassSummary"] = {"TableClass": req["TableClass"]}
    optional = {
        "SSEDescription": sse_description(ctx, req.get("SSESpecification")),
        "OnDemandThroughput": req.get("OnDemandThroughput"),
        "WarmThroughput": dict(req["WarmThroughput"], Status="ACTIVE") if req.get("WarmThroughput") else None,
        "_Tags": list(req.get("Tags") or ()),
    }
    desc.update({k: v for k, v in optional.items() if v})
    if req.get("ResourcePolicy"):
        desc["_Policies"] = {arn: {"Policy": req["ResourcePolicy"], "RevisionId": new_revision()}}
    return desc


# -- reading it back -----------------------------------------------------------------------------

_TIMES = (
    "LastIncreaseDateTime",
    "LastDecreaseDateTime",
    "LastUpdateToPayPerRequestDateTime",
    "LastUpdateDateTime",
)


def _with_datetimes(part: Mapping[str, Any]) -> dict[str, Any]:
    return {k: datetime.fromtimestamp(v, UTC) if k in _TIMES else v for k, v in part.items()}


def _describe_index(index: Mapping[str, Any], stats: Mapping[str, tuple[int, int]]) -> dict[str, Any]:
    count, size = stats.get(index["IndexName"], (0, 0))
    out = {**index, "IndexSizeBytes": size, "ItemCount": count}
    if "ProvisionedThroughput" in index:
        out["ProvisionedThroughput"] = _with_datetimes(index["ProvisionedThroughput"])
    return out


def describe(
    stored: Mapping[str, Any],
    status: str,
    item_count: int,
    size: int,
    index_stats: Mapping[str, tuple[int, int]] | None = None,
) -> dict[str, Any]:
    """The TableDescription output shape: stored fields, live counters, datetimes."""
    out = {k: v for k, v in stored.items() if not k.startswith(PRIVATE)}
    out.update(TableStatus=status, ItemCount=item_count, TableSizeBytes=size)
    out["CreationDateTime"] = datetime.fromtimestamp(stored["CreationDateTime"], UTC)
    for part in ("BillingModeSummary", "ProvisionedThroughput", "TableClassSummary"):
        if part in stored:
            out[part] = _with_datetimes(stored[part])
    for member in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if member in stored:
            out[member] = [_describe_index(i, index_stats or {}) for i in stored[member]]
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


def ttl_attribute(stored: Mapping[str, Any]) -> str | None:
    """The attribute whose epoch-seconds value expires an item, when TTL is enabled (for the sweep)."""
    ttl = stored.get("_TimeToLive") or {}
    return ttl.get("AttributeName") if ttl.get("TimeToLiveStatus") == "ENABLED" else None


# -- resource policies ---------------------------------------------------------------------------

MAX_POLICY_BYTES = 20480


def check_policy(document: str) -> None:
    """A resource policy must be a JSON object of at most 20 KB (its statements are not evaluated)."""
    if len(document.encode()) > MAX_POLICY_BYTES:
        raise errors.invalid_parameters(f"Maximum policy size of {MAX_POLICY_BYTES} bytes exceeded")
    try:
        parsed = json.loads(document)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise errors.invalid_parameters("Invalid policy document: This policy contains invalid Json")


def new_revision() -> str:
    """A policy's RevisionId: DynamoDB's are decimal strings that grow with time."""
    return str(time.time_ns())
