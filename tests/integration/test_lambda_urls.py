"""Function URLs served over HTTP through the gateway (Host ``<id>.lambda-url.<region>...``).

``*.localhost.localstack.cloud`` may not resolve here, so requests go to the gateway's address with
the URL's Host header, as a resolver pointing that name at 127.0.0.1 would send them.
"""

from __future__ import annotations

import base64
import io
import uuid
import zipfile
from urllib.parse import urlsplit

import httpx
import pytest

ROLE = "arn:aws:iam::000000000000:role/lambda-role"

CODE = """
import base64, json


def handler(event, context):
    path = event["rawPath"]
    if path == "/bare":
        return {"hello": "world"}
    if path == "/binary":
        return {"statusCode": 200, "headers": {"content-type": "application/octet-stream"},
                "body": base64.b64encode(bytes(range(256))).decode(), "isBase64Encoded": True}
    if path == "/fail":
        raise ValueError("no")
    return {"statusCode": 201, "headers": {"x-test": "yes"}, "cookies": ["a=1; Path=/", "b=2"],
            "body": json.dumps(event)}
"""


def make_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("app.py", CODE)
    return buf.getvalue()


@pytest.fixture(scope="module")
def lam(aws):
    return aws("lambda")


class Url:
    """A function URL, reached at the fleet's address with the URL's Host."""

    def __init__(self, function_url: str, endpoint: str) -> None:
        parts = urlsplit(function_url)
        self.host = parts.netloc
        self.id = parts.hostname.split(".")[0]  # type: ignore[union-attr]
        self.endpoint = endpoint

    def request(self, method: str, path: str, host: str | None = None, **kwargs) -> httpx.Response:
        headers = {"Host": host or self.host, **kwargs.pop("headers", {})}
        return httpx.request(method, f"{self.endpoint}{path}", headers=headers, timeout=20, **kwargs)


@pytest.fixture(scope="module")
def url(lam, endpoint) -> Url:
    name = f"url-{uuid.uuid4().hex[:10]}"
    lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip()},
    )
    config = lam.create_function_url_config(
        FunctionName=name,
        AuthType="NONE",
        Cors={
            "AllowOrigins": ["https://example.com"],
            "AllowMethods": ["GET", "POST"],
            "AllowHeaders": ["x-custom"],
            "ExposeHeaders": ["x-test"],
            "MaxAge": 300,
        },
    )
    assert ".lambda-url.us-east-1.localhost.localstack.cloud" in config["FunctionUrl"]
    return Url(config["FunctionUrl"], endpoint)


def test_event_format_and_structured_response(url):
    resp = url.request(
        "POST", "/some/path?b=2&a=1&a=3",
        headers={"Content-Type": "application/json", "X-Custom": "v", "Cookie": "c1=x; c2=y"},
        content=b'{"k": 1}',
    )  # fmt: skip
    assert resp.status_code == 201
    assert resp.headers["x-test"] == "yes"
    assert resp.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2"]
    event = resp.json()
    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default"
    assert event["rawPath"] == "/some/path"
    assert event["rawQueryString"] == "b=2&a=1&a=3"
    assert event["queryStringParameters"] == {"a": "1,3", "b": "2"}
    assert event["cookies"] == ["c1=x", "c2=y"]
    assert event["headers"]["x-custom"] == "v"
    assert "cookie" not in event["headers"]
    assert event["body"] == '{"k": 1}' and event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["http"]["method"] == "POST"
    assert context["http"]["path"] == "/some/path"
    assert context["apiId"] == context["domainPrefix"] == url.id
    assert context["stage"] == "$default" and context["routeKey"] == "$default"
    assert context["accountId"] == "anonymous"
    assert isinstance(context["timeEpoch"], int) and context["requestId"]


def test_binary_request_body_is_base64(url):
    body = bytes(range(200))
    resp = url.request("PUT", "/echo", headers={"Content-Type": "application/octet-stream"}, content=body)
    event = resp.json()
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == body


def test_bare_value_is_json_and_binary_response(url):
    resp = url.request("GET", "/bare")
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/json"
    assert resp.json() == {"hello": "world"}
    binary = url.request("GET", "/binary")
    assert binary.content == bytes(range(256))
    assert binary.headers["content-type"] == "application/octet-stream"


def test_function_error_is_502(url):
    resp = url.request("GET", "/fail")
    assert resp.status_code == 502
    assert resp.json() == {"Message": "Internal Server Error"}


def test_cors_preflight_and_response_headers(url):
    preflight = url.request(
        "OPTIONS", "/x",
        headers={"Origin": "https://example.com", "Access-Control-Request-Method": "POST"},
    )  # fmt: skip
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://example.com"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert preflight.headers["access-control-allow-headers"] == "x-custom"
    assert preflight.headers["access-control-max-age"] == "300"
    assert preflight.content == b""
    refused = url.request(
        "OPTIONS", "/x", headers={"Origin": "https://evil.test", "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in refused.headers
    resp = url.request("GET", "/bare", headers={"Origin": "https://example.com"})
    assert resp.headers["access-control-allow-origin"] == "https://example.com"
    assert resp.headers["access-control-expose-headers"] == "x-test"


def test_aws_domain_and_unknown_url(url):
    resp = url.request("GET", "/bare", host=f"{url.id}.lambda-url.us-east-1.on.aws")
    assert resp.json() == {"hello": "world"}
    missing = url.request("GET", "/", host="0123456789abcdef0123456789abcdef.lambda-url.us-east-1.on.aws")
    assert missing.status_code == 404
