"""Cross-account access through the shared fleet (no enforcement switch): another account needs an
Allow from the bucket policy or an ACL grant; ownership controls, the public access block and
``x-amz-expected-bucket-owner`` as S3 applies them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from services.s3.acls import canonical_id

OWNER, OTHER = "000000000000", "111111111111"


def client(endpoint: str, key: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=key,
        aws_secret_access_key="test",
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}),
    )


@pytest.fixture(scope="module")
def mine(endpoint: str) -> Any:
    return client(endpoint, "test")  # account 000000000000


@pytest.fixture(scope="module")
def theirs(endpoint: str) -> Any:
    return client(endpoint, OTHER)


def error(call: Any, **kwargs: Any) -> tuple[str, int]:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    response = err.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def empty(s3: Any, name: str) -> None:
    for version in s3.list_object_versions(Bucket=name).get("Versions", []):
        s3.delete_object(Bucket=name, Key=version["Key"], VersionId=version["VersionId"])
    s3.delete_bucket(Bucket=name)


@pytest.fixture
def owned(mine: Any) -> Iterator[str]:
    """A bucket of account 000000000000 with one object, default ownership (ACLs disabled)."""
    name = f"acct-{uuid.uuid4().hex[:12]}"
    mine.create_bucket(Bucket=name)
    mine.put_object(Bucket=name, Key="k", Body=b"secret")
    yield name
    mine.delete_bucket_policy(Bucket=name)
    empty(mine, name)


def policy(name: str, *statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(principal: Any, action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": resource, **extra}


def test_another_account_is_denied_everything(owned: str, mine: Any, theirs: Any) -> None:
    assert error(theirs.get_object, Bucket=owned, Key="k") == ("AccessDenied", 403)
    assert error(theirs.head_object, Bucket=owned, Key="k")[1] == 403
    assert error(theirs.put_object, Bucket=owned, Key="x", Body=b"x") == ("AccessDenied", 403)
    assert error(theirs.delete_object, Bucket=owned, Key="k") == ("AccessDenied", 403)
    assert error(theirs.list_objects_v2, Bucket=owned) == ("AccessDenied", 403)
    assert error(theirs.head_bucket, Bucket=owned)[1] == 403
    assert error(theirs.delete_bucket, Bucket=owned) == ("AccessDenied", 403)
    assert error(theirs.put_bucket_tagging, Bucket=owned, Tagging={"TagSet": []}) == ("AccessDenied", 403)
    assert error(theirs.get_bucket_acl, Bucket=owned) == ("AccessDenied", 403)
    assert error(theirs.create_bucket, Bucket=owned) == ("BucketAlreadyExists", 409)
    result = theirs.delete_objects(Bucket=owned, Delete={"Objects": [{"Key": "k"}]})
    assert [(e["Key"], e["Code"]) for e in result["Errors"]] == [("k", "AccessDenied")]
    assert mine.get_object(Bucket=owned, Key="k")["Body"].read() == b"secret"  # still there
    mine.head_bucket(Bucket=owned)


def test_bucket_policy_grants_another_account(owned: str, mine: Any, theirs: Any) -> None:
    doc = policy(
        owned,
        allow(
            {"AWS": OTHER},
            ["s3:GetObject", "s3:ListBucket"],
            [f"arn:aws:s3:::{owned}", f"arn:aws:s3:::{owned}/*"],
        ),
        allow({"AWS": f"arn:aws:iam::{OTHER}:root"}, "s3:PutObject", f"arn:aws:s3:::{owned}/drop/*"),
        allow({"AWS": OTHER}, "s3:GetBucketTagging", f"arn:aws:s3:::{owned}"),
    )
    mine.put_bucket_policy(Bucket=owned, Policy=doc)
    assert theirs.get_object(Bucket=owned, Key="k")["Body"].read() == b"secret"
    assert [o["Key"] for o in theirs.list_objects_v2(Bucket=owned)["Contents"]] == ["k"]
    theirs.head_bucket(Bucket=owned)
    assert error(theirs.get_object, Bucket=owned, Key="missing") == ("NoSuchKey", 404)  # may list: 404
    theirs.put_object(Bucket=owned, Key="drop/x", Body=b"x")
    assert error(theirs.put_object, Bucket=owned, Key="other", Body=b"x")[1] == 403
    assert error(theirs.delete_object, Bucket=owned, Key="k")[1] == 403
    assert error(theirs.get_bucket_tagging, Bucket=owned) == ("NoSuchTagSet", 404)  # allowed through
    assert error(theirs.get_bucket_policy, Bucket=owned)[1] == 403  # policy operations: owner only
    assert error(theirs.delete_bucket, Bucket=owned)[1] == 403


def test_acls_grant_when_ownership_allows(mine: Any, theirs: Any, endpoint: str) -> None:
    name = f"acct-{uuid.uuid4().hex[:12]}"
    mine.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    try:
        theirs.list_buckets()  # the fleet learns of account 111111111111 (its canonical id is valid)
        mine.put_object(Bucket=name, Key="pub", Body=b"p", ACL="public-read")
        mine.put_object(Bucket=name, Key="shared", Body=b"s", GrantRead=f'id="{canonical_id(OTHER)}"')
        mine.put_object(Bucket=name, Key="private", Body=b"x")
        assert theirs.get_object(Bucket=name, Key="pub")["Body"].read() == b"p"
        assert theirs.get_object(Bucket=name, Key="shared")["Body"].read() == b"s"
        assert error(theirs.get_object, Bucket=name, Key="private")[1] == 403
        assert error(theirs.get_object_acl, Bucket=name, Key="shared")[1] == 403  # READ is not READ_ACP
        assert httpx.get(f"{endpoint}/{name}/pub").content == b"p"  # anonymous: public-read

        assert error(theirs.put_object, Bucket=name, Key="w", Body=b"w")[1] == 403
        mine.put_bucket_acl(
            Bucket=name,
            GrantWrite=f"emailAddress={OTHER}@example.com",
            GrantFullControl=f'id="{canonical_id(OWNER)}"',
        )
        theirs.put_object(Bucket=name, Key="w", Body=b"w")  # bucket WRITE, by e-mail
        assert theirs.get_object(Bucket=name, Key="w")["Body"].read() == b"w"  # the writer owns it
        assert theirs.get_object_acl(Bucket=name, Key="w")["Owner"]["ID"] == canonical_id(OTHER)
        assert mine.get_object(Bucket=name, Key="w")["Body"].read() == b"w"

        mine.put_public_access_block(
            Bucket=name, PublicAccessBlockConfiguration={"IgnorePublicAcls": True, "BlockPublicAcls": True}
        )
        assert error(theirs.get_object, Bucket=name, Key="pub")[1] == 403  # public grant ignored
        assert theirs.get_object(Bucket=name, Key="shared")["Body"].read() == b"s"  # not a public one
        assert error(mine.put_object, Bucket=name, Key="p2", Body=b"x", ACL="public-read") == (
            "AccessDenied",
            403,
        )
        assert error(mine.put_object_acl, Bucket=name, Key="private", ACL="authenticated-read")[1] == 403
        mine.delete_public_access_block(Bucket=name)

        mine.put_bucket_ownership_controls(
            Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        )
        assert error(theirs.get_object, Bucket=name, Key="shared")[1] == 403  # ACLs disabled
    finally:
        mine.delete_public_access_block(Bucket=name)
        empty(mine, name)


def test_bucket_owner_enforced_refuses_acls(owned: str, mine: Any) -> None:
    refused = ("AccessControlListNotSupported", 400)
    assert error(mine.put_object, Bucket=owned, Key="a", Body=b"x", ACL="public-read") == refused
    assert error(mine.put_object_acl, Bucket=owned, Key="k", ACL="public-read") == refused
    assert error(mine.put_bucket_acl, Bucket=owned, ACL="public-read") == refused
    mine.put_object(Bucket=owned, Key="a", Body=b"x", ACL="bucket-owner-full-control")
    mine.put_object(Bucket=owned, Key="b", Body=b"x", ACL="private")
    name = f"acct-{uuid.uuid4().hex[:12]}"
    assert error(mine.create_bucket, Bucket=name, ACL="public-read") == (
        "InvalidBucketAclWithObjectOwnership",
        400,
    )
    assert error(mine.head_bucket, Bucket=name)[1] == 404  # not created


def test_unknown_grantees(owned: str, mine: Any) -> None:
    mine.put_bucket_ownership_controls(
        Bucket=owned, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]}
    )
    assert mine.get_bucket_ownership_controls(Bucket=owned)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "BucketOwnerPreferred"}
    ]
    assert error(mine.put_object_acl, Bucket=owned, Key="k", GrantRead='id="' + "ab" * 32 + '"') == (
        "InvalidArgument",
        400,
    )
    bad_email = error(mine.put_object_acl, Bucket=owned, Key="k", GrantRead="emailAddress=nobody@example.com")
    assert bad_email == ("UnresolvableGrantByEmailAddress", 400)


def test_create_bucket_records_object_ownership(mine: Any) -> None:
    name = f"acct-{uuid.uuid4().hex[:12]}"
    mine.create_bucket(Bucket=name, ObjectOwnership="BucketOwnerPreferred")
    try:
        rules = mine.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"]
        assert rules == [{"ObjectOwnership": "BucketOwnerPreferred"}]
    finally:
        mine.delete_bucket(Bucket=name)


def test_expected_bucket_owner(owned: str, mine: Any) -> None:
    assert mine.get_object(Bucket=owned, Key="k", ExpectedBucketOwner=OWNER)["Body"].read() == b"secret"
    assert error(mine.get_object, Bucket=owned, Key="k", ExpectedBucketOwner=OTHER) == ("AccessDenied", 403)
    assert error(mine.list_objects_v2, Bucket=owned, ExpectedBucketOwner=OTHER)[1] == 403
    assert error(mine.get_bucket_tagging, Bucket=owned, ExpectedBucketOwner=OTHER)[1] == 403
    copy = {"Bucket": owned, "Key": "c", "CopySource": {"Bucket": owned, "Key": "k"}}
    assert error(mine.copy_object, **copy, ExpectedSourceBucketOwner=OTHER)[1] == 403
    mine.copy_object(**copy, ExpectedSourceBucketOwner=OWNER, ExpectedBucketOwner=OWNER)


def test_policy_checks_at_put(owned: str, mine: Any) -> None:
    arn = f"arn:aws:s3:::{owned}/*"
    cases = [
        (allow("*", "s3:Nope", arn), "Policy has invalid action"),
        (allow("*", "s3:GetObject", "arn:aws:s3:::someone-else/*"), "Policy has invalid resource"),
        (
            allow("*", "s3:GetObject", arn, Condition={"NumericEqualz": {"s3:max-keys": "1"}}),
            "Invalid Condition type : NumericEqualz",
        ),
    ]
    for statement, message in cases:
        with pytest.raises(ClientError) as err:
            mine.put_bucket_policy(Bucket=owned, Policy=policy(owned, statement))
        assert (err.value.response["Error"]["Code"], err.value.response["Error"]["Message"]) == (
            "MalformedPolicy",
            message,
        )


def test_conditions_for_another_account(owned: str, mine: Any, theirs: Any) -> None:
    mine.put_object_tagging(Bucket=owned, Key="k", Tagging={"TagSet": [{"Key": "team", "Value": "blue"}]})
    mine.put_object(Bucket=owned, Key="red", Body=b"r", Tagging="team=red")
    doc = policy(
        owned,
        allow(
            {"AWS": OTHER},
            "s3:GetObject",
            f"arn:aws:s3:::{owned}/*",
            Condition={"StringEquals": {"s3:ExistingObjectTag/team": "blue"}},
        ),
        allow(
            {"AWS": OTHER},
            "s3:ListBucket",
            f"arn:aws:s3:::{owned}",
            Condition={"NumericLessThanEquals": {"s3:max-keys": "10"}},
        ),
        allow(
            {"AWS": OTHER},
            "s3:PutObject",
            f"arn:aws:s3:::{owned}/*",
            Condition={"StringEquals": {"s3:RequestObjectTag/team": "blue"}},
        ),
        allow(
            {"AWS": OTHER},
            "s3:DeleteObject",
            f"arn:aws:s3:::{owned}/*",
            Condition={"DateLessThan": {"aws:CurrentTime": "2001-01-01T00:00:00Z"}},
        ),
    )
    mine.put_bucket_policy(Bucket=owned, Policy=doc)
    assert theirs.get_object(Bucket=owned, Key="k")["Body"].read() == b"secret"
    assert error(theirs.get_object, Bucket=owned, Key="red")[1] == 403
    theirs.list_objects_v2(Bucket=owned, MaxKeys=5)
    assert error(theirs.list_objects_v2, Bucket=owned, MaxKeys=50)[1] == 403
    theirs.put_object(Bucket=owned, Key="new", Body=b"n", Tagging="team=blue")
    assert error(theirs.put_object, Bucket=owned, Key="new2", Body=b"n", Tagging="team=red")[1] == 403
    assert error(theirs.delete_object, Bucket=owned, Key="new")[1] == 403  # the date has passed


def _owner_and_grants(s3: Any, bucket: str, key: str) -> tuple[str, set[tuple[str, str]]]:
    acl = s3.get_object_acl(Bucket=bucket, Key=key)
    return acl["Owner"]["ID"], {(g["Grantee"].get("ID", ""), g["Permission"]) for g in acl["Grants"]}


def test_object_owner_follows_ownership_controls(mine: Any, theirs: Any) -> None:
    """ObjectWriter: the writer owns what it writes, and bucket-owner-* canned ACLs grant to the
    bucket owner; BucketOwnerPreferred: a bucket-owner-full-control write (or PutObjectAcl) is the
    bucket owner's; BucketOwnerEnforced: every object is the bucket owner's."""
    me, them = canonical_id(OWNER), canonical_id(OTHER)
    name = f"acct-{uuid.uuid4().hex[:12]}"
    mine.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    try:
        theirs.list_buckets()  # the fleet learns of account 111111111111
        mine.put_bucket_acl(
            Bucket=name, GrantWrite=f'id="{them}"', GrantFullControl=f'id="{me}"'
        )  # they may write
        theirs.put_object(Bucket=name, Key="plain", Body=b"x")
        assert _owner_and_grants(theirs, name, "plain") == (them, {(them, "FULL_CONTROL")})
        theirs.put_object(Bucket=name, Key="full", Body=b"x", ACL="bucket-owner-full-control")
        assert _owner_and_grants(theirs, name, "full") == (
            them,
            {(them, "FULL_CONTROL"), (me, "FULL_CONTROL")},
        )
        theirs.put_object(Bucket=name, Key="read", Body=b"x", ACL="bucket-owner-read")
        assert _owner_and_grants(theirs, name, "read") == (them, {(them, "FULL_CONTROL"), (me, "READ")})
        theirs.copy_object(Bucket=name, Key="copy", CopySource=f"{name}/plain", ACL="bucket-owner-read")
        assert _owner_and_grants(theirs, name, "copy")[0] == them
        theirs.put_object_acl(Bucket=name, Key="plain", ACL="private")  # the owner stays the owner
        assert _owner_and_grants(theirs, name, "plain")[0] == them

        mine.put_bucket_ownership_controls(
            Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]}
        )
        theirs.put_object(Bucket=name, Key="mine", Body=b"x", ACL="bucket-owner-full-control")
        assert _owner_and_grants(mine, name, "mine") == (me, {(me, "FULL_CONTROL")})
        theirs.copy_object(
            Bucket=name, Key="mine2", CopySource=f"{name}/plain", ACL="bucket-owner-full-control"
        )
        assert _owner_and_grants(mine, name, "mine2")[0] == me
        theirs.put_object(Bucket=name, Key="theirs", Body=b"x")  # no ACL named: still the writer's
        assert _owner_and_grants(theirs, name, "theirs")[0] == them
        theirs.put_object_acl(Bucket=name, Key="theirs", ACL="bucket-owner-full-control")
        assert _owner_and_grants(mine, name, "theirs")[0] == me

        mine.put_bucket_ownership_controls(
            Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        )
        writers = allow({"AWS": OTHER}, "s3:PutObject", f"arn:aws:s3:::{name}/*")
        mine.put_bucket_policy(Bucket=name, Policy=policy(name, writers))  # bucket ACLs no longer count
        theirs.put_object(Bucket=name, Key="enforced", Body=b"x", ACL="bucket-owner-full-control")
        mine.put_bucket_ownership_controls(
            Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
        )
        assert _owner_and_grants(mine, name, "enforced")[0] == me  # stored as the bucket owner's
    finally:
        mine.delete_bucket_policy(Bucket=name)
        empty(mine, name)
