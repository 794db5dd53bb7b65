"""Policy evaluation (services/s3/access.py) as pure functions: actions and resources of
operations, statement matching with wildcards and Not* forms, conditions, and IAM's order of
Deny, Allow and the public access block."""

from __future__ import annotations

import json
from typing import Any

import pytest

from services.s3 import access
from services.s3.access import ANONYMOUS, Request
from shared.context import RequestContext
from shared.settings import Settings


def request(
    account: str | None = ANONYMOUS, action: str = "s3:GetObject", key: str = "dir/a.txt", **keys: str
):
    return Request(account, action, f"arn:aws:s3:::b/{key}", {k: [v] for k, v in keys.items()})


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def statement(effect: str = "Allow", **fields: Any) -> dict[str, Any]:
    return {
        "Effect": effect,
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::b/*",
    } | fields


@pytest.mark.parametrize(
    ("operation", "params", "action"),
    [
        ("GetObject", {}, "s3:GetObject"),
        ("HeadObject", {}, "s3:GetObject"),
        ("GetObject", {"VersionId": "v"}, "s3:GetObjectVersion"),
        ("DeleteObject", {"VersionId": "v"}, "s3:DeleteObjectVersion"),
        ("ListObjectsV2", {}, "s3:ListBucket"),
        ("UploadPart", {}, "s3:PutObject"),
        ("GetBucketCors", {}, "s3:GetBucketCORS"),
        ("PutBucketTagging", {}, "s3:PutBucketTagging"),
    ],
)
def test_actions(operation: str, params: dict[str, Any], action: str) -> None:
    assert access.action_of(operation, params) == action


def test_requests_of_copy_and_delete_objects() -> None:
    ctx = RequestContext(service="s3", operation="CopyObject", request_id="r")
    copy = {"Bucket": "dst", "Key": "k", "CopySource": "src/a%20b?versionId=v1"}
    (_, put), (source, read) = access.requests_of(ctx, "CopyObject", copy, "000000000000")
    assert (put.action, put.resource) == ("s3:PutObject", "arn:aws:s3:::dst/k")
    assert (source, read.action, read.resource) == ("src", "s3:GetObjectVersion", "arn:aws:s3:::src/a b")
    batch = {"Bucket": "b", "Delete": {"Objects": [{"Key": "x"}, {"Key": "y", "VersionId": "v"}]}}
    pairs = [(r.action, r.resource) for _, r in access.requests_of(ctx, "DeleteObjects", batch, None)]
    assert pairs == [("s3:DeleteObject", "arn:aws:s3:::b/x"), ("s3:DeleteObjectVersion", "arn:aws:s3:::b/y")]


@pytest.mark.parametrize(
    ("fields", "matched"),
    [
        ({}, True),
        ({"Action": "s3:get*"}, True),  # actions are case-insensitive
        ({"Action": ["s3:PutObject", "s3:*Object"]}, True),
        ({"Action": "s3:PutObject"}, False),
        ({"Resource": "arn:aws:s3:::b/dir/?.txt"}, True),
        ({"Resource": "arn:aws:s3:::b/DIR/*"}, False),  # resources are not
        ({"Resource": "arn:aws:s3:::other/*"}, False),
        ({"NotResource": "arn:aws:s3:::b/secret/*"}, True),
        ({"NotAction": "s3:Get*", "Action": None}, False),
        ({"Principal": {"AWS": ["*"]}}, True),
        ({"Principal": {"AWS": "arn:aws:iam::111122223333:root"}}, False),  # not anonymous
        ({"Principal": {"Service": "logging.s3.amazonaws.com"}}, False),
    ],
)
def test_anonymous_statement_matching(fields: dict[str, Any], matched: bool) -> None:
    s = {k: v for k, v in statement(**fields).items() if v is not None}
    assert access.matches(s, request()) is matched


@pytest.mark.parametrize(
    "principal",
    ["*", {"AWS": "111122223333"}, {"AWS": ["x", "arn:aws:iam::111122223333:user/alice"]}],
)
def test_account_principals(principal: Any) -> None:
    assert access.matches(statement(Principal=principal), request("111122223333"))
    assert not access.matches(statement(NotPrincipal=principal, Principal=None), request("111122223333"))


@pytest.mark.parametrize(
    ("condition", "keys", "holds"),
    [
        ({"StringLike": {"s3:prefix": ["public/*", "shared/*"]}}, {"s3:prefix": "shared/x"}, True),
        ({"StringLike": {"s3:prefix": "public/*"}}, {}, False),  # a missing key: false
        ({"StringNotEquals": {"s3:prefix": "x"}}, {}, True),  # ... but true when negated
        ({"StringEqualsIfExists": {"s3:prefix": "x"}}, {}, True),
        ({"Bool": {"aws:SecureTransport": "false"}}, {"aws:securetransport": "false"}, True),
        ({"Bool": {"aws:SecureTransport": True}}, {"aws:securetransport": "false"}, False),
        ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:sourceip": "10.1.2.3"}, True),
        ({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:sourceip": "127.0.0.1"}, True),
        ({"Null": {"s3:prefix": "true"}}, {}, True),
        ({"NumericLessThanEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "5"}, True),
        ({"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}, {}, False),  # unknown operator
    ],
)
def test_conditions(condition: dict[str, Any], keys: dict[str, str], holds: bool) -> None:
    assert access.conditions_hold(condition, {k: [v] for k, v in keys.items()}) is holds


def test_deny_wins_and_anonymous_needs_an_allow() -> None:
    public = doc(statement())
    assert access.allowed(request(), public, {})
    assert not access.allowed(request(), None, {})
    assert access.allowed(request("111122223333"), None, {})  # signed: only a Deny refuses
    both = doc(statement(), statement("Deny", Resource="arn:aws:s3:::b/dir/*"))
    assert not access.allowed(request(), both, {})
    assert not access.allowed(request("111122223333"), both, {})
    assert access.allowed(request("111122223333", key="other"), both, {})


def test_restrict_public_buckets_sets_public_policies_aside() -> None:
    restricted = {"RestrictPublicBuckets": True}
    assert not access.allowed(request(), doc(statement()), restricted)
    assert access.allowed(request("000000000000"), doc(statement()), restricted)
    conditioned = doc(statement(Condition={"StringEquals": {"aws:Referer": "https://x"}}))
    assert access.allowed(request(**{"aws:referer": "https://x"}), conditioned, restricted)  # not public


def test_enforcing_switches(tmp_path) -> None:
    assert not access.enforcing(Settings(service="s3"))
    assert access.enforcing(Settings(service="s3", extra={"enforce_access": "1"}))
    assert access.enforcing(Settings(service="s3", enforce_sigv4=True))
    env = {"FLOTILLA_S3_ENFORCE_ACCESS": "true", "FLOTILLA_DATA_DIR": str(tmp_path)}
    assert access.enforcing(Settings.from_env("s3", env))
