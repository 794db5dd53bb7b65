"""Conformance of our response and error serializers with botocore's own response parsers.

For every operation of the seven models, outputs generated from the output shape (modes
``required``, ``all``, ``boundary``) are serialized by us and parsed by
``botocore.parsers.create_parser(protocol)``, from a response dict built as botocore's
endpoint builds it (case-insensitive headers; a ``StreamingBody`` for streaming outputs).
The parsed result must equal what we serialized after this normalization (``_norm``):

- ``ResponseMetadata`` (added by botocore) is dropped;
- ``None`` values and empty lists / maps / structures are dropped (XML cannot tell an empty
  flattened list from an absent one; botocore always returns ``{}`` for a header map);
- timestamps compare as UTC datetimes truncated to the millisecond (to the second when they
  travel in an RFC 822 header);
- the wire is HTTP: header names are lower-cased (ASGI does it), header values are trimmed,
  values beyond printable ASCII travel RFC 2047-encoded (as S3 sends non-ASCII metadata) and
  are decoded back here; header lists compare after botocore's comma split;
- a ``statusCode`` member is set to 202 (any generated value must still be an HTTP success);
- NaN / infinities compare by name.

Then every modelled error shape of each service goes through ``serialize_error`` and must come
back from botocore with the right ``Error.Code``, ``Error.Message``, HTTP status and modelled
fields (parsed as botocore's endpoint does, with the error shape). SQS is also checked in the
legacy query protocol, against a query model of SQS rebuilt here the way botocore's old
query model named things (flattened list/map shapes), independently of ``query_compat``.
"""

from __future__ import annotations

import asyncio
import copy
import io
import math
from base64 import b64decode
from datetime import UTC, datetime
from functools import cache
from typing import Any

import botocore.session
import pytest
from botocore.awsrequest import HeadersDict
from botocore.model import ServiceModel, Shape
from botocore.parsers import create_parser
from botocore.response import StreamingBody

from shared.aws.errors import AwsError
from shared.aws.models import service_model
from shared.aws.protocol.query_compat import legacy_error_codes
from shared.aws.protocol.serializer import create_serializer

from .values import generate, operations

SERVICES = ("s3", "sqs", "dynamodb", "dynamodbstreams", "lambda", "ec2", "rds")
MODES = ("required", "all", "boundary")
RID = "conformance-request-id"

# Known gaps: (service, operation) -> why.
XFAIL = {
    ("s3", "GetBucketNotification"): "deprecated shape: members Event and Events are both <Event> elements",
}


# ------------------------------------------------------------------ the wire


async def _drain(body: Any) -> bytes:
    return b"".join([chunk async for chunk in body])


class _RawStream:
    """The urllib3 response botocore hands an event stream (it calls ``stream()``)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self):
        yield from (self.data[i : i + 7] for i in range(0, len(self.data), 7))


def _wire(response, streaming: bool = False, events: bool = False) -> dict[str, Any]:
    """The response dict botocore's endpoint would build from our HttpResponse."""
    body = response.body if isinstance(response.body, bytes) else asyncio.run(_drain(response.body))
    headers = HeadersDict()
    for name, value in response.headers:
        headers[name.lower()] = value.strip()
    if events:
        body = _RawStream(body)
    elif streaming:
        body = StreamingBody(io.BytesIO(body), len(body))
    return {"status_code": response.status, "headers": headers, "body": body, "context": {}}


async def _chunks(data: bytes):
    yield data[:3]
    yield data[3:]


# ------------------------------------------------------------------ normalization


def _utc_ms(value: Any, seconds_only: bool) -> datetime:
    if isinstance(value, int | float):
        value = datetime.fromtimestamp(value, UTC)
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    micro = 0 if seconds_only else value.microsecond // 1000 * 1000
    return value.replace(microsecond=micro)


def _header_str(value: str) -> str:
    if value.startswith("=?UTF-8?B?") and value.endswith("?="):
        value = b64decode(value[10:-2]).decode("utf-8")
    return value.strip()


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, list | dict) and not value)


def _norm(shape: Shape, value: Any, header: bool = False) -> Any:
    kind = shape.type_name
    if value is None:
        return None
    if kind == "structure":
        if shape.is_document_type:
            return value
        if shape.serialization.get("eventstream"):
            return [{k: _norm(shape.members[k], v) for k, v in event.items()} for event in value]
        out = {}
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            if location == "headers":
                v = {
                    k.lower(): _header_str(str(x))
                    for k, x in (value.get(name) or {}).items()
                    if x is not None
                }
            else:
                v = _norm(member, value.get(name), header or location == "header")
            if not _empty(v):
                out[name] = v
        return out
    if kind == "list":
        items = [_norm(shape.member, v, header) for v in value if v is not None]
        if header:  # botocore splits header lists on commas
            items = [s.strip() for s in ",".join(str(i) for i in items).split(",")]
        return items
    if kind == "map":
        return {str(k): _norm(shape.value, v, header) for k, v in value.items() if v is not None}
    if kind == "timestamp":
        fmt = shape.serialization.get("timestampFormat") or ("rfc822" if header else "")
        return _utc_ms(value, fmt == "rfc822")
    if kind == "blob":
        if isinstance(value, StreamingBody):
            return value.read()
        return value.encode("utf-8") if isinstance(value, str) else bytes(value)
    if kind in ("float", "double"):
        if isinstance(value, str):
            return value
        return (
            "NaN"
            if math.isnan(value)
            else (("Infinity" if value > 0 else "-Infinity") if math.isinf(value) else value)
        )
    if kind == "string" and header:
        return _header_str(value)
    return value


# ------------------------------------------------------------------ cases


def _cases() -> list[Any]:
    cases = []
    for service in SERVICES:
        for op in operations(service):
            marks = (
                [pytest.mark.xfail(reason=XFAIL[(service, op)], strict=True)]
                if (service, op) in XFAIL
                else []
            )
            cases.append(pytest.param(service, op, id=f"{service}.{op}", marks=marks))
    return cases


@cache
def _serializer(service: str, protocol: str | None = None):
    return create_serializer(service_model(service), protocol)


def _round_trip(service: str, op_name: str, mode: str, seed: int, model: ServiceModel, protocol: str) -> None:
    op = service_model(service).operation_model(op_name)
    shape = op.output_shape
    output = generate(shape, mode, seed) if shape is not None else {}
    for name, member in shape.members.items() if shape is not None else ():
        if member.serialization.get("location") == "statusCode" and name in output:
            output[name] = 202
    event_member = shape.event_stream_name if shape is not None else None
    if event_member and event_member in output:  # one event per generated member, in order
        output[event_member] = [{k: v} for k, v in output[event_member].items()]
    streaming = op.has_streaming_output
    stream = None
    if streaming and mode == "all":
        payload = shape.serialization["payload"]
        if isinstance(output.get(payload), bytes):
            stream = output[payload]
            output = {**output, payload: _chunks(stream)}
    response = _serializer(
        service, protocol if protocol != service_model(service).protocol else None
    ).serialize(op, output, RID)
    if stream is not None:
        assert not isinstance(response.body, bytes), "a streaming payload must pass through unbuffered"
        output = {**output, shape.serialization["payload"]: stream}
    raw = _wire(response, streaming, event_member is not None)
    target = model.operation_model(op_name).output_shape
    parsed = create_parser(protocol).parse(raw, target)
    if event_member in parsed:
        parsed[event_member] = list(parsed[event_member])
    assert 200 <= response.status < 300
    output = dict(output)
    assert parsed.pop("ResponseMetadata")["RequestId"] == RID
    if op_name == "GetBucketLocation" and service == "s3":
        _bucket_location(parsed, raw["body"])
    _implicit_members(shape, output, parsed, response.status)
    expected = _norm(shape, output) if shape is not None else {}
    assert (_norm(target, parsed) if target is not None else parsed) == expected, f"mode={mode} seed={seed}"


def _implicit_members(shape: Shape | None, output: dict, parsed: dict, status: int) -> None:
    """botocore always fills a ``statusCode`` member and a blob/string payload member (with the
    HTTP status and the body, even empty): count those as sent when the output left them out."""
    if shape is None:
        return
    for name, member in shape.members.items():
        if member.serialization.get("location") == "statusCode" and name not in output:
            output[name] = status
    payload = shape.serialization.get("payload")
    if payload and payload not in output and shape.members[payload].type_name in ("blob", "string"):
        value = parsed.get(payload)
        if isinstance(value, StreamingBody):
            value = parsed[payload] = value.read()
        if not value:
            parsed.pop(payload, None)


def _bucket_location(parsed: dict, body: bytes) -> None:
    """What botocore's ``parse_get_bucket_location`` handler does for the real client."""
    from botocore.handlers import parse_get_bucket_location

    class _Http:
        raw = True
        content = body

    parse_get_bucket_location(parsed, _Http())


@pytest.mark.parametrize(("service", "op_name"), _cases())
def test_response_round_trip(service: str, op_name: str) -> None:
    model = service_model(service)
    for seed, mode in enumerate(MODES):
        _round_trip(service, op_name, mode, seed, model, model.protocol)


# ------------------------------------------------------------------ SQS in the legacy query protocol

# botocore's SQS query model (before SQS moved to json) named its XML like this: flattened list
# shapes repeating their member's name, flattened map shapes with <Name>/<Key> and <Value>.
_LEGACY_SQS_LISTS = {
    "QueueUrlList": "QueueUrl",
    "MessageList": "Message",
    "StringList": "StringListValue",
    "BinaryList": "BinaryListValue",
    "BatchResultErrorEntryList": "BatchResultErrorEntry",
    "SendMessageBatchResultEntryList": "SendMessageBatchResultEntry",
    "DeleteMessageBatchResultEntryList": "DeleteMessageBatchResultEntry",
    "ChangeMessageVisibilityBatchResultEntryList": "ChangeMessageVisibilityBatchResultEntry",
    "ListMessageMoveTasksResultEntryList": "ListMessageMoveTasksResultEntry",
}
_LEGACY_SQS_MAPS = {
    "MessageSystemAttributeMap": ("Attribute", "Name", "Value"),
    "QueueAttributeMap": ("Attribute", "Name", "Value"),
    "MessageBodyAttributeMap": ("MessageAttribute", "Name", "Value"),
    "TagMap": ("Tag", "Key", "Value"),
}


@cache
def legacy_sqs_model() -> ServiceModel:
    """SQS's json model with its protocol switched to query, named as the old query model was."""
    data = copy.deepcopy(botocore.session.get_session().get_service_data("sqs"))
    data["metadata"].update(protocol="query", protocols=["query"])
    for name, op in data["operations"].items():
        if "output" in op:
            op["output"]["resultWrapper"] = f"{name}Result"
    shapes = data["shapes"]
    for name, element in _LEGACY_SQS_LISTS.items():
        shapes[name].update(flattened=True)
        shapes[name]["member"]["locationName"] = element
    for name, (element, key, value) in _LEGACY_SQS_MAPS.items():
        shapes[name].update(flattened=True, locationName=element)
        shapes[name]["key"]["locationName"] = key
        shapes[name]["value"]["locationName"] = value
    for shape_name, (code, status) in legacy_error_codes("sqs").items():
        shapes[shape_name]["error"] = {"code": code, "httpStatusCode": status, "senderFault": True}
    return ServiceModel(data, service_name="sqs")


def _sqs_query_cases() -> list[Any]:
    model = service_model("sqs")
    return [pytest.param(op, id=f"sqs-query.{op}") for op in model.operation_names]


@pytest.mark.parametrize("op_name", _sqs_query_cases())
def test_sqs_query_response_round_trip(op_name: str) -> None:
    for seed, mode in enumerate(MODES):
        _round_trip("sqs", op_name, mode, seed, legacy_sqs_model(), "query")


# ------------------------------------------------------------------ errors

_MESSAGE = "boom & <fail> 'quoted'"


def _error_cases() -> list[Any]:
    cases = []
    for service in SERVICES:
        model = service_model(service)
        for shape in model.error_shapes:
            cases.append(pytest.param(service, model.protocol, shape.name, id=f"{service}.{shape.name}"))
    for shape in service_model("sqs").error_shapes:
        cases.append(pytest.param("sqs", "query", shape.name, id=f"sqs-query.{shape.name}"))
    return cases


def _expected_status(service: str, protocol: str, shape: Shape) -> int:
    legacy = legacy_error_codes(service).get(shape.name)
    if legacy is not None:
        return legacy[1]
    return shape.metadata.get("error", {}).get("httpStatusCode") or 400


@pytest.mark.parametrize(("service", "protocol", "error_name"), _error_cases())
def test_error_round_trip(service: str, protocol: str, error_name: str) -> None:
    model = legacy_sqs_model() if protocol == "query" and service == "sqs" else service_model(service)
    shape = {s.name: s for s in model.error_shapes}[error_name]
    fields = {k: v for k, v in generate(shape, "all", 7).items() if k.lower() != "message"}
    error = AwsError(error_name, _MESSAGE, fields=fields)
    own = None if protocol == service_model(service).protocol else protocol
    response = _serializer(service, own).serialize_error(error, None, RID)
    raw = _wire(response)
    parser = create_parser(protocol)
    parsed = parser.parse(raw, None)

    assert response.status == _expected_status(service, protocol, shape)
    err = parsed["Error"]
    assert err["Message"] == _MESSAGE
    legacy = legacy_error_codes(service).get(error_name)
    assert err["Code"] == (legacy[0] if legacy else shape.error_code)
    # what picks the exception class: botocore's SQS handler prefers QueryErrorCode
    assert model.shape_for_error_code(err.get("QueryErrorCode") or err["Code"]).name == error_name
    assert parsed["ResponseMetadata"]["RequestId"] == RID

    modelled = parser.parse(raw, shape)  # as botocore's endpoint adds modelled fields
    members = {k: m for k, m in shape.members.items() if k.lower() != "message"}
    expected = {k: v for k, v in (_norm(shape, fields) or {}).items() if k in members}
    got = {k: v for k, v in (_norm(shape, modelled) or {}).items() if k in members}
    if "Type" in members and "Type" not in fields:
        expected["Type"] = "User"  # Lambda fills the fault type itself
    assert got == expected
