"""Conformance of our request parsers with botocore's own request serializers.

For every operation of the seven models, inputs generated from the input shape (modes
``required``, ``all``, ``boundary``) are serialized by ``botocore.serialize`` and prepared as
botocore's endpoint prepares them (URL, query string, headers, body), turned into the
``HttpRequest`` our app builds from the ASGI scope, and parsed by our parser. The operation
must be found from the request alone, and the parsed input must equal the generated one after
this normalization (``_norm``):

- ``None`` values and empty lists / maps / structures are dropped (several wires cannot
  tell an empty list from an absent one);
- timestamps compare as UTC datetimes to the second (json's epoch numbers and RFC 822 headers
  carry no more);
- NaN / infinities compare by name;
- header members are ASCII before serialization: SDKs refuse other header values (botocore's
  ``validate_ascii_metadata``) and HTTP folds whitespace and forbids line breaks, so the
  generated header text is escaped and trimmed;
- XML bodies travel with XML's end-of-line normalization (``\r\n`` and ``\r`` read as ``\n``:
  botocore writes a bare ``\r`` into element text, and every XML parser, AWS's included,
  reads it back as ``\n``);
- a required member the wire cannot carry (an empty list, a list of empty structures) may
  make the parser answer the protocol's missing-parameter error, as AWS does (and only then);
- a deprecated operation that shares its successor's request line (S3's GetBucketLifecycle)
  is found as its successor;
- members the transport adds (``Content-Length``, ``Content-Type``, ``Content-MD5``) count only
  when the input had them.

SQS is also checked in its legacy query protocol (the names of ``query_compat``).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.awsrequest import AWSRequest, prepare_request_dict
from botocore.model import ServiceModel, Shape
from botocore.serialize import create_serializer

from shared.aws.errors import AwsError
from shared.aws.http import HttpRequest
from shared.aws.models import service_model
from shared.aws.protocol.parser import create_parser
from shared.aws.protocol.query_compat import query_compatible_model

from .values import generate, operations

SERVICES = ("s3", "sqs", "dynamodb", "dynamodbstreams", "lambda", "ec2", "rds")
MODES = ("required", "all", "boundary")
TRANSPORT_HEADERS = frozenset(("content-length", "content-type", "content-md5"))

# SQS's query names: the deprecated AttributeNames and MessageSystemAttributeNames of
# ReceiveMessage are both <AttributeName.N> on that wire; a request carries one of them.
SHARED_WIRE_NAMES = {("sqs-query", "ReceiveMessage"): ("AttributeNames",)}


# Known gaps: (service, operation) -> why.
XFAIL = {
    ("s3", "ListDirectoryBuckets"): "the same request line as ListBuckets: AWS tells them apart by the "
    "s3express-control host, which a single local endpoint does not have",
    ("s3", "PutBucketNotification"): "deprecated shape: members Event and Events are both <Event> elements",
}


@cache
def _parser(service: str, protocol: str):
    return create_parser(service_model(service), protocol)


@cache
def _model(service: str, protocol: str) -> ServiceModel:
    model = service_model(service)
    return query_compatible_model(model) if protocol != model.protocol else model


def _ascii_headers(shape: Shape, params: dict[str, Any]) -> None:
    for name, member in shape.members.items():
        if member.serialization.get("location") not in ("header", "headers") or name not in params:
            continue
        params[name] = _ascii(params[name])


def _ascii(value: Any) -> Any:
    if isinstance(value, str):
        value = value.replace("\r", " ").replace("\n", " ").strip()
        return value.encode("ascii", "backslashreplace").decode("ascii")
    if isinstance(value, list):
        return [_ascii(v) for v in value]
    if isinstance(value, dict):
        return {_ascii(k): _ascii(v) for k, v in value.items()}
    return value


def _http_request(request_dict: dict[str, Any]) -> HttpRequest:
    """What our app builds from the ASGI scope of the request botocore would send."""
    prepare_request_dict(request_dict, endpoint_url="http://localhost:4566")
    prepared = AWSRequest(
        method=request_dict["method"],
        url=request_dict["url"],
        data=request_dict["body"],
        headers=request_dict["headers"],
    ).prepare()
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    elif not isinstance(body, bytes):
        body = body.read()
    url = urlsplit(prepared.url)
    headers = [
        (k.lower(), v.decode("latin-1") if isinstance(v, bytes) else v) for k, v in prepared.headers.items()
    ]
    headers.append(("host", url.netloc))
    return HttpRequest.from_url_parts(prepared.method, url.path, url.query, headers, body)


def _norm(shape: Shape, value: Any, xml: bool = False) -> Any:
    if value is None:
        return None
    kind = shape.type_name
    if kind == "structure":
        if shape.is_document_type:
            return value
        out = {}
        for name, member in shape.members.items():
            v = _norm(member, value.get(name), xml)
            if not (v is None or (isinstance(v, list | dict) and not v)):
                out[name] = v
        return out
    if kind == "list":
        items = (_norm(shape.member, v, xml) for v in value)
        return [v for v in items if v != {}]  # an empty structure writes nothing
    if kind == "map":
        return {k: _norm(shape.value, v, xml) for k, v in value.items()}
    if kind == "timestamp":
        if isinstance(value, int | float):
            value = datetime.fromtimestamp(value, UTC)
        return value.astimezone(UTC).replace(microsecond=0)
    if kind in ("float", "double") and isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return repr(value)
    if kind == "string" and xml and isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n")
    if kind == "blob" and isinstance(value, str):
        return value.encode("utf-8")
    return value


def _round_trip(service: str, protocol: str, op_name: str, mode: str, seed: int) -> None:
    model = _model(service, protocol)
    op = model.operation_model(op_name)
    shape = op.input_shape
    params = generate(shape, mode, seed) if shape is not None else {}
    key = f"{service}-query" if protocol != service_model(service).protocol else service
    for name in SHARED_WIRE_NAMES.get((key, op_name), ()):
        params.pop(name, None)
    if shape is not None:
        _ascii_headers(shape, params)
    request_dict = create_serializer(protocol, include_validation=False).serialize_to_request(params, op)
    req = _http_request(request_dict)

    parser = _parser(service, protocol)
    found = parser.operation_for(req)
    if found.name != op_name and op.deprecated and found.http == op.http:
        found = op  # a deprecated alias: the same request as its successor's (parsed alike)
    assert found.name == op_name, f"mode={mode}: {req.method} {req.path} routed to {found.name}"
    if shape is None:
        assert parser.parse(found, req) == {}
        return
    xml = protocol == "rest-xml"
    expected = _norm(shape, params, xml)
    payload = shape.serialization.get("payload")
    if payload and expected.get(payload) in (b"", ""):
        del expected[payload]  # an empty body is no payload
    try:
        parsed = parser.parse(found, req)
    except AwsError as err:
        # only when the wire cannot carry a required member (an empty list, a list of empty
        # structures) may the parser refuse: AWS answers that the parameter is missing
        assert any(name not in expected for name in shape.required_members), err
        assert err.status == 400
        return
    for name in SHARED_WIRE_NAMES.get((key, op_name), ()):
        parsed.pop(name, None)
    for name, member in shape.members.items():
        wire = member.serialization.get("name", "").lower()
        if (
            name not in params
            and wire in TRANSPORT_HEADERS
            and member.serialization.get("location") == "header"
        ):
            parsed.pop(name, None)
    assert _norm(shape, parsed, xml) == expected, f"mode={mode} seed={seed}"


def _cases() -> list[Any]:
    cases = []
    for service in SERVICES:
        protocol = service_model(service).protocol
        for op in operations(service):
            marks = (
                [pytest.mark.xfail(reason=XFAIL[(service, op)], strict=True)]
                if (service, op) in XFAIL
                else []
            )
            cases.append(pytest.param(service, protocol, op, id=f"{service}.{op}", marks=marks))
    cases += [pytest.param("sqs", "query", op, id=f"sqs-query.{op}") for op in operations("sqs")]
    return cases


@pytest.mark.parametrize(("service", "protocol", "op_name"), _cases())
def test_request_round_trip(service: str, protocol: str, op_name: str) -> None:
    for seed, mode in enumerate(MODES):
        _round_trip(service, protocol, op_name, mode, seed)
