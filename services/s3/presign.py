"""Presigned access to S3: SigV2 signatures, and the policy documents of browser POST uploads.

SigV4 presigned URLs need nothing S3-specific: ``shared.aws.sigv4`` verifies them, and the app
refuses expired ones on every request (enforced or not). What lives here is what only S3 has:

- **SigV2** (``Authorization: AWS AKID:sig`` and ``?AWSAccessKeyId=&Expires=&Signature=``), which
  boto3 still uses by default for ``generate_presigned_url`` against a custom endpoint. The string to
  sign is botocore's ``HmacV1Auth.canonical_string``; the app calls ``verify_sigv2`` only when
  signatures are enforced (expiry is checked always, by the app).
- **POST policies**: the base64 JSON document a browser form carries (``expiration`` and
  ``conditions``), checked against the form's fields always, and its signature (SigV4 over the
  base64 policy, or SigV2's HMAC-SHA1) checked when signatures are enforced.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from shared.aws import sigv4
from shared.aws.errors import AwsError
from shared.aws.http import HttpRequest

from .addressing import bucket_from_host

# Query parameters that are part of the SigV2 resource (botocore's HmacV1Auth.QSAOfInterest).
SUBRESOURCES = frozenset(
    {
        "accelerate", "acl", "analytics", "cors", "defaultObjectAcl", "delete", "inventory", "lifecycle",
        "location", "logging", "metrics", "notification", "object-lock", "partNumber", "policy",
        "replication", "requestPayment", "response-cache-control", "response-content-disposition",
        "response-content-encoding", "response-content-language", "response-content-type",
        "response-expires", "restore", "select", "select-type", "storageClass", "tagging", "torrent",
        "uploadId", "uploads", "versionId", "versioning", "versions", "website",
    }
)  # fmt: skip
# Form fields no policy condition has to cover (S3 "Creating a POST policy": conditions).
EXEMPT_FIELDS = frozenset({"file", "policy", "x-amz-signature", "signature", "awsaccesskeyid"})
_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method."
)

# ---------------------------------------------------------------------------------------------
# SigV2


def verify_sigv2(req: HttpRequest, scope: sigv4.Scope, secret: str, *, now: datetime | None = None) -> None:
    """Check a SigV2 signature (header or query form) of the request as the client sent it."""
    now = now or datetime.now(UTC)
    if not scope.signature:
        raise AwsError("AccessDenied", "Query-string authentication requires the Signature parameter", 403)
    if scope.presigned:
        if scope.expires is None:
            raise AwsError(
                "AccessDenied",
                "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters",
                403,
            )
        sigv4.check_expiry(scope, now)
        date = str(scope.expires)
    else:
        date = _header_date(req, now)
    expected = _sign_v2(secret, string_to_sign_v2(req, date))
    if not hmac.compare_digest(expected, scope.signature.strip()):
        raise AwsError("SignatureDoesNotMatch", _MISMATCH, 403)


def string_to_sign_v2(req: HttpRequest, date: str) -> str:
    """``METHOD\\nContent-MD5\\nContent-Type\\nDate\\n[x-amz-* lines\\n]resource``.

    A presigned URL carries the headers botocore signed as query parameters (``content-type``,
    ``x-amz-*``); a header of the same name, when sent, wins.
    """
    query = {k.lower(): v for k, v in req.query}
    md5 = req.headers.get("content-md5") or query.get("content-md5", "")
    ctype = req.headers.get("content-type") or query.get("content-type", "")
    lines = [req.method.upper(), md5.strip(), ctype.strip(), date]
    amz = {k: v for k, v in query.items() if k.startswith("x-amz-")}
    for name in req.headers:
        if name.startswith("x-amz-"):
            amz[name] = ",".join(v.strip() for v in req.headers.get_all(name))
    lines += [f"{name}:{amz[name]}" for name in sorted(amz)]
    lines.append(_resource(req))
    return "\n".join(lines)


def _header_date(req: HttpRequest, now: datetime) -> str:
    """The Date line of a header-signed request: empty when ``x-amz-date`` is sent (it is signed
    among the ``x-amz-*`` headers), else the ``Date`` header, which must be within 15 minutes."""
    amz_date = req.headers.get("x-amz-date")
    value = amz_date or req.headers.get("date") or ""
    try:
        signed = parsedate_to_datetime(value).astimezone(UTC)
    except (TypeError, ValueError):
        try:
            signed = datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            raise AwsError(
                "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header", 403
            ) from None
    if abs(now - signed) > sigv4.MAX_SKEW:
        raise AwsError(
            "RequestTimeTooSkewed",
            "The difference between the request time and the current time is too large.",
            403,
        )
    return "" if amz_date else value.strip()


def _resource(req: HttpRequest) -> str:
    """The path as sent (with the bucket of a virtual-host request in front) plus sub-resources."""
    bucket = bucket_from_host(req.host or req.headers.get("host", "") or "")
    path = req.path or "/"
    if bucket is not None:
        path = f"/{bucket}{path}"
    subresources = sorted((k, v) for k, v in req.query if k in SUBRESOURCES)
    if subresources:
        path += "?" + "&".join(f"{k}={v}" if v else k for k, v in subresources)
    return path


def _sign_v2(secret: str, text: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


# ---------------------------------------------------------------------------------------------
# POST policies


@dataclass(frozen=True)
class Policy:
    expiration: datetime
    conditions: list[Any]


def invalid_policy(reason: str) -> AwsError:
    return AwsError("InvalidPolicyDocument", f"Invalid Policy: {reason}", 400)


def policy_denied(reason: str) -> AwsError:
    return AwsError("AccessDenied", f"Invalid according to Policy: {reason}", 403)


def read_policy(encoded: str) -> Policy:
    """The policy document of a form (raises ``InvalidPolicyDocument``)."""
    try:
        document = json.loads(base64.b64decode(encoded.strip(), validate=True))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        raise invalid_policy("Invalid JSON.") from None
    if not isinstance(document, dict):
        raise invalid_policy("Invalid JSON.")
    if "expiration" not in document:
        raise invalid_policy("Policy missing expiration.")
    if not isinstance(document.get("conditions"), list):
        raise invalid_policy("Policy missing conditions.")
    return Policy(_expiration(document["expiration"]), document["conditions"])


def _expiration(value: Any) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise invalid_policy(f"Invalid 'expiration' value: '{value}'") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def check_policy(
    policy: Policy, fields: Mapping[str, str], bucket: str, *, now: datetime | None = None
) -> tuple[int, int] | None:
    """Check the form's ``fields`` (lowercase names) against ``policy``; return its
    ``content-length-range`` (min, max), checked later against the file's size, or None."""
    if (now or datetime.now(UTC)) > policy.expiration:
        raise policy_denied("Policy expired.")
    values = {**fields, "bucket": bucket}
    covered: set[str] = set()
    length_range = None
    for condition in policy.conditions:
        if isinstance(condition, list) and condition and condition[0] == "content-length-range":
            length_range = _length_range(condition)
            continue
        op, name, expected = _condition(condition)
        covered.add(name)
        if not _holds(op, name, values.get(name, ""), expected):
            raise policy_denied(f"Policy Condition failed: {_show(op, name, expected)}")
    extra = [
        n for n in fields if n not in covered and n not in EXEMPT_FIELDS and not n.startswith("x-ignore-")
    ]
    if extra:
        raise policy_denied(f"Extra input fields: {', '.join(extra)}")
    return length_range


def _condition(condition: Any) -> tuple[str, str, str]:
    """``{"name": "value"}`` or ``[op, "$name", "value"]`` as (op, lowercase name, value)."""
    if isinstance(condition, dict) and len(condition) == 1:
        ((name, expected),) = condition.items()
        if isinstance(expected, str):
            return "eq", name.lower(), expected
    elif (
        isinstance(condition, list)
        and len(condition) == 3
        and isinstance(condition[0], str)
        and condition[0].lower() in ("eq", "starts-with")
        and isinstance(condition[1], str)
        and condition[1].startswith("$")
        and isinstance(condition[2], str)
    ):
        return condition[0].lower(), condition[1][1:].lower(), condition[2]
    raise invalid_policy(f"Invalid Condition: {json.dumps(condition)[:200]}")


def _holds(op: str, name: str, value: str, expected: str) -> bool:
    if op == "eq":
        return value == expected
    if name == "content-type":  # each of a comma-separated list must match
        return all(v.strip().startswith(expected) for v in value.split(","))
    return value.startswith(expected)


def _show(op: str, name: str, expected: str) -> str:
    return json.dumps([op, f"${name}", expected])


def _length_range(condition: list[Any]) -> tuple[int, int]:
    try:
        low, high = (int(v) for v in condition[1:])
    except (TypeError, ValueError, OverflowError):
        raise invalid_policy("Invalid content-length-range condition.") from None
    if low < 0 or high < low:
        raise invalid_policy("Invalid content-length-range condition.")
    return low, high


def check_size(size: int, length_range: tuple[int, int] | None) -> None:
    """``EntityTooSmall`` / ``EntityTooLarge`` for a file outside the policy's content-length-range."""
    if length_range is None:
        return
    low, high = length_range
    if size < low:
        raise AwsError(
            "EntityTooSmall",
            "Your proposed upload is smaller than the minimum allowed size",
            400,
            fields={"ProposedSize": str(size), "MinSizeAllowed": str(low)},
        )
    if size > high:
        raise AwsError(
            "EntityTooLarge",
            "Your proposed upload exceeds the maximum allowed size",
            400,
            fields={"ProposedSize": str(size), "MaxSizeAllowed": str(high)},
        )


def post_access_key(fields: Mapping[str, str]) -> str | None:
    """The access key that signed the form (SigV4 ``x-amz-credential`` or SigV2 ``AWSAccessKeyId``)."""
    if fields.get("x-amz-credential"):
        return fields["x-amz-credential"].split("/", 1)[0] or None
    return fields.get("awsaccesskeyid") or None


def verify_post_signature(fields: Mapping[str, str], credentials: Mapping[str, str]) -> None:
    """Check the signature over the form's base64 policy (SigV4 when ``x-amz-algorithm`` is sent)."""
    sigv4_form = "x-amz-algorithm" in fields or "x-amz-credential" in fields
    required = ("x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature")
    for name in required if sigv4_form else ("awsaccesskeyid", "signature"):
        if not fields.get(name):
            raise missing_field("AWSAccessKeyId" if name == "awsaccesskeyid" else name)
    access_key = post_access_key(fields) or ""
    secret = credentials.get(access_key)
    if secret is None:
        raise AwsError(
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
            403,
            fields={"AWSAccessKeyId": access_key},
        )
    if sigv4_form:
        expected, sent = _post_sigv4(fields, secret), fields["x-amz-signature"].strip().lower()
    else:
        expected, sent = _sign_v2(secret, fields["policy"]), fields["signature"].strip()
    if not hmac.compare_digest(expected, sent):
        raise AwsError("SignatureDoesNotMatch", _MISMATCH, 403)


def _post_sigv4(fields: Mapping[str, str], secret: str) -> str:
    if fields["x-amz-algorithm"] != sigv4.ALGORITHM:
        raise AwsError(
            "InvalidArgument",
            "Only AWS4-HMAC-SHA256 is supported for POST uploads signed with SigV4.",
            400,
            fields={"ArgumentName": "x-amz-algorithm", "ArgumentValue": fields["x-amz-algorithm"]},
        )
    parts = fields["x-amz-credential"].split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise AwsError(
            "InvalidArgument",
            "Invalid credential in the form: expected <key>/<date>/<region>/<service>/aws4_request.",
            400,
            fields={"ArgumentName": "x-amz-credential", "ArgumentValue": fields["x-amz-credential"]},
        )
    key = sigv4.signing_key(secret, parts[1], parts[2], parts[3])
    return hmac.new(key, fields["policy"].encode("utf-8"), hashlib.sha256).hexdigest()


def missing_field(name: str) -> AwsError:
    return AwsError(
        "InvalidArgument",
        f"Bucket POST must contain a field named '{name}'.  If it is specified, please check the order "
        "of the fields.",
        400,
        fields={"ArgumentName": name, "ArgumentValue": ""},
    )
