"""A function's resource-based policy, built statement by statement as Lambda builds it (no I/O).

``AddPermission`` turns its parameters into one IAM statement; ``GetPolicy`` answers the whole
document ``{"Version": "2012-10-17", "Id": "default", "Statement": [...]}`` as compact JSON.
The principal is written in IAM's form: a service (``s3.amazonaws.com``) as ``{"Service": ...}``,
an account id as ``{"AWS": "arn:aws:iam::<id>:root"}``, an ARN as ``{"AWS": arn}``, ``*`` as is.
Conditions go in Lambda's order: ``StringEquals`` (source account, organisation, function URL
auth type, event source token), then ``ArnLike`` (source ARN), then ``Bool``
(``lambda:InvokedViaFunctionUrl``).
"""

from __future__ import annotations

import json
import re
from typing import Any

VERSION = "2012-10-17"
POLICY_ID = "default"
MAX_POLICY_BYTES = 20480  # Lambda's limit on a function's whole policy document

_ACCOUNT = re.compile(r"\d{12}")
_SERVICE = re.compile(r"[a-z0-9.-]+\.amazonaws\.com(\.cn)?")
_ARN = re.compile(r"arn:aws[a-zA-Z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:.+")

# request member -> (condition operator, condition key)
_CONDITIONS = (
    ("SourceAccount", "StringEquals", "AWS:SourceAccount"),
    ("PrincipalOrgID", "StringEquals", "aws:PrincipalOrgID"),
    ("FunctionUrlAuthType", "StringEquals", "lambda:FunctionUrlAuthType"),
    ("EventSourceToken", "StringEquals", "lambda:EventSourceToken"),
    ("SourceArn", "ArnLike", "AWS:SourceArn"),
)


class InvalidPrincipal(ValueError):
    """The principal is neither ``*``, an account id, an ARN nor a service principal."""


def principal(value: str, partition: str = "aws") -> str | dict[str, str]:
    """The statement's ``Principal`` for AddPermission's ``Principal`` string."""
    if value == "*":
        return "*"
    if _ACCOUNT.fullmatch(value):
        return {"AWS": f"arn:{partition}:iam::{value}:root"}
    if _ARN.fullmatch(value):
        return {"AWS": value}
    if _SERVICE.fullmatch(value):
        return {"Service": value}
    raise InvalidPrincipal(value)


def conditions(req: dict[str, Any]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for member, operator, key in _CONDITIONS:
        if req.get(member):
            out.setdefault(operator, {})[key] = req[member]
    if req.get("InvokedViaFunctionUrl"):
        out.setdefault("Bool", {})["lambda:InvokedViaFunctionUrl"] = "true"
    return out


def statement(resource_arn: str, req: dict[str, Any], partition: str = "aws") -> dict[str, Any]:
    """The statement AddPermission adds (raises InvalidPrincipal)."""
    out: dict[str, Any] = {
        "Sid": req["StatementId"],
        "Effect": "Allow",
        "Principal": principal(req["Principal"], partition),
        "Action": req["Action"],
        "Resource": resource_arn,
    }
    condition = conditions(req)
    if condition:
        out["Condition"] = condition
    return out


def to_json(value: dict[str, Any]) -> str:
    """Compact JSON, as Lambda writes ``Statement`` and ``Policy``."""
    return json.dumps(value, separators=(",", ":"))


def document(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": VERSION, "Id": POLICY_ID, "Statement": statements}


def find(statements: list[dict[str, Any]], sid: str) -> dict[str, Any] | None:
    return next((s for s in statements if s.get("Sid") == sid), None)


def too_long(statements: list[dict[str, Any]]) -> int | None:
    """The document's size when it is over Lambda's limit, else None."""
    size = len(to_json(document(statements)).encode())
    return size if size > MAX_POLICY_BYTES else None
