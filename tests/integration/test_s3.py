"""S3 through the gateway with boto3: buckets, streamed objects, ranges, conditions, listings, errors."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from .s3_support import unique


def error_of(call, *args, **kwargs) -> tuple[str, int, dict]:
    with pytest.raises(ClientError) as err:
        call(*args, **kwargs)
    response = err.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]


# -- buckets ---------------------------------------------------------------------------------


def test_create_list_head_delete_bucket(s3):
    name = unique()
    assert s3.create_bucket(Bucket=name)["Location"] == f"/{name}"
    listed = s3.list_buckets()
    entry = next(b for b in listed["Buckets"] if b["Name"] == name)
    assert entry["BucketRegion"] == "us-east-1"
    assert abs(entry["CreationDate"] - datetime.now(UTC)) < timedelta(minutes=5)
    assert len(listed["Owner"]["ID"]) == 64 and listed["Owner"]["DisplayName"]
    assert s3.head_bucket(Bucket=name)["BucketRegion"] == "us-east-1"
    s3.create_bucket(Bucket=name)  # us-east-1: the owner may create it again (200)
    s3.delete_bucket(Bucket=name)
    assert error_of(s3.head_bucket, Bucket=name)[:2] == ("404", 404)
    code, status, error = error_of(s3.delete_bucket, Bucket=name)
    assert (code, status, error["BucketName"]) == ("NoSuchBucket", 404, name)


def test_bucket_names_are_global_and_regions_checked(aws, s3):
    name = unique()
    eu = aws("s3", region="eu-west-1")
    eu.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    try:
        assert eu.head_bucket(Bucket=name)["BucketRegion"] == "eu-west-1"
        assert error_of(
            eu.create_bucket, Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )[:2] == ("BucketAlreadyOwnedByYou", 409)
        other = boto3.client(
            "s3",
            endpoint_url=s3.meta.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="111111111111",
            aws_secret_access_key="x",
        )
        assert error_of(other.create_bucket, Bucket=name)[:2] == ("BucketAlreadyExists", 409)
        assert name not in [b["Name"] for b in other.list_buckets()["Buckets"]]
    finally:
        eu.delete_bucket(Bucket=name)
    assert error_of(eu.create_bucket, Bucket=unique())[:2] == ("IllegalLocationConstraintException", 400)
    assert error_of(
        eu.create_bucket, Bucket=unique(), CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
    )[:2] == ("IllegalLocationConstraintException", 400)


@pytest.mark.parametrize("name", ["ab", "Upper-Case", "a..b", "192.168.0.1", "-dash"])
def test_invalid_bucket_name(s3, name):
    # botocore validates some names itself; those that reach us must be refused by us
    s3_client = s3
    try:
        code, status, _ = error_of(s3_client.create_bucket, Bucket=name)
    except Exception as exc:  # botocore's own ParamValidationError
        assert "Invalid bucket name" in str(exc)
        return
    assert (code, status) == ("InvalidBucketName", 400)


def test_bucket_not_empty(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    code, status, error = error_of(s3.delete_bucket, Bucket=bucket)
    assert (code, status, error["BucketName"]) == ("BucketNotEmpty", 409, bucket)


# -- objects ---------------------------------------------------------------------------------


def test_put_get_large_object_byte_exact(s3, bucket):
    data = os.urandom(20 * 1024 * 1024)
    put = s3.put_object(Bucket=bucket, Key="big.bin", Body=data)
    assert put["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    got = s3.get_object(Bucket=bucket, Key="big.bin")
    assert got["ContentLength"] == len(data) and got["ETag"] == put["ETag"]
    assert hashlib.sha256(got["Body"].read()).digest() == hashlib.sha256(data).digest()


@pytest.mark.parametrize(
    "key", ["with space.txt", "ünïcødé/日本語.txt", "a+b=c&d", "deep/ly/nested/key", "pct%20"]
)
def test_awkward_keys_round_trip(s3, bucket, key):
    s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == [key]
    s3.delete_object(Bucket=bucket, Key=key)
    assert error_of(s3.get_object, Bucket=bucket, Key=key)[:2] == ("NoSuchKey", 404)


def test_metadata_and_headers_round_trip(s3, bucket):
    expires = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    s3.put_object(
        Bucket=bucket,
        Key="doc.html",
        Body=b"<p>hi</p>",
        ContentType="text/html",
        Metadata={"owner": "alice", "Mixed-Case": "Value"},
        CacheControl="max-age=60",
        ContentDisposition='attachment; filename="doc.html"',
        ContentEncoding="identity",
        ContentLanguage="en",
        Expires=expires,
    )
    head = s3.head_object(Bucket=bucket, Key="doc.html")
    assert head["ContentType"] == "text/html" and head["ContentLength"] == 9
    assert head["Metadata"] == {"owner": "alice", "mixed-case": "Value"}
    assert head["CacheControl"] == "max-age=60" and head["ContentLanguage"] == "en"
    assert head["ContentDisposition"] == 'attachment; filename="doc.html"'
    assert head["ContentEncoding"] == "identity"
    assert head["Expires"] == expires
    assert head["AcceptRanges"] == "bytes"
    got = s3.get_object(Bucket=bucket, Key="doc.html", ResponseContentType="text/plain")
    assert got["ContentType"] == "text/plain" and got["Metadata"]["owner"] == "alice"
    plain = s3.put_object(Bucket=bucket, Key="plain", Body=b"")
    assert s3.head_object(Bucket=bucket, Key="plain")["ContentType"] == "binary/octet-stream"
    assert plain["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'


def test_checksums(s3, bucket):
    default = s3.put_object(Bucket=bucket, Key="d", Body=b"hello")  # botocore sends CRC32 by default
    assert default["ChecksumCRC32"] == "NhCmhg=="
    assert s3.head_object(Bucket=bucket, Key="d", ChecksumMode="ENABLED")["ChecksumCRC32"] == "NhCmhg=="
    wrong = error_of(s3.put_object, Bucket=bucket, Key="d", Body=b"hello", ChecksumCRC32="AAAAAA==")
    assert wrong[:2] == ("BadDigest", 400)
    put = s3.put_object(Bucket=bucket, Key="c", Body=b"hello", ChecksumAlgorithm="SHA256")
    assert put["ChecksumSHA256"] == "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="
    got = s3.get_object(Bucket=bucket, Key="c", ChecksumMode="ENABLED")
    assert got["ChecksumSHA256"] == put["ChecksumSHA256"] and got["Body"].read() == b"hello"
    code, status, _ = error_of(
        s3.put_object, Bucket=bucket, Key="c", Body=b"hello", ContentMD5="AAAAAAAAAAAAAAAAAAAAAA=="
    )
    assert (code, status) == ("BadDigest", 400)


def test_ranges(s3, bucket):
    data = bytes(range(256)) * 4
    s3.put_object(Bucket=bucket, Key="r", Body=data)
    cases = {
        "bytes=0-9": (0, 9),
        "bytes=1000-": (1000, 1023),
        "bytes=-5": (1019, 1023),
        "bytes=10-5000": (10, 1023),
    }
    for header, (first, last) in cases.items():
        got = s3.get_object(Bucket=bucket, Key="r", Range=header)
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert got["ContentRange"] == f"bytes {first}-{last}/1024"
        assert got["Body"].read() == data[first : last + 1]
    code, status, error = error_of(s3.get_object, Bucket=bucket, Key="r", Range="bytes=1024-")
    assert (code, status, error["ActualObjectSize"]) == ("InvalidRange", 416, "1024")
    whole = s3.get_object(Bucket=bucket, Key="r")
    assert whole["ResponseMetadata"]["HTTPStatusCode"] == 200 and "ContentRange" not in whole


def test_conditional_reads_and_writes(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"v1")["ETag"]
    modified = s3.head_object(Bucket=bucket, Key="k")["LastModified"]
    assert s3.get_object(Bucket=bucket, Key="k", IfMatch=etag)["Body"].read() == b"v1"
    assert error_of(s3.get_object, Bucket=bucket, Key="k", IfMatch='"nope"')[:2] == (
        "PreconditionFailed",
        412,
    )
    assert error_of(s3.get_object, Bucket=bucket, Key="k", IfNoneMatch=etag)[1] == 304
    assert error_of(s3.get_object, Bucket=bucket, Key="k", IfModifiedSince=modified)[1] == 304
    earlier = modified - timedelta(hours=1)
    assert error_of(s3.get_object, Bucket=bucket, Key="k", IfUnmodifiedSince=earlier)[:2] == (
        "PreconditionFailed",
        412,
    )
    assert s3.get_object(Bucket=bucket, Key="k", IfModifiedSince=earlier)["Body"].read() == b"v1"
    assert error_of(s3.head_object, Bucket=bucket, Key="k", IfMatch='"nope"')[1] == 412
    assert error_of(s3.put_object, Bucket=bucket, Key="k", Body=b"v2", IfNoneMatch="*")[:2] == (
        "PreconditionFailed",
        412,
    )
    s3.put_object(Bucket=bucket, Key="k", Body=b"v2", IfMatch=etag)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v2"


def test_object_errors(s3, bucket):
    code, status, error = error_of(s3.get_object, Bucket=bucket, Key="missing")
    assert (code, status, error["Key"]) == ("NoSuchKey", 404, "missing")
    assert error_of(s3.head_object, Bucket=bucket, Key="missing")[:2] == ("404", 404)
    code, status, error = error_of(s3.get_object, Bucket=unique("none"), Key="k")
    assert (code, status) == ("NoSuchBucket", 404) and error["BucketName"].startswith("none-")
    assert error_of(s3.put_object, Bucket=unique("none"), Key="k", Body=b"x")[:2] == ("NoSuchBucket", 404)
    assert error_of(s3.list_objects_v2, Bucket=unique("none"))[:2] == ("NoSuchBucket", 404)
    # deleting a missing key is fine (204)
    assert s3.delete_object(Bucket=bucket, Key="missing")["ResponseMetadata"]["HTTPStatusCode"] == 204


# -- listing ---------------------------------------------------------------------------------


def test_list_objects_v2_prefix_delimiter_and_paging(s3, bucket):
    keys = ["a.txt", "dir/a", "dir/b", "dir/sub/c", "other/x", "z", "dir/+ plus"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"1")
    listed = s3.list_objects_v2(Bucket=bucket)
    assert [o["Key"] for o in listed["Contents"]] == sorted(keys)
    assert listed["KeyCount"] == len(keys) and not listed["IsTruncated"]
    assert listed["Contents"][0]["Size"] == 1 and listed["Contents"][0]["StorageClass"] == "STANDARD"

    top = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [o["Key"] for o in top["Contents"]] == ["a.txt", "z"]
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["dir/", "other/"]
    sub = s3.list_objects_v2(Bucket=bucket, Prefix="dir/", Delimiter="/")
    assert [o["Key"] for o in sub["Contents"]] == ["dir/+ plus", "dir/a", "dir/b"]
    assert [p["Prefix"] for p in sub["CommonPrefixes"]] == ["dir/sub/"]
    assert sub["Prefix"] == "dir/"

    seen, token, pages = [], None, 0
    while True:
        kwargs = {"ContinuationToken": token} if token else {}
        page = s3.list_objects_v2(Bucket=bucket, Delimiter="/", MaxKeys=1, **kwargs)
        pages += 1
        seen += [o["Key"] for o in page.get("Contents", [])] + [
            p["Prefix"] for p in page.get("CommonPrefixes", [])
        ]
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
    assert seen == ["a.txt", "dir/", "other/", "z"] and pages == 4

    paginator = s3.get_paginator("list_objects_v2")
    assert [
        o["Key"]
        for p in paginator.paginate(Bucket=bucket, PaginationConfig={"PageSize": 2})
        for o in p["Contents"]
    ] == sorted(keys)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, StartAfter="dir/sub/c")["Contents"]] == [
        "other/x",
        "z",
    ]
    assert error_of(s3.list_objects_v2, Bucket=bucket, ContinuationToken="!!")[:2] == ("InvalidArgument", 400)


# -- addressing ------------------------------------------------------------------------------


def test_virtual_host_addressing(s3, bucket, endpoint):
    port = urlsplit(endpoint).port
    vhost = boto3.client(
        "s3",
        endpoint_url=f"http://s3.localhost.localstack.cloud:{port}",
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "virtual"}, retries={"max_attempts": 1}),
    )

    def to_loopback(request, **_):
        """No DNS for *.localhost.localstack.cloud here: connect to 127.0.0.1, keep the Host header."""
        parts = urlsplit(request.url)
        request.headers["Host"] = parts.netloc
        request.url = urlunsplit(parts._replace(netloc=f"127.0.0.1:{parts.port}"))

    vhost.meta.events.register("before-send.s3", to_loopback)
    vhost.put_object(Bucket=bucket, Key="v/key one", Body=b"virtual")
    assert s3.get_object(Bucket=bucket, Key="v/key one")["Body"].read() == b"virtual"
    assert vhost.get_object(Bucket=bucket, Key="v/key one")["Body"].read() == b"virtual"
    assert [o["Key"] for o in vhost.list_objects_v2(Bucket=bucket)["Contents"]] == ["v/key one"]
    assert vhost.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200

    # the rewrite on its own, through plain HTTP with an explicit Host header
    response = httpx.get(
        f"{endpoint}/v/key%20one", headers={"Host": f"{bucket}.s3.localhost.localstack.cloud:{port}"}
    )
    assert response.status_code == 200 and response.content == b"virtual"
