"""Policy evaluation (services/s3/access.py) as pure functions: actions and resources of
operations, statement matching with wildcards and Not* forms, conditions, and IAM's order of
Deny, Allow and the public access block."""

from __future__ import annotations

import json
from typing import Any

import pytest

from services.s3 import access, policy
from services.s3.policy import ANONYMOUS, Request
from shared.aws.errors import AwsError
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


def test_targets_of_copy_and_delete_objects() -> None:
    copy = {"Bucket": "dst", "Key": "k", "CopySource": "src/a%20b?versionId=v1"}
    put, read = access.targets_of("CopyObject", copy)
    assert (put.action, put.bucket, put.key) == ("s3:PutObject", "dst", "k")
    assert (read.bucket, read.key, read.version, read.action) == ("src", "a b", "v1", "s3:GetObjectVersion")
    batch = {"Bucket": "b", "Delete": {"Objects": [{"Key": "x"}, {"Key": "y", "VersionId": "v"}]}}
    pairs = [
        (t.action, access.resource_arn(t.bucket, t.key)) for t in access.targets_of("DeleteObjects", batch)
    ]
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
    assert policy.matches(s, request()) is matched


@pytest.mark.parametrize(
    "principal",
    ["*", {"AWS": "111122223333"}, {"AWS": ["x", "arn:aws:iam::111122223333:user/alice"]}],
)
def test_account_principals(principal: Any) -> None:
    assert policy.matches(statement(Principal=principal), request("111122223333"))
    assert not policy.matches(statement(NotPrincipal=principal, Principal=None), request("111122223333"))


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
        ({"NumericGreaterThan": {"s3:max-keys": "10"}}, {"s3:max-keys": "50"}, True),
        ({"NumericNotEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "10"}, False),
        ({"NumericLessThan": {"s3:max-keys": "x"}}, {"s3:max-keys": "5"}, False),  # not a number
        ({"NumericGreaterThanEqualsIfExists": {"s3:max-keys": "10"}}, {}, True),
        (
            {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}},
            {"aws:currenttime": "2024-05-01T10:00:00Z"},
            True,
        ),
        (
            {"DateLessThanEquals": {"aws:CurrentTime": "2020-01-01"}},
            {"aws:currenttime": "2024-05-01T10:00:00Z"},
            False,
        ),
        ({"DateEquals": {"aws:EpochTime": "1700000000"}}, {"aws:epochtime": "1700000000"}, True),
        (
            {"DateNotEquals": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}},
            {"aws:currenttime": "2024-05-01T10:00:00Z"},
            True,
        ),
        ({"StringEquals": {"s3:ExistingObjectTag/env": "prod"}}, {"s3:existingobjecttag/env": "prod"}, True),
        (
            {"ForAllValues:StringEquals": {"s3:RequestObjectTagKeys": ["a", "b"]}},
            {"s3:requestobjecttagkeys": "a"},
            True,
        ),
        (
            {"ForAllValues:StringEquals": {"s3:RequestObjectTagKeys": ["a"]}},
            {"s3:requestobjecttagkeys": "c"},
            False,
        ),
        ({"NumericFoo": {"s3:max-keys": "10"}}, {"s3:max-keys": "10"}, False),  # unknown operator
    ],
)
def test_conditions(condition: dict[str, Any], keys: dict[str, str], holds: bool) -> None:
    assert policy.conditions_hold(condition, {k: [v] for k, v in keys.items()}) is holds


def test_deny_wins_then_allow() -> None:
    public = doc(statement())
    assert policy.evaluate(public, request()) == policy.ALLOW
    assert policy.evaluate(None, request()) is None
    both = doc(statement(), statement("Deny", Resource="arn:aws:s3:::b/dir/*"))
    assert policy.evaluate(both, request()) == policy.DENY
    assert policy.evaluate(both, request("111122223333")) == policy.DENY
    assert policy.evaluate(both, request("111122223333", key="other")) == policy.ALLOW
    only_other = doc(statement(Principal={"AWS": "222233334444"}))
    assert policy.evaluate(only_other, request("111122223333")) is None


OWNER, OTHER = "000000000000", "111122223333"


def test_decide_owner_needs_no_allow_others_need_one() -> None:
    never = lambda: False  # noqa: E731
    always = lambda: True  # noqa: E731
    assert access.decide(request(OWNER), OWNER, None, {}, never)
    assert not access.decide(request(OTHER), OWNER, None, {}, never)  # cross-account: no Allow
    assert access.decide(request(OTHER), OWNER, None, {}, always)  # ... an ACL grant
    assert access.decide(request(OTHER), OWNER, doc(statement(Principal={"AWS": OTHER})), {}, never)
    assert not access.decide(request(), OWNER, None, {}, never)
    assert access.decide(request(), OWNER, doc(statement()), {}, never)
    denied = doc(statement("Deny", Principal={"AWS": OTHER}))
    assert not access.decide(request(OTHER), OWNER, denied, {}, always)  # a Deny beats an ACL
    assert not access.decide(request(OWNER), OWNER, doc(statement("Deny")), {}, always)


def test_restrict_public_buckets_sets_public_policies_aside() -> None:
    restricted = {"RestrictPublicBuckets": True}
    never = lambda: False  # noqa: E731
    assert not access.decide(request(), OWNER, doc(statement()), restricted, never)
    assert not access.decide(request(OTHER), OWNER, doc(statement()), restricted, never)
    assert access.decide(request(OWNER), OWNER, doc(statement()), restricted, never)
    conditioned = doc(statement(Condition={"StringEquals": {"aws:Referer": "https://x"}}))
    assert access.decide(request(**{"aws:referer": "https://x"}), OWNER, conditioned, restricted, never)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"Action": "s3:Nope"}, "Policy has invalid action"),
        ({"Action": ["s3:GetObject", "sqs:SendMessage"]}, "Policy has invalid action"),
        ({"Resource": "arn:aws:s3:::other/*"}, "Policy has invalid resource"),
        ({"Resource": "*"}, "Policy has invalid resource"),
        ({"Condition": {"StringEqualz": {"s3:prefix": "x"}}}, "Invalid Condition type : StringEqualz"),
    ],
)
def test_put_policy_checks(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(AwsError) as err:
        policy.check(doc(statement(**fields)), "b")
    assert (err.value.code, err.value.message) == ("MalformedPolicy", message)


@pytest.mark.parametrize(
    "fields",
    [
        {"Action": "s3:*"},
        {"Action": "*"},
        {"Action": ["s3:get*", "s3:ListBucket"], "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]},
        {"Resource": "arn:aws:s3:::b*/x"},
        {"Condition": {"ForAnyValue:StringLikeIfExists": {"s3:prefix": "x"}, "Null": {"s3:prefix": "true"}}},
        {"Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}},
    ],
)
def test_put_policy_accepts(fields: dict[str, Any]) -> None:
    policy.check(doc(statement(**fields)), "b")


def test_enforcing_switches(tmp_path) -> None:
    assert not access.enforcing(Settings(service="s3"))
    assert access.enforcing(Settings(service="s3", extra={"enforce_access": "1"}))
    assert access.enforcing(Settings(service="s3", enforce_sigv4=True))
    env = {"FLOTILLA_S3_ENFORCE_ACCESS": "true", "FLOTILLA_DATA_DIR": str(tmp_path)}
    assert access.enforcing(Settings.from_env("s3", env))
