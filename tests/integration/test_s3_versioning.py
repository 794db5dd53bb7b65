"""S3 bucket versioning through boto3: version ids, delete markers, version-specific reads, copies
and deletes, ListObjectVersions paging, DeleteObjects with versions, multipart versions."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from .s3_support import remove_bucket, unique


@pytest.fixture
def bucket(s3):
    name = unique()
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    yield name
    remove_bucket(s3, name)


def error_of(call, *args, **kwargs) -> tuple[str, int, dict]:
    with pytest.raises(ClientError) as err:
        call(*args, **kwargs)
    response = err.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response


def test_every_write_is_a_version(s3, bucket):
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"two")["VersionId"]
    assert len(v1) == 32 and v1 != v2
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b"two" and got["VersionId"] == v2
    old = s3.get_object(Bucket=bucket, Key="k", VersionId=v1)
    assert old["Body"].read() == b"one" and old["VersionId"] == v1
    assert s3.head_object(Bucket=bucket, Key="k", VersionId=v1)["ContentLength"] == 3
    code, status, _ = error_of(s3.get_object, Bucket=bucket, Key="k", VersionId="A" * 32)
    assert (code, status) == ("NoSuchVersion", 404)
    code, status, _ = error_of(s3.get_object, Bucket=bucket, Key="k", VersionId="bad")
    assert (code, status) == ("InvalidArgument", 400)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["k"]


def test_delete_marker_hides_and_restores(s3, bucket):
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    deleted = s3.delete_object(Bucket=bucket, Key="k")
    assert deleted["DeleteMarker"] is True and deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    marker = deleted["VersionId"]
    code, status, response = error_of(s3.get_object, Bucket=bucket, Key="k")
    assert (code, status) == ("NoSuchKey", 404)
    headers = response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amz-delete-marker"] == "true" and headers["x-amz-version-id"] == marker
    code, status, response = error_of(s3.head_object, Bucket=bucket, Key="k")
    assert status == 404 and response["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    code, status, _ = error_of(s3.get_object, Bucket=bucket, Key="k", VersionId=marker)
    assert (code, status) == ("MethodNotAllowed", 405)
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    assert "Contents" not in s3.list_objects(Bucket=bucket)
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=v1)["Body"].read() == b"one"

    removed = s3.delete_object(Bucket=bucket, Key="k", VersionId=marker)
    assert removed["DeleteMarker"] is True and removed["VersionId"] == marker
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"one"


def test_delete_specific_version_promotes_previous(s3, bucket):
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"two")["VersionId"]
    out = s3.delete_object(Bucket=bucket, Key="k", VersionId=v2)
    assert out["VersionId"] == v2 and "DeleteMarker" not in out
    assert s3.get_object(Bucket=bucket, Key="k")["VersionId"] == v1
    code, status, _ = error_of(s3.get_object, Bucket=bucket, Key="k", VersionId=v2)
    assert (code, status) == ("NoSuchVersion", 404)
    # a version that does not exist (any more): 204, as S3 answers
    assert s3.delete_object(Bucket=bucket, Key="k", VersionId=v2)["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_list_object_versions_paging(s3, bucket):
    a1 = s3.put_object(Bucket=bucket, Key="a", Body=b"1")["VersionId"]
    a2 = s3.put_object(Bucket=bucket, Key="a", Body=b"22")["VersionId"]
    b_marker = s3.delete_object(Bucket=bucket, Key="b")["VersionId"]
    c1 = s3.put_object(Bucket=bucket, Key="c", Body=b"3")["VersionId"]
    listing = s3.list_object_versions(Bucket=bucket)
    assert [(v["Key"], v["VersionId"], v["IsLatest"]) for v in listing["Versions"]] == [
        ("a", a2, True),
        ("a", a1, False),
        ("c", c1, True),
    ]
    assert [(m["Key"], m["VersionId"], m["IsLatest"]) for m in listing["DeleteMarkers"]] == [
        ("b", b_marker, True)
    ]
    assert listing["Versions"][0]["Size"] == 2 and "Owner" in listing["DeleteMarkers"][0]

    seen, kwargs = [], {}
    while True:
        page = s3.list_object_versions(Bucket=bucket, MaxKeys=1, **kwargs)
        seen += [(e["Key"], e["VersionId"]) for e in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        if not page["IsTruncated"]:
            break
        kwargs = {"KeyMarker": page["NextKeyMarker"], "VersionIdMarker": page["NextVersionIdMarker"]}
    assert seen == [("a", a2), ("a", a1), ("b", b_marker), ("c", c1)]
    paginator = s3.get_paginator("list_object_versions")
    assert (
        sum(
            len(p.get("Versions", []))
            for p in paginator.paginate(Bucket=bucket, PaginationConfig={"PageSize": 2})
        )
        == 3
    )
    assert [v["Key"] for v in s3.list_object_versions(Bucket=bucket, KeyMarker="a")["Versions"]] == ["c"]
    code, status, _ = error_of(s3.list_object_versions, Bucket=bucket, VersionIdMarker=a1)
    assert (code, status) == ("InvalidArgument", 400)


def test_copy_a_version(s3, bucket):
    v1 = s3.put_object(Bucket=bucket, Key="src", Body=b"first")["VersionId"]
    s3.put_object(Bucket=bucket, Key="src", Body=b"second")
    out = s3.copy_object(
        Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src", "VersionId": v1}
    )
    assert out["CopySourceVersionId"] == v1 and len(out["VersionId"]) == 32
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"first"
    marker = s3.delete_object(Bucket=bucket, Key="src")["VersionId"]
    code, status, _ = error_of(
        s3.copy_object,
        Bucket=bucket,
        Key="x",
        CopySource={"Bucket": bucket, "Key": "src", "VersionId": marker},
    )
    assert (code, status) == ("InvalidRequest", 400)
    code, status, _ = error_of(
        s3.copy_object, Bucket=bucket, Key="x", CopySource={"Bucket": bucket, "Key": "src"}
    )
    assert (code, status) == ("NoSuchKey", 404)
    # copying an older version onto the key restores it as a new version
    restored = s3.copy_object(
        Bucket=bucket, Key="src", CopySource={"Bucket": bucket, "Key": "src", "VersionId": v1}
    )
    assert s3.get_object(Bucket=bucket, Key="src")["VersionId"] == restored["VersionId"]


def test_delete_objects_with_versions(s3, bucket):
    v1 = s3.put_object(Bucket=bucket, Key="a", Body=b"1")["VersionId"]
    s3.put_object(Bucket=bucket, Key="b", Body=b"2")
    out = s3.delete_objects(
        Bucket=bucket,
        Delete={"Objects": [{"Key": "a", "VersionId": v1}, {"Key": "b"}, {"Key": "c", "VersionId": "bad"}]},
    )
    deleted = {d["Key"]: d for d in out["Deleted"]}
    assert deleted["a"] == {"Key": "a", "VersionId": v1}
    assert deleted["b"]["DeleteMarker"] is True and len(deleted["b"]["DeleteMarkerVersionId"]) == 32
    assert [e["Code"] for e in out["Errors"]] == ["NoSuchVersion"]
    marker = deleted["b"]["DeleteMarkerVersionId"]
    again = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "b", "VersionId": marker}]})
    assert again["Deleted"] == [
        {"Key": "b", "VersionId": marker, "DeleteMarker": True, "DeleteMarkerVersionId": marker}
    ]
    assert s3.get_object(Bucket=bucket, Key="b")["Body"].read() == b"2"


def test_suspended_writes_null_versions(s3, bucket):
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"kept")["VersionId"]
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.put_object(Bucket=bucket, Key="k", Body=b"n1")["VersionId"] == "null"
    assert s3.put_object(Bucket=bucket, Key="k", Body=b"n2")["VersionId"] == "null"
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert [(v["VersionId"], v["IsLatest"]) for v in versions] == [("null", True), (v1, False)]
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"n2"
    marker = s3.delete_object(Bucket=bucket, Key="k")
    assert marker["DeleteMarker"] is True and marker["VersionId"] == "null"
    listing = s3.list_object_versions(Bucket=bucket)
    assert [v["VersionId"] for v in listing["Versions"]] == [v1]
    assert [m["VersionId"] for m in listing["DeleteMarkers"]] == ["null"]


def test_unversioned_bucket_has_null_version(s3):
    name = unique()
    s3.create_bucket(Bucket=name)
    try:
        put = s3.put_object(Bucket=name, Key="k", Body=b"x")
        assert "VersionId" not in put
        assert s3.get_object(Bucket=name, Key="k", VersionId="null")["Body"].read() == b"x"
        code, status, _ = error_of(s3.get_object, Bucket=name, Key="k", VersionId="A" * 32)
        assert (code, status) == ("NoSuchVersion", 404)
        deleted = s3.delete_object(Bucket=name, Key="k")
        assert "DeleteMarker" not in deleted and "Versions" not in s3.list_object_versions(Bucket=name)
        # versioning turned on later: the unversioned object stays as version null
        s3.put_object(Bucket=name, Key="k", Body=b"old")
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        new = s3.put_object(Bucket=name, Key="k", Body=b"new")["VersionId"]
        versions = s3.list_object_versions(Bucket=name)["Versions"]
        assert [v["VersionId"] for v in versions] == [new, "null"]
        assert s3.get_object(Bucket=name, Key="k", VersionId="null")["Body"].read() == b"old"
    finally:
        remove_bucket(s3, name)


def test_multipart_complete_creates_a_version(s3, bucket):
    v1 = s3.put_object(Bucket=bucket, Key="mp", Body=b"before")["VersionId"]
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"after")["ETag"]
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]}
    )
    assert len(done["VersionId"]) == 32 and done["VersionId"] != v1
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"after"
    assert s3.get_object(Bucket=bucket, Key="mp", VersionId=v1)["Body"].read() == b"before"


def test_version_tagging_and_bucket_not_empty(s3, bucket):
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"1", Tagging="gen=1")["VersionId"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"2")
    assert s3.get_object_tagging(Bucket=bucket, Key="k", VersionId=v1)["TagSet"] == [
        {"Key": "gen", "Value": "1"}
    ]
    s3.put_object_tagging(
        Bucket=bucket, Key="k", VersionId=v1, Tagging={"TagSet": [{"Key": "x", "Value": "y"}]}
    )
    assert s3.get_object_tagging(Bucket=bucket, Key="k", VersionId=v1)["TagSet"] == [
        {"Key": "x", "Value": "y"}
    ]
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []
    s3.delete_object(Bucket=bucket, Key="k")
    code, status, _ = error_of(s3.delete_bucket, Bucket=bucket)
    assert (code, status) == ("BucketNotEmpty", 409)
