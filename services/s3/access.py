"""Who may do what: bucket policies and the public access block, applied as S3 applies them.

``authorize`` is the S3 app's ``ServiceSpec.authorize`` hook (see shared/app.py). It decides

- for **anonymous** requests (no credentials at all): allowed only when the bucket policy has an
  Allow statement for everyone (``"*"`` or ``{"AWS": "*"}``) matching the action and resource,
  no Deny statement matches, and the public access block's ``RestrictPublicBuckets`` does not
  set a public policy aside; anything else is 403 ``AccessDenied``;
- for **signed** requests (header or presigned, any account): refused only by a Deny statement
  naming their account (or everyone); the bucket owner may always read, change and delete the
  policy itself, so no policy can lock it out;
- ``BlockPublicPolicy``: PutBucketPolicy of a public policy is ``AccessDenied``.

**Decision:** the first two apply only when ``enforcing(settings)``
(``FLOTILLA_S3_ENFORCE_ACCESS=1`` or ``FLOTILLA_ENFORCE_SIGV4=1``): unsigned requests have always
been served, and benchmarks and users rely on that. The ``BlockPublicPolicy`` check is a rule on
Put, like the other checks in bucket_config.py, and always applies.

Statements are matched on ``Principal``/``NotPrincipal``, ``Action``/``NotAction`` (``s3:Get*``,
case-insensitive), ``Resource``/``NotResource`` (``arn:aws:s3:::bucket/key*``, ``*`` and ``?``
wildcards) and ``Condition`` (the operators and keys in ``CONDITIONS`` and ``_context``; a
condition on a key the request does not have is false, or true for the negated operators, as in
IAM). Everything here is a pure function of the request and the stored documents.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from shared.aws.errors import AwsError
from shared.context import RequestContext
from shared.settings import Settings

from . import bucket_config as bc

ANONYMOUS = None  # the account of a request without credentials
ARN = "arn:aws:s3:::"

# operation -> IAM action where the action is not "s3:" + the operation's name
ACTIONS = {
    "HeadObject": "s3:GetObject",
    "GetObjectAttributes": "s3:GetObject",
    "HeadBucket": "s3:ListBucket",
    "ListObjects": "s3:ListBucket",
    "ListObjectsV2": "s3:ListBucket",
    "ListObjectVersions": "s3:ListBucketVersions",
    "ListMultipartUploads": "s3:ListBucketMultipartUploads",
    "ListParts": "s3:ListMultipartUploadParts",
    "ListBuckets": "s3:ListAllMyBuckets",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "UploadPartCopy": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "CopyObject": "s3:PutObject",
    "DeleteObjects": "s3:DeleteObject",
    "RestoreObject": "s3:RestoreObject",
    "GetBucketCors": "s3:GetBucketCORS",
    "PutBucketCors": "s3:PutBucketCORS",
    "DeleteBucketCors": "s3:PutBucketCORS",
    "GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "s3:PutLifecycleConfiguration",
    "DeleteBucketLifecycle": "s3:PutLifecycleConfiguration",
    "GetBucketEncryption": "s3:GetEncryptionConfiguration",
    "PutBucketEncryption": "s3:PutEncryptionConfiguration",
    "DeleteBucketEncryption": "s3:PutEncryptionConfiguration",
    "GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "GetBucketNotificationConfiguration": "s3:GetBucketNotification",
    "PutBucketNotificationConfiguration": "s3:PutBucketNotification",
    "DeleteBucketTagging": "s3:PutBucketTagging",
    "DeleteBucketWebsite": "s3:DeleteBucketWebsite",
    "GetBucketReplication": "s3:GetReplicationConfiguration",
    "PutBucketReplication": "s3:PutReplicationConfiguration",
    "DeleteBucketReplication": "s3:PutReplicationConfiguration",
    "GetBucketAccelerateConfiguration": "s3:GetAccelerateConfiguration",
    "PutBucketAccelerateConfiguration": "s3:PutAccelerateConfiguration",
    "GetObjectLockConfiguration": "s3:GetBucketObjectLockConfiguration",
    "PutObjectLockConfiguration": "s3:PutBucketObjectLockConfiguration",
    "DeleteBucketOwnershipControls": "s3:PutBucketOwnershipControls",
    "GetBucketRequestPayment": "s3:GetBucketRequestPayment",
    "GetBucketLogging": "s3:GetBucketLogging",
    "PutBucketLogging": "s3:PutBucketLogging",
}
# version-specific forms of object actions (a request naming a versionId)
VERSIONED = {
    "s3:GetObject": "s3:GetObjectVersion",
    "s3:DeleteObject": "s3:DeleteObjectVersion",
    "s3:GetObjectTagging": "s3:GetObjectVersionTagging",
    "s3:PutObjectTagging": "s3:PutObjectVersionTagging",
    "s3:DeleteObjectTagging": "s3:DeleteObjectVersionTagging",
    "s3:GetObjectAcl": "s3:GetObjectVersionAcl",
    "s3:PutObjectAcl": "s3:PutObjectVersionAcl",
}
POLICY_OPERATIONS = frozenset(
    {"GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy", "GetBucketPolicyStatus"}
)


def access_denied() -> AwsError:
    return AwsError("AccessDenied", "Access Denied", 403)


def enforcing(settings: Settings) -> bool:
    """Whether policies restrict requests (see the module's decision)."""
    flag = (settings.extra.get("enforce_access") or "").strip().lower()
    return settings.enforce_sigv4 or flag in {"1", "true", "yes", "on"}


# -- the hook ------------------------------------------------------------------------------------


@dataclass
class Request:
    """What a policy is evaluated against: who (None: anonymous), the action, the resource ARN
    and the condition keys the request carries (lower-cased names)."""

    account: str | None
    action: str
    resource: str
    keys: dict[str, list[str]] = field(default_factory=dict)


def authorize(ctx: RequestContext, operation: str, params: dict[str, Any], settings: Settings) -> None:
    """Raise AccessDenied unless the bucket's policy and public access block allow the request."""
    if operation == "PutBucketPolicy":
        _check_block_public_policy(ctx, params)
    if not enforcing(settings):
        return
    account = ANONYMOUS if ctx.access_key is None else ctx.account_id
    if operation == "DeleteObjects":
        _authorize_deletes(ctx, params, account)
        return
    for bucket_name, request in requests_of(ctx, operation, params, account):
        bucket = ctx.state.bucket(bucket_name) if bucket_name else None
        if bucket is None:  # no bucket to hold a policy: the handler answers NoSuchBucket or acts
            if account is ANONYMOUS:
                raise access_denied()
            continue
        if account == bucket.account and operation in POLICY_OPERATIONS:
            continue  # the owner can always repair its policy
        policy = bc.bucket_config(ctx, bucket, "policy")
        block = bc.bucket_config(ctx, bucket, "public-access-block") or {}
        if not allowed(request, policy, block):
            raise access_denied()


DENIED_DELETES = "denied_deletes"  # ctx.extra: the (key, version id) pairs a DeleteObjects may not delete


def _authorize_deletes(ctx: RequestContext, params: dict[str, Any], account: str | None) -> None:
    """DeleteObjects is judged key by key, as S3 does: a denied key is an ``AccessDenied`` entry of
    the result (the handler reads ``ctx.extra[DENIED_DELETES]``), the others are deleted."""
    bucket = ctx.state.bucket(params.get("Bucket") or "")
    if bucket is None:
        if account is ANONYMOUS:
            raise access_denied()
        return
    policy = bc.bucket_config(ctx, bucket, "policy")
    block = bc.bucket_config(ctx, bucket, "public-access-block") or {}
    objects = (params.get("Delete") or {}).get("Objects", [])
    pairs = zip(objects, requests_of(ctx, "DeleteObjects", params, account), strict=True)
    ctx.extra[DENIED_DELETES] = {
        (obj.get("Key"), obj.get("VersionId"))
        for obj, (_, request) in pairs
        if not allowed(request, policy, block)
    }


def requests_of(
    ctx: RequestContext, operation: str, params: dict[str, Any], account: str | None
) -> Iterator[tuple[str | None, Request]]:
    """The (bucket, request) pairs an operation needs allowed: one, or one per key of a
    DeleteObjects, plus reading the source of a copy."""
    keys = _context(ctx, params, account)
    action = action_of(operation, params)
    bucket = params.get("Bucket")
    if operation == "DeleteObjects":
        for obj in (params.get("Delete") or {}).get("Objects", []):
            named = VERSIONED[action] if obj.get("VersionId") else action
            yield bucket, Request(account, named, resource_arn(bucket, obj.get("Key")), keys)
        return
    yield bucket, Request(account, action, resource_arn(bucket, params.get("Key")), keys)
    if operation in ("CopyObject", "UploadPartCopy") and params.get("CopySource"):
        source_bucket, source_key, version = _copy_source(params["CopySource"])
        read = "s3:GetObjectVersion" if version else "s3:GetObject"
        yield source_bucket, Request(account, read, resource_arn(source_bucket, source_key), keys)


def action_of(operation: str, params: dict[str, Any]) -> str:
    action = ACTIONS.get(operation, f"s3:{operation}")
    if params.get("VersionId"):
        return VERSIONED.get(action, action)
    return action


def resource_arn(bucket: str | None, key: str | None) -> str:
    if bucket is None:
        return "*"
    return f"{ARN}{bucket}" if key is None else f"{ARN}{bucket}/{key}"


def _copy_source(source: str) -> tuple[str, str, str | None]:
    path, _, query = source.partition("?")
    bucket, _, key = unquote(path).lstrip("/").partition("/")
    version = query.partition("versionId=")[2] or None
    return bucket, key, version


@lru_cache(maxsize=256)
def _statements(text: str) -> list[dict[str, Any]]:
    """A stored policy's statements (stored policies passed check_policy: valid JSON)."""
    statements = json.loads(text).get("Statement") or []
    return [statements] if isinstance(statements, dict) else statements


def _check_block_public_policy(ctx: RequestContext, params: dict[str, Any]) -> None:
    bucket = ctx.state.bucket(params.get("Bucket", ""))
    if bucket is None or bucket.account != ctx.account_id:
        return  # the handler answers NoSuchBucket / AccessDenied
    try:
        bc.check_policy(params["Policy"])
    except AwsError:
        return  # the handler answers MalformedPolicy
    block = bc.bucket_config(ctx, bucket, "public-access-block") or {}
    if block.get("BlockPublicPolicy") and bc.policy_is_public(params["Policy"]):
        raise access_denied()


# -- evaluation ----------------------------------------------------------------------------------


def allowed(request: Request, policy: str | None, block: dict[str, Any]) -> bool:
    """IAM's order: an explicit Deny wins; then an anonymous request needs an explicit Allow
    (not from a public policy the bucket restricts); a signed request is allowed otherwise."""
    statements = _statements(policy) if policy else []
    if any(s.get("Effect") == "Deny" and matches(s, request) for s in statements):
        return False
    if request.account is not ANONYMOUS:
        return True
    if block.get("RestrictPublicBuckets") and policy and bc.policy_is_public(policy):
        return False
    return any(s.get("Effect") == "Allow" and matches(s, request) for s in statements)


def matches(statement: dict[str, Any], request: Request) -> bool:
    return (
        _either(statement, "Principal", lambda p: _principal(p, request.account))
        and _either(statement, "Action", lambda a: _any_like(a, request.action, ignore_case=True))
        and _either(statement, "Resource", lambda r: _any_like(r, request.resource))
        and conditions_hold(statement.get("Condition") or {}, request.keys)
    )


def _either(statement: dict[str, Any], name: str, test: Callable[[Any], bool]) -> bool:
    """``Name`` must match, or ``NotName`` must not."""
    if name in statement:
        return test(statement[name])
    if f"Not{name}" in statement:
        return not test(statement[f"Not{name}"])
    return False


def _principal(principal: Any, account: str | None) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    aws = principal.get("AWS", [])
    for value in [aws] if isinstance(aws, str) else aws:
        if value == "*":
            return True
        if account is not ANONYMOUS and (value == account or value.startswith(f"arn:aws:iam::{account}:")):
            return True
    return False


def _any_like(patterns: Any, value: str, *, ignore_case: bool = False) -> bool:
    patterns = [patterns] if isinstance(patterns, str) else patterns
    return any(_like(p, value, ignore_case) for p in patterns)


def _like(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """IAM's wildcards: ``*`` any run of characters (``/`` included), ``?`` one character."""
    return _wildcard(pattern, ignore_case).fullmatch(value) is not None


@lru_cache(maxsize=1024)
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


# -- conditions ----------------------------------------------------------------------------------


def _string_equals(value: str, wanted: str) -> bool:
    return value == wanted


def _string_like(value: str, wanted: str) -> bool:
    return _like(wanted, value)


def _bool(value: str, wanted: str) -> bool:
    return value.lower() == str(wanted).lower()


def _ip(value: str, wanted: str) -> bool:
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(wanted, strict=False)
    except ValueError:
        return False


# operator -> (test of one request value against one policy value, negated)
CONDITIONS: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "StringEquals": (_string_equals, False),
    "StringNotEquals": (_string_equals, True),
    "StringEqualsIgnoreCase": (lambda v, w: v.lower() == w.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda v, w: v.lower() == w.lower(), True),
    "StringLike": (_string_like, False),
    "StringNotLike": (_string_like, True),
    "ArnEquals": (_string_equals, False),
    "ArnNotEquals": (_string_equals, True),
    "ArnLike": (_string_like, False),
    "ArnNotLike": (_string_like, True),
    "Bool": (_bool, False),
    "IpAddress": (_ip, False),
    "NotIpAddress": (_ip, True),
    "NumericEquals": (lambda v, w: _number(v) == _number(w), False),
    "NumericLessThanEquals": (lambda v, w: _number(v) <= _number(w), False),
}


def _number(text: Any) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")


def conditions_hold(block: dict[str, Any], keys: dict[str, list[str]]) -> bool:
    """Every operator, every key in it must hold (an unknown operator never holds)."""
    return all(
        _condition(operator, key, wanted, keys)
        for operator, tests in block.items()
        for key, wanted in (tests or {}).items()
    )


def _condition(operator: str, key: str, wanted: Any, keys: dict[str, list[str]]) -> bool:
    values = keys.get(key.lower())
    if operator == "Null":
        return _bool(str(values is None), str(wanted))
    if_exists = operator.endswith("IfExists")
    name = operator.removesuffix("IfExists").removeprefix("ForAnyValue:").removeprefix("ForAllValues:")
    known = CONDITIONS.get(name)
    if known is None:
        return False
    test, negated = known
    if values is None:
        return if_exists or negated
    wanted = [wanted] if not isinstance(wanted, list) else wanted
    hit = any(test(v, str(w)) for v in values for w in wanted)
    return not hit if negated else hit


def _context(ctx: RequestContext, params: dict[str, Any], account: str | None) -> dict[str, list[str]]:
    """The condition keys a request carries (IAM's global keys we know, and S3's own)."""
    headers = ctx.request.headers if ctx.request is not None else None
    forwarded = (headers.get("x-forwarded-for") or "") if headers is not None else ""
    proto = (headers.get("x-forwarded-proto") or "http") if headers is not None else "http"
    keys: dict[str, list[str]] = {
        "aws:securetransport": [str(proto == "https").lower()],
        "aws:sourceip": [forwarded.split(",")[0].strip() or "127.0.0.1"],
        "aws:principaltype": ["Anonymous" if account is ANONYMOUS else "Account"],
    }
    if account is not ANONYMOUS:
        keys["aws:principalaccount"] = [account]
        keys["aws:username"] = [ctx.access_key or ""]
    for header in ("referer", "user-agent"):
        value = headers.get(header) if headers is not None else None
        if value:
            keys[f"aws:{header.replace('-', '')}"] = [value]
    for member, key in (("Prefix", "s3:prefix"), ("Delimiter", "s3:delimiter"), ("MaxKeys", "s3:max-keys")):
        if params.get(member) is not None:
            keys[key] = [str(params[member])]
    for member, key in (("ACL", "s3:x-amz-acl"), ("ServerSideEncryption", "s3:x-amz-server-side-encryption")):
        if params.get(member):
            keys[key] = [str(params[member])]
    if params.get("VersionId"):
        keys["s3:versionid"] = [params["VersionId"]]
    return keys
