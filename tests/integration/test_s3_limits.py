"""S3's size limits and the exact errors of malformed requests: metadata over 2 KB, bodies over
5 GiB, unknown location constraints, bad integer and encoding-type query values, bad redirect
locations, DeleteObjects without an integrity header, response-* overrides on anonymous GETs, and
the self-copies S3 allows."""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from .s3_support import unique

GIB = 1024**3


def error_of(call, *args, **kwargs) -> dict[str, Any]:
    with pytest.raises(ClientError) as err:
        call(*args, **kwargs)
    response = err.value.response
    return {**response["Error"], "Status": response["ResponseMetadata"]["HTTPStatusCode"]}


def raw(endpoint: str, method: str, path: str, body: bytes = b"", headers: dict | None = None):
    """An unsigned request as a plain HTTP client sends it: (status, body text)."""
    request = urllib.request.Request(endpoint + path, data=body or None, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


# -- metadata and body sizes -------------------------------------------------------------------


def test_metadata_over_2kb_is_refused(s3, bucket):
    exact = {"a": "x" * 1000, "b": "y" * 1046}  # 2,048 bytes of names and values: allowed
    s3.put_object(Bucket=bucket, Key="ok", Body=b"", Metadata=exact)
    assert s3.head_object(Bucket=bucket, Key="ok")["Metadata"] == exact
    over = {"a": "x" * 1000, "b": "y" * 1047}
    err = error_of(s3.put_object, Bucket=bucket, Key="big", Body=b"", Metadata=over)
    assert (err["Code"], err["Status"]) == ("MetadataTooLarge", 400)
    assert err["Message"] == "Your metadata headers exceed the maximum allowed metadata size."
    assert err["MaxSizeAllowed"] == "2048"
    err = error_of(s3.create_multipart_upload, Bucket=bucket, Key="big", Metadata=over)
    assert err["Code"] == "MetadataTooLarge"
    err = error_of(
        s3.copy_object,
        Bucket=bucket,
        Key="big",
        CopySource=f"{bucket}/ok",
        MetadataDirective="REPLACE",
        Metadata=over,
    )
    assert err["Code"] == "MetadataTooLarge"


def _announce_huge_put(endpoint: str, path: str) -> tuple[int, str]:
    """PUT announcing a 6 GiB body (``Expect: 100-continue``, as the SDKs send for large bodies)
    but sending none: S3 answers before reading it."""
    url = urlsplit(endpoint)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        conn.putrequest("PUT", path)
        conn.putheader("Content-Length", str(6 * GIB))
        conn.putheader("Expect", "100-continue")
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def test_body_over_5gib_is_refused_before_streaming(s3, bucket, endpoint):
    # through the gateway: it passes Expect on and relays S3's early answer instead of the body
    status, body = _announce_huge_put(endpoint, f"/{bucket}/huge")
    assert status == 400
    assert "<Code>EntityTooLarge</Code>" in body
    assert f"<ProposedSize>{6 * GIB}</ProposedSize>" in body
    assert f"<MaxSizeAllowed>{5 * GIB}</MaxSizeAllowed>" in body
    upload = s3.create_multipart_upload(Bucket=bucket, Key="huge")["UploadId"]
    status, body = _announce_huge_put(endpoint, f"/{bucket}/huge?partNumber=1&uploadId={upload}")
    assert status == 400 and "<Code>EntityTooLarge</Code>" in body
    s3.abort_multipart_upload(Bucket=bucket, Key="huge", UploadId=upload)


def test_unknown_location_constraint(s3):
    err = error_of(
        s3.create_bucket, Bucket=unique(), CreateBucketConfiguration={"LocationConstraint": "moon-central-1"}
    )
    assert (err["Code"], err["Status"]) == ("InvalidLocationConstraint", 400)
    assert err["Message"] == "The specified location-constraint is not valid"


# -- query values ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("?max-keys=abc", "max-keys"),
        ("?list-type=2&max-keys=1.5", "max-keys"),
        ("?max-keys=99999999999", "max-keys"),
        ("?uploads&max-uploads=x", "max-uploads"),
        ("?versions&max-keys=-", "max-keys"),
    ],
)
def test_non_integer_query_values_are_invalid_argument(bucket, endpoint, path, name):
    status, body = raw(endpoint, "GET", f"/{bucket}{path}")
    assert status == 400
    assert "<Code>InvalidArgument</Code>" in body
    assert f"<Message>Provided {name} not an integer or within integer range</Message>" in body
    assert f"<ArgumentName>{name}</ArgumentName>" in body


def test_unknown_encoding_type(s3, bucket):
    for call in (s3.list_objects, s3.list_objects_v2, s3.list_object_versions, s3.list_multipart_uploads):
        err = error_of(call, Bucket=bucket, EncodingType="base64")
        assert (err["Code"], err["Status"]) == ("InvalidArgument", 400)
        assert err["Message"] == "Invalid Encoding Method specified in Request"


def test_website_redirect_location_must_be_a_path_or_url(s3, bucket):
    for good in ("/other", "http://example.com/x", "https://example.com/"):
        s3.put_object(Bucket=bucket, Key="k", Body=b"", WebsiteRedirectLocation=good)
    err = error_of(s3.put_object, Bucket=bucket, Key="k", Body=b"", WebsiteRedirectLocation="example.com")
    assert (err["Code"], err["Status"]) == ("InvalidRedirectLocation", 400)


# -- headers ----------------------------------------------------------------------------------

DELETE_BODY = b"<Delete><Object><Key>k</Key></Object></Delete>"


def test_delete_objects_needs_an_integrity_header(s3, bucket, endpoint):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    status, body = raw(endpoint, "POST", f"/{bucket}?delete", DELETE_BODY)
    assert status == 400
    assert "<Code>InvalidRequest</Code>" in body
    assert "<Message>Missing required header for this request: Content-MD5</Message>" in body
    assert s3.head_object(Bucket=bucket, Key="k")["ContentLength"] == 1
    # botocore sends a checksum header: accepted
    assert s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k"}]})["Deleted"][0]["Key"] == "k"


def test_response_overrides_refused_on_anonymous_get(s3, bucket, endpoint):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    anonymous = boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", config=Config(signature_version=UNSIGNED)
    )
    err = error_of(anonymous.get_object, Bucket=bucket, Key="k", ResponseContentType="text/plain")
    assert (err["Code"], err["Status"]) == ("InvalidRequest", 400)
    assert err["Message"] == "Request specific response headers cannot be used for anonymous GET requests."
    got = s3.get_object(Bucket=bucket, Key="k", ResponseContentType="text/plain")  # signed: fine
    assert got["ContentType"] == "text/plain"


# -- self-copy -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"ChecksumAlgorithm": "SHA256"},
        {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "alias/aws/s3"},
        {"ServerSideEncryption": "aws:kms", "BucketKeyEnabled": True},
    ],
)
def test_self_copy_allowed_when_it_changes_checksum_or_kms(s3, bucket, change):
    s3.put_object(Bucket=bucket, Key="k", Body=b"same bytes")
    source = {"Bucket": bucket, "Key": "k"}
    err = error_of(s3.copy_object, Bucket=bucket, Key="k", CopySource=source)
    assert err["Code"] == "InvalidRequest"
    s3.copy_object(Bucket=bucket, Key="k", CopySource=source, **change)
    head = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    if "ChecksumAlgorithm" in change:
        assert "ChecksumSHA256" in head
    else:
        assert head["ServerSideEncryption"] == "aws:kms"
