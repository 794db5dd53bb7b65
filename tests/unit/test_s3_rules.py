"""S3's pure rules: bucket names, virtual-host rewrite, ranges, listing pages, checksums."""

from __future__ import annotations

import base64
import zlib

import pytest

from services.s3.addressing import bucket_from_host, rewrite_virtual_host
from services.s3.checksums import Digests
from services.s3.listing import decode_token, encode_token, paginate
from services.s3.names import is_valid_bucket_name
from services.s3.ranges import byte_range
from shared.aws.errors import AwsError
from shared.aws.http import HttpRequest


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
