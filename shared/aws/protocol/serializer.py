"""Response and error serializers: one class per protocol, driven by botocore's service models.

    serializer = create_serializer(service_model("rds"))
    serializer.serialize(op, {"DBInstances": [...]}, request_id)   # -> HttpResponse
    serializer.serialize_error(AwsError("DBInstanceNotFound", "..."), op, request_id)

Classes (the shape of LocalStack's serializer, without its plugin layers)::

    ResponseSerializer
    ├── QueryResponseSerializer (query)          XML, <OpResponse><OpResult>
    │   └── EC2ResponseSerializer (ec2)          XML, <OpResponse><requestId>, <Response><Errors>
    ├── BaseRestResponseSerializer               status code, headers, payload
    │   ├── RestXMLResponseSerializer (rest-xml)
    │   └── RestJSONResponseSerializer (rest-json)
    └── JSONResponseSerializer (json)

Body encodings live in two mixins with per-shape dispatch (``_xml_<type>`` writes XML into a
list of string parts, ``_json_<type>`` returns a JSON-ready value). What can be decided once per
shape (element names, which members go where, which method encodes a member) is computed on
first use and cached on the serializer, so a request pays only for walking its values.

Handlers give timestamps as ``datetime`` (naive means UTC) or epoch numbers, blobs as bytes,
and a streaming payload as bytes or an async iterator of bytes, which passes through as the
response body unbuffered. Members that are ``None`` or absent are left out.

HEAD requests: the serializers always write the body; the app (``shared.app._send`` with
``head=True``) sends headers only.
"""

from __future__ import annotations

import base64
import json
import re
import struct
import zlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.model import OperationModel, ServiceModel, Shape, StructureShape

from shared.aws.errors import AwsError
from shared.aws.http import HttpResponse

from .query_compat import legacy_error_codes, query_compatible_model

S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>'
_HEADER_LOCATIONS = frozenset(("header", "headers", "statusCode"))
_NON_BODY_LOCATIONS = frozenset(("header", "headers", "statusCode", "querystring", "uri"))

# --------------------------------------------------------------------------- scalars

_XML_SPECIAL = re.compile("[&<>\"'\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_XML_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;", "\r": "&#13;"}


def xml_escape(text: str) -> str:
    """Escape text for an XML element or attribute.

    CR is written as ``&#13;`` (as SQS does) so that XML parsers do not fold ``\\r\\n`` into
    ``\\n``; other characters that XML 1.0 cannot carry are written as numeric references, as
    AWS does (a strict parser may still refuse them: S3 offers ``EncodingType=url`` for that).
    """
    if _XML_SPECIAL.search(text) is None:
        return text
    return _XML_SPECIAL.sub(_xml_entity, text)


def _xml_entity(match: re.Match[str]) -> str:
    char = match.group()
    return _XML_ENTITIES.get(char) or f"&#x{ord(char):X};"


_EPOCH = datetime(1970, 1, 1)
_ZERO = timedelta(0)
_MILLISECOND = timedelta(milliseconds=1)
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _as_utc(value: datetime | float | int | str) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo is None or value.utcoffset() == _ZERO else value.astimezone(UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def format_timestamp(value: datetime | float | int | str, fmt: str) -> str | int | float:
    """``iso8601`` -> ``2026-01-02T03:04:05.000Z``; ``rfc822`` -> ``Fri, 02 Jan 2026 03:04:05 GMT``;
    ``unixTimestamp`` -> epoch seconds (an int when whole, else a float to the millisecond).
    A naive datetime is UTC."""
    dt = _as_utc(value)
    if fmt == "iso8601":
        return _iso8601(dt)
    if fmt == "rfc822":
        return "%s, %02d %s %04d %02d:%02d:%02d GMT" % (  # noqa: UP031
            _DAYS[dt.weekday()], dt.day, _MONTHS[dt.month - 1], dt.year, dt.hour, dt.minute, dt.second
        )  # fmt: skip
    # exact integer arithmetic: no float rounding drift
    millis = (dt.replace(tzinfo=None) - _EPOCH) // _MILLISECOND
    return millis // 1000 if millis % 1000 == 0 else millis / 1000


def _iso8601(dt: datetime) -> str:
    """A UTC (or naive) datetime as ``2026-01-02T03:04:05.000Z``."""
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (  # noqa: UP031 (fastest here)
        dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, dt.microsecond // 1000
    )  # fmt: skip


def _b64(value: bytes | str) -> str:
    if isinstance(value, str):
        value = value.encode("utf-8")
    return base64.b64encode(value).decode("ascii")


_UNSAFE_HEADER = re.compile("[^\t\x20-\x7e]")


def header_text(value: str) -> str:
    """A header value that HTTP can carry: anything beyond printable ASCII is RFC 2047 encoded
    (``=?UTF-8?B?...?=``), as S3 does for non-ASCII metadata. This also keeps CR/LF out."""
    if _UNSAFE_HEADER.search(value) is None:
        return value
    return f"=?UTF-8?B?{_b64(value)}?="


def _text(value: Any) -> str:
    """A scalar as AWS writes it in XML text or a header."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


# --------------------------------------------------------------------------- base


class ResponseSerializer:
    """What every protocol shares: operation lookup, error classification, request ids."""

    protocol = ""
    BODY_TIMESTAMP = "iso8601"
    HEADER_TIMESTAMP = "rfc822"

    def __init__(self, service_model: ServiceModel) -> None:
        self.model = service_model
        self.service_name = service_model.service_name
        self._errors: dict[str, StructureShape] = {}
        for shape in service_model.error_shapes:
            self._errors[shape.name] = shape
            self._errors.setdefault(shape.error_code, shape)
        self._ops: dict[str, OperationModel] = {}
        self._header_plans: dict[str, dict[str, tuple[Shape, str, str]]] = {}

    # -- public API ------------------------------------------------------------------

    def serialize(self, op: OperationModel, output: dict[str, Any] | None, request_id: str) -> HttpResponse:
        raise NotImplementedError

    def serialize_error(self, error: AwsError, op: OperationModel | None, request_id: str) -> HttpResponse:
        raise NotImplementedError

    # -- shared helpers --------------------------------------------------------------

    def _operation(self, op: OperationModel) -> OperationModel:
        """The operation in *our* model (the query model of SQS is derived from the json one)."""
        found = self._ops.get(op.name)
        if found is None:
            found = self._ops[op.name] = self.model.operation_model(op.name)
        return found

    def _error_shape(self, error: AwsError) -> StructureShape | None:
        return self._errors.get(error.code)

    def _status(self, error: AwsError, shape: Shape | None) -> int:
        if error.status:
            return error.status
        if shape is not None:
            status = shape.metadata.get("error", {}).get("httpStatusCode")
            if status:
                return status
        return 500 if error.sender_fault is False else 400

    @staticmethod
    def _is_sender(error: AwsError, shape: Shape | None, status: int) -> bool:
        if error.sender_fault is not None:
            return error.sender_fault
        if shape is not None and "senderFault" in shape.metadata.get("error", {}):
            return bool(shape.metadata["error"]["senderFault"])
        return status < 500

    def _wire_code(self, error: AwsError, shape: Shape | None) -> str:
        """The code on the wire: the modelled ``error.code`` (query, rest) or the error code given."""
        return shape.error_code if shape is not None else error.code

    def _timestamp(self, shape: Shape, value: Any, default: str) -> str | int | float:
        return format_timestamp(value, shape.serialization.get("timestampFormat") or default)


# --------------------------------------------------------------------------- XML bodies


class _Member:
    """How one structure member is written: computed once per shape.

    ``text`` is set for members written as plain text (strings, numbers, booleans, timestamps)
    so that the hot loop appends ``open + text(value) + close`` without further dispatch.
    """

    __slots__ = ("name", "shape", "element", "write", "text", "open", "close")

    def __init__(self, name: str, shape: Shape, element: str, write: Callable, text: Callable | None) -> None:
        self.name = name
        self.shape = shape
        self.element = element
        self.write = write
        self.text = text
        self.open = f"<{element}>"
        self.close = f"</{element}>"


class _XmlPlan:
    __slots__ = ("shape", "members", "by_name", "attributes", "ns")

    def __init__(self, shape: Shape, members: list[_Member], attributes: list[_Member], ns: str) -> None:
        self.shape = shape
        self.members = members
        self.by_name = {m.name: m for m in members}
        self.attributes = attributes
        self.ns = ns


class _ListPlan:
    """How the items of one list shape are written (the item writer, or text for scalar items),
    computed once per shape: a listing writes one small list per object."""

    __slots__ = ("shape", "item", "flattened", "item_name", "structures", "text", "write")

    def __init__(self, shape: Shape, text: Callable[[Any], str] | None, write: Callable) -> None:
        self.shape = shape
        self.item = shape.member
        self.flattened = bool(shape.serialization.get("flattened"))
        self.item_name = self.item.serialization.get("name") or "member"  # unless flattened
        self.structures = self.item.type_name == "structure"
        self.text = text
        self.write = write


def _escape_any(value: Any) -> str:
    return xml_escape(value if isinstance(value, str) else _text(value))


# Text writers for the hot loop: the common value type written straight, anything else as before.


def _string_item_text(value: Any) -> str:
    return xml_escape(value if isinstance(value, str) else str(value))  # as _xml_string (str(True) == "True")


def _integer_text(value: Any) -> str:
    return str(value) if type(value) is int else _escape_any(value)  # digits need no escaping


def _boolean_text(value: Any) -> str:
    if value is True:
        return "true"
    return "false" if value is False else _escape_any(value)


def _iso8601_text(value: Any) -> str:
    if type(value) is datetime and (value.tzinfo is None or value.tzinfo is UTC):
        return _iso8601(value)
    return str(format_timestamp(value, "iso8601"))


class XmlBodyMixin:
    """Per-shape XML writers; each appends string parts to ``out``."""

    BODY_TIMESTAMP = "iso8601"
    _plans: dict[int, _XmlPlan | _ListPlan]  # by id(shape): structures' and lists' plans

    def _xml_plan(self, shape: StructureShape) -> _XmlPlan:
        """Body members of ``shape``, its attribute members and its namespace declaration."""
        plan = self._plans.get(id(shape))
        if plan is not None and plan.shape is shape:
            return plan
        members, attributes = [], []
        for name, member in shape.members.items():
            ser = member.serialization
            if ser.get("location") in _NON_BODY_LOCATIONS:
                continue
            entry = _Member(
                name,
                member,
                self._element_name(name, member),
                getattr(self, f"_xml_{member.type_name}", self._xml_scalar),
                self._xml_text(member),
            )
            (attributes if ser.get("xmlAttribute") else members).append(entry)
        plan = _XmlPlan(shape, members, attributes, _namespace_attr(shape.serialization.get("xmlNamespace")))
        self._plans[id(shape)] = plan
        return plan

    def _xml_text(self, shape: Shape) -> Callable[[Any], str] | None:
        kind = shape.type_name
        if kind == "string":
            return _escape_any
        if kind in ("integer", "long"):
            return _integer_text
        if kind == "boolean":
            return _boolean_text
        if kind == "timestamp":
            fmt = shape.serialization.get("timestampFormat") or self.BODY_TIMESTAMP
            return _iso8601_text if fmt == "iso8601" else lambda value: str(format_timestamp(value, fmt))
        return None

    @staticmethod
    def _element_name(name: str, member: Shape) -> str:
        """The element name botocore looks a member up by (a flattened list repeats its item name)."""
        ser = member.serialization
        if member.type_name == "list" and ser.get("flattened"):
            item_name = member.member.serialization.get("name")
            if item_name:
                return item_name
        return ser.get("name") or name

    def _xml_value(self, shape: Shape, value: Any, name: str, out: list[str]) -> None:
        getattr(self, f"_xml_{shape.type_name}", self._xml_scalar)(shape, value, name, out)

    def _xml_members(self, shape: StructureShape, value: dict[str, Any], out: list[str]) -> None:
        """Body members in the order the handler gave them (parsers look members up by name)."""
        self._xml_fields(self._xml_plan(shape).by_name, value, out)

    def _xml_fields(self, by_name: dict[str, _Member], value: dict[str, Any], out: list[str]) -> None:
        for key, v in value.items():
            m = by_name.get(key)
            if m is None or v is None:
                continue
            if m.text is not None:
                out.append(m.open + m.text(v) + m.close)
            else:
                m.write(m.shape, v, m.element, out)

    def _xml_open(self, shape: StructureShape, value: dict[str, Any], name: str, extra: str = "") -> str:
        plan = self._xml_plan(shape)
        if not (extra or plan.ns or plan.attributes):
            return f"<{name}>"
        attrs = [extra, plan.ns]
        for m in plan.attributes:
            v = value.get(m.name)
            if v is not None:
                attrs.append(f' {m.element}="{xml_escape(_text(v))}"')
        return f"<{name}{''.join(attrs)}>"

    def _xml_structure(self, shape: StructureShape, value: dict[str, Any], name: str, out: list[str]) -> None:
        plan = self._xml_plan(shape)
        out.append(self._xml_open(shape, value, name) if plan.ns or plan.attributes else f"<{name}>")
        self._xml_fields(plan.by_name, value, out)
        out.append(f"</{name}>")

    def _xml_list_plan(self, shape: Shape) -> _ListPlan:
        item = shape.member
        text = _string_item_text if item.type_name == "string" else self._xml_text(item)
        write = getattr(self, f"_xml_{item.type_name}", self._xml_scalar)
        plan = self._plans[id(shape)] = _ListPlan(shape, text, write)
        return plan

    def _xml_list(self, shape: Shape, value: list[Any], name: str, out: list[str]) -> None:
        plan = self._plans.get(id(shape))
        if plan is None or plan.shape is not shape:
            plan = self._xml_list_plan(shape)
        item_name = name if plan.flattened else plan.item_name
        if not plan.flattened:
            out.append(f"<{name}>")
        if plan.structures:
            self._xml_structures(plan.item, value, item_name, out)
        elif plan.text is not None:  # as _xml_string, _xml_scalar and _xml_timestamp write items
            open_, close, text = f"<{item_name}>", f"</{item_name}>", plan.text
            for v in value:
                if v is not None:
                    out.append(open_ + text(v) + close)
        else:
            for v in value:
                if v is not None:
                    plan.write(plan.item, v, item_name, out)
        if not plan.flattened:
            out.append(f"</{name}>")

    def _xml_structures(self, shape: StructureShape, items: list[Any], name: str, out: list[str]) -> None:
        """The structures of a list, as ``_xml_structure`` writes each, with the plan looked up once
        per list rather than twice per item (a 1,000-object S3 listing is 1,000 items)."""
        plan = self._xml_plan(shape)
        plain = not (plan.ns or plan.attributes)
        open_, close, by_name = f"<{name}>", f"</{name}>", plan.by_name
        for v in items:
            if v is not None:
                out.append(open_ if plain else self._xml_open(shape, v, name))
                self._xml_fields(by_name, v, out)
                out.append(close)

    def _xml_map(self, shape: Shape, value: dict[Any, Any], name: str, out: list[str]) -> None:
        key_shape, value_shape = shape.key, shape.value
        key_name = key_shape.serialization.get("name") or "key"
        value_name = value_shape.serialization.get("name") or "value"
        flattened = shape.serialization.get("flattened")
        if not flattened:
            out.append(f"<{name}>")
        entry = name if flattened else "entry"
        for k, v in value.items():
            if v is None:
                continue
            out.append(f"<{entry}><{key_name}>{xml_escape(str(k))}</{key_name}>")
            self._xml_value(value_shape, v, value_name, out)
            out.append(f"</{entry}>")
        if not flattened:
            out.append(f"</{name}>")

    def _xml_scalar(self, shape: Shape, value: Any, name: str, out: list[str]) -> None:
        out.append(f"<{name}>{xml_escape(_text(value))}</{name}>")

    def _xml_string(self, shape: Shape, value: Any, name: str, out: list[str]) -> None:
        out.append(f"<{name}>{xml_escape(value if isinstance(value, str) else str(value))}</{name}>")

    def _xml_blob(self, shape: Shape, value: bytes | str, name: str, out: list[str]) -> None:
        out.append(f"<{name}>{_b64(value)}</{name}>")

    def _xml_timestamp(self, shape: Shape, value: Any, name: str, out: list[str]) -> None:
        fmt = shape.serialization.get("timestampFormat") or self.BODY_TIMESTAMP
        out.append(f"<{name}>{format_timestamp(value, fmt)}</{name}>")

    def _xml_float(self, shape: Shape, value: Any, name: str, out: list[str]) -> None:
        out.append(f"<{name}>{_xml_number(value)}</{name}>")

    _xml_double = _xml_float


def _xml_number(value: float | int) -> str:
    f = float(value)
    if f != f:
        return "NaN"
    if f in (float("inf"), float("-inf")):
        return "Infinity" if f > 0 else "-Infinity"
    return repr(value) if isinstance(value, float) else str(value)


def _namespace_attr(ns: Any) -> str:
    if not ns:
        return ""
    if isinstance(ns, str):
        return f' xmlns="{ns}"'
    prefix = ns.get("prefix")
    return f' xmlns:{prefix}="{ns["uri"]}"' if prefix else f' xmlns="{ns["uri"]}"'


# --------------------------------------------------------------------------- query / ec2


class QueryResponseSerializer(XmlBodyMixin, ResponseSerializer):
    """``<OpResponse xmlns><OpResult>..</OpResult><ResponseMetadata>..</ResponseMetadata></OpResponse>``."""

    protocol = "query"
    CONTENT_TYPE = "text/xml"

    def __init__(self, service_model: ServiceModel) -> None:
        super().__init__(service_model)
        self._plans = {}
        meta = service_model.metadata
        ns = (
            meta.get("xmlNamespace")
            or f"https://{meta['endpointPrefix']}.amazonaws.com/doc/{meta['apiVersion']}/"
        )
        self.namespace = ns if ns.endswith("/") else ns + "/"
        self._detail = "awsQueryCompatible" in meta  # SQS writes an empty <Detail/> in errors

    def _headers(self, request_id: str) -> list[tuple[str, str]]:
        return [("Content-Type", self.CONTENT_TYPE), ("x-amzn-RequestId", request_id)]

    def serialize(self, op: OperationModel, output: dict[str, Any] | None, request_id: str) -> HttpResponse:
        op = self._operation(op)
        out = [XML_DECL, f'<{op.name}Response xmlns="{self.namespace}">']
        self._write_result(op, output or {}, request_id, out)
        out.append(f"</{op.name}Response>")
        return HttpResponse(200, self._headers(request_id), "".join(out).encode("utf-8"))

    def _write_result(
        self, op: OperationModel, output: dict[str, Any], request_id: str, out: list[str]
    ) -> None:
        shape = op.output_shape
        if shape is not None:
            wrapper = shape.serialization.get("resultWrapper")
            if wrapper:
                out.append(f"<{wrapper}>")
                self._xml_members(shape, output, out)
                out.append(f"</{wrapper}>")
            else:
                self._xml_members(shape, output, out)
        out.append(f"<ResponseMetadata><RequestId>{xml_escape(request_id)}</RequestId></ResponseMetadata>")

    def serialize_error(self, error: AwsError, op: OperationModel | None, request_id: str) -> HttpResponse:
        shape = self._error_shape(error)
        status = self._status(error, shape)
        kind = "Sender" if self._is_sender(error, shape, status) else "Receiver"
        out = [
            XML_DECL,
            f'<ErrorResponse xmlns="{self.namespace}"><Error><Type>{kind}</Type>',
            f"<Code>{xml_escape(self._wire_code(error, shape))}</Code>",
            f"<Message>{xml_escape(error.message)}</Message>",
        ]
        self._write_error_fields(error, shape, out)
        if self._detail:
            out.append("<Detail/>")
        out.append(f"</Error><RequestId>{xml_escape(request_id)}</RequestId></ErrorResponse>")
        headers = self._headers(request_id) + list(error.headers.items())
        return HttpResponse(status, headers, "".join(out).encode("utf-8"))

    def _write_error_fields(self, error: AwsError, shape: StructureShape | None, out: list[str]) -> None:
        """Modelled members of the error shape (by shape), free-form ``fields`` as text elements."""
        if not error.fields:
            return
        members = shape.members if shape is not None else {}
        for name, value in error.fields.items():
            if value is None or name in ("message", "Message", "Code", "Type"):
                continue
            member = members.get(name)
            if member is None:
                out.append(f"<{name}>{xml_escape(_text(value))}</{name}>")
            elif member.serialization.get("location") not in _NON_BODY_LOCATIONS:
                self._xml_value(member, value, self._element_name(name, member), out)


class EC2ResponseSerializer(QueryResponseSerializer):
    """``<OpResponse xmlns><requestId>..</requestId>members</OpResponse>``; errors in ``<Response>``."""

    protocol = "ec2"
    CONTENT_TYPE = "text/xml;charset=UTF-8"

    def _write_result(
        self, op: OperationModel, output: dict[str, Any], request_id: str, out: list[str]
    ) -> None:
        out.append(f"<requestId>{xml_escape(request_id)}</requestId>")
        shape = op.output_shape
        if shape is None:
            out.append("<return>true</return>")  # what EC2 answers for operations without output
        else:
            self._xml_members(shape, output, out)

    def serialize_error(self, error: AwsError, op: OperationModel | None, request_id: str) -> HttpResponse:
        shape = self._error_shape(error)
        status = self._status(error, shape)
        out = [
            XML_DECL,
            f"<Response><Errors><Error><Code>{xml_escape(self._wire_code(error, shape))}</Code>",
            f"<Message>{xml_escape(error.message)}</Message>",
        ]
        self._write_error_fields(error, shape, out)
        out.append(f"</Error></Errors><RequestID>{xml_escape(request_id)}</RequestID></Response>")
        headers = self._headers(request_id) + list(error.headers.items())
        return HttpResponse(status, headers, "".join(out).encode("utf-8"))


# --------------------------------------------------------------------------- JSON bodies


class JsonBodyMixin:
    """Per-shape JSON encoders; each returns a value ``json.dumps`` can write."""

    BODY_TIMESTAMP = "unixTimestamp"
    _json_plans: dict[int, tuple[Shape, list[tuple[str, str, Shape, Callable]]]]

    def _json_members(self, shape: StructureShape) -> list[tuple[str, str, Shape, Callable]]:
        cached = self._json_plans.get(id(shape))
        if cached is not None and cached[0] is shape:
            return cached[1]
        members = [
            (
                name,
                member.serialization.get("name") or name,
                member,
                getattr(self, f"_json_{member.type_name}", _identity),
            )
            for name, member in shape.members.items()
            if member.serialization.get("location") not in _NON_BODY_LOCATIONS
        ]
        self._json_plans[id(shape)] = (shape, members)
        return members

    def _json_value(self, shape: Shape, value: Any) -> Any:
        return getattr(self, f"_json_{shape.type_name}", _identity)(shape, value)

    def _json_structure(self, shape: StructureShape, value: dict[str, Any]) -> Any:
        if shape.is_document_type:
            return value
        out = {}
        for name, key, member, encode in self._json_members(shape):
            v = value.get(name)
            if v is not None:
                out[key] = encode(member, v)
        return out

    def _json_list(self, shape: Shape, value: list[Any]) -> list[Any]:
        item = shape.member
        encode = getattr(self, f"_json_{item.type_name}", _identity)
        return [None if v is None else encode(item, v) for v in value]

    def _json_map(self, shape: Shape, value: dict[Any, Any]) -> dict[str, Any]:
        item = shape.value
        encode = getattr(self, f"_json_{item.type_name}", _identity)
        return {str(k): None if v is None else encode(item, v) for k, v in value.items()}

    def _json_blob(self, shape: Shape, value: bytes | str) -> str:
        return _b64(value)

    def _json_timestamp(self, shape: Shape, value: Any) -> Any:
        return format_timestamp(value, shape.serialization.get("timestampFormat") or self.BODY_TIMESTAMP)

    def _json_float(self, shape: Shape, value: Any) -> Any:
        f = float(value)
        if f != f or f in (float("inf"), float("-inf")):
            return "NaN" if f != f else ("Infinity" if f > 0 else "-Infinity")
        return value

    _json_double = _json_float


def _identity(shape: Shape, value: Any) -> Any:
    return value


def _dumps(value: Any) -> bytes:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: only \u escapes can carry them
        return json.dumps(value, separators=(",", ":")).encode("ascii")


# --------------------------------------------------------------------------- json


class JSONResponseSerializer(JsonBodyMixin, ResponseSerializer):
    """JSON 1.0/1.1 (DynamoDB, SQS): the output shape as a JSON object, ``__type`` errors."""

    protocol = "json"

    # __type prefixes as the services write them (botocore keeps only what follows ``#``).
    _TYPE_PREFIXES = {
        "dynamodb": "com.amazonaws.dynamodb.v20120810",
        "dynamodbstreams": "com.amazonaws.dynamodb.v20120810",
        "sqs": "com.amazonaws.sqs",
    }
    _CORAL_PREFIXES = {"ValidationException": "com.amazon.coral.validate"}

    def __init__(self, service_model: ServiceModel) -> None:
        super().__init__(service_model)
        self._json_plans = {}
        meta = service_model.metadata
        self.content_type = f"application/x-amz-json-{meta.get('jsonVersion', '1.0')}"
        self.type_prefix = self._TYPE_PREFIXES.get(
            self.service_name, f"com.amazonaws.{meta['endpointPrefix']}"
        )
        self.query_compatible = "awsQueryCompatible" in meta
        self._legacy: dict[str, tuple[str, int]] = {}
        if self.query_compatible:
            self._legacy = legacy_error_codes(self.service_name)
            for shape_name, (code, _status) in self._legacy.items():
                if shape_name in self._errors:
                    self._errors.setdefault(code, self._errors[shape_name])
        # DynamoDB signs its bodies with a CRC32 header that botocore checks when present.
        self.crc32 = meta.get("endpointPrefix", "").endswith("dynamodb")

    def _response(self, status: int, body: bytes, request_id: str, extra=()) -> HttpResponse:
        headers = [("Content-Type", self.content_type), ("x-amzn-RequestId", request_id), *extra]
        if self.crc32:
            headers.append(("x-amz-crc32", str(zlib.crc32(body))))
        return HttpResponse(status, headers, body)

    def serialize(self, op: OperationModel, output: dict[str, Any] | None, request_id: str) -> HttpResponse:
        shape = self._operation(op).output_shape
        body = self._json_structure(shape, output or {}) if shape is not None else {}
        return self._response(200, _dumps(body), request_id)

    def _status(self, error: AwsError, shape: Shape | None) -> int:
        if not error.status and shape is not None and shape.name in self._legacy:
            return self._legacy[shape.name][1]
        return super()._status(error, shape)

    def serialize_error(self, error: AwsError, op: OperationModel | None, request_id: str) -> HttpResponse:
        shape = self._error_shape(error)
        status = self._status(error, shape)
        code = shape.name if shape is not None else error.code
        prefix = self.type_prefix if shape is not None else self._CORAL_PREFIXES.get(code, self.type_prefix)
        body: dict[str, Any] = {"__type": f"{prefix}#{code}"}
        body.update(_error_body(self, error, shape))
        extra = [("x-amzn-ErrorType", code), *error.headers.items()]
        if self.query_compatible:
            legacy = self._legacy.get(code, (code, status))[0]
            kind = "Sender" if self._is_sender(error, shape, status) else "Receiver"
            extra.append(("x-amzn-query-error", f"{legacy};{kind}"))
        return self._response(status, _dumps(body), request_id, extra)


def _error_body(ser: JsonBodyMixin, error: AwsError, shape: StructureShape | None) -> dict[str, Any]:
    """``message`` (under the error shape's own spelling) plus the modelled ``fields``."""
    members = shape.members if shape is not None else {}
    message_key = "Message" if "Message" in members and "message" not in members else "message"
    body: dict[str, Any] = {message_key: error.message}
    for name, value in error.fields.items():
        member = members.get(name)
        if value is None:
            continue
        if member is None:
            body[name] = value
        elif member.serialization.get("location") not in _NON_BODY_LOCATIONS:
            body[member.serialization.get("name") or name] = ser._json_value(member, value)
    return body


# --------------------------------------------------------------------------- rest


def _header_plan(shape: StructureShape) -> dict[str, tuple[Shape, str, str]]:
    """Member name -> (shape, location, wire name) for the members that travel outside the body."""
    plan = {}
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        if location in _HEADER_LOCATIONS:
            default = "" if location == "headers" else name
            plan[name] = (member, location, member.serialization.get("name") or default)
    return plan


class BaseRestResponseSerializer(ResponseSerializer):
    """Status code, header members, payload member, body members: the rest of rest-xml and rest-json."""

    DEFAULT_CONTENT_TYPE = ""
    BLOB_CONTENT_TYPE = "application/octet-stream"

    def serialize(self, op: OperationModel, output: dict[str, Any] | None, request_id: str) -> HttpResponse:
        op = self._operation(op)
        output = output or {}
        shape = op.output_shape
        status = op.http.get("responseCode") or 200
        headers = self._request_id_headers(request_id)
        body: Any = b""
        if shape is not None:
            status = self._write_non_body(shape, output, headers) or status
            body, content_type = self._payload(op, shape, output)
            if content_type and not any(k.lower() == "content-type" for k, _ in headers):
                headers.append(("Content-Type", content_type))
        if status in (204, 304):
            body = b""
        return HttpResponse(status, headers, body)

    def _request_id_headers(self, request_id: str) -> list[tuple[str, str]]:
        return [("x-amzn-RequestId", request_id)]

    def _write_non_body(self, shape: StructureShape, value: dict[str, Any], headers: list) -> int | None:
        """Header, header-map and status-code members; returns the status code member if set."""
        status = None
        plan = self._header_plans.get(shape.name)
        if plan is None:
            plan = self._header_plans[shape.name] = _header_plan(shape)
        for name, v in value.items():
            where = plan.get(name)
            if where is None or v is None:
                continue
            member, location, wire = where
            if location == "statusCode":
                status = int(v)
            elif location == "headers":
                headers.extend(
                    (wire + str(k), header_text(_text(item))) for k, item in v.items() if item is not None
                )
            else:
                headers.append((wire, self._header_value(member, v)))
        return status

    def _header_value(self, shape: Shape, value: Any) -> str:
        kind = shape.type_name
        if kind == "timestamp":
            return str(self._timestamp(shape, value, self.HEADER_TIMESTAMP))
        if kind == "list":
            return ",".join(self._header_value(shape.member, v) for v in value)
        if kind == "blob":
            return _b64(value)
        if kind == "string" and shape.serialization.get("jsonvalue"):
            return _b64(json.dumps(value, separators=(",", ":")))
        return header_text(_text(value))

    def _payload(self, op: OperationModel, shape: StructureShape, output: dict[str, Any]) -> tuple[Any, str]:
        """The body and its default Content-Type."""
        payload_name = shape.serialization.get("payload")
        if payload_name is None:
            return self._body(op, shape, output)
        member = shape.members[payload_name]
        value = output.get(payload_name)
        if member.type_name in ("blob", "string"):
            if value is None:
                return b"", ""
            if isinstance(value, str):
                return value.encode("utf-8"), self.BLOB_CONTENT_TYPE
            return value, self.BLOB_CONTENT_TYPE  # bytes, or an async iterator passed through as is
        if value is None:
            return b"", ""
        if member.serialization.get("eventstream"):
            return self._event_stream(member, value), EVENT_STREAM_CONTENT_TYPE
        return self._structure_payload(op, payload_name, member, value)

    async def _event_stream(self, shape: StructureShape, events: Any) -> AsyncIterator[bytes]:
        """Encode events (``{"PayloadChunk": {"Payload": b".."}}``, from an iterable or an async
        iterator) as ``application/vnd.amazon.eventstream`` messages, one per event."""
        if not hasattr(events, "__aiter__"):
            events = _aiter(events)
        async for event in events:
            for event_type, value in event.items():
                if value is not None:
                    yield self._event_message(shape.members[event_type], event_type, value)

    def _event_message(self, shape: StructureShape, event_type: str, value: dict[str, Any]) -> bytes:
        headers: list[tuple[str, Any, Shape | None]] = [
            (":event-type", event_type, None),
            (":message-type", "event", None),
        ]
        body, content_type = b"", ""
        for name, member in shape.members.items():
            v = value.get(name)
            if v is None:
                continue
            ser = member.serialization
            if ser.get("eventheader"):
                headers.append((name, v, member))
            elif ser.get("eventpayload"):
                if member.type_name in ("blob", "string"):
                    body = v.encode("utf-8") if isinstance(v, str) else bytes(v)
                    content_type = "application/octet-stream" if member.type_name == "blob" else "text/plain"
                else:
                    body, content_type = self._event_body(member, v)
        if not content_type and any(
            value.get(n) is not None and not (m.serialization.get("eventheader"))
            for n, m in shape.members.items()
        ):
            body, content_type = self._event_body(shape, value)
        if content_type:
            headers.append((":content-type", content_type, None))
        return encode_event_message(headers, body)

    def _event_body(self, shape: StructureShape, value: dict[str, Any]) -> tuple[bytes, str]:
        raise NotImplementedError

    def _body(self, op: OperationModel, shape: StructureShape, output: dict[str, Any]) -> tuple[bytes, str]:
        raise NotImplementedError

    def _structure_payload(
        self, op: OperationModel, name: str, member: Shape, value: Any
    ) -> tuple[bytes, str]:
        raise NotImplementedError

    def _error_headers(self, error: AwsError, shape: StructureShape | None, headers: list) -> None:
        if shape is not None and error.fields:
            self._write_non_body(shape, error.fields, headers)
        headers.extend(error.headers.items())


class RestJSONResponseSerializer(JsonBodyMixin, BaseRestResponseSerializer):
    """rest-json (Lambda): JSON body members, ``x-amzn-ErrorType`` errors."""

    protocol = "rest-json"
    DEFAULT_CONTENT_TYPE = "application/json"
    BLOB_CONTENT_TYPE = "application/json"  # Lambda's Invoke payload

    def __init__(self, service_model: ServiceModel) -> None:
        super().__init__(service_model)
        self._json_plans = {}

    def _body(self, op: OperationModel, shape: StructureShape, output: dict[str, Any]) -> tuple[bytes, str]:
        if not self._json_members(shape):
            return b"", ""
        return _dumps(self._json_structure(shape, output)), self.DEFAULT_CONTENT_TYPE

    def _structure_payload(
        self, op: OperationModel, name: str, member: Shape, value: Any
    ) -> tuple[bytes, str]:
        return _dumps(self._json_value(member, value)), self.DEFAULT_CONTENT_TYPE

    def _event_body(self, shape: StructureShape, value: dict[str, Any]) -> tuple[bytes, str]:
        return _dumps(self._json_structure(shape, value)), "application/json"

    def serialize_error(self, error: AwsError, op: OperationModel | None, request_id: str) -> HttpResponse:
        shape = self._error_shape(error)
        status = self._status(error, shape)
        code = shape.name if shape is not None else error.code
        body: dict[str, Any] = {}
        if shape is None or "Type" in shape.members:
            body["Type"] = "User" if self._is_sender(error, shape, status) else "Service"
        body.update(_error_body(self, error, shape))
        headers = [
            ("Content-Type", self.DEFAULT_CONTENT_TYPE),
            ("x-amzn-RequestId", request_id),
            ("x-amzn-ErrorType", code),
        ]
        self._error_headers(error, shape, headers)
        return HttpResponse(status, headers, _dumps(body))


class RestXMLResponseSerializer(XmlBodyMixin, BaseRestResponseSerializer):
    """rest-xml (S3): XML body or payload, ``<Error>`` errors with ``x-amz-request-id``/``x-amz-id-2``."""

    protocol = "rest-xml"
    DEFAULT_CONTENT_TYPE = "application/xml"
    BLOB_CONTENT_TYPE = "binary/octet-stream"

    # Root elements of S3 outputs that have no payload member (the model does not name them).
    S3_ROOTS = {
        "CompleteMultipartUpload": "CompleteMultipartUploadResult",
        "CreateMultipartUpload": "InitiateMultipartUploadResult",
        "CreateSession": "CreateSessionResult",
        "DeleteObjects": "DeleteResult",
        "GetBucketAccelerateConfiguration": "AccelerateConfiguration",
        "GetBucketAcl": "AccessControlPolicy",
        "GetBucketCors": "CORSConfiguration",
        "GetBucketLifecycle": "LifecycleConfiguration",
        "GetBucketLifecycleConfiguration": "LifecycleConfiguration",
        "GetBucketLogging": "BucketLoggingStatus",
        "GetBucketNotification": "NotificationConfiguration",
        "GetBucketNotificationConfiguration": "NotificationConfiguration",
        "GetBucketRequestPayment": "RequestPaymentConfiguration",
        "GetBucketTagging": "Tagging",
        "GetBucketVersioning": "VersioningConfiguration",
        "GetBucketWebsite": "WebsiteConfiguration",
        "GetObjectAcl": "AccessControlPolicy",
        "GetObjectAttributes": "GetObjectAttributesResponse",
        "GetObjectTagging": "Tagging",
        "ListBucketAnalyticsConfigurations": "ListBucketAnalyticsConfigurationResult",
        "ListBucketIntelligentTieringConfigurations": "ListBucketIntelligentTieringConfigurationsOutput",
        "ListBucketInventoryConfigurations": "ListInventoryConfigurationsResult",
        "ListBucketMetricsConfigurations": "ListMetricsConfigurationsResult",
        "ListBuckets": "ListAllMyBucketsResult",
        "ListDirectoryBuckets": "ListAllMyDirectoryBucketsResult",
        "ListMultipartUploads": "ListMultipartUploadsResult",
        "ListObjectVersions": "ListVersionsResult",
        "ListObjects": "ListBucketResult",
        "ListObjectsV2": "ListBucketResult",
        "ListParts": "ListPartsResult",
    }
    # Outputs whose root element *is* the one member (``<LocationConstraint>eu-west-1</...>``).
    SCALAR_ROOTS = {"GetBucketLocation": "LocationConstraint"}
    # Statuses of S3 error codes the model does not list (S3 API reference, "Error responses"),
    # so that handlers can raise AwsError("PreconditionFailed", ...) without repeating them.
    S3_ERROR_STATUS = {
        "BadDigest": 400,
        "BucketNotEmpty": 409,
        "EntityTooLarge": 400,
        "EntityTooSmall": 400,
        "IllegalLocationConstraintException": 400,
        "IncompleteBody": 400,
        "InternalError": 500,
        "InvalidAccessKeyId": 403,
        "InvalidArgument": 400,
        "InvalidBucketName": 400,
        "InvalidBucketState": 409,
        "InvalidDigest": 400,
        "InvalidPart": 400,
        "InvalidPartOrder": 400,
        "InvalidRange": 416,
        "InvalidRequest": 400,
        "InvalidTag": 400,
        "KeyTooLongError": 400,
        "MalformedXML": 400,
        "MethodNotAllowed": 405,
        "MissingContentLength": 411,
        "NoSuchBucketPolicy": 404,
        "NoSuchCORSConfiguration": 404,
        "NoSuchLifecycleConfiguration": 404,
        "NoSuchTagSet": 404,
        "NoSuchVersion": 404,
        "NoSuchWebsiteConfiguration": 404,
        "NotImplemented": 501,
        "NotModified": 304,
        "ObjectLockConfigurationNotFoundError": 404,
        "OwnershipControlsNotFoundError": 404,
        "PreconditionFailed": 412,
        "ReplicationConfigurationNotFoundError": 404,
        "RequestTimeTooSkewed": 403,
        "ServerSideEncryptionConfigurationNotFoundError": 404,
        "NoSuchPublicAccessBlockConfiguration": 404,
        "SignatureDoesNotMatch": 403,
        "SlowDown": 503,
        "XAmzContentSHA256Mismatch": 400,
    }

    def __init__(self, service_model: ServiceModel) -> None:
        super().__init__(service_model)
        self._plans = {}
        ns = service_model.metadata.get("xmlNamespace")
        if not ns and service_model.metadata.get("endpointPrefix") == "s3":
            ns = S3_NAMESPACE
        self.namespace = ns or ""
        self.is_s3 = service_model.metadata.get("endpointPrefix") == "s3"

    def _request_id_headers(self, request_id: str) -> list[tuple[str, str]]:
        if self.is_s3:
            return [("x-amz-request-id", request_id), ("x-amz-id-2", _host_id(request_id))]
        return [("x-amzn-RequestId", request_id)]

    def _root_ns(self, ns: Any = None) -> str:
        uri = ns.get("uri") if isinstance(ns, dict) else ns
        return f' xmlns="{uri or self.namespace}"' if (uri or self.namespace) else ""

    def _body(self, op: OperationModel, shape: StructureShape, output: dict[str, Any]) -> tuple[bytes, str]:
        if not self._xml_plan(shape).members:
            return b"", ""
        scalar = self.SCALAR_ROOTS.get(op.name)
        if scalar is not None:
            value = output.get(scalar)
            text = "" if value is None else xml_escape(_text(value))
            return (
                f"{XML_DECL}<{scalar}{self._root_ns()}>{text}</{scalar}>".encode(),
                self.DEFAULT_CONTENT_TYPE,
            )
        root = self.S3_ROOTS.get(op.name) or shape.serialization.get("name") or _strip(shape.name, "Output")
        out = [XML_DECL, self._xml_open(shape, output, root, self._root_ns())]
        self._xml_members(shape, output, out)
        out.append(f"</{root}>")
        return "".join(out).encode("utf-8"), self.DEFAULT_CONTENT_TYPE

    def _structure_payload(
        self, op: OperationModel, name: str, member: Shape, value: Any
    ) -> tuple[bytes, str]:
        ser = member.serialization
        root = ser.get("name") or name
        out = [XML_DECL, self._xml_open(member, value, root, self._root_ns(ser.get("xmlNamespace")))]
        self._xml_members(member, value, out)
        out.append(f"</{root}>")
        return "".join(out).encode("utf-8"), self.DEFAULT_CONTENT_TYPE

    def _event_body(self, shape: StructureShape, value: dict[str, Any]) -> tuple[bytes, str]:
        name = shape.serialization.get("name") or shape.name
        out = [self._xml_open(shape, value, name)]
        self._xml_members(shape, value, out)
        out.append(f"</{name}>")
        return "".join(out).encode("utf-8"), "text/xml"

    def serialize_error(self, error: AwsError, op: OperationModel | None, request_id: str) -> HttpResponse:
        shape = self._error_shape(error)
        status = self._status(error, shape)
        out = [
            XML_DECL,
            f"<Error><Code>{xml_escape(self._wire_code(error, shape))}</Code>",
            f"<Message>{xml_escape(error.message)}</Message>",
        ]
        members = shape.members if shape is not None else {}
        for name, value in error.fields.items():
            member = members.get(name)
            if value is None or name in ("Code", "Message", "RequestId", "HostId"):
                continue
            if member is None:
                out.append(f"<{name}>{xml_escape(_text(value))}</{name}>")
            elif member.serialization.get("location") not in _NON_BODY_LOCATIONS:
                self._xml_value(member, value, self._element_name(name, member), out)
        out.append(f"<RequestId>{xml_escape(request_id)}</RequestId>")
        if self.is_s3:
            out.append(f"<HostId>{_host_id(request_id)}</HostId>")
        out.append("</Error>")
        headers = self._request_id_headers(request_id) + [("Content-Type", self.DEFAULT_CONTENT_TYPE)]
        self._error_headers(error, shape, headers)
        body = b"" if status in (204, 304) else "".join(out).encode("utf-8")
        return HttpResponse(status, headers, body)

    def _status(self, error: AwsError, shape: Shape | None) -> int:
        if not error.status and shape is None and self.is_s3 and error.code in self.S3_ERROR_STATUS:
            return self.S3_ERROR_STATUS[error.code]
        return super()._status(error, shape)


EVENT_STREAM_CONTENT_TYPE = "application/vnd.amazon.eventstream"


async def _aiter(items: Any) -> AsyncIterator[Any]:
    for item in items:
        yield item


def _event_header(name: str, value: Any, shape: Shape | None) -> bytes:
    """One typed event-stream header (the types botocore's ``DecodeUtils`` reads)."""
    raw_name = name.encode("utf-8")
    kind = shape.type_name if shape is not None else "string"
    if kind == "boolean":
        encoded = bytes([0 if value else 1])
    elif kind in ("integer", "long"):
        encoded = (
            (b"\x04" + struct.pack(">i", value))
            if kind == "integer"
            else (b"\x05" + struct.pack(">q", value))
        )
    elif kind == "timestamp":
        encoded = b"\x08" + struct.pack(">q", int(_as_utc(value).timestamp() * 1000))
    elif kind == "blob":
        encoded = b"\x06" + struct.pack(">H", len(value)) + bytes(value)
    else:
        data = str(value).encode("utf-8")
        encoded = b"\x07" + struct.pack(">H", len(data)) + data
    return bytes([len(raw_name)]) + raw_name + encoded


def encode_event_message(headers: list[tuple[str, Any, Shape | None]], payload: bytes) -> bytes:
    """A ``vnd.amazon.eventstream`` message: prelude (lengths + CRC), headers, payload, CRC."""
    raw_headers = b"".join(_event_header(n, v, s) for n, v, s in headers)
    prelude = struct.pack(">II", 16 + len(raw_headers) + len(payload), len(raw_headers))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + raw_headers + payload
    return message + struct.pack(">I", zlib.crc32(message))


def _host_id(request_id: str) -> str:
    """S3's ``x-amz-id-2``: an opaque base64 token; ours is derived from the request id."""
    return base64.b64encode(request_id.encode("utf-8") * 2).decode("ascii")


def _strip(name: str, suffix: str) -> str:
    return name[: -len(suffix)] if name.endswith(suffix) and name != suffix else name


# --------------------------------------------------------------------------- factory

SERIALIZERS: dict[str, type[ResponseSerializer]] = {
    "query": QueryResponseSerializer,
    "ec2": EC2ResponseSerializer,
    "json": JSONResponseSerializer,
    "rest-json": RestJSONResponseSerializer,
    "rest-xml": RestXMLResponseSerializer,
}


def create_serializer(service_model: ServiceModel, protocol: str | None = None) -> ResponseSerializer:
    """The serializer for ``protocol`` (default: the model's own).

    A json model with ``awsQueryCompatible`` (SQS) spoken in ``query`` is rebuilt as a query
    model first (XML names, result wrappers, legacy error codes: see ``query_compat``).
    """
    protocol = protocol or service_model.protocol
    if protocol not in SERIALIZERS:
        raise ValueError(f"no response serializer for protocol {protocol!r}")
    if protocol == "query" and service_model.protocol == "json":
        service_model = query_compatible_model(service_model)
    return SERIALIZERS[protocol](service_model)
