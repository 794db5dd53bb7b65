"""Focused tests of the response/error serializers: exact wire shapes, and what botocore reads back."""

from __future__ import annotations

import asyncio
import json
import zlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from botocore.awsrequest import HeadersDict
from botocore.parsers import create_parser

from shared.aws.errors import AwsError
from shared.aws.models import service_model
from shared.aws.protocol.query_compat import query_compatible_model
from shared.aws.protocol.serializer import create_serializer, format_timestamp, xml_escape

T = datetime(2026, 1, 2, 3, 4, 5, 123000)
RID = "4f0c-req"


def _serialize(service: str, op: str, output: dict, protocol: str | None = None):
    model = service_model(service)
    return create_serializer(model, protocol).serialize(model.operation_model(op), output, RID)


def _error(service: str, error: AwsError, protocol: str | None = None):
    return create_serializer(service_model(service), protocol).serialize_error(error, None, RID)


def _parse(service: str, response, op: str | None = None, protocol: str | None = None, shape=None) -> dict:
    model = service_model(service)
    if protocol == "query" and model.protocol == "json":
        model = query_compatible_model(model)
    if op is not None:
        shape = model.operation_model(op).output_shape
    raw = {"status_code": response.status, "headers": HeadersDict(response.headers), "body": response.body}
    return create_parser(protocol or model.protocol).parse(raw, shape)


# ------------------------------------------------------------------ query


def test_query_wrapper_namespace_and_request_id():
    r = _serialize("rds", "DescribeDBInstances", {"DBInstances": [{"DBInstanceIdentifier": "db1"}]})
    assert r.status == 200
    assert r.header("content-type") == "text/xml"
    assert r.header("x-amzn-RequestId") == RID
    assert (
        r.body
        == (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<DescribeDBInstancesResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">'
            "<DescribeDBInstancesResult><DBInstances><DBInstance><DBInstanceIdentifier>db1</DBInstanceIdentifier>"
            "</DBInstance></DBInstances></DescribeDBInstancesResult>"
            f"<ResponseMetadata><RequestId>{RID}</RequestId></ResponseMetadata></DescribeDBInstancesResponse>"
        ).encode()
    )
    parsed = _parse("rds", r, "DescribeDBInstances")
    assert parsed["DBInstances"] == [{"DBInstanceIdentifier": "db1"}]
    assert parsed["ResponseMetadata"]["RequestId"] == RID


def test_query_operation_without_output_has_only_metadata():
    r = _serialize("rds", "DeleteDBSubnetGroup", {})
    assert b"<DeleteDBSubnetGroupResponse" in r.body
    assert b"Result>" not in r.body
    assert _parse("rds", r, "DeleteDBSubnetGroup")["ResponseMetadata"]["RequestId"] == RID


def test_query_error_type_code_and_model_status():
    r = _error("rds", AwsError("DBInstanceNotFound", "DBInstance db9 not found."))
    assert r.status == 404  # the error shape's httpStatusCode
    assert (
        r.body
        == (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><Error><Type>Sender</Type>'
            "<Code>DBInstanceNotFound</Code><Message>DBInstance db9 not found.</Message></Error>"
            f"<RequestId>{RID}</RequestId></ErrorResponse>"
        ).encode()
    )
    # handlers may also raise by shape name: the wire code is still the modelled one
    assert b"<Code>DBInstanceNotFound</Code>" in _error("rds", AwsError("DBInstanceNotFoundFault", "x")).body


def test_error_status_rules():
    assert _error("rds", AwsError("Whatever", "x")).status == 400
    r = _error("rds", AwsError("InternalFailure", "x", sender_fault=False))
    assert r.status == 500 and b"<Type>Receiver</Type>" in r.body
    assert _error("rds", AwsError("DBInstanceNotFound", "x", 409)).status == 409


# ------------------------------------------------------------------ ec2


def test_ec2_response_shape():
    out = {"Reservations": [{"ReservationId": "r-1", "Instances": [{"InstanceId": "i-1", "LaunchTime": T}]}]}
    r = _serialize("ec2", "DescribeInstances", out)
    assert (
        r.body
        == (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
            f"<requestId>{RID}</requestId><reservationSet><item><reservationId>r-1</reservationId>"
            "<instancesSet><item><instanceId>i-1</instanceId><launchTime>2026-01-02T03:04:05.123Z</launchTime>"
            "</item></instancesSet></item></reservationSet></DescribeInstancesResponse>"
        ).encode()
    )
    parsed = _parse("ec2", r, "DescribeInstances")
    assert parsed["Reservations"][0]["Instances"][0]["LaunchTime"] == T.replace(tzinfo=UTC)
    assert parsed["ResponseMetadata"]["RequestId"] == RID


def test_ec2_operation_without_output_returns_true():
    r = _serialize("ec2", "DeleteVpc", {})
    assert f"<requestId>{RID}</requestId><return>true</return>".encode() in r.body


def test_ec2_error_shape():
    r = _error("ec2", AwsError("InvalidVpcID.NotFound", "The vpc ID 'vpc-1' does not exist"))
    assert r.status == 400
    assert (
        r.body
        == (
            '<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>InvalidVpcID.NotFound</Code>'
            "<Message>The vpc ID &apos;vpc-1&apos; does not exist</Message></Error></Errors>"
            f"<RequestID>{RID}</RequestID></Response>"
        ).encode()
    )
    parsed = _parse("ec2", r)
    assert parsed["Error"]["Code"] == "InvalidVpcID.NotFound"
    assert parsed["ResponseMetadata"]["RequestId"] == RID


# ------------------------------------------------------------------ rest-xml (S3)


def test_s3_error_body_fields_and_ids():
    r = _error(
        "s3", AwsError("NoSuchBucket", "The specified bucket does not exist", fields={"BucketName": "b"})
    )
    assert r.status == 404
    assert r.header("x-amz-request-id") == RID and r.header("x-amz-id-2")
    body = r.body.decode()
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchBucket</Code>')
    assert "<BucketName>b</BucketName>" in body and f"<RequestId>{RID}</RequestId><HostId>" in body
    parsed = _parse("s3", r)
    assert parsed["Error"] == {
        "Code": "NoSuchBucket",
        "Message": "The specified bucket does not exist",
        "BucketName": "b",
    }
    assert parsed["ResponseMetadata"]["RequestId"] == RID


def test_s3_acl_namespace_and_xsi_type_attribute():
    out = {
        "Owner": {"ID": "o"},
        "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": "x"}, "Permission": "READ"}],
    }
    r = _serialize("s3", "GetBucketAcl", out)
    body = r.body.decode()
    assert '<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' in body
    assert '<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">' in body
    parsed = _parse("s3", r, "GetBucketAcl")
    assert parsed["Grants"] == out["Grants"] and parsed["Owner"] == out["Owner"]


def test_s3_flattened_list_and_payload_root():
    r = _serialize(
        "s3", "ListObjectsV2", {"Name": "b", "Contents": [{"Key": "a"}, {"Key": "b"}], "KeyCount": 2}
    )
    assert b"<ListBucketResult xmlns=" in r.body and b"<Contents><Key>a</Key></Contents><Contents>" in r.body
    assert [c["Key"] for c in _parse("s3", r, "ListObjectsV2")["Contents"]] == ["a", "b"]
    r = _serialize(
        "s3", "CopyObject", {"CopyObjectResult": {"ETag": '"e"', "LastModified": T}, "VersionId": "v"}
    )
    assert (
        b'<CopyObjectResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ETag>&quot;e&quot;</ETag>'
        in r.body
    )
    assert r.header("x-amz-version-id") == "v"


def test_s3_get_bucket_location_root_is_the_value():
    r = _serialize("s3", "GetBucketLocation", {"LocationConstraint": "eu-west-1"})
    assert r.body.endswith(
        b'<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">eu-west-1</LocationConstraint>'
    )


def test_s3_get_object_streams_async_iterator_and_headers():
    async def chunks():
        yield b"hello "
        yield b"world"

    body = chunks()
    out = {
        "Body": body,
        "ContentLength": 11,
        "ContentType": "text/plain",
        "LastModified": T,
        "Metadata": {"color": "blue", "Size": "L"},
        "ObjectLockRetainUntilDate": T,
    }
    r = _serialize("s3", "GetObject", out)
    assert r.body is body  # passed through, not buffered
    assert r.header("content-type") == "text/plain"  # the handler's, no second default
    assert [k for k, _ in r.headers].count("Content-Type") == 1
    assert r.header("last-modified") == "Fri, 02 Jan 2026 03:04:05 GMT"
    assert r.header("x-amz-object-lock-retain-until-date") == "2026-01-02T03:04:05.123Z"
    assert r.header("x-amz-meta-color") == "blue" and r.header("x-amz-meta-Size") == "L"

    async def drain():
        return b"".join([c async for c in r.body])

    assert asyncio.run(drain()) == b"hello world"


def test_s3_bytes_payload_and_no_body_outputs():
    r = _serialize("s3", "GetObject", {"Body": b"abc"})
    assert r.body == b"abc" and r.header("content-type") == "binary/octet-stream"
    r = _serialize("s3", "PutObject", {"ETag": '"e"'})
    assert r.body == b"" and r.header("etag") == '"e"' and r.header("content-type") is None


# ------------------------------------------------------------------ json


def test_json_dynamodb_body_type_and_crc():
    r = _serialize("dynamodb", "DescribeTable", {"Table": {"TableName": "t", "CreationDateTime": T}})
    assert r.header("content-type") == "application/x-amz-json-1.0"
    assert json.loads(r.body) == {"Table": {"TableName": "t", "CreationDateTime": 1767323045.123}}
    assert r.header("x-amz-crc32") == str(zlib.crc32(r.body))
    assert r.header("x-amzn-RequestId") == RID


def test_json_dynamodb_error_type_prefix():
    r = _error("dynamodb", AwsError("ResourceNotFoundException", "Requested resource not found"))
    assert r.status == 400
    assert json.loads(r.body) == {
        "__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
        "message": "Requested resource not found",
    }
    assert r.header("x-amzn-ErrorType") == "ResourceNotFoundException"
    assert _parse("dynamodb", r)["Error"]["Code"] == "ResourceNotFoundException"
    assert json.loads(_error("dynamodb", AwsError("ValidationException", "bad")).body)["__type"] == (
        "com.amazon.coral.validate#ValidationException"
    )


def test_json_dynamodb_modelled_error_fields():
    reasons = [{"Code": "ConditionalCheckFailed", "Message": "no"}, {"Code": "None"}]
    r = _error(
        "dynamodb",
        AwsError("TransactionCanceledException", "cancelled", fields={"CancellationReasons": reasons}),
    )
    shape = service_model("dynamodb").shape_for_error_code("TransactionCanceledException")
    assert _parse("dynamodb", r, shape=shape)["CancellationReasons"] == reasons


def test_sqs_json_error_is_query_compatible():
    for code in ("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"):
        r = _error("sqs", AwsError(code, "The specified queue does not exist."))
        assert r.status == 400
        assert json.loads(r.body)["__type"] == "com.amazonaws.sqs#QueueDoesNotExist"
        assert r.header("x-amzn-query-error") == "AWS.SimpleQueueService.NonExistentQueue;Sender"
        err = _parse("sqs", r)["Error"]
        assert err["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
        assert err["QueryErrorCode"] == "QueueDoesNotExist" and err["Type"] == "Sender"
    assert _error("sqs", AwsError("PurgeQueueInProgress", "x")).status == 403
    assert (
        _error("sqs", AwsError("InvalidAttributeName", "x")).header("x-amzn-query-error")
        == "InvalidAttributeName;Sender"
    )


def test_json_version_and_empty_output():
    r = _serialize("sqs", "DeleteQueue", {})
    assert r.body == b"{}" and r.header("content-type") == "application/x-amz-json-1.0"


# ------------------------------------------------------------------ SQS in the query protocol


def _sqs_query(op: str, output: dict) -> str:
    return _serialize("sqs", op, output, "query").body.decode()


def _result(op: str, inner: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<{op}Response xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><{op}Result>{inner}</{op}Result>'
        f"<ResponseMetadata><RequestId>{RID}</RequestId></ResponseMetadata></{op}Response>"
    )


def test_sqs_query_receive_message():
    msg = {
        "MessageId": "m1",
        "ReceiptHandle": "rh",
        "MD5OfBody": "md5",
        "Body": "line1\r\nline2 <&>",
        "Attributes": {"SenderId": "123", "SentTimestamp": "1"},
        "MessageAttributes": {"color": {"StringValue": "blue", "DataType": "String"}},
    }
    assert _sqs_query("ReceiveMessage", {"Messages": [msg]}) == _result(
        "ReceiveMessage",
        "<Message><MessageId>m1</MessageId><ReceiptHandle>rh</ReceiptHandle><MD5OfBody>md5</MD5OfBody>"
        "<Body>line1&#13;\nline2 &lt;&amp;&gt;</Body>"
        "<Attribute><Name>SenderId</Name><Value>123</Value></Attribute>"
        "<Attribute><Name>SentTimestamp</Name><Value>1</Value></Attribute>"
        "<MessageAttribute><Name>color</Name><Value><StringValue>blue</StringValue><DataType>String</DataType>"
        "</Value></MessageAttribute></Message>",
    )
    r = _serialize("sqs", "ReceiveMessage", {"Messages": [msg]}, "query")
    assert _parse("sqs", r, "ReceiveMessage", "query")["Messages"] == [msg]


def test_sqs_query_list_and_attribute_results():
    assert _sqs_query("ListQueues", {"QueueUrls": ["u1", "u2"]}) == _result(
        "ListQueues", "<QueueUrl>u1</QueueUrl><QueueUrl>u2</QueueUrl>"
    )
    assert _sqs_query("GetQueueAttributes", {"Attributes": {"DelaySeconds": "0"}}) == _result(
        "GetQueueAttributes", "<Attribute><Name>DelaySeconds</Name><Value>0</Value></Attribute>"
    )
    assert _sqs_query("ListQueueTags", {"Tags": {"env": "dev"}}) == _result(
        "ListQueueTags", "<Tag><Key>env</Key><Value>dev</Value></Tag>"
    )
    assert _sqs_query("GetQueueUrl", {"QueueUrl": "u"}) == _result("GetQueueUrl", "<QueueUrl>u</QueueUrl>")


def test_sqs_query_batch_result():
    out = {
        "Successful": [{"Id": "1", "MessageId": "m", "MD5OfMessageBody": "x"}],
        "Failed": [{"Id": "2", "SenderFault": True, "Code": "InvalidParameterValue", "Message": "bad"}],
    }
    assert _sqs_query("SendMessageBatch", out) == _result(
        "SendMessageBatch",
        "<SendMessageBatchResultEntry><Id>1</Id><MessageId>m</MessageId><MD5OfMessageBody>x</MD5OfMessageBody>"
        "</SendMessageBatchResultEntry><BatchResultErrorEntry><Id>2</Id><SenderFault>true</SenderFault>"
        "<Code>InvalidParameterValue</Code><Message>bad</Message></BatchResultErrorEntry>",
    )


def test_sqs_query_error_uses_legacy_code_and_namespace():
    r = _error("sqs", AwsError("QueueDoesNotExist", "The specified queue does not exist."), "query")
    assert r.status == 400
    assert (
        r.body
        == (
            '<?xml version="1.0" encoding="UTF-8"?><ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/">'
            "<Error><Type>Sender</Type><Code>AWS.SimpleQueueService.NonExistentQueue</Code>"
            "<Message>The specified queue does not exist.</Message><Detail/></Error>"
            f"<RequestId>{RID}</RequestId></ErrorResponse>"
        ).encode()
    )


def test_sqs_query_accepts_operations_of_the_json_model():
    """The parser may hand us an OperationModel of the json model: we look it up by name."""
    json_op = service_model("sqs").operation_model("GetQueueUrl")
    ser = create_serializer(service_model("sqs"), "query")
    assert b"<GetQueueUrlResult><QueueUrl>u</QueueUrl>" in ser.serialize(json_op, {"QueueUrl": "u"}, RID).body


# ------------------------------------------------------------------ rest-json (Lambda)


def test_lambda_create_function_201_and_invoke_status_member():
    r = _serialize("lambda", "CreateFunction", {"FunctionName": "f", "MemorySize": 128})
    assert r.status == 201 and r.header("content-type") == "application/json"
    assert json.loads(r.body) == {"FunctionName": "f", "MemorySize": 128}
    r = _serialize(
        "lambda",
        "Invoke",
        {
            "StatusCode": 200,
            "Payload": b'{"ok":1}',
            "FunctionError": "Unhandled",
            "ExecutedVersion": "$LATEST",
        },
    )
    assert r.status == 200 and r.body == b'{"ok":1}'
    assert r.header("X-Amz-Function-Error") == "Unhandled" and r.header("X-Amz-Executed-Version") == "$LATEST"
    assert _serialize("lambda", "Invoke", {"StatusCode": 202}).status == 202
    r = _serialize("lambda", "DeleteAlias", {})
    assert r.status == 204 and r.body == b""


def test_lambda_error_header_and_body():
    r = _error("lambda", AwsError("ResourceNotFoundException", "Function not found: arn:aws:lambda:f"))
    assert r.status == 404
    assert r.header("x-amzn-ErrorType") == "ResourceNotFoundException"
    body = json.loads(r.body)
    assert body["Type"] == "User" and "Function not found" in (body.get("Message") or body.get("message"))
    err = _parse("lambda", r)["Error"]
    assert err == {"Code": "ResourceNotFoundException", "Message": "Function not found: arn:aws:lambda:f"}
    r = _error(
        "lambda",
        AwsError(
            "TooManyRequestsException",
            "slow down",
            fields={"retryAfterSeconds": "3", "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded"},
        ),
    )
    assert r.status == 429 and r.header("Retry-After") == "3"
    assert json.loads(r.body)["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"


# ------------------------------------------------------------------ scalars


def test_timestamp_formats():
    assert format_timestamp(T, "iso8601") == "2026-01-02T03:04:05.123Z"
    assert format_timestamp(T.replace(microsecond=0), "iso8601") == "2026-01-02T03:04:05.000Z"
    assert format_timestamp(T, "rfc822") == "Fri, 02 Jan 2026 03:04:05 GMT"
    assert format_timestamp(T, "unixTimestamp") == 1767323045.123
    assert format_timestamp(T.replace(microsecond=0), "unixTimestamp") == 1767323045
    assert format_timestamp(1767323045, "iso8601") == "2026-01-02T03:04:05.000Z"
    aware = datetime(2026, 1, 2, 4, 4, 5, tzinfo=timezone(timedelta(hours=1)))
    assert format_timestamp(aware, "iso8601") == "2026-01-02T03:04:05.000Z"


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("plain", "plain"),
        ("a&b<c>d", "a&amp;b&lt;c&gt;d"),
        ("q\"'", "q&quot;&apos;"),
        ("cr\r\nlf", "cr&#13;\nlf"),
        ("tab\there", "tab\there"),
        ("nul\x00", "nul&#x0;"),
        ("ünï €", "ünï €"),
    ],
)
def test_xml_escape(text, escaped):
    assert xml_escape(text) == escaped


def test_unknown_protocol_rejected():
    with pytest.raises(ValueError):
        create_serializer(service_model("s3"), "smithy-rpc-v2-cbor")


def test_s3_unmodelled_error_statuses():
    assert (
        _error("s3", AwsError("PreconditionFailed", "At least one of the preconditions failed")).status == 412
    )
    assert _error("s3", AwsError("InvalidRange", "The requested range is not satisfiable")).status == 416
    r = _error("s3", AwsError("NotModified", "Not Modified"))
    assert r.status == 304 and r.body == b""
    assert _error("s3", AwsError("SomethingNew", "x")).status == 400


def test_header_values_beyond_ascii_are_rfc2047_encoded():
    r = _serialize("s3", "HeadObject", {"Metadata": {"name": "café\r\nx"}, "ContentType": "text/plain"})
    value = r.header("x-amz-meta-name")
    assert value.startswith("=?UTF-8?B?") and "\n" not in value
    assert r.header("content-type") == "text/plain"


def test_json_lone_surrogate_is_escaped():
    r = _serialize("sqs", "GetQueueUrl", {"QueueUrl": "a\ud800b"})
    assert json.loads(r.body) == {"QueueUrl": "a\ud800b"}
