"""The gateway's router, against requests botocore really signs, and hand-made edge cases."""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import urlsplit

import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config

from gateway.routing import NEED_BODY, Route, RoutingError, route

ENDPOINT = "http://localhost:4566"
FORM = b"application/x-www-form-urlencoded; charset=utf-8"


class _Captured(Exception):
    pass


@functools.cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


def botocore_request(
    service: str, operation: str, params: dict[str, Any], endpoint: str = ENDPOINT, **config: Any
) -> dict[str, Any]:
    """Build, sign and capture one request with botocore (no network), as the gateway would see it."""
    client = _session().create_client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, **config),
    )
    seen: dict[str, Any] = {}

    def capture(request: Any, **_: Any) -> AWSResponse:
        seen["request"] = request
        raise _Captured

    client.meta.events.register("before-send", capture)
    with pytest.raises(_Captured):
        getattr(client, operation)(**params)
    return asgi_view(seen["request"])


def asgi_view(request: Any) -> dict[str, Any]:
    """The (method, raw_path, query_string, headers, body) an ASGI server would hand the gateway."""
    url = urlsplit(request.url)
    headers = [
        (k.lower().encode(), (v if isinstance(v, bytes) else v.encode())) for k, v in request.headers.items()
    ]
    if not any(k == b"host" for k, _ in headers):
        headers.append((b"host", url.netloc.encode()))
    body = request.body
    if body is None:
        body = b""
    elif isinstance(body, str):
        body = body.encode()
    elif not isinstance(body, bytes):
        body = body.read()
    return {
        "method": request.method,
        "raw_path": url.path.encode(),
        "query_string": url.query.encode(),
        "headers": headers,
        "body": body,
    }


def place(req: dict[str, Any]) -> Route:
    """Route like the app does: once without the body, again with it if the router asks."""
    args = (req["method"], req["raw_path"], req["query_string"], req["headers"])
    decided = route(*args)
    if decided is NEED_BODY:
        decided = route(*args, body_peek=req["body"])
    return decided


def strip_auth(req: dict[str, Any], *names: bytes) -> dict[str, Any]:
    drop = {b"authorization", b"x-amz-date", b"x-amz-content-sha256", b"x-amz-security-token", *names}
    return {**req, "headers": [(k, v) for k, v in req["headers"] if k not in drop]}


def raw(
    method: str = "GET",
    path: str = "/",
    query: str = "",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
) -> dict[str, Any]:
    return {
        "method": method,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "body": body,
    }


# ---- botocore-signed requests: the SigV4 scope decides ---------------------------------------------

SIGNED = [
    ("s3", "list_buckets", {}, "s3"),
    ("s3", "put_object", {"Bucket": "b", "Key": "2015-03-31/k", "Body": b"x"}, "s3"),
    ("s3", "get_object", {"Bucket": "b", "Key": "a b/ü"}, "s3"),
    ("sqs", "list_queues", {}, "sqs"),
    ("sqs", "send_message", {"QueueUrl": "http://localhost:4566/000000000000/q", "MessageBody": "m"}, "sqs"),
    ("dynamodb", "list_tables", {}, "dynamodb"),
    ("dynamodbstreams", "list_streams", {}, "dynamodb"),
    ("lambda", "list_functions", {}, "lambda"),
    ("lambda", "invoke", {"FunctionName": "f", "Payload": b"{}"}, "lambda"),
    ("lambda", "list_layers", {}, "lambda"),
    ("ec2", "describe_vpcs", {}, "ec2"),
    ("rds", "describe_db_instances", {}, "rds"),
]


@pytest.mark.parametrize(("svc", "op", "params", "expected"), SIGNED)
def test_signed_requests_route_by_credential_scope(svc: str, op: str, params: dict, expected: str) -> None:
    assert place(botocore_request(svc, op, params)) == Route(expected, "sigv4-scope")


@pytest.mark.parametrize("svc", ["sts", "iam", "sns"])
def test_unknown_signing_name_is_an_error_naming_it(svc: str) -> None:
    op = {"sts": "get_caller_identity", "iam": "list_users", "sns": "list_topics"}[svc]
    with pytest.raises(RoutingError) as err:
        place(botocore_request(svc, op, {}))
    assert err.value.status == 400
    assert err.value.code == "UnknownService"
    assert repr(svc) in err.value.message


def test_sigv4_scope_beats_a_misleading_host_and_path() -> None:
    req = botocore_request("s3", "list_objects_v2", {"Bucket": "b"})
    req["headers"] = [(k, b"sqs.us-east-1.amazonaws.com" if k == b"host" else v) for k, v in req["headers"]]
    req["raw_path"] = b"/2015-03-31/functions"
    assert place(req) == Route("s3", "sigv4-scope")


def test_sigv4a_scope_without_region() -> None:
    auth = "AWS4-ECDSA-P256-SHA256 Credential=test/20240101/s3/aws4_request, SignedHeaders=host, Signature=ab"
    assert place(raw(headers={"Authorization": auth})) == Route("s3", "sigv4-scope")


def test_malformed_scope_falls_through_to_weaker_signals() -> None:
    req = raw(
        headers={
            "Authorization": "AWS4-HMAC-SHA256 Credential=garbage",
            "X-Amz-Target": "AmazonSQS.ListQueues",
        }
    )
    assert place(req) == Route("sqs", "target")


# ---- presigned URLs -----------------------------------------------------------------------------


def _presigned(svc: str, op: str, params: dict, **config: Any) -> dict[str, Any]:
    client = _session().create_client(
        svc,
        endpoint_url=ENDPOINT,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(**config),
    )
    url = urlsplit(client.generate_presigned_url(op, Params=params))
    return raw("GET", url.path, url.query, {"Host": url.netloc})


def test_presigned_sigv4_url_routes_by_x_amz_credential() -> None:
    req = _presigned("s3", "get_object", {"Bucket": "b", "Key": "k"}, signature_version="s3v4")
    assert b"X-Amz-Credential=" in req["query_string"]
    assert place(req) == Route("s3", "sigv4-scope")


def test_presigned_sigv4_url_for_another_service() -> None:
    req = _presigned("rds", "describe_db_instances", {})
    assert place(req) == Route("rds", "sigv4-scope")


def test_presigned_sigv2_url_routes_to_s3() -> None:
    req = _presigned("s3", "get_object", {"Bucket": "b", "Key": "k"}, signature_version="s3")
    assert b"AWSAccessKeyId=" in req["query_string"]
    assert place(req) == Route("s3", "sigv2")


def test_presigned_sts_url_is_an_error() -> None:
    req = _presigned("sts", "get_caller_identity", {})
    with pytest.raises(RoutingError, match="'sts'"):
        place(req)


def test_sigv2_authorization_header_is_s3() -> None:
    assert place(raw("PUT", "/b/k", headers={"Authorization": "AWS test:c2lnbmF0dXJl"})) == Route(
        "s3", "sigv2"
    )


# ---- X-Amz-Target ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("svc", "op", "expected"),
    [
        ("dynamodb", "list_tables", "dynamodb"),
        ("dynamodbstreams", "list_streams", "dynamodb"),
        ("sqs", "list_queues", "sqs"),
    ],
)
def test_unsigned_json_requests_route_by_target(svc: str, op: str, expected: str) -> None:
    req = strip_auth(botocore_request(svc, op, {}))
    assert place(req) == Route(expected, "target")


def test_unknown_target_is_an_error() -> None:
    with pytest.raises(RoutingError, match="AWSCognitoIdentityProviderService"):
        place(raw("POST", headers={"X-Amz-Target": "AWSCognitoIdentityProviderService.ListUserPools"}))


# ---- Host --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("sqs.us-east-1.localhost.localstack.cloud:4566", "sqs"),
        ("my-bucket.s3.localhost.localstack.cloud:4566", "s3"),
        ("my.dotted.bucket.s3.localhost.localstack.cloud", "s3"),
        ("sqs.logs.s3.localhost.localstack.cloud", "s3"),
        ("s3.localhost.localstack.cloud:4566", "s3"),
        ("dynamodb.eu-west-1.localhost.localstack.cloud", "dynamodb"),
        ("sqs.us-east-1.amazonaws.com", "sqs"),
        ("us-east-1.queue.amazonaws.com", "sqs"),
        ("queue.amazonaws.com", "sqs"),
        ("bucket.s3.us-west-2.amazonaws.com", "s3"),
        ("bucket.s3.amazonaws.com", "s3"),
        ("s3.amazonaws.com", "s3"),
        ("s3.dualstack.us-east-1.amazonaws.com", "s3"),
        ("bucket.s3-us-west-2.amazonaws.com", "s3"),
        ("bucket.s3-website-us-east-1.amazonaws.com", "s3"),
        ("bucket.s3-accelerate.amazonaws.com", "s3"),
        ("dynamodb.us-east-1.amazonaws.com", "dynamodb"),
        ("streams.dynamodb.us-east-1.amazonaws.com", "dynamodb"),
        ("lambda.us-east-1.amazonaws.com", "lambda"),
        ("ec2.us-east-1.amazonaws.com", "ec2"),
        ("ec2.us-gov-west-1.amazonaws.com", "ec2"),
        ("rds.us-east-1.amazonaws.com", "rds"),
        ("rds.cn-north-1.amazonaws.com.cn", "rds"),
        ("SQS.US-EAST-1.AMAZONAWS.COM", "sqs"),
    ],
)
def test_host_decides(host: str, expected: str) -> None:
    assert place(raw("POST", "/", headers={"Host": host})) == Route(expected, "host")


@pytest.mark.parametrize(
    "host", ["localhost:4566", "localhost", "127.0.0.1:4566", "[::1]:4566", "localhost.localstack.cloud"]
)
def test_neutral_hosts_fall_through_to_default(host: str) -> None:
    assert place(raw("GET", "/bucket/key", headers={"Host": host})) == Route("s3", "default")


def test_unknown_localstack_subdomain_falls_through() -> None:
    req = raw("GET", "/", headers={"Host": "abc123.execute-api.localhost.localstack.cloud"})
    assert place(req) == Route("s3", "default")


@pytest.mark.parametrize("host", ["sts.amazonaws.com", "iam.amazonaws.com", "sns.us-east-1.amazonaws.com"])
def test_unknown_aws_host_is_an_error(host: str) -> None:
    with pytest.raises(RoutingError, match="does not serve"):
        place(raw(headers={"Host": host}))


@pytest.mark.parametrize(
    ("svc", "op", "params", "host", "expected"),
    [
        ("sqs", "list_queues", {}, "http://sqs.us-east-1.localhost.localstack.cloud:4566", "sqs"),
        ("s3", "list_objects_v2", {"Bucket": "bkt"}, "http://s3.localhost.localstack.cloud:4566", "s3"),
        ("ec2", "describe_vpcs", {}, "https://ec2.us-east-1.amazonaws.com", "ec2"),
    ],
)
def test_unsigned_botocore_requests_with_service_hosts(
    svc: str, op: str, params: dict, host: str, expected: str
) -> None:
    req = strip_auth(botocore_request(svc, op, params, endpoint=host), b"x-amz-target")
    assert place(req) == Route(expected, "host")


# ---- query protocol and Lambda paths -------------------------------------------------------------


@pytest.mark.parametrize(
    ("svc", "op", "expected"),
    [("ec2", "describe_vpcs", "ec2"), ("rds", "describe_db_instances", "rds")],
)
def test_unsigned_query_protocol_form_bodies(svc: str, op: str, expected: str) -> None:
    req = strip_auth(botocore_request(svc, op, {}))
    args = (req["method"], req["raw_path"], req["query_string"], req["headers"])
    assert route(*args) is NEED_BODY
    assert route(*args, body_peek=req["body"]) == Route(expected, "action")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Action=ListQueues&Version=2012-11-05", "sqs"),
        ("Action=DescribeDBInstances&Version=2014-10-31", "rds"),
        ("Version=2014-09-01&Action=DescribeDBInstances", "rds"),
        ("Action=DescribeVpcs&Version=2016-11-15", "ec2"),
        ("Action=SendMessage&Version=2012-11-05&AWSAccessKeyId=test&SignatureVersion=2", "sqs"),
    ],
)
def test_action_and_version_in_query_string(query: str, expected: str) -> None:
    assert place(raw("GET", "/", query)) == Route(expected, "action")


def test_sqs_legacy_query_post_to_queue_url() -> None:
    req = raw(
        "POST",
        "/000000000000/q",
        headers={"Content-Type": FORM.decode()},
        body=b"Action=SendMessage&MessageBody=hi&Version=2012-11-05",
    )
    assert place(req) == Route("sqs", "action")


@pytest.mark.parametrize(
    "form",
    [b"Action=AssumeRole&Version=2011-06-15", b"Action=DescribeVpcs", b"Action=&Version=2016-11-15"],
)
def test_unknown_or_missing_version_is_an_error(form: bytes) -> None:
    req = raw("POST", "/", headers={"Content-Type": FORM.decode()}, body=form)
    with pytest.raises(RoutingError):
        place(req)


def test_form_without_action_is_s3_presigned_post_style_default() -> None:
    req = raw("POST", "/bucket", headers={"Content-Type": FORM.decode()}, body=b"key=a&acl=private")
    assert place(req) == Route("s3", "default")


def test_parameters_that_merely_end_in_action_do_not_count() -> None:
    assert place(raw("GET", "/b/k", "ReAction=x&Version=1")) == Route("s3", "default")


def test_get_never_asks_for_the_body() -> None:
    req = raw("GET", "/b/k", headers={"Content-Type": FORM.decode()})
    assert route(req["method"], req["raw_path"], req["query_string"], req["headers"]) == Route(
        "s3", "default"
    )


@pytest.mark.parametrize(
    "version",
    [
        "2015-03-31",
        "2016-08-19",
        "2017-10-31",
        "2018-10-31",
        "2019-09-25",
        "2019-09-30",
        "2020-04-22",
        "2020-06-30",
        "2021-10-31",
    ],
)
def test_lambda_dated_paths(version: str) -> None:
    assert place(raw("GET", f"/{version}/functions/f")) == Route("lambda", "path")


def test_lambda_path_prefix_needs_the_slash() -> None:
    assert place(raw("GET", "/2015-03-31")) == Route("s3", "default")


def test_string_arguments_are_accepted() -> None:
    assert route("GET", "/2015-03-31/functions/", "", []) == Route("lambda", "path")
    assert route("GET", "/", "Action=DescribeVpcs&Version=2016-11-15", []) == Route("ec2", "action")


# ---- the default ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "content_type"),
    [
        ("GET", "/", ""),
        ("PUT", "/bucket/key", "application/octet-stream"),
        ("POST", "/bucket", "multipart/form-data; boundary=xyz"),
        ("HEAD", "/bucket", ""),
    ],
)
def test_unsigned_everything_else_is_s3(method: str, path: str, content_type: str) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    assert place(raw(method, path, headers=headers)) == Route("s3", "default")
