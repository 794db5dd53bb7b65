"""S3 CORS enforcement through the gateway: preflight OPTIONS answered from the bucket's CORS rules
(wildcard origins, methods, requested headers, exposed headers, max age) or refused with S3's 403,
and the CORS headers S3 adds to actual requests carrying an Origin."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET

import httpx
import pytest

from .s3_support import remove_bucket

VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
RULES = [
    {
        "AllowedOrigins": ["http://*.example.com"],
        "AllowedMethods": ["GET", "PUT"],
        "AllowedHeaders": ["content-type", "x-amz-*"],
        "ExposeHeaders": ["ETag", "x-amz-request-id"],
        "MaxAgeSeconds": 600,
    },
    {"AllowedOrigins": ["start*end"], "AllowedMethods": ["GET"]},
    {"AllowedOrigins": ["*"], "AllowedMethods": ["HEAD"]},
]


@pytest.fixture
def http(endpoint):
    with httpx.Client(base_url=endpoint, timeout=10) as client:
        yield client


@pytest.fixture
def bucket(s3):
    name = f"cors-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="obj", Body=b"hello")
    yield name
    remove_bucket(s3, name)


@pytest.fixture
def cors_bucket(s3, bucket):
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    return bucket


def preflight(
    http: httpx.Client, path: str, origin: str | None, method: str | None, headers: str | None = None
):
    sent = {}
    if origin is not None:
        sent["Origin"] = origin
    if method is not None:
        sent["Access-Control-Request-Method"] = method
    if headers is not None:
        sent["Access-Control-Request-Headers"] = headers
    return http.options(path, headers=sent)


def error(response: httpx.Response) -> dict[str, str]:
    return {child.tag: child.text or "" for child in ET.fromstring(response.content)}


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k.lower(): v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


def test_preflight_answers_the_matching_rule(http, cors_bucket):
    r = preflight(http, f"/{cors_bucket}/obj", "http://app.example.com", "PUT", "Content-Type, X-Amz-Date")
    assert r.status_code == 200, r.text
    assert cors_headers(r) == {
        "access-control-allow-origin": "http://app.example.com",
        "access-control-allow-credentials": "true",
        "access-control-allow-methods": "GET, PUT",
        "access-control-allow-headers": "content-type, x-amz-date",
        "access-control-expose-headers": "ETag, x-amz-request-id",
        "access-control-max-age": "600",
    }
    assert r.headers["vary"] == VARY
    assert r.headers["x-amz-request-id"] and r.content == b""


def test_preflight_for_a_key_that_does_not_exist_and_the_bucket(http, cors_bucket):
    assert preflight(http, f"/{cors_bucket}/no/such/key", "http://a.example.com", "GET").status_code == 200
    assert preflight(http, f"/{cors_bucket}", "http://a.example.com", "GET").status_code == 200


def test_wildcard_origins_match_any_run_of_characters(http, cors_bucket):
    for origin, allowed in [
        ("startend", True),
        ("start12end", True),
        ("0start12end", False),
        ("startend0", False),
        ("http://example.com", False),  # *.example.com needs the dot
    ]:
        r = preflight(http, f"/{cors_bucket}/obj", origin, "GET")
        assert (r.status_code == 200) is allowed, origin
        if allowed:
            assert r.headers["access-control-allow-origin"] == origin
            assert "access-control-max-age" not in r.headers


def test_an_all_origins_rule_answers_a_star_without_credentials(http, cors_bucket):
    r = preflight(http, f"/{cors_bucket}/obj", "http://anything.test", "HEAD")
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in r.headers
    assert r.headers["access-control-allow-methods"] == "HEAD"


def test_a_preflight_no_rule_allows_is_forbidden(http, cors_bucket):
    cases = [
        ("http://app.example.com", "DELETE", None),  # method
        ("http://evil.test", "PUT", None),  # origin
        ("http://app.example.com", "PUT", "x-custom"),  # header
        ("startend", "GET", "content-type"),  # a rule without AllowedHeaders allows none
    ]
    for origin, method, headers in cases:
        r = preflight(http, f"/{cors_bucket}/obj", origin, method, headers)
        assert r.status_code == 403, (origin, method, headers)
        body = error(r)
        assert body["Code"] == "AccessForbidden"
        assert body["Message"].startswith("CORSResponse: This CORS request is not allowed.")
        assert body["Method"] == method and body["ResourceType"] == "OBJECT"
        assert "access-control-allow-origin" not in r.headers


def test_a_preflight_without_cors_configuration(http, bucket):
    r = preflight(http, f"/{bucket}/obj", "http://app.example.com", "GET")
    assert r.status_code == 403
    body = error(r)
    assert body["Code"] == "AccessForbidden"
    assert body["Message"] == "CORSResponse: CORS is not enabled for this bucket."
    assert body["ResourceType"] == "BUCKET"
    missing = preflight(http, f"/no-such-{uuid.uuid4().hex[:8]}/obj", "http://app.example.com", "GET")
    assert missing.status_code == 403 and error(missing)["Code"] == "AccessForbidden"


def test_a_preflight_needs_an_origin_and_a_method(http, cors_bucket):
    r = preflight(http, f"/{cors_bucket}/obj", None, "GET")
    assert r.status_code == 400
    assert error(r)["Message"] == "Insufficient information. Origin request header needed."
    r = preflight(http, f"/{cors_bucket}/obj", "http://app.example.com", None)
    assert r.status_code == 400 and error(r)["Code"] == "BadRequest"
    r = preflight(http, f"/{cors_bucket}/obj", "http://app.example.com", "PATCH")
    assert r.status_code == 400


def test_preflight_on_a_virtual_hosted_bucket(http, cors_bucket):
    r = http.options(
        "/obj",
        headers={
            "Host": f"{cors_bucket}.s3.localhost.localstack.cloud",
            "Origin": "http://app.example.com",
            "Access-Control-Request-Method": "GET",
        },
    )
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "http://app.example.com"


def test_actual_requests_with_an_allowed_origin_get_cors_headers(http, cors_bucket):
    r = http.get(f"/{cors_bucket}/obj", headers={"Origin": "http://app.example.com"})
    assert r.status_code == 200 and r.content == b"hello"
    assert cors_headers(r) == {
        "access-control-allow-origin": "http://app.example.com",
        "access-control-allow-credentials": "true",
        "access-control-allow-methods": "GET, PUT",
        "access-control-expose-headers": "ETag, x-amz-request-id",
        "access-control-max-age": "600",
    }
    assert r.headers["vary"] == VARY
    put = http.put(f"/{cors_bucket}/new", content=b"x", headers={"Origin": "http://a.example.com"})
    assert put.status_code == 200 and put.headers["access-control-allow-origin"] == "http://a.example.com"
    head = http.head(f"/{cors_bucket}/obj", headers={"Origin": "http://elsewhere.test"})
    assert head.status_code == 200 and head.headers["access-control-allow-origin"] == "*"


def test_errors_carry_cors_headers_too(http, cors_bucket):
    r = http.get(f"/{cors_bucket}/missing", headers={"Origin": "http://app.example.com"})
    assert r.status_code == 404
    assert r.headers["access-control-allow-origin"] == "http://app.example.com"


def test_requests_no_rule_allows_get_no_cors_headers(http, cors_bucket, bucket):
    assert cors_headers(http.get(f"/{cors_bucket}/obj", headers={"Origin": "http://evil.test"})) == {}
    assert cors_headers(http.delete(f"/{cors_bucket}/new", headers={"Origin": "http://a.example.com"})) == {}
    assert cors_headers(http.get(f"/{cors_bucket}/obj")) == {}


def test_buckets_without_cors_add_nothing(http, bucket):
    r = http.get(f"/{bucket}/obj", headers={"Origin": "http://app.example.com"})
    assert r.status_code == 200 and cors_headers(r) == {} and "vary" not in r.headers


def test_deleting_the_configuration_stops_cors(s3, http, cors_bucket):
    s3.delete_bucket_cors(Bucket=cors_bucket)
    assert preflight(http, f"/{cors_bucket}/obj", "http://app.example.com", "GET").status_code == 403
    assert cors_headers(http.get(f"/{cors_bucket}/obj", headers={"Origin": "http://app.example.com"})) == {}
