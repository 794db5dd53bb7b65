"""Bucket policies as pure functions: what a statement matches, what a policy decides, and what
S3 refuses at PutBucketPolicy.

A request is judged as IAM judges a resource policy: ``evaluate`` answers ``DENY`` when a Deny
statement matches, else ``ALLOW`` when an Allow statement matches, else None (no opinion: an
ACL or the owner's own rights may still allow it; see access.py). Statements are matched on
``Principal``/``NotPrincipal``, ``Action``/``NotAction`` (``s3:Get*``, case-insensitive),
``Resource``/``NotResource`` (``arn:aws:s3:::bucket/key*``, ``*`` and ``?`` wildcards) and
``Condition`` (the operators of ``OPERATORS`` on the keys a request carries; a key the request
lacks makes a condition false, true for the negated operators and ``...IfExists``, as in IAM).
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from shared.aws.errors import AwsError

ANONYMOUS = None  # the account of a request without credentials
ARN = "arn:aws:s3:::"
ALLOW, DENY = "Allow", "Deny"


@dataclass
class Request:
    """What a policy is evaluated against: who (None: anonymous), the action, the resource ARN
    and the condition keys the request carries (lower-cased names)."""

    account: str | None
    action: str
    resource: str
    keys: dict[str, list[str]] = field(default_factory=dict)


@lru_cache(maxsize=256)
def statements(text: str) -> list[dict[str, Any]]:
    """A stored policy's statements (stored policies passed ``check``: valid JSON)."""
    found = json.loads(text).get("Statement") or []
    return [found] if isinstance(found, dict) else found


def evaluate(policy: str | None, request: Request) -> str | None:
    """``DENY`` when a Deny statement matches, else ``ALLOW`` when an Allow does, else None."""
    listed = statements(policy) if policy else []
    if any(s.get("Effect") == DENY and matches(s, request) for s in listed):
        return DENY
    if any(s.get("Effect") == ALLOW and matches(s, request) for s in listed):
        return ALLOW
    return None


def is_public(text: str) -> bool:
    """S3's rule of thumb: an unconditioned Allow to every principal makes a policy public."""
    return any(
        s.get("Effect") == ALLOW and "Condition" not in s and _everyone(s.get("Principal"))
        for s in statements(text)
    )


def _everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        aws = principal.get("AWS")
        return aws == "*" or (isinstance(aws, list) and "*" in aws)
    return False


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
    return any(like(p, value, ignore_case) for p in patterns)


def like(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """IAM's wildcards: ``*`` any run of characters (``/`` included), ``?`` one character."""
    return _wildcard(pattern, ignore_case).fullmatch(value) is not None


@lru_cache(maxsize=1024)
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


# -- conditions ----------------------------------------------------------------------------------


def _number(text: Any) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")  # compares false with everything


def _date(text: Any) -> float:
    """An ISO 8601 date (``2020-01-01``, ``...T00:00:00Z``) or epoch seconds, as a timestamp."""
    value = str(text).strip()
    if value.lstrip("-").replace(".", "", 1).isdigit():
        return float(value)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return float("nan")
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def _ip(value: str, wanted: str) -> bool:
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(wanted, strict=False)
    except ValueError:
        return False


def _compare(
    convert: Callable[[Any], float], test: Callable[[float, float], bool]
) -> Callable[[str, str], bool]:
    return lambda value, wanted: test(convert(value), convert(wanted))


_ORDER: dict[str, Callable[[float, float], bool]] = {
    "Equals": lambda a, b: a == b,
    "LessThan": lambda a, b: a < b,
    "LessThanEquals": lambda a, b: a <= b,
    "GreaterThan": lambda a, b: a > b,
    "GreaterThanEquals": lambda a, b: a >= b,
}

# operator -> (test of one request value against one policy value, negated)
OPERATORS: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "StringEquals": (lambda v, w: v == w, False),
    "StringNotEquals": (lambda v, w: v == w, True),
    "StringEqualsIgnoreCase": (lambda v, w: v.lower() == w.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda v, w: v.lower() == w.lower(), True),
    "StringLike": (lambda v, w: like(w, v), False),
    "StringNotLike": (lambda v, w: like(w, v), True),
    "ArnEquals": (lambda v, w: v == w, False),
    "ArnNotEquals": (lambda v, w: v == w, True),
    "ArnLike": (lambda v, w: like(w, v), False),
    "ArnNotLike": (lambda v, w: like(w, v), True),
    "Bool": (lambda v, w: v.lower() == w.lower(), False),
    "IpAddress": (_ip, False),
    "NotIpAddress": (_ip, True),
    "BinaryEquals": (lambda v, w: v == w, False),
    **{f"Numeric{name}": (_compare(_number, test), False) for name, test in _ORDER.items()},
    "NumericNotEquals": (_compare(_number, _ORDER["Equals"]), True),
    **{f"Date{name}": (_compare(_date, test), False) for name, test in _ORDER.items()},
    "DateNotEquals": (_compare(_date, _ORDER["Equals"]), True),
}
_SET_PREFIXES = ("ForAnyValue:", "ForAllValues:")


def operator_known(operator: str) -> bool:
    if operator == "Null":
        return True
    name = operator
    for prefix in _SET_PREFIXES:
        name = name.removeprefix(prefix)
    return name.removesuffix("IfExists") in OPERATORS


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
        return (values is None) == (str(wanted).lower() == "true")
    every = operator.startswith("ForAllValues:")
    name = operator.removeprefix("ForAnyValue:").removeprefix("ForAllValues:")
    if_exists = name.endswith("IfExists")
    known = OPERATORS.get(name.removesuffix("IfExists"))
    if known is None:
        return False
    test, negated = known
    if values is None:
        return if_exists or negated or every
    wanted = [wanted] if not isinstance(wanted, list) else wanted

    def hit(value: str) -> bool:
        found = any(test(value, str(w)) for w in wanted)
        return not found if negated else found

    return all(hit(v) for v in values) if every else any(hit(v) for v in values)


# -- checks at PutBucketPolicy -------------------------------------------------------------------

# S3's IAM actions (the Service Authorization Reference's list for Amazon S3, bucket and object
# actions); an action of a bucket policy must match one of them.
S3_ACTIONS = frozenset(
    f"s3:{name}"
    for name in """AbortMultipartUpload BypassGovernanceRetention CreateBucket DeleteBucket
    DeleteBucketOwnershipControls DeleteBucketPolicy DeleteBucketWebsite DeleteObject DeleteObjectTagging
    DeleteObjectVersion DeleteObjectVersionTagging GetAccelerateConfiguration GetAnalyticsConfiguration
    GetBucketAcl GetBucketCORS GetBucketLocation GetBucketLogging GetBucketNotification
    GetBucketObjectLockConfiguration GetBucketOwnershipControls GetBucketPolicy GetBucketPolicyStatus
    GetBucketPublicAccessBlock GetBucketRequestPayment GetBucketTagging GetBucketVersioning
    GetBucketWebsite GetEncryptionConfiguration GetIntelligentTieringConfiguration
    GetInventoryConfiguration GetLifecycleConfiguration GetMetricsConfiguration GetObject GetObjectAcl
    GetObjectAttributes GetObjectLegalHold GetObjectRetention GetObjectTagging GetObjectTorrent
    GetObjectVersion GetObjectVersionAcl GetObjectVersionAttributes GetObjectVersionTagging
    GetObjectVersionTorrent GetReplicationConfiguration ListAllMyBuckets ListBucket
    ListBucketMultipartUploads ListBucketVersions ListMultipartUploadParts PutAccelerateConfiguration
    PutAnalyticsConfiguration PutBucketAcl PutBucketCORS PutBucketLogging PutBucketNotification
    PutBucketObjectLockConfiguration PutBucketOwnershipControls PutBucketPolicy
    PutBucketPublicAccessBlock PutBucketRequestPayment PutBucketTagging PutBucketVersioning
    PutBucketWebsite PutEncryptionConfiguration PutIntelligentTieringConfiguration
    PutInventoryConfiguration PutLifecycleConfiguration PutMetricsConfiguration PutObject PutObjectAcl
    PutObjectLegalHold PutObjectRetention PutObjectTagging PutObjectVersionAcl PutObjectVersionTagging
    PutReplicationConfiguration ReplicateDelete ReplicateObject ReplicateTags RestoreObject
    ObjectOwnerOverrideToBucketOwner""".split()  # noqa: SIM905 (a word list reads better)
)


def malformed(message: str) -> AwsError:
    return AwsError("MalformedPolicy", message, 400)


def check(text: str, bucket: str | None) -> None:
    """S3's checks at PutBucketPolicy: the grammar, then every action is an S3 action, every
    resource names this bucket (or its objects; not checked without a bucket), every condition
    operator is known."""
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    if not isinstance(doc, dict) or not text.lstrip().startswith("{"):
        raise malformed("Policies must be valid JSON and the first byte must be '{'")
    if doc.get("Version", "2012-10-17") not in ("2008-10-17", "2012-10-17"):
        raise malformed(f"Document is invalid: Invalid Version {doc['Version']}")
    found = doc.get("Statement")
    if found is None:
        raise malformed("Missing required field Statement")
    found = [found] if isinstance(found, dict) else found
    if not isinstance(found, list) or not found:
        raise malformed("Could not parse the policy: Statement is not valid!")
    for statement in found:
        _check_statement(statement, bucket)


def _values(statement: dict[str, Any], name: str) -> list[Any]:
    value = statement.get(name, statement.get(f"Not{name}"))
    return [value] if not isinstance(value, list) else value


def _check_statement(statement: Any, bucket: str | None) -> None:
    if not isinstance(statement, dict):
        raise malformed("Could not parse the policy: Statement is not valid!")
    if "Effect" not in statement:
        raise malformed("Missing required field Effect")
    if statement["Effect"] not in (ALLOW, DENY):
        raise malformed(f"Invalid effect: {statement['Effect']}")
    for name in ("Action", "Principal", "Resource"):
        if name not in statement and f"Not{name}" not in statement:
            raise malformed(f"Missing required field {name}")
    if not all(isinstance(a, str) and _valid_action(a) for a in _values(statement, "Action")):
        raise malformed("Policy has invalid action")
    if not all(isinstance(r, str) and _valid_resource(r, bucket) for r in _values(statement, "Resource")):
        raise malformed("Policy has invalid resource")
    conditions = statement.get("Condition") or {}
    if not isinstance(conditions, dict):
        raise malformed("Could not parse the policy: Statement is not valid!")
    for operator in conditions:
        if not operator_known(operator):
            raise malformed(f"Invalid Condition type : {operator}")


def _valid_action(action: str) -> bool:
    if action == "*":
        return True
    if not action.lower().startswith("s3:"):
        return False
    return any(like(action, known, ignore_case=True) for known in S3_ACTIONS)


def _valid_resource(resource: str, bucket: str | None) -> bool:
    """A resource of a bucket policy must name the bucket or objects in it (``*`` wildcards in
    the bucket part must match this bucket)."""
    if not resource.startswith(ARN):
        return False
    name = resource[len(ARN) :].split("/", 1)[0]
    return bucket is None or like(name, bucket)
