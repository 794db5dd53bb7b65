"""S3 Object Lock through boto3: lock-enabled buckets, default retention, retention modes,
governance bypass, legal holds, and deletes refused while a version is locked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from .s3_support import unique


def error_of(call, *args, **kwargs) -> tuple[str, int]:
    with pytest.raises(ClientError) as err:
        call(*args, **kwargs)
    response = err.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def locked(s3):
    name = unique()
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    yield name
    # leave no lock behind: lift holds, bypass governance; COMPLIANCE versions are not used in cleanup
    listing = s3.list_object_versions(Bucket=name)
    for v in listing.get("Versions", []):
        hold = v["Key"], v["VersionId"]
        try:
            s3.put_object_legal_hold(Bucket=name, Key=hold[0], VersionId=hold[1], LegalHold={"Status": "OFF"})
        except ClientError:
            pass
        s3.delete_object(Bucket=name, Key=hold[0], VersionId=hold[1], BypassGovernanceRetention=True)
    for m in listing.get("DeleteMarkers", []):
        s3.delete_object(Bucket=name, Key=m["Key"], VersionId=m["VersionId"])
    s3.delete_bucket(Bucket=name)


def future(days: int = 1) -> datetime:
    return (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0)


def test_lock_enabled_bucket_is_versioned(s3, locked):
    assert s3.get_bucket_versioning(Bucket=locked)["Status"] == "Enabled"
    suspend = {"Status": "Suspended"}
    assert error_of(s3.put_bucket_versioning, Bucket=locked, VersioningConfiguration=suspend) == (
        "InvalidBucketState",
        409,
    )
    conf = s3.get_object_lock_configuration(Bucket=locked)["ObjectLockConfiguration"]
    assert conf == {"ObjectLockEnabled": "Enabled"}
    rule = {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}
    s3.put_object_lock_configuration(
        Bucket=locked, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": rule}
    )
    assert s3.get_object_lock_configuration(Bucket=locked)["ObjectLockConfiguration"]["Rule"] == rule
    version = s3.put_object(Bucket=locked, Key="k", Body=b"x")["VersionId"]
    retention = s3.get_object_retention(Bucket=locked, Key="k", VersionId=version)["Retention"]
    assert retention["Mode"] == "GOVERNANCE" and retention["RetainUntilDate"] > datetime.now(UTC)
    head = s3.head_object(Bucket=locked, Key="k")
    assert head["ObjectLockMode"] == "GOVERNANCE" and "ObjectLockRetainUntilDate" in head


def test_no_lock_configuration(s3):
    name = unique()
    s3.create_bucket(Bucket=name)
    try:
        assert error_of(s3.get_object_lock_configuration, Bucket=name) == (
            "ObjectLockConfigurationNotFoundError",
            404,
        )
        s3.put_object(Bucket=name, Key="k", Body=b"x")
        assert error_of(s3.get_object_retention, Bucket=name, Key="k") == ("InvalidRequest", 400)
        assert error_of(s3.put_object_legal_hold, Bucket=name, Key="k", LegalHold={"Status": "ON"}) == (
            "InvalidRequest",
            400,
        )
        assert error_of(
            s3.put_object,
            Bucket=name,
            Key="k2",
            Body=b"x",
            ObjectLockMode="GOVERNANCE",
            ObjectLockRetainUntilDate=future(),
        ) == ("InvalidRequest", 400)
        conf = {"ObjectLockEnabled": "Enabled"}
        assert error_of(s3.put_object_lock_configuration, Bucket=name, ObjectLockConfiguration=conf) == (
            "InvalidBucketState",
            409,
        )
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration=conf)
        assert s3.get_object_lock_configuration(Bucket=name)["ObjectLockConfiguration"] == conf
    finally:
        for v in s3.list_object_versions(Bucket=name).get("Versions", []):
            s3.delete_object(Bucket=name, Key=v["Key"], VersionId=v["VersionId"])
        s3.delete_bucket(Bucket=name)


def test_governance_retention_and_bypass(s3, locked):
    version = s3.put_object(
        Bucket=locked, Key="g", Body=b"x", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=future(2)
    )["VersionId"]
    assert error_of(s3.delete_object, Bucket=locked, Key="g", VersionId=version) == ("AccessDenied", 403)
    # a delete without a version id only adds a marker: allowed
    assert s3.delete_object(Bucket=locked, Key="g")["DeleteMarker"] is True
    # shortening needs the bypass; extending does not
    shorter = {"Mode": "GOVERNANCE", "RetainUntilDate": future(1)}
    assert error_of(
        s3.put_object_retention, Bucket=locked, Key="g", VersionId=version, Retention=shorter
    ) == (
        "AccessDenied",
        403,
    )
    s3.put_object_retention(
        Bucket=locked,
        Key="g",
        VersionId=version,
        Retention={"Mode": "GOVERNANCE", "RetainUntilDate": future(3)},
    )
    s3.put_object_retention(
        Bucket=locked, Key="g", VersionId=version, Retention=shorter, BypassGovernanceRetention=True
    )
    got = s3.get_object_retention(Bucket=locked, Key="g", VersionId=version)["Retention"]
    assert got == shorter
    out = s3.delete_objects(Bucket=locked, Delete={"Objects": [{"Key": "g", "VersionId": version}]})
    assert out["Errors"][0]["Code"] == "AccessDenied"
    out = s3.delete_objects(
        Bucket=locked,
        Delete={"Objects": [{"Key": "g", "VersionId": version}]},
        BypassGovernanceRetention=True,
    )
    assert out["Deleted"] == [{"Key": "g", "VersionId": version}]


def test_compliance_cannot_be_bypassed(s3, locked):
    version = s3.put_object(Bucket=locked, Key="c", Body=b"x")["VersionId"]
    assert error_of(s3.get_object_retention, Bucket=locked, Key="c") == ("NoSuchObjectLockConfiguration", 404)
    until = datetime.now(UTC) + timedelta(seconds=3)
    s3.put_object_retention(
        Bucket=locked, Key="c", Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until}
    )
    assert error_of(
        s3.delete_object, Bucket=locked, Key="c", VersionId=version, BypassGovernanceRetention=True
    ) == ("AccessDenied", 403)
    assert error_of(
        s3.put_object_retention,
        Bucket=locked,
        Key="c",
        Retention={"Mode": "GOVERNANCE", "RetainUntilDate": future()},
        BypassGovernanceRetention=True,
    ) == ("AccessDenied", 403)
    past = {"Mode": "GOVERNANCE", "RetainUntilDate": datetime(2000, 1, 1, tzinfo=UTC)}
    assert error_of(s3.put_object_retention, Bucket=locked, Key="c", Retention=past) == (
        "InvalidArgument",
        400,
    )
    deadline = until + timedelta(seconds=5)
    while datetime.now(UTC) < deadline:  # the retention runs out: the version may go
        try:
            s3.delete_object(Bucket=locked, Key="c", VersionId=version)
            break
        except ClientError as err:
            assert err.response["Error"]["Code"] == "AccessDenied"
    else:
        pytest.fail("the version stayed locked after its retention ended")


def test_legal_hold(s3, locked):
    version = s3.put_object(Bucket=locked, Key="h", Body=b"x", ObjectLockLegalHoldStatus="ON")["VersionId"]
    assert s3.get_object_legal_hold(Bucket=locked, Key="h")["LegalHold"] == {"Status": "ON"}
    assert s3.get_object(Bucket=locked, Key="h")["ObjectLockLegalHoldStatus"] == "ON"
    assert error_of(
        s3.delete_object, Bucket=locked, Key="h", VersionId=version, BypassGovernanceRetention=True
    ) == ("AccessDenied", 403)
    s3.put_object_legal_hold(Bucket=locked, Key="h", VersionId=version, LegalHold={"Status": "OFF"})
    s3.delete_object(Bucket=locked, Key="h", VersionId=version)
    other = s3.put_object(Bucket=locked, Key="h2", Body=b"x")["VersionId"]
    assert error_of(s3.get_object_legal_hold, Bucket=locked, Key="h2", VersionId=other) == (
        "NoSuchObjectLockConfiguration",
        404,
    )
