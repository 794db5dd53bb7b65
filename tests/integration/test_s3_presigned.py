"""Presigned S3 access through the gateway, with no Authorization header: presigned GET/PUT URLs
(SigV4 and SigV2 query forms, expiry enforced even though the fleet does not enforce signatures)
and browser POST uploads with policy documents. Signature checks themselves (enforcement on) are
tested in process in tests/unit/test_s3_presign.py."""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
import pytest
from awscrt import checksums as crt
from botocore.config import Config


@contextmanager
def signing_at(when: datetime) -> Iterator[None]:
    """botocore's clock for signing, in both signers: its own and, with awscrt installed, the CRT's."""

    def clock(remove_tzinfo: bool = True) -> datetime:
        return when.replace(tzinfo=None) if remove_tzinfo else when

    with ExitStack() as stack:
        for module in ("botocore.auth", "botocore.crt.auth"):
            stack.enter_context(mock.patch(f"{module}.get_current_datetime", side_effect=clock))
        yield


@pytest.fixture(scope="module")
def clients(endpoint):
    def make(signature_version: str):
        return boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(signature_version=signature_version, retries={"max_attempts": 1}),
        )

    return {"s3v4": make("s3v4"), "s3": make("s3")}


@pytest.fixture(scope="module")
def bucket(clients):
    name = f"presign-{uuid.uuid4().hex[:10]}"
    clients["s3v4"].create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="module")
def http():
    with httpx.Client(timeout=30) as client:
        yield client


def error(response: httpx.Response) -> dict[str, str]:
    """The children of S3's ``<Error>`` document, by tag."""
    root = ET.fromstring(response.content)
    assert root.tag == "Error", response.text
    return {child.tag: child.text or "" for child in root}


# -- presigned URLs ----------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["s3v4", "s3"])
def test_presigned_put_then_get(clients, bucket, http, version):
    s3 = clients[version]
    key = f"dir/{version} ü+k.txt"
    put = s3.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": key, "ContentType": "text/plain"}, ExpiresIn=300
    )
    response = http.put(put, content=b"presigned body", headers={"Content-Type": "text/plain"})
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == f'"{hashlib.md5(b"presigned body").hexdigest()}"'
    get = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key, "ResponseContentDisposition": "attachment"}
    )
    got = http.get(get)
    assert got.status_code == 200 and got.content == b"presigned body"
    assert got.headers["content-type"] == "text/plain"
    assert got.headers["content-disposition"] == "attachment"


def test_presigned_sigv4_expired_answers_like_s3(clients, bucket, http):
    signed_at = datetime.now(UTC) - timedelta(hours=2)
    with signing_at(signed_at):
        url = clients["s3v4"].generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": "any"}, ExpiresIn=60
        )
    response = http.get(url)
    assert response.status_code == 403
    fields = error(response)
    assert (fields["Code"], fields["Message"], fields["X-Amz-Expires"]) == (
        "AccessDenied",
        "Request has expired",
        "60",
    )
    expires = datetime.strptime(fields["Expires"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(expires - (signed_at + timedelta(seconds=60))) < timedelta(seconds=2)
    assert fields["ServerTime"] and fields["RequestId"]


def test_presigned_sigv2_expired(clients, bucket, http):
    url = clients["s3"].generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=-5
    )
    assert "Expires=" in url
    response = http.get(url)
    fields = error(response)
    assert (response.status_code, fields["Code"], fields["Message"]) == (
        403,
        "AccessDenied",
        "Request has expired",
    )
    assert "X-Amz-Expires" not in fields and fields["Expires"] and fields["ServerTime"]


def test_presigned_url_on_a_virtual_host(clients, bucket, http, endpoint):
    clients["s3v4"].put_object(Bucket=bucket, Key="vh", Body=b"virtual")
    url = clients["s3v4"].generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "vh"})
    split = urlsplit(url)
    port = urlsplit(endpoint).port
    response = http.get(
        f"{endpoint}/vh?{split.query}", headers={"Host": f"{bucket}.s3.localhost.localstack.cloud:{port}"}
    )
    assert response.status_code == 200 and response.content == b"virtual"


# -- browser POST uploads ----------------------------------------------------------------------


def post(http, form: dict, data: dict | None = None, content: bytes = b"file body", filename="a.txt", **kw):
    fields = {**form["fields"], **(data or {})}
    return http.post(form["url"], data=fields, files={"file": (filename, content, "image/png")}, **kw)


@pytest.mark.parametrize("version", ["s3v4", "s3"])
def test_post_upload_default_204(clients, bucket, http, version):
    form = clients[version].generate_presigned_post(
        bucket,
        "posted/${filename}",
        Fields={"Content-Type": "text/plain", "x-amz-meta-color": "blue", "Cache-Control": "no-cache"},
        Conditions=[
            {"Content-Type": "text/plain"},
            ["starts-with", "$x-amz-meta-color", ""],
            ["eq", "$Cache-Control", "no-cache"],
        ],
    )
    response = post(http, form, filename=f"{version}.txt")
    assert response.status_code == 204, response.text
    assert response.headers["etag"] == f'"{hashlib.md5(b"file body").hexdigest()}"'
    assert response.headers["location"].endswith(f"/{bucket}/posted/{version}.txt")
    head = clients["s3v4"].head_object(Bucket=bucket, Key=f"posted/{version}.txt")
    assert head["ContentType"] == "text/plain"  # the form field, not the file part's image/png
    assert head["Metadata"] == {"color": "blue"} and head["CacheControl"] == "no-cache"


TAGGING = "<Tagging><TagSet><Tag><Key>team</Key><Value>blue</Value></Tag><Tag><Key>tmp</Key><Value></Value></Tag></TagSet></Tagging>"


def test_post_upload_honours_storage_class_tagging_headers_and_checksums(clients, bucket, http):
    """The form fields S3 reads besides the file: storage class, tagging (an XML document), checksum
    fields, and the headers PutObject would take."""
    s3 = clients["s3v4"]
    crc = base64.b64encode(crt.crc32c(b"file body").to_bytes(4, "big")).decode()
    extra = {
        "x-amz-storage-class": "STANDARD_IA",
        "tagging": TAGGING,
        "Content-Type": "text/csv",
        "Cache-Control": "max-age=60",
        "Content-Disposition": "attachment",
        "Content-Encoding": "identity",
        "x-amz-checksum-algorithm": "CRC32C",
        "x-amz-checksum-crc32c": crc,
    }
    form = s3.generate_presigned_post(
        bucket, "fields", Fields=extra, Conditions=[{name: value} for name, value in extra.items()]
    )
    response = post(http, form)
    assert response.status_code == 204, response.text
    assert response.headers["x-amz-checksum-crc32c"] == crc
    head = s3.head_object(Bucket=bucket, Key="fields", ChecksumMode="ENABLED")
    assert head["StorageClass"] == "STANDARD_IA" and head["ChecksumCRC32C"] == crc
    assert (head["ContentType"], head["CacheControl"]) == ("text/csv", "max-age=60")
    assert (head["ContentDisposition"], head["ContentEncoding"]) == ("attachment", "identity")
    assert s3.get_object_tagging(Bucket=bucket, Key="fields")["TagSet"] == [
        {"Key": "team", "Value": "blue"},
        {"Key": "tmp", "Value": ""},
    ]
    assert s3.get_object(Bucket=bucket, Key="fields")["TagCount"] == 2


@pytest.mark.parametrize(
    ("data", "code", "message"),
    [
        (
            {"x-amz-checksum-crc32c": "AAAAAA=="},
            "BadDigest",
            "The CRC32C you specified did not match the calculated checksum.",
        ),
        (
            {"x-amz-checksum-sha256": "short"},
            "InvalidRequest",
            "Value for x-amz-checksum-sha256 header is invalid.",
        ),
        (
            {"x-amz-storage-class": "COLD"},
            "InvalidStorageClass",
            "The storage class you specified is not valid",
        ),
        ({"tagging": "<Tagging><TagSet>"}, "MalformedXML", None),
        (  # PutObject's 2 KB user-metadata limit (names without x-amz-meta- count, with values)
            {"x-amz-meta-a": "x" * 1024, "x-amz-meta-b": "y" * 1024},
            "MetadataTooLarge",
            "Your metadata headers exceed the maximum allowed metadata size.",
        ),
        (
            {"tagging": "<Tagging><TagSet><Tag><Key>aws:x</Key><Value>v</Value></Tag></TagSet></Tagging>"},
            "InvalidTag",
            None,
        ),
    ],
)
def test_post_upload_field_errors(clients, bucket, http, data, code, message):
    key = f"bad-{uuid.uuid4().hex[:6]}"
    form = clients["s3v4"].generate_presigned_post(
        bucket, key, Fields=data, Conditions=[{name: value} for name, value in data.items()]
    )
    response = post(http, form)
    fields = error(response)
    assert (response.status_code, fields["Code"]) == (400, code)
    assert message is None or fields["Message"] == message
    assert "Contents" not in clients["s3v4"].list_objects_v2(Bucket=bucket, Prefix=key)


def test_post_upload_in_a_versioned_bucket_answers_the_version(clients, http):
    s3 = clients["s3v4"]
    name = f"presign-v-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    response = post(http, s3.generate_presigned_post(name, "v"))
    assert response.status_code == 204
    version = response.headers["x-amz-version-id"]
    assert s3.head_object(Bucket=name, Key="v")["VersionId"] == version
    s3.delete_object(Bucket=name, Key="v", VersionId=version)
    s3.delete_bucket(Bucket=name)


def test_post_upload_201_document_and_200(clients, bucket, http):
    form = clients["s3v4"].generate_presigned_post(
        bucket,
        "doc.txt",
        Fields={"success_action_status": "201"},
        Conditions=[["starts-with", "$success_action_status", ""]],
    )
    response = post(http, form)
    assert response.status_code == 201, response.text
    root = ET.fromstring(response.content)
    assert root.tag == "PostResponse"
    values = {child.tag: child.text for child in root}
    assert (values["Bucket"], values["Key"], values["ETag"]) == (bucket, "doc.txt", response.headers["etag"])
    assert values["Location"].endswith(f"/{bucket}/doc.txt")
    assert post(http, form, {"success_action_status": "200"}).status_code == 200
    assert post(http, form, {"success_action_status": "418"}).status_code == 204


def test_post_upload_redirect(clients, bucket, http):
    form = clients["s3v4"].generate_presigned_post(
        bucket,
        "redirected.txt",
        Fields={"success_action_redirect": "https://example.com/done?x=1"},
        Conditions=[["starts-with", "$success_action_redirect", "https://example.com/"]],
    )
    response = post(http, form, follow_redirects=False)
    assert response.status_code == 303, response.text
    target = urlsplit(response.headers["location"])
    assert (target.netloc, target.path) == ("example.com", "/done")
    query = parse_qs(target.query)
    assert query["x"] == ["1"] and query["key"] == ["redirected.txt"] and query["bucket"] == [bucket]
    assert query["etag"] == [f'"{hashlib.md5(b"file body").hexdigest()}"']


def test_post_upload_streams_a_big_file(clients, bucket, http):
    form = clients["s3v4"].generate_presigned_post(
        bucket, "big.bin", Conditions=[["content-length-range", 1, 64 * 1024 * 1024]]
    )
    content = os.urandom(1024) * (9 * 1024)  # 9 MiB
    assert post(http, form, content=content).status_code == 204
    got = clients["s3v4"].get_object(Bucket=bucket, Key="big.bin")["Body"].read()
    assert hashlib.sha256(got).digest() == hashlib.sha256(content).digest()


@pytest.mark.parametrize(
    ("conditions", "data", "content", "code", "status", "message"),
    [
        ([["content-length-range", 1, 4]], {}, b"too long", "EntityTooLarge", 400, None),
        ([["content-length-range", 10, 20]], {}, b"short", "EntityTooSmall", 400, None),
        (
            [["starts-with", "$x-amz-meta-a", "ok"]],
            {"x-amz-meta-a": "bad"},
            b"x",
            "AccessDenied",
            403,
            'Invalid according to Policy: Policy Condition failed: ["starts-with", "$x-amz-meta-a", "ok"]',
        ),
        (
            [],
            {"acl": "public-read"},
            b"x",
            "AccessDenied",
            403,
            "Invalid according to Policy: Extra input fields: acl",
        ),
        ([], {"x-ignore-me": "fine", "key": "other"}, b"x", "AccessDenied", 403, "Policy Condition failed"),
    ],
    ids=["too-large", "too-small", "condition", "extra-field", "key-mismatch"],
)
def test_post_upload_policy_errors(clients, bucket, http, conditions, data, content, code, status, message):
    key = f"refused-{code}"
    form = clients["s3v4"].generate_presigned_post(bucket, key, Conditions=conditions)
    response = post(http, form, data, content=content)
    fields = error(response)
    assert (response.status_code, fields["Code"]) == (status, code), response.text
    if message:
        assert message in fields["Message"]
    if code == "EntityTooLarge":
        assert (fields["ProposedSize"], fields["MaxSizeAllowed"]) == ("8", "4")
    assert http.head(f"{form['url']}/{key}").status_code == 404  # nothing was committed


def test_post_upload_expired_policy(clients, bucket, http):
    form = clients["s3v4"].generate_presigned_post(bucket, "late", ExpiresIn=-10)
    fields = error(response := post(http, form))
    assert (response.status_code, fields["Code"], fields["Message"]) == (
        403,
        "AccessDenied",
        "Invalid according to Policy: Policy expired.",
    )


def test_post_upload_malformed_forms(clients, bucket, http, endpoint):
    form = clients["s3v4"].generate_presigned_post(bucket, "k")
    without_key = {k: v for k, v in form["fields"].items() if k != "key"}
    response = http.post(form["url"], data=without_key, files={"file": ("a", b"x")})
    assert (response.status_code, error(response)["Code"], error(response)["ArgumentName"]) == (
        400,
        "InvalidArgument",
        "key",
    )
    response = http.post(form["url"], files={k: (None, v) for k, v in form["fields"].items()})
    assert (response.status_code, error(response)["Code"]) == (400, "InvalidArgument")  # no file
    response = http.post(form["url"], content=b"key=k", headers={"Content-Type": "text/plain"})
    assert (response.status_code, error(response)["Code"]) == (412, "PreconditionFailed")
    response = http.post(
        form["url"], content=b"--b\r\nbroken", headers={"Content-Type": "multipart/form-data; boundary=b"}
    )
    assert (response.status_code, error(response)["Code"]) == (400, "MalformedPOSTRequest")
    response = http.post(
        f"{endpoint}/no-such-bucket-{uuid.uuid4().hex[:8]}", data={"key": "k"}, files={"file": b"x"}
    )
    assert (response.status_code, error(response)["Code"]) == (404, "NoSuchBucket")
    bad_policy = {**form["fields"], "policy": "bm90IGpzb24="}
    response = http.post(form["url"], data=bad_policy, files={"file": ("a", b"x")})
    assert (response.status_code, error(response)["Code"]) == (400, "InvalidPolicyDocument")


def test_unsigned_post_upload_without_policy(clients, bucket, http, endpoint):
    """Signatures are not enforced: an anonymous form (no policy) uploads, as to a public-write bucket."""
    response = http.post(
        f"{endpoint}/{bucket}", data={"key": "anon/${filename}"}, files={"file": ("x.bin", b"1")}
    )
    assert response.status_code == 204, response.text
    assert clients["s3v4"].get_object(Bucket=bucket, Key="anon/x.bin")["Body"].read() == b"1"


def test_post_upload_on_a_virtual_host(clients, bucket, http, endpoint):
    form = clients["s3v4"].generate_presigned_post(bucket, "vhost-post")
    port = urlsplit(endpoint).port
    response = http.post(
        f"{endpoint}/",
        data=form["fields"],
        files={"file": ("a", b"vh")},
        headers={"Host": f"{bucket}.s3.localhost.localstack.cloud:{port}"},
    )
    assert response.status_code == 204, response.text
    assert clients["s3v4"].get_object(Bucket=bucket, Key="vhost-post")["Body"].read() == b"vh"
