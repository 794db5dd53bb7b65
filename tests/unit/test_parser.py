"""The request parser on hand-written requests: what SDKs other than botocore, browsers and
curl send (the generated conformance tests cover what botocore sends)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.aws.errors import AwsError
from shared.aws.http import HttpRequest
from shared.aws.models import service_model
from shared.aws.protocol.parser import BadValue, create_parser, parse_timestamp

FORM = ("content-type", "application/x-www-form-urlencoded; charset=utf-8")


def _req(method: str, url: str, headers=(), body: bytes = b"") -> HttpRequest:
    path, _, query = url.partition("?")
    return HttpRequest.from_url_parts(method, path, query, [("host", "localhost:4566"), *headers], body)


def _parse(service: str, req: HttpRequest, protocol: str | None = None) -> tuple[str, dict]:
    parser = create_parser(service_model(service), protocol)
    op = parser.operation_for(req)
    return op.name, parser.parse(op, req)


@pytest.mark.parametrize(
    ("method", "url", "headers", "expected"),
    [
        ("GET", "/", (), "ListBuckets"),
        ("PUT", "/bucket", (), "CreateBucket"),
        ("PUT", "/bucket/", (), "CreateBucket"),
        ("HEAD", "/bucket", (), "HeadBucket"),
        ("GET", "/bucket", (), "ListObjects"),
        ("GET", "/bucket?list-type=2", (), "ListObjectsV2"),
        ("GET", "/bucket?acl", (), "GetBucketAcl"),
        ("GET", "/bucket/a/b.txt", (), "GetObject"),
        ("HEAD", "/bucket/a/b.txt", (), "HeadObject"),
        ("PUT", "/bucket/key", (), "PutObject"),  # presigned PUT: no x-id
        ("PUT", "/bucket/key", (("x-amz-copy-source", "src/k"),), "CopyObject"),
        ("PUT", "/bucket/key?partNumber=1&uploadId=u", (), "UploadPart"),
        ("PUT", "/bucket/key?partNumber=1&uploadId=u", (("x-amz-copy-source", "s/k"),), "UploadPartCopy"),
        ("POST", "/bucket/key?uploads", (), "CreateMultipartUpload"),
        ("POST", "/bucket?delete", (), "DeleteObjects"),
        ("DELETE", "/bucket/key", (), "DeleteObject"),
        ("DELETE", "/bucket", (), "DeleteBucket"),
    ],
)
def test_s3_routes(method: str, url: str, headers: tuple, expected: str) -> None:
    parser = create_parser(service_model("s3"))
    assert parser.operation_for(_req(method, url, headers)).name == expected


def test_s3_key_is_percent_decoded_and_keeps_slashes() -> None:
    name, params = _parse("s3", _req("GET", "/bucket/dir/a%20b%2Bc/%C3%A9.txt"))
    assert (name, params) == ("GetObject", {"Bucket": "bucket", "Key": "dir/a b+c/é.txt"})


def test_s3_metadata_headers_and_timestamps() -> None:
    req = _req(
        "PUT",
        "/b/k",
        (
            ("x-amz-meta-Colour", "blue"),
            ("x-amz-meta-name", "=?UTF-8?B?w6l0w6k=?="),
            ("expires", "Thu, 01 Feb 2024 10:00:00 GMT"),
            ("content-length", "3"),
        ),
        b"abc",
    )
    name, params = _parse("s3", req)
    assert name == "PutObject"
    assert params["Metadata"] == {"colour": "blue", "name": "été"}
    assert params["Expires"] == datetime(2024, 2, 1, 10, tzinfo=UTC)
    assert params["ContentLength"] == 3
    assert params["Body"] == b"abc"


def test_s3_malformed_xml_is_an_s3_error() -> None:
    req = _req("POST", "/bucket?delete", (), b"<Delete><Object>")
    with pytest.raises(AwsError) as err:
        _parse("s3", req)
    assert (err.value.code, err.value.status) == ("MalformedXML", 400)


def test_s3_unknown_route() -> None:
    with pytest.raises(AwsError) as err:
        _parse("s3", _req("PATCH", "/bucket/key"))
    assert (err.value.code, err.value.status) == ("MethodNotAllowed", 405)


def test_sqs_query_legacy_form_post() -> None:
    body = (
        b"Action=SendMessageBatch&Version=2012-11-05&QueueUrl=http%3A%2F%2Fq%2F0%2Fq"
        b"&SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.MessageBody=hi+there"
        b"&SendMessageBatchRequestEntry.1.MessageAttribute.1.Name=k"
        b"&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType=String"
        b"&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue=v"
        b"&SendMessageBatchRequestEntry.2.Id=b&SendMessageBatchRequestEntry.2.MessageBody=x"
    )
    name, params = _parse("sqs", _req("POST", "/", (FORM,), body), "query")
    assert name == "SendMessageBatch"
    assert params == {
        "QueueUrl": "http://q/0/q",
        "Entries": [
            {
                "Id": "a",
                "MessageBody": "hi there",
                "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}},
            },
            {"Id": "b", "MessageBody": "x"},
        ],
    }


def test_sqs_query_in_the_query_string() -> None:
    url = "/000000000000/q?Action=CreateQueue&QueueName=q&Attribute.1.Name=DelaySeconds&Attribute.1.Value=5"
    assert _parse("sqs", _req("GET", url), "query") == (
        "CreateQueue",
        {"QueueName": "q", "Attributes": {"DelaySeconds": "5"}},
    )


@pytest.mark.parametrize(
    ("body", "code"),
    [(b"Version=2012-11-05", "MissingAction"), (b"Action=Nope", "InvalidAction")],
)
def test_query_action_errors(body: bytes, code: str) -> None:
    with pytest.raises(AwsError) as err:
        _parse("rds", _req("POST", "/", (FORM,), body))
    assert (err.value.code, err.value.status) == (code, 400)


def test_query_missing_required_parameter() -> None:
    with pytest.raises(AwsError) as err:
        _parse("rds", _req("POST", "/", (FORM,), b"Action=CreateDBParameterGroup&DBParameterGroupName=g"))
    assert err.value.code == "MissingParameter"
    assert "DBParameterGroupFamily" in err.value.message


def test_ec2_lists_and_query_names() -> None:
    body = b"Action=DescribeVpcs&Version=2016-11-15&VpcId.1=vpc-1&VpcId.2=vpc-2&Filter.1.Name=state&Filter.1.Value.1=available"
    assert _parse("ec2", _req("POST", "/", (FORM,), body)) == (
        "DescribeVpcs",
        {"VpcIds": ["vpc-1", "vpc-2"], "Filters": [{"Name": "state", "Values": ["available"]}]},
    )


def test_json_target_and_body() -> None:
    req = _req(
        "POST",
        "/",
        (("x-amz-target", "DynamoDB_20120810.GetItem"),),
        b'{"TableName": "t", "Key": {"id": {"B": "AAE="}}}',
    )
    assert _parse("dynamodb", req) == ("GetItem", {"TableName": "t", "Key": {"id": {"B": b"\x00\x01"}}})


@pytest.mark.parametrize(
    ("target", "body", "code"),
    [
        ("DynamoDB_20120810.Nope", b"{}", "UnknownOperationException"),
        ("Other.GetItem", b"{}", "UnknownOperationException"),
        ("DynamoDB_20120810.GetItem", b"{not json", "SerializationException"),
        ("DynamoDB_20120810.GetItem", b'{"TableName": 5, "Key": {}}', "SerializationException"),
        ("DynamoDB_20120810.GetItem", b'{"Key": {}}', "ValidationException"),
        ("DynamoDB_20120810.GetItem", b'{"TableName": "\\ud800", "Key": {}}', "SerializationException"),
    ],
)
def test_json_errors(target: str, body: bytes, code: str) -> None:
    with pytest.raises(AwsError) as err:
        _parse("dynamodb", _req("POST", "/", (("x-amz-target", target),), body))
    assert (err.value.code, err.value.status) == (code, 400)


def test_json_missing_member_message_names_it_like_aws() -> None:
    with pytest.raises(AwsError) as err:
        _parse(
            "dynamodb", _req("POST", "/", (("x-amz-target", "DynamoDB_20120810.GetItem"),), b'{"Key": {}}')
        )
    assert err.value.message == (
        "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_rest_json_labels_query_and_headers() -> None:
    req = _req(
        "POST",
        "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af/invocations?Qualifier=1",
        (("x-amz-invocation-type", "Event"),),
        b'{"a": 1}',
    )
    assert _parse("lambda", req) == (
        "Invoke",
        {
            "FunctionName": "arn:aws:lambda:us-east-1:000000000000:function:f",
            "Qualifier": "1",
            "InvocationType": "Event",
            "Payload": b'{"a": 1}',
        },
    )


def test_rest_json_unknown_path() -> None:
    with pytest.raises(AwsError) as err:
        _parse("lambda", _req("GET", "/2015-03-31/nothing-here"))
    assert (err.value.code, err.value.status) == ("UnknownOperationException", 404)


@pytest.mark.parametrize(
    "text",
    [
        "1704164645",
        "1704164645.0",
        "2024-01-02T03:04:05Z",
        "2024-01-02T03:04:05.000Z",
        "Tue, 02 Jan 2024 03:04:05 GMT",
    ],
)
def test_timestamps_in_every_format(text: str) -> None:
    assert parse_timestamp(text) == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    "body",
    [b"<Tagging></Tagging>", b"<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>"],
)
def test_s3_xml_payload_missing_required_element_is_malformed_xml(body: bytes) -> None:
    with pytest.raises(AwsError) as err:
        _parse("s3", _req("PUT", "/bucket?tagging", (), body))
    assert (err.value.code, err.value.status) == ("MalformedXML", 400)


def test_json_nested_missing_member_names_its_path() -> None:
    body = b'{"TransactItems": [{"Get": {"Key": {"id": {"S": "a"}}}}]}'
    with pytest.raises(AwsError) as err:
        _parse("dynamodb", _req("POST", "/", (("x-amz-target", "DynamoDB_20120810.TransactGetItems"),), body))
    assert err.value.code == "ValidationException"
    assert "Value null at 'transactItems.1.member.get.tableName'" in err.value.message


@pytest.mark.parametrize(
    "body",
    [b'{"TableName": "t", "Key": ' + b"[" * 5000 + b"]" * 5000 + b"}", b'{"TableName": "t", "Limit": 1e999}'],
    ids=["deep", "infinite"],
)
def test_json_pathological_bodies_are_client_errors(body: bytes) -> None:
    with pytest.raises(AwsError) as err:
        _parse("dynamodb", _req("POST", "/", (("x-amz-target", "DynamoDB_20120810.Query"),), body))
    assert err.value.status == 400


@pytest.mark.parametrize(
    ("url", "headers", "location", "name", "value"),
    [
        ("/bucket?max-keys=abc", (), "querystring", "max-keys", "abc"),
        (f"/bucket?max-keys={2**31}", (), "querystring", "max-keys", str(2**31)),  # not a 32-bit int
        ("/bucket/k", (("If-Modified-Since", "soon"),), "header", "If-Modified-Since", "soon"),
    ],
)
def test_s3_bad_header_and_query_values_are_invalid_argument(
    url: str, headers: tuple, location: str, name: str, value: str
) -> None:
    req = _req("GET", url, headers)
    with pytest.raises(AwsError) as err:
        _parse("s3", req)
    assert (err.value.code, err.value.status) == ("InvalidArgument", 400)
    assert err.value.fields == {"ArgumentName": name, "ArgumentValue": value}
    where = {"header": "header", "querystring": "query parameter"}[location]
    assert err.value.message.startswith(f"Invalid value for {where} {name}: ")


def test_bad_value_hook_sees_where_the_value_was() -> None:
    seen: list[BadValue] = []

    def hook(exc: BadValue) -> AwsError | None:
        seen.append(exc)
        return AwsError("Mine", str(exc), 400) if exc.location == "header" else None

    parser = create_parser(service_model("s3"), bad_value=hook)
    req = _req("PUT", "/bucket/k?partNumber=x&uploadId=u", (("content-length", "3"),), b"abc")
    with pytest.raises(AwsError) as err:
        parser.parse(parser.operation_for(req), req)
    assert err.value.code == "InvalidArgument"  # None from the hook: the protocol's answer
    bad = seen[0]
    assert (bad.location, bad.name, bad.value, bad.type_name) == ("querystring", "partNumber", "x", "integer")
    req = _req("PUT", "/bucket/k", (("content-length", "many"),), b"abc")
    with pytest.raises(AwsError) as err:
        parser.parse(parser.operation_for(req), req)
    assert err.value.code == "Mine"
    assert (seen[1].location, seen[1].name, seen[1].type_name) == ("header", "Content-Length", "long")


def test_rest_json_bad_query_value_keeps_its_bad_input_error() -> None:
    req = _req("GET", "/2015-03-31/functions/?MaxItems=lots")
    with pytest.raises(AwsError) as err:
        _parse("lambda", req)
    assert (err.value.code, err.value.status) == ("SerializationException", 400)


def test_s3_bad_xml_body_value_stays_malformed_xml() -> None:
    req = _req("PUT", "/bucket?versioning", (), b"<VersioningConfiguration><Status>On")
    with pytest.raises(AwsError) as err:
        _parse("s3", req)
    assert err.value.code == "MalformedXML"
