"""S3's pure rules: bucket names, virtual-host rewrite, ranges, listing pages, checksums."""

from __future__ import annotations

import base64
import zlib
from datetime import UTC, datetime

import pytest

from services.s3.addressing import bucket_from_host, rewrite_virtual_host
from services.s3.app import SPEC
from services.s3.checksums import Digests, composite, crc32c
from services.s3.handlers.common import (
    ALL_USERS,
    BUCKET_ACLS,
    OBJECT_ACLS,
    acl_from_request,
    check_copy_source,
    check_tags,
    copy_source,
    tags_from_header,
)
from services.s3.handlers.multipart import MIN_PART_SIZE, _checksum_type, _chosen_parts, multipart_etag
from services.s3.listing import decode_token, encode_token, paginate
from services.s3.names import is_valid_bucket_name
from services.s3.ranges import byte_range, copy_range
from services.s3.storage import ObjectAttrs, ObjectMeta, Part, Upload
from shared.aws.errors import AwsError
from shared.aws.http import HttpRequest
from shared.aws.models import service_model
from shared.aws.protocol import create_parser


@pytest.mark.parametrize("name", ["abc", "my-bucket", "my.bucket.1", "a" * 63, "0bucket"])
def test_valid_bucket_names(name):
    assert is_valid_bucket_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "ab",
        "a" * 64,
        "My-Bucket",
        "-abc",
        "abc-",
        "a..b",
        "a.-b",
        "192.168.1.1",
        "xn--abc",
        "a_b",
        "abc-s3alias",
        "",
    ],
)
def test_invalid_bucket_names(name):
    assert not is_valid_bucket_name(name)


@pytest.mark.parametrize(
    ("host", "bucket"),
    [
        ("bucket.s3.localhost.localstack.cloud:4566", "bucket"),
        ("bucket.s3.us-west-2.localhost.localstack.cloud", "bucket"),
        ("my.dotted.bucket.s3.amazonaws.com", "my.dotted.bucket"),
        ("bucket.s3.us-east-1.amazonaws.com", "bucket"),
        ("bucket.s3-us-west-2.amazonaws.com", "bucket"),
        ("bucket.s3.dualstack.eu-central-1.amazonaws.com", "bucket"),
        ("bucket.localhost:4566", "bucket"),
        ("s3.localhost.localstack.cloud:4566", None),
        ("s3.us-east-1.localhost.localstack.cloud", None),
        ("s3.amazonaws.com", None),
        ("s3.eu-west-1.amazonaws.com", None),
        ("localhost:4566", None),
        ("s3.localhost", None),
        ("127.0.0.1:4566", None),
        ("", None),
    ],
)
def test_bucket_from_host(host, bucket):
    assert bucket_from_host(host) == bucket


def test_rewrite_moves_bucket_into_path():
    def req(host: str, path: str) -> HttpRequest:
        return HttpRequest.from_url_parts("GET", path, "list-type=2", [("Host", host)])

    assert rewrite_virtual_host(req("b1.s3.localhost.localstack.cloud", "/")).path == "/b1"
    out = rewrite_virtual_host(req("b1.s3.amazonaws.com", "/a%20b/c"))
    assert out.path == "/b1/a%20b/c" and out.query == [("list-type", "2")]
    same = req("localhost:4566", "/b1/k")
    assert rewrite_virtual_host(same) is same


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 10, None),
        ("bytes=0-4", 10, (0, 4)),
        ("bytes=5-", 10, (5, 9)),
        ("bytes=-3", 10, (7, 9)),
        ("bytes=-30", 10, (0, 9)),
        ("bytes=8-100", 10, (8, 9)),
        ("bytes=5-2", 10, None),
        ("bytes=0-1,4-5", 10, None),
        ("items=0-1", 10, None),
    ],
)
def test_byte_range(header, size, expected):
    assert byte_range(header, size) == expected


@pytest.mark.parametrize(("header", "size"), [("bytes=10-", 10), ("bytes=0-", 0), ("bytes=-0", 10)])
def test_unsatisfiable_range(header, size):
    with pytest.raises(AwsError) as err:
        byte_range(header, size)
    assert err.value.code == "InvalidRange" and err.value.status == 416


KEYS = ["a.txt", "dir/a", "dir/b", "dir/sub/c", "other/x", "z"]


def page(prefix="", delimiter="", after="", max_keys=1000):
    items = [k for k in KEYS if k.startswith(prefix) and k > after]
    return paginate(items, lambda k: k, prefix, delimiter, after, max_keys)


def test_delimiter_rolls_up_common_prefixes():
    p = page(delimiter="/")
    assert p.contents == ["a.txt", "z"] and p.prefixes == ["dir/", "other/"] and not p.truncated
    p = page(prefix="dir/", delimiter="/")
    assert p.contents == ["dir/a", "dir/b"] and p.prefixes == ["dir/sub/"]


def test_pages_continue_after_a_common_prefix():
    seen: list[str] = []
    after = ""
    while True:
        p = page(delimiter="/", after=after, max_keys=1)
        seen += p.contents + p.prefixes
        if not p.truncated:
            break
        after = decode_token(encode_token(p.last))
    assert seen == ["a.txt", "dir/", "other/", "z"]
    assert page(max_keys=0).count == 0


def test_bad_token():
    with pytest.raises(AwsError) as err:
        decode_token("!!not base64")
    assert err.value.code == "InvalidArgument"


def test_digests():
    d = Digests(("SHA1",))
    d.update(b"hello ")
    d.update(b"world")
    assert d.size == 11 and d.etag == "5eb63bbbe01eeed093cb22bb8f5acdc3"
    assert d.checksum("CRC32") == base64.b64encode(zlib.crc32(b"hello world").to_bytes(4, "big")).decode()
    assert d.checksum("SHA1") == "Kq5sNclPz7QV2+lfQIuc6R7oRu0="
    assert d.checksum("CRC32C") is None


def test_read_conditions_follow_rfc7232_precedence():
    from datetime import UTC, datetime, timedelta

    from services.s3.conditions import check_read, check_write

    modified = datetime(2026, 1, 1, 12, 0, 0, 500_000, tzinfo=UTC)
    before, after = modified - timedelta(hours=1), modified + timedelta(hours=1)

    def status(**req) -> int:
        try:
            check_read(req, "abc", modified)
        except AwsError as err:
            return err.status
        return 200

    assert status() == 200
    assert status(IfMatch='"abc"', IfUnmodifiedSince=before) == 200  # If-Match wins
    assert status(IfMatch='"x", "abc"') == 200 and status(IfMatch="*") == 200
    assert status(IfMatch='"x"') == 412 and status(IfUnmodifiedSince=before) == 412
    assert status(IfNoneMatch='"abc"') == 304 and status(IfNoneMatch='W/"abc"') == 304
    assert status(IfNoneMatch='"x"', IfModifiedSince=after) == 200  # If-None-Match wins
    assert status(IfModifiedSince=modified.replace(microsecond=0)) == 304  # second precision
    assert status(IfModifiedSince=before) == 200
    check_write({"IfNoneMatch": "*"}, None)
    with pytest.raises(AwsError) as err:
        check_write({"IfNoneMatch": "*"}, "abc")
    assert err.value.status == 412
    with pytest.raises(AwsError) as err:
        check_write({"IfMatch": '"abc"'}, None)
    assert err.value.code == "NoSuchKey"


# -- copy ranges, composite checksums, tags, ACLs, copy sources, multipart completion ---------


def _code(call, *args) -> str:
    with pytest.raises(AwsError) as err:
        call(*args)
    return err.value.code


def test_copy_range():
    assert copy_range(None, 10) is None
    assert copy_range("bytes=0-9", 10) == (0, 9)
    assert copy_range("bytes=3-3", 10) == (3, 3)
    for bad in ("bytes=0-10", "bytes=5-4", "bytes=-5", "bytes=5-", "0-5"):
        assert _code(copy_range, bad, 10) == "InvalidArgument"


def test_crc32c_and_composite():
    assert crc32c(b"123456789") == 0xE3069283
    parts = [base64.b64encode(zlib.crc32(p).to_bytes(4, "big")).decode() for p in (b"a", b"b")]
    joined = zlib.crc32(zlib.crc32(b"a").to_bytes(4, "big") + zlib.crc32(b"b").to_bytes(4, "big"))
    assert composite("CRC32", parts) == base64.b64encode(joined.to_bytes(4, "big")).decode() + "-2"
    assert composite("CRC64NVME", parts) is None


def test_tags():
    assert tags_from_header("a=1&b=two%20words&c=") == {"a": "1", "b": "two words", "c": ""}
    assert tags_from_header(None) == {}
    assert _code(check_tags, [{"Key": f"k{i}", "Value": ""} for i in range(11)]) == "BadRequest"
    assert _code(check_tags, [{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}]) == "InvalidTag"
    assert _code(check_tags, [{"Key": "k" * 129, "Value": ""}]) == "InvalidTag"
    assert _code(check_tags, [{"Key": "k", "Value": "v" * 257}]) == "InvalidTag"
    assert _code(check_tags, [{"Key": "aws:reserved", "Value": ""}]) == "InvalidTag"


def test_acl_from_request():
    assert acl_from_request({}, "1", OBJECT_ACLS) is None
    assert _code(acl_from_request, {}, "1", OBJECT_ACLS, True) == "MissingSecurityHeader"
    public = acl_from_request({"ACL": "public-read"}, "1", OBJECT_ACLS)
    assert [g["Permission"] for g in public["Grants"]] == ["FULL_CONTROL", "READ"]
    assert public["Grants"][1]["Grantee"] == {"Type": "Group", "URI": ALL_USERS}
    grants = acl_from_request(
        {"GrantRead": f'uri="{ALL_USERS}", emailAddress="a@b.c"', "GrantWriteACP": 'id="abc"'},
        "1",
        OBJECT_ACLS,
    )["Grants"]
    assert [(g["Grantee"]["Type"], g["Permission"]) for g in grants] == [
        ("Group", "READ"),
        ("AmazonCustomerByEmail", "READ"),
        ("CanonicalUser", "WRITE_ACP"),
    ]
    assert _code(acl_from_request, {"ACL": "log-delivery-write"}, "1", OBJECT_ACLS) == "InvalidArgument"
    assert (
        acl_from_request({"ACL": "log-delivery-write"}, "1", BUCKET_ACLS)["Grants"][1]["Permission"]
        == "WRITE"
    )
    assert (
        _code(acl_from_request, {"ACL": "private", "GrantRead": 'id="x"'}, "1", OBJECT_ACLS)
        == "InvalidRequest"
    )
    assert _code(acl_from_request, {"GrantRead": 'colour="red"'}, "1", OBJECT_ACLS) == "InvalidArgument"
    policy = {"Owner": {"ID": "x"}, "Grants": [{"Grantee": {"Type": "Group"}, "Permission": "READ"}]}
    assert _code(acl_from_request, {"AccessControlPolicy": policy}, "1", OBJECT_ACLS) == "MalformedACLError"
    no_owner = {"Grants": [{"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"}]}
    assert _code(acl_from_request, {"AccessControlPolicy": no_owner}, "1", OBJECT_ACLS) == "MalformedACLError"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bucket/key", ("bucket", "key", None)),
        ("/bucket/dir/key%20one%2B%C3%BC", ("bucket", "dir/key one+ü", None)),
        ("bucket/a%3Fb?versionId=v1", ("bucket", "a?b", "v1")),
        ("bucket/..%2F..%2Fx", ("bucket", "../../x", None)),
    ],
)
def test_copy_source(header, expected):
    assert copy_source(header) == expected


@pytest.mark.parametrize("header", ["bucket", "/bucket/", "", "/"])
def test_bad_copy_source(header):
    assert _code(copy_source, header) == "InvalidArgument"


def _meta(modified: datetime) -> ObjectMeta:
    return ObjectMeta("b", "k", 1, "abc", modified, None, {}, {}, {}, "f")


def test_copy_source_conditions():
    meta = _meta(datetime(2024, 1, 1, 12, tzinfo=UTC))
    before, after = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC)
    check_copy_source({"CopySourceIfMatch": '"abc"', "CopySourceIfUnmodifiedSince": before}, meta)
    check_copy_source({"CopySourceIfNoneMatch": '"x"', "CopySourceIfModifiedSince": after}, meta)
    for req in (
        {"CopySourceIfMatch": '"x"'},
        {"CopySourceIfNoneMatch": "*"},
        {"CopySourceIfUnmodifiedSince": before},
        {"CopySourceIfModifiedSince": after},
    ):
        assert _code(check_copy_source, req, meta) == "PreconditionFailed"


def _part(number: int, size: int, etag: str, **checksums: str) -> Part:
    return Part(number, size, etag, datetime.now(UTC), checksums, f"f{number}")


def test_chosen_parts_rules():
    upload = Upload("u", "b", "k", datetime.now(UTC), "a", ObjectAttrs())
    stored = {1: _part(1, MIN_PART_SIZE, "e1"), 2: _part(2, 10, "e2"), 3: _part(3, 1, "e3")}
    listed = [{"PartNumber": 1, "ETag": '"e1"'}, {"PartNumber": 2, "ETag": "e2"}]
    assert [p.number for p in _chosen_parts(upload, listed, stored)] == [1, 2]
    assert _code(_chosen_parts, upload, [], stored) == "MalformedXML"
    assert _code(_chosen_parts, upload, listed[::-1], stored) == "InvalidPartOrder"
    assert _code(_chosen_parts, upload, [listed[0], listed[0]], stored) == "InvalidPartOrder"
    assert _code(_chosen_parts, upload, [{"PartNumber": 4, "ETag": "e1"}], stored) == "InvalidPart"
    assert _code(_chosen_parts, upload, [{"PartNumber": 1, "ETag": "nope"}], stored) == "InvalidPart"
    too_small = [{"PartNumber": 2, "ETag": "e2"}, {"PartNumber": 3, "ETag": "e3"}]
    assert _code(_chosen_parts, upload, too_small, stored) == "EntityTooSmall"

    sha = Upload("u", "b", "k", datetime.now(UTC), "a", ObjectAttrs(), "SHA256", "COMPOSITE")
    stored = {1: _part(1, 5, "e1", ChecksumSHA256="c1")}
    assert _code(_chosen_parts, sha, [{"PartNumber": 1, "ETag": "e1"}], stored) == "InvalidRequest"
    assert (
        _code(_chosen_parts, sha, [{"PartNumber": 1, "ETag": "e1", "ChecksumSHA256": "zz"}], stored)
        == "InvalidPart"
    )
    assert _chosen_parts(sha, [{"PartNumber": 1, "ETag": "e1", "ChecksumSHA256": "c1"}], stored)[
        0
    ].checksums == {"ChecksumSHA256": "c1"}


def test_multipart_etag_and_checksum_types():
    import hashlib

    parts = [_part(1, 1, hashlib.md5(b"a").hexdigest()), _part(2, 1, hashlib.md5(b"b").hexdigest())]
    joined = hashlib.md5(hashlib.md5(b"a").digest() + hashlib.md5(b"b").digest()).hexdigest()
    assert multipart_etag(parts) == f"{joined}-2"
    assert _checksum_type(None, None) is None
    assert _checksum_type("CRC32", None) == "COMPOSITE"
    assert _checksum_type("CRC64NVME", None) == "FULL_OBJECT"
    assert _checksum_type("CRC32C", "FULL_OBJECT") == "FULL_OBJECT"
    assert _code(_checksum_type, "SHA1", "FULL_OBJECT") == "InvalidRequest"
    assert _code(_checksum_type, "CRC64NVME", "COMPOSITE") == "InvalidRequest"
    assert _code(_checksum_type, None, "COMPOSITE") == "InvalidRequest"


@pytest.mark.parametrize(
    ("query", "name", "value"),
    [("max-keys=ten&prefix=x", "max-keys", "ten"), (f"max-keys={2**31}", "max-keys", str(2**31))],
)
def test_bad_integer_query_values_are_invalid_argument_in_s3_words(query: str, name: str, value: str):
    parser = create_parser(service_model("s3"), bad_value=SPEC.bad_value)
    req = HttpRequest.from_url_parts("GET", "/b", query, [("Host", "h")])
    with pytest.raises(AwsError) as err:
        parser.parse(parser.operation_for(req), req)
    assert (err.value.code, err.value.status, err.value.message) == (
        "InvalidArgument",
        400,
        f"Provided {name} not an integer or within integer range",
    )
    assert err.value.fields == {"ArgumentName": name, "ArgumentValue": value}
    good = HttpRequest.from_url_parts("GET", "/b", f"max-keys={2**31 - 1}", [("Host", "h")])
    assert parser.parse(parser.operation_for(good), good)["MaxKeys"] == 2**31 - 1
