"""S3 object operations beyond the basics, through boto3: awkward keys, DeleteObjects, CopyObject,
storage classes, tagging, ACLs, GetObjectAttributes, RestoreObject, ListObjects v1, ListObjectVersions."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from .s3_support import unique

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def error_of(call, *args, **kwargs) -> tuple[str, int, dict]:
    with pytest.raises(ClientError) as err:
        call(*args, **kwargs)
    response = err.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]


# -- keys ------------------------------------------------------------------------------------

AWKWARD_KEYS = [
    "../escape",
    "../../../../etc/passwd",
    "a//b",
    "trailing/",
    "/leading",
    "./dot/./x",
    "dir/../up",
    "ünï/日本語/😀",
    "k" * 1024,
    "é" * 512,  # 1,024 bytes of UTF-8
]


def test_awkward_keys_stay_keys(s3, bucket):
    for i, key in enumerate(AWKWARD_KEYS):
        s3.put_object(Bucket=bucket, Key=key, Body=f"body {i}".encode())
    for i, key in enumerate(AWKWARD_KEYS):
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == f"body {i}".encode()
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert listed == sorted(AWKWARD_KEYS, key=lambda k: k.encode())
    code, status, error = error_of(s3.put_object, Bucket=bucket, Key="k" * 1025, Body=b"x")
    assert (code, status, error["Size"], error["MaxSizeAllowed"]) == ("KeyTooLongError", 400, "1025", "1024")
    assert error_of(s3.put_object, Bucket=bucket, Key="é" * 513, Body=b"x")[0] == "KeyTooLongError"


# -- DeleteObjects ---------------------------------------------------------------------------


def test_delete_objects_verbose_quiet_and_errors(s3, bucket):
    for key in ("a", "b", "c", "d"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    out = s3.delete_objects(
        Bucket=bucket,
        Delete={"Objects": [{"Key": "a"}, {"Key": "missing"}, {"Key": "b", "VersionId": "nope"}]},
    )
    assert sorted(d["Key"] for d in out["Deleted"]) == ["a", "missing"]
    assert out["Errors"] == [
        {
            "Key": "b",
            "VersionId": "nope",
            "Code": "NoSuchVersion",
            "Message": "The specified version does not exist.",
        }
    ]
    quiet = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "b"}, {"Key": "c"}], "Quiet": True})
    assert "Deleted" not in quiet and "Errors" not in quiet
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["d"]
    null = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "d", "VersionId": "null"}]})
    assert null["Deleted"] == [{"Key": "d", "VersionId": "null"}]
    assert error_of(s3.delete_objects, Bucket=unique("none"), Delete={"Objects": [{"Key": "a"}]})[:2] == (
        "NoSuchBucket",
        404,
    )
    too_many = {"Objects": [{"Key": f"k{i}"} for i in range(1001)]}
    assert error_of(s3.delete_objects, Bucket=bucket, Delete=too_many)[:2] == ("MalformedXML", 400)


# -- CopyObject ------------------------------------------------------------------------------


def test_copy_object_directives_and_cross_bucket(s3, bucket):
    other = unique()
    s3.create_bucket(Bucket=other)
    try:
        s3.put_object(
            Bucket=bucket,
            Key="src key+ü",
            Body=b"payload",
            ContentType="text/plain",
            Metadata={"a": "1"},
            Tagging="t1=v1&t2=v2",
            CacheControl="no-cache",
        )
        copied = s3.copy_object(Bucket=other, Key="dst", CopySource={"Bucket": bucket, "Key": "src key+ü"})
        assert copied["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(b"payload").hexdigest()}"'
        head = s3.head_object(Bucket=other, Key="dst")
        assert head["ContentType"] == "text/plain" and head["Metadata"] == {"a": "1"}
        assert head["CacheControl"] == "no-cache"
        assert s3.get_object(Bucket=other, Key="dst")["Body"].read() == b"payload"
        assert s3.get_object_tagging(Bucket=other, Key="dst")["TagSet"] == [
            {"Key": "t1", "Value": "v1"},
            {"Key": "t2", "Value": "v2"},
        ]

        s3.copy_object(
            Bucket=other,
            Key="replaced",
            CopySource=f"{bucket}/src key+ü",  # botocore URL-encodes a string source: we decode it
            MetadataDirective="REPLACE",
            ContentType="application/json",
            Metadata={"b": "2"},
            TaggingDirective="REPLACE",
            Tagging="new=tag",
        )
        head = s3.head_object(Bucket=other, Key="replaced")
        assert head["ContentType"] == "application/json" and head["Metadata"] == {"b": "2"}
        assert "CacheControl" not in head
        assert s3.get_object_tagging(Bucket=other, Key="replaced")["TagSet"] == [
            {"Key": "new", "Value": "tag"}
        ]
        versioned = s3.copy_object(Bucket=other, Key="v", CopySource=f"/{bucket}/src key+ü?versionId=null")
        assert versioned["CopyObjectResult"]["ETag"] == copied["CopyObjectResult"]["ETag"]
        s3.delete_objects(Bucket=other, Delete={"Objects": [{"Key": k} for k in ("dst", "replaced", "v")]})
    finally:
        s3.delete_bucket(Bucket=other)


def test_copy_object_self_copy_and_errors(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"data", Metadata={"m": "1"})
    code, status, error = error_of(s3.copy_object, Bucket=bucket, Key="k", CopySource=f"{bucket}/k")
    assert (code, status) == ("InvalidRequest", 400)
    assert "copy an object to itself without changing the object's metadata" in error["Message"]
    s3.copy_object(
        Bucket=bucket, Key="k", CopySource=f"{bucket}/k", MetadataDirective="REPLACE", Metadata={"m": "2"}
    )
    assert s3.head_object(Bucket=bucket, Key="k")["Metadata"] == {"m": "2"}
    s3.copy_object(Bucket=bucket, Key="k", CopySource=f"{bucket}/k", StorageClass="STANDARD_IA")
    assert s3.head_object(Bucket=bucket, Key="k")["StorageClass"] == "STANDARD_IA"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"data"

    assert error_of(s3.copy_object, Bucket=bucket, Key="c", CopySource=f"{bucket}/missing")[:2] == (
        "NoSuchKey",
        404,
    )
    assert error_of(s3.copy_object, Bucket=bucket, Key="c", CopySource=f"{unique('none')}/k")[:2] == (
        "NoSuchBucket",
        404,
    )
    assert error_of(s3.copy_object, Bucket=bucket, Key="c", CopySource="no-key-here")[:2] == (
        "InvalidArgument",
        400,
    )
    assert error_of(
        s3.copy_object, Bucket=bucket, Key="c", CopySource=f"{bucket}/k", MetadataDirective="MOVE"
    )[:2] == ("InvalidArgument", 400)


def test_conditional_copy(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"data")["ETag"]
    modified = s3.head_object(Bucket=bucket, Key="k")["LastModified"]
    source = f"{bucket}/k"
    s3.copy_object(Bucket=bucket, Key="ok1", CopySource=source, CopySourceIfMatch=etag)
    s3.copy_object(Bucket=bucket, Key="ok2", CopySource=source, CopySourceIfNoneMatch='"other"')
    s3.copy_object(
        Bucket=bucket, Key="ok3", CopySource=source, CopySourceIfModifiedSince=modified - timedelta(hours=1)
    )
    s3.copy_object(Bucket=bucket, Key="ok4", CopySource=source, CopySourceIfUnmodifiedSince=modified)
    failing = [
        {"CopySourceIfMatch": '"other"'},
        {"CopySourceIfNoneMatch": etag},
        {"CopySourceIfModifiedSince": modified},
        {"CopySourceIfUnmodifiedSince": modified - timedelta(hours=1)},
    ]
    for condition in failing:
        code, status, _ = error_of(s3.copy_object, Bucket=bucket, Key="no", CopySource=source, **condition)
        assert (code, status) == ("PreconditionFailed", 412), condition
    # a matching If-Match wins over a failing If-Unmodified-Since
    s3.copy_object(
        Bucket=bucket,
        Key="ok5",
        CopySource=source,
        CopySourceIfMatch=etag,
        CopySourceIfUnmodifiedSince=modified - timedelta(hours=1),
    )
    assert error_of(s3.head_object, Bucket=bucket, Key="no")[1] == 404


# -- storage classes, restore, attributes ----------------------------------------------------


def test_storage_classes(s3, bucket):
    s3.put_object(Bucket=bucket, Key="std", Body=b"x")
    s3.put_object(Bucket=bucket, Key="ia", Body=b"x", StorageClass="STANDARD_IA")
    assert "StorageClass" not in s3.head_object(Bucket=bucket, Key="std")
    assert s3.head_object(Bucket=bucket, Key="ia")["StorageClass"] == "STANDARD_IA"
    assert s3.get_object(Bucket=bucket, Key="ia")["StorageClass"] == "STANDARD_IA"
    listed = {o["Key"]: o["StorageClass"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert listed == {"ia": "STANDARD_IA", "std": "STANDARD"}
    code, status, _ = error_of(s3.put_object, Bucket=bucket, Key="bad", Body=b"x", StorageClass="FROZEN")
    assert (code, status) == ("InvalidStorageClass", 400)


def test_restore_archived_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="cold", Body=b"ice", StorageClass="GLACIER")
    s3.put_object(Bucket=bucket, Key="warm", Body=b"sun")
    code, status, error = error_of(s3.get_object, Bucket=bucket, Key="cold")
    assert (code, status, error["StorageClass"]) == ("InvalidObjectState", 403, "GLACIER")
    assert s3.head_object(Bucket=bucket, Key="cold")["StorageClass"] == "GLACIER"
    first = s3.restore_object(Bucket=bucket, Key="cold", RestoreRequest={"Days": 2})
    assert first["ResponseMetadata"]["HTTPStatusCode"] == 202
    again = s3.restore_object(Bucket=bucket, Key="cold", RestoreRequest={"Days": 3})
    assert again["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.head_object(Bucket=bucket, Key="cold")["Restore"].startswith(
        'ongoing-request="false", expiry-date='
    )
    assert s3.get_object(Bucket=bucket, Key="cold")["Body"].read() == b"ice"
    assert error_of(s3.restore_object, Bucket=bucket, Key="warm", RestoreRequest={"Days": 1})[:2] == (
        "InvalidObjectState",
        403,
    )
    assert error_of(s3.restore_object, Bucket=bucket, Key="missing", RestoreRequest={"Days": 1})[:2] == (
        "NoSuchKey",
        404,
    )


def test_get_object_attributes(s3, bucket):
    put = s3.put_object(
        Bucket=bucket, Key="k", Body=b"hello", ChecksumAlgorithm="SHA256", StorageClass="ONEZONE_IA"
    )
    attrs = s3.get_object_attributes(
        Bucket=bucket,
        Key="k",
        ObjectAttributes=["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"],
    )
    assert attrs["ETag"] == put["ETag"].strip('"')
    assert attrs["Checksum"]["ChecksumSHA256"] == put["ChecksumSHA256"]
    assert attrs["Checksum"]["ChecksumType"] == "FULL_OBJECT"
    assert attrs["StorageClass"] == "ONEZONE_IA" and attrs["ObjectSize"] == 5 and "ObjectParts" not in attrs
    assert set(s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["ObjectSize"])) == {
        "ResponseMetadata",
        "LastModified",
        "ObjectSize",
    }
    assert error_of(s3.get_object_attributes, Bucket=bucket, Key="nope", ObjectAttributes=["ETag"])[:2] == (
        "NoSuchKey",
        404,
    )
    assert error_of(s3.get_object_attributes, Bucket=bucket, Key="k", ObjectAttributes=["Colour"])[:2] == (
        "InvalidArgument",
        400,
    )


# -- tagging ---------------------------------------------------------------------------------


def test_object_tagging(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="a=1&b=two%20words")
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == [
        {"Key": "a", "Value": "1"},
        {"Key": "b", "Value": "two words"},
    ]
    assert s3.get_object(Bucket=bucket, Key="k")["TagCount"] == 2
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": [{"Key": "only", "Value": ""}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == [{"Key": "only", "Value": ""}]
    assert s3.delete_object_tagging(Bucket=bucket, Key="k")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []
    assert "TagCount" not in s3.get_object(Bucket=bucket, Key="k")

    eleven = {"TagSet": [{"Key": f"k{i}", "Value": "v"} for i in range(11)]}
    assert error_of(s3.put_object_tagging, Bucket=bucket, Key="k", Tagging=eleven)[:2] == ("BadRequest", 400)
    twice = {"TagSet": [{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}]}
    assert error_of(s3.put_object_tagging, Bucket=bucket, Key="k", Tagging=twice)[:2] == ("InvalidTag", 400)
    long_key = {"TagSet": [{"Key": "x" * 129, "Value": "1"}]}
    assert error_of(s3.put_object_tagging, Bucket=bucket, Key="k", Tagging=long_key)[:2] == (
        "InvalidTag",
        400,
    )
    header = "&".join(f"k{i}=v" for i in range(11))
    assert error_of(s3.put_object, Bucket=bucket, Key="k2", Body=b"x", Tagging=header)[:2] == (
        "BadRequest",
        400,
    )
    assert error_of(s3.get_object_tagging, Bucket=bucket, Key="missing")[:2] == ("NoSuchKey", 404)


# -- ACLs ------------------------------------------------------------------------------------


def _grants(acl: dict) -> list[tuple[str, str]]:
    return sorted(
        (g["Grantee"]["Type"], g["Grantee"].get("URI", "owner"), g["Permission"]) for g in acl["Grants"]
    )


def test_object_acls(s3, bucket):
    # new buckets have ACLs disabled (BucketOwnerEnforced), as on AWS since 2023
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
    )
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    acl = s3.get_object_acl(Bucket=bucket, Key="k")
    assert _grants(acl) == [("CanonicalUser", "owner", "FULL_CONTROL")]
    owner_id = acl["Owner"]["ID"]
    assert acl["Grants"][0]["Grantee"]["ID"] == owner_id

    s3.put_object(Bucket=bucket, Key="pub", Body=b"x", ACL="public-read")
    assert _grants(s3.get_object_acl(Bucket=bucket, Key="pub")) == [
        ("CanonicalUser", "owner", "FULL_CONTROL"),
        ("Group", ALL_USERS, "READ"),
    ]
    s3.put_object_acl(Bucket=bucket, Key="k", ACL="public-read-write")
    assert len(s3.get_object_acl(Bucket=bucket, Key="k")["Grants"]) == 3
    s3.put_object_acl(
        Bucket=bucket, Key="k", GrantRead=f'uri="{ALL_USERS}"', GrantFullControl=f'id="{owner_id}"'
    )
    assert _grants(s3.get_object_acl(Bucket=bucket, Key="k")) == [
        ("CanonicalUser", "owner", "FULL_CONTROL"),
        ("Group", ALL_USERS, "READ"),
    ]
    policy = {
        "Owner": acl["Owner"],
        "Grants": [
            {"Grantee": {"Type": "CanonicalUser", "ID": owner_id}, "Permission": "FULL_CONTROL"},
            {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ_ACP"},
        ],
    }
    s3.put_object_acl(Bucket=bucket, Key="k", AccessControlPolicy=policy)
    assert _grants(s3.get_object_acl(Bucket=bucket, Key="k"))[1] == ("Group", ALL_USERS, "READ_ACP")

    assert error_of(s3.put_object_acl, Bucket=bucket, Key="k", ACL="nonsense")[:2] == ("InvalidArgument", 400)
    assert error_of(s3.put_object_acl, Bucket=bucket, Key="k", ACL="private", GrantRead=f'uri="{ALL_USERS}"')[
        :2
    ] == ("InvalidRequest", 400)
    assert error_of(s3.put_object_acl, Bucket=bucket, Key="missing", ACL="private")[:2] == ("NoSuchKey", 404)


def test_bucket_acls(s3):
    name = unique()
    s3.create_bucket(Bucket=name, ACL="public-read", ObjectOwnership="ObjectWriter")
    try:
        assert _grants(s3.get_bucket_acl(Bucket=name)) == [
            ("CanonicalUser", "owner", "FULL_CONTROL"),
            ("Group", ALL_USERS, "READ"),
        ]
        s3.put_bucket_acl(Bucket=name, ACL="private")
        assert _grants(s3.get_bucket_acl(Bucket=name)) == [("CanonicalUser", "owner", "FULL_CONTROL")]
        s3.put_bucket_acl(Bucket=name, ACL="log-delivery-write")
        assert len(s3.get_bucket_acl(Bucket=name)["Grants"]) == 3
        assert error_of(s3.put_bucket_acl, Bucket=name, ACL="bucket-owner-read")[:2] == (
            "InvalidArgument",
            400,
        )
    finally:
        s3.delete_bucket(Bucket=name)
    assert error_of(s3.get_bucket_acl, Bucket=name)[:2] == ("NoSuchBucket", 404)


# -- listings --------------------------------------------------------------------------------


def test_list_objects_v1(s3, bucket):
    keys = ["a", "b/1", "b/2", "c", "d/1"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    everything = s3.list_objects(Bucket=bucket)
    assert [o["Key"] for o in everything["Contents"]] == keys and not everything["IsTruncated"]
    assert everything["Contents"][0]["Owner"]["ID"] and everything["Marker"] == ""
    page = s3.list_objects(Bucket=bucket, MaxKeys=2)
    assert [o["Key"] for o in page["Contents"]] == ["a", "b/1"] and page["IsTruncated"]
    assert "NextMarker" not in page  # without a delimiter the client continues after the last key
    rest = s3.list_objects(Bucket=bucket, Marker="b/1")
    assert [o["Key"] for o in rest["Contents"]] == ["b/2", "c", "d/1"] and rest["Marker"] == "b/1"

    seen, marker = [], ""
    while True:
        page = s3.list_objects(Bucket=bucket, Delimiter="/", MaxKeys=1, Marker=marker)
        seen += [o["Key"] for o in page.get("Contents", [])] + [
            p["Prefix"] for p in page.get("CommonPrefixes", [])
        ]
        if not page["IsTruncated"]:
            break
        marker = page["NextMarker"]
    assert seen == ["a", "b/", "c", "d/"]
    paginated = s3.get_paginator("list_objects").paginate(Bucket=bucket, PaginationConfig={"PageSize": 2})
    assert [o["Key"] for p in paginated for o in p["Contents"]] == keys
    assert error_of(s3.list_objects, Bucket=unique("none"))[:2] == ("NoSuchBucket", 404)


def test_list_object_versions_and_fetch_owner(s3, bucket):
    for key in ("a", "b", "c/d"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"xy")
    versions = s3.list_object_versions(Bucket=bucket)
    assert [(v["Key"], v["VersionId"], v["IsLatest"], v["Size"]) for v in versions["Versions"]] == [
        ("a", "null", True, 2),
        ("b", "null", True, 2),
        ("c/d", "null", True, 2),
    ]
    page = s3.list_object_versions(Bucket=bucket, MaxKeys=1)
    assert page["IsTruncated"] and page["NextKeyMarker"] == "a" and page["NextVersionIdMarker"] == "null"
    rest = s3.list_object_versions(Bucket=bucket, KeyMarker="a", Delimiter="/")
    assert [v["Key"] for v in rest["Versions"]] == ["b"] and rest["CommonPrefixes"] == [{"Prefix": "c/"}]

    assert "Owner" not in s3.list_objects_v2(Bucket=bucket)["Contents"][0]
    owned = s3.list_objects_v2(Bucket=bucket, FetchOwner=True)["Contents"][0]
    assert owned["Owner"] == s3.get_bucket_acl(Bucket=bucket)["Owner"]
