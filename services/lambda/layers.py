"""Lambda layers without I/O: layer names and ARNs, the shapes Lambda answers, filters, permissions.

A layer version is stored as its ``GetLayerVersion`` output (without ``Content.Location``, which
depends on where the fleet is reached) plus its zip's hash (``Hex``), unzipped size (``Unzipped``)
and its resource policy (``Policy``: statements by id, with a ``RevisionId``).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from shared.context import RequestContext

from . import errors

_LAYER_ARN = re.compile(
    r"arn:(?P<partition>aws[a-zA-Z-]*)?:lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):layer:"
    r"(?P<name>[a-zA-Z0-9_-]+)(?::(?P<version>[0-9]+))?"
)
GET_LAYER_VERSION = "lambda:GetLayerVersion"


@dataclass(frozen=True)
class LayerRef:
    name: str
    region: str
    account: str
    version: int | None = None


def parse_arn(value: str) -> LayerRef | None:
    """A layer ARN, with or without its version; None when ``value`` is not one."""
    m = _LAYER_ARN.fullmatch(value)
    if m is None:
        return None
    return LayerRef(m["name"], m["region"], m["account"], int(m["version"]) if m["version"] else None)


def parse_version_arn(value: str) -> LayerRef | None:
    ref = parse_arn(value)
    return ref if ref is not None and ref.version is not None else None


def resolve_name(ctx: RequestContext, value: str) -> LayerRef:
    """``LayerName`` members take a name or a layer ARN (of this region; any account)."""
    ref = parse_arn(value)
    if ref is None:
        return LayerRef(value, ctx.region, ctx.account_id)
    if ref.region != ctx.region:
        raise errors.resource_not_found()
    return ref


def layer_arn(ctx: RequestContext, name: str, account: str | None = None) -> str:
    return ctx.arn("lambda", f"layer:{name}", account=account)


def check_version_number(number: int) -> None:
    if number < 1:
        raise errors.invalid_parameter("Layer Version Cannot be less than 1")


def new_version(
    ctx: RequestContext, name: str, number: int, req: dict[str, Any], sha256: str, size: int, created: str
) -> dict[str, Any]:
    """The GetLayerVersion output of a version just published (``Content.Location`` added on output)."""
    arn = layer_arn(ctx, name)
    out: dict[str, Any] = {
        "Content": {"CodeSha256": sha256, "CodeSize": size},
        "LayerArn": arn,
        "LayerVersionArn": f"{arn}:{number}",
        "Description": req.get("Description") or "",
        "CreatedDate": created,
        "Version": number,
    }
    for member in ("CompatibleRuntimes", "CompatibleArchitectures", "LicenseInfo"):
        if req.get(member):
            out[member] = req[member]
    return out


def list_item(output: dict[str, Any]) -> dict[str, Any]:
    """A LayerVersionsListItem: the version's output without its content."""
    return {k: v for k, v in output.items() if k not in ("Content", "LayerArn")}


def matches(output: dict[str, Any], runtime: str | None, architecture: str | None) -> bool:
    """ListLayers/ListLayerVersions filters: the version declares that runtime / architecture."""
    return (runtime is None or runtime in output.get("CompatibleRuntimes", [])) and (
        architecture is None or architecture in output.get("CompatibleArchitectures", [])
    )


# -- permissions ----------------------------------------------------------------------------------


def statement(ctx: RequestContext, version_arn: str, req: dict[str, Any]) -> dict[str, Any]:
    """The policy statement AddLayerVersionPermission adds (an account id becomes its root ARN)."""
    principal = req["Principal"]
    if re.fullmatch(r"\d{12}", principal):
        principal = {"AWS": f"arn:{ctx.partition}:iam::{principal}:root"}
    elif principal != "*":
        principal = {"AWS": principal}
    out: dict[str, Any] = {
        "Sid": req["StatementId"],
        "Effect": "Allow",
        "Principal": principal,
        "Action": req["Action"],
        "Resource": version_arn,
    }
    if req.get("OrganizationId"):
        out["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": req["OrganizationId"]}}
    return out


def empty_policy() -> dict[str, Any]:
    return {"Statements": {}, "RevisionId": str(uuid.uuid4())}


def as_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def policy_document(policy: dict[str, Any]) -> str:
    return as_json(
        {"Version": "2012-10-17", "Id": "default", "Statement": list(policy["Statements"].values())}
    )
