"""Request parsers: one class per protocol, driven by botocore's service models.

    parser = create_parser(service_model("s3"))
    op = parser.operation_for(request)       # which operation the request calls
    params = parser.parse(op, request)       # a dict shaped as op.input_shape

The result is what a botocore client was given before it serialized the request: member
names of the model (never wire names), ``datetime`` (UTC, aware) for timestamps, ``bytes`` for
blobs, and for a streaming payload the request's async iterator of body chunks, untouched.

Classes::

    RequestParser
    ├── QueryRequestParser (query)      form / query string: Foo.member.1, Attr.entry.1.key
    │   └── EC2RequestParser (ec2)      Foo.1, queryName / capitalised locationName
    ├── JSONRequestParser (json)        X-Amz-Target names the operation, JSON body
    └── BaseRestRequestParser           method + URI template pick the operation;
        ├── RestJSONRequestParser       labels, querystring, headers, payload
        └── RestXMLRequestParser

Scalars are decoded by per-type functions (``_scalar_<type>``), shared by every location.

A value that does not fit its shape is a ``ParseError``, answered as the protocol's bad-input
error; one sent in a header, the query string or a URI label is a ``BadValue`` (which says where),
because protocols answer those apart from a bad body (S3: InvalidArgument, not MalformedXML). A
service may answer it its own way through the parser's ``bad_value`` hook.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, unquote
from xml.etree import ElementTree

from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape

from shared.aws.errors import AwsError
from shared.aws.http import HttpRequest

from .query_compat import query_compatible_model

_NON_BODY = frozenset(("uri", "querystring", "header", "headers", "statusCode"))


# --------------------------------------------------------------------------- scalars


class ParseError(ValueError):
    """A value that does not fit its shape; each parser turns it into its protocol's error."""


class MissingMember(ParseError):
    """A required member of a nested structure is absent; ``path`` names it as AWS does."""

    def __init__(self, path: str) -> None:
        super().__init__(f"missing required member {path}")
        self.path = path


class BadValue(ParseError):
    """A header, query-string or URI-label value that cannot be read as its member's type
    (32-bit integers included). ``location`` is the model's (``header``, ``querystring``,
    ``uri``), ``name`` the wire name, ``value`` the text as sent, ``type_name`` the member's type;
    ``str()`` is the reason, as for any ParseError."""

    def __init__(self, location: str, name: str, value: str, type_name: str, reason: str) -> None:
        super().__init__(reason)
        self.location = location
        self.name = name
        self.value = value
        self.type_name = type_name


BadValueMapper = Callable[[BadValue], AwsError | None]


def _join(path: str, name: str) -> str:
    name = name[:1].lower() + name[1:]
    return f"{path}.{name}" if path else name


def parse_timestamp(value: Any) -> datetime:
    """Any of AWS's timestamp forms (epoch seconds, ISO 8601, RFC 822) as an aware UTC datetime."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    text = str(value).strip()
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError) as exc:
            raise ParseError(f"invalid timestamp {text!r}") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _scalar_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return text == "true"
    raise ParseError(f"invalid boolean {value!r}")


def _scalar_integer(value: Any) -> int:
    if isinstance(value, bool):
        raise ParseError(f"invalid integer {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        return int(str(value).strip())
    except ValueError as exc:
        raise ParseError(f"invalid integer {value!r}") from exc


def _scalar_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ParseError(f"invalid number {value!r}")
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    special = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
    if text in special:
        return special[text]
    try:
        return float(text)
    except ValueError as exc:
        raise ParseError(f"invalid number {value!r}") from exc


def _scalar_blob(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ParseError(f"invalid base64 value {str(value)[:40]!r}") from exc


def _scalar_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise ParseError(f"expected a string, got {type(value).__name__}")


_SCALARS: dict[str, Callable[[Any], Any]] = {
    "string": _scalar_string,
    "boolean": _scalar_boolean,
    "integer": _scalar_integer,
    "long": _scalar_integer,
    "float": _scalar_float,
    "double": _scalar_float,
    "timestamp": parse_timestamp,
    "blob": _scalar_blob,
}


_INT_RANGES = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}


def _in_range(shape: Shape, value: Any) -> Any:
    """``value`` when it fits ``shape``'s integer width (servers read these as Java int / long)."""
    bounds = _INT_RANGES.get(shape.type_name)
    if bounds is not None and not bounds[0] <= value <= bounds[1]:
        raise ParseError(f"{value} is out of range for a {shape.type_name}")
    return value


def scalar(shape: Shape, value: Any) -> Any:
    """Decode one scalar written as text (or a JSON scalar) for ``shape``."""
    return _SCALARS[shape.type_name](value)


def _missing_required(shape: StructureShape, params: dict[str, Any]) -> list[str]:
    return [name for name in shape.required_members if params.get(name) is None]


# --------------------------------------------------------------------------- base


class RequestParser:
    protocol = ""
    # the service's answer to a BadValue; None (or a None answer) keeps the protocol's
    bad_value: BadValueMapper | None = None

    def __init__(self, model: ServiceModel) -> None:
        self.model = model

    def operation_for(self, req: HttpRequest) -> OperationModel:
        raise NotImplementedError

    def parse(self, op: OperationModel, req: HttpRequest) -> dict[str, Any]:
        shape = op.input_shape
        if shape is None:
            return {}
        try:
            params = self._parse(op, shape, req)
        except MissingMember as exc:
            raise self._missing_nested(exc.path) from exc
        except BadValue as exc:
            mapped = self.bad_value(exc) if self.bad_value is not None else None
            raise (mapped or self._bad_value(exc)) from exc
        except ParseError as exc:
            raise self._bad_input(str(exc)) from exc
        except RecursionError as exc:
            raise self._bad_input("the request is nested too deeply") from exc
        missing = _missing_required(shape, params)
        if missing:
            raise self._missing(shape, missing)
        return params

    def _parse(self, op: OperationModel, shape: StructureShape, req: HttpRequest) -> dict[str, Any]:
        raise NotImplementedError

    def _bad_input(self, message: str) -> AwsError:
        return AwsError("SerializationException", message, 400)

    def _bad_value(self, exc: BadValue) -> AwsError:
        """The protocol's answer to an unreadable header, query or URI value: by default the same
        as to a bad body."""
        return self._bad_input(str(exc))

    def _missing_nested(self, path: str) -> AwsError:
        """A required member of a nested structure is absent (``path`` as AWS writes it)."""
        return AwsError(
            "ValidationException",
            f"1 validation error detected: Value null at '{path}' failed to satisfy constraint: "
            "Member must not be null",
            400,
        )

    def _missing(self, shape: StructureShape, names: list[str]) -> AwsError:
        """AWS's validation wording for absent required members (botocore never sends these)."""
        parts = [
            f"Value null at '{n[:1].lower() + n[1:]}' failed to satisfy constraint: Member must not be null"
            for n in names
        ]
        count = f"{len(parts)} validation error{'s' if len(parts) > 1 else ''} detected: "
        return AwsError("ValidationException", count + "; ".join(parts), 400)


# --------------------------------------------------------------------------- query & ec2


def _tree(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """``Foo.member.1.Bar=x`` pairs as a nested dict; a node's own value sits under ``""``."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        node = root
        for part in key.split("."):
            node = node.setdefault(part, {})
        node[""] = value
    return root


def _indexed(node: dict[str, Any]) -> list[dict[str, Any]]:
    """The children of ``node`` numbered 1, 2, 3 ... in order (gaps end the list)."""
    numbered = sorted((int(k), v) for k, v in node.items() if k.isdigit())
    return [v for _, v in numbered]


class QueryRequestParser(RequestParser):
    """AWS's query protocol: ``Action``/``Version`` and flat dotted names, in the query
    string or an urlencoded form body."""

    protocol = "query"

    def __init__(self, model: ServiceModel) -> None:
        if model.protocol == "json":  # SQS and other query-compatible json services
            model = query_compatible_model(model)
        super().__init__(model)

    def _pairs(self, req: HttpRequest) -> list[tuple[str, str]]:
        pairs = list(req.query)
        ctype = req.headers.get("content-type", "") or ""
        if req.body and (not ctype or ctype.startswith("application/x-www-form-urlencoded")):
            try:
                text = req.body.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise AwsError("MalformedQueryString", "The request body is not valid UTF-8.", 400) from exc
            pairs.extend(parse_qsl(text, keep_blank_values=True))
        return pairs

    def operation_for(self, req: HttpRequest) -> OperationModel:
        action = None
        for key, value in self._pairs(req):
            if key == "Action":
                action = value
        if not action:
            raise AwsError("MissingAction", "The request must contain the parameter Action.", 400)
        if action not in self.model.operation_names:
            raise AwsError("InvalidAction", f"The action {action} is not valid for this web service.", 400)
        return self.model.operation_model(action)

    def _parse(self, op: OperationModel, shape: StructureShape, req: HttpRequest) -> dict[str, Any]:
        tree = _tree(self._pairs(req))
        return self._structure(shape, tree)

    def _bad_input(self, message: str) -> AwsError:
        return AwsError("InvalidParameterValue", message, 400)

    def _missing(self, shape: StructureShape, names: list[str]) -> AwsError:
        wire = self._member_name(shape.members[names[0]], names[0])
        return AwsError("MissingParameter", f"The request must contain the parameter {wire}", 400)

    # per-shape dispatch

    def _member_name(self, member: Shape, name: str) -> str:
        return member.serialization.get("name", name)

    def _value(self, shape: Shape, node: dict[str, Any]) -> Any:
        kind = shape.type_name
        if kind == "structure":
            return self._structure(shape, node)
        if kind == "list":
            return self._list(shape, node)
        if kind == "map":
            return self._map(shape, node)
        if "" not in node:
            raise ParseError(f"expected a value for a {kind}")
        return scalar(shape, node[""])

    def _structure(self, shape: StructureShape, node: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            child = node.get(self._child_key(member, name))
            if child is None:
                continue
            value = self._value(member, child)
            if value is not None:
                out[name] = value
        return out

    def _child_key(self, member: Shape, name: str) -> str:
        if member.type_name == "list" and member.serialization.get("flattened"):
            item_name = member.member.serialization.get("name")
            if item_name:
                return item_name
        return self._member_name(member, name)

    def _list(self, shape: ListShape, node: dict[str, Any]) -> list[Any]:
        if not shape.serialization.get("flattened"):
            node = node.get(shape.member.serialization.get("name", "member"), {})
        return [self._value(shape.member, item) for item in _indexed(node)]

    def _map(self, shape: MapShape, node: dict[str, Any]) -> dict[str, Any]:
        if not shape.serialization.get("flattened"):
            node = node.get("entry", {})
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        out: dict[str, Any] = {}
        for entry in _indexed(node):
            if key_name in entry and "" in entry[key_name]:
                value = entry.get(value_name)
                out[entry[key_name][""]] = self._value(shape.value, value) if value is not None else None
        return out


class EC2RequestParser(QueryRequestParser):
    """EC2's variant: lists are always ``Name.N`` and names come from ``queryName``."""

    protocol = "ec2"

    def _member_name(self, member: Shape, name: str) -> str:
        if "queryName" in member.serialization:
            return member.serialization["queryName"]
        if "name" in member.serialization:
            wire = member.serialization["name"]
            return wire[:1].upper() + wire[1:]
        return name

    def _child_key(self, member: Shape, name: str) -> str:
        return self._member_name(member, name)

    def _list(self, shape: ListShape, node: dict[str, Any]) -> list[Any]:
        return [self._value(shape.member, item) for item in _indexed(node)]


# --------------------------------------------------------------------------- JSON bodies


class JsonValueMixin:
    """Reads a decoded JSON document into model members (names, blobs, timestamps)."""

    def _json(self, shape: Shape, value: Any, path: str = "") -> Any:
        """``value`` read as ``shape``; ``path`` is where it sits (``transactItems.1.member.get``),
        for the error a missing required member gets (the top level is checked by ``parse``)."""
        if value is None:
            return None
        kind = shape.type_name
        if kind == "structure":
            if shape.is_document_type:
                return value
            if not isinstance(value, dict):
                raise ParseError(f"expected an object for {shape.name}")
            out = {}
            for name, member in shape.members.items():
                wire = member.serialization.get("name", name)
                if wire in value and value[wire] is not None:
                    out[name] = self._json(member, value[wire], _join(path, name))
            if path:
                missing = _missing_required(shape, out)
                if missing:
                    raise MissingMember(_join(path, missing[0]))
            return out
        if kind == "list":
            if not isinstance(value, list):
                raise ParseError(f"expected a list for {shape.name}")
            return [
                self._json_element(shape.member, item, f"{path}.{i}.member")
                for i, item in enumerate(value, 1)
            ]
        if kind == "map":
            if not isinstance(value, dict):
                raise ParseError(f"expected a map for {shape.name}")
            return {k: self._json_element(shape.value, v, f"{path}.{k}") for k, v in value.items()}
        if kind in ("float", "double") and isinstance(value, float) and not math.isfinite(value):
            raise ParseError("numbers must be finite (write NaN and infinities as strings)")
        return scalar(shape, value)

    def _json_element(self, shape: Shape, value: Any, path: str) -> Any:
        """A list element or map value: ``null`` is not a value there."""
        if value is None:
            raise MissingMember(path)
        return self._json(shape, value, path)

    @staticmethod
    def _load_json(body: bytes) -> Any:
        if not body.strip():
            return {}
        try:
            document = json.loads(body)
            if b"\\u" in body:  # escapes may spell lone surrogates, which are not text
                json.dumps(document, ensure_ascii=False).encode("utf-8")
            return document
        except (ValueError, UnicodeError) as exc:
            raise ParseError("the request body is not valid JSON") from exc


class JSONRequestParser(JsonValueMixin, RequestParser):
    """AWS's json protocol: ``X-Amz-Target: <targetPrefix>.<Operation>`` and a JSON body."""

    protocol = "json"

    def operation_for(self, req: HttpRequest) -> OperationModel:
        target = req.headers.get("x-amz-target") or ""
        prefix, _, name = target.rpartition(".")
        if not target or prefix != self.model.metadata.get("targetPrefix"):
            raise AwsError("UnknownOperationException", f"Unknown target {target!r}.", 400)
        if name not in self.model.operation_names:
            raise AwsError("UnknownOperationException", f"Unknown operation {name}.", 400)
        return self.model.operation_model(name)

    def _parse(self, op: OperationModel, shape: StructureShape, req: HttpRequest) -> dict[str, Any]:
        document = self._load_json(req.body)
        if not isinstance(document, dict):
            raise ParseError("the request body must be a JSON object")
        return self._json(shape, document)

    def _missing(self, shape: StructureShape, names: list[str]) -> AwsError:
        if self.model.metadata.get("awsQueryCompatible") is not None:
            wire = shape.members[names[0]].serialization.get("name", names[0])
            return AwsError("MissingParameter", f"The request must contain the parameter {wire}.", 400)
        return super()._missing(shape, names)

    def _missing_nested(self, path: str) -> AwsError:
        if self.model.metadata.get("awsQueryCompatible") is not None:
            return AwsError("MissingParameter", f"The request must contain the parameter {path}.", 400)
        return super()._missing_nested(path)


# --------------------------------------------------------------------------- rest


_LABEL = re.compile(r"\{([^}]+)\}")


class _Route:
    """One operation's ``requestUri``, compiled: a path regex and the query it requires."""

    def __init__(self, op: OperationModel) -> None:
        self.op = op
        self.method = op.http["method"].upper()
        path, _, query = op.http["requestUri"].partition("?")
        self.labels: list[tuple[str, bool]] = []
        pattern = ""
        pos = 0
        for match in _LABEL.finditer(path):
            pattern += re.escape(path[pos : match.start()])
            name = match.group(1)
            greedy = name.endswith("+")
            name = name.rstrip("+")
            self.labels.append((name, greedy))
            pattern += f"(?P<{_group(name)}>.+)" if greedy else f"(?P<{_group(name)}>[^/]+)"
            pos = match.end()
        pattern += re.escape(path[pos:])
        if pattern != "/":  # a trailing slash is optional
            pattern = pattern.rstrip("/") + "/?"
        self.regex = re.compile(pattern + r"\Z")
        self.required: dict[str, str | None] = {}  # literal query keys (value None: any)
        for part in filter(None, query.split("&")):
            key, eq, value = part.partition("=")
            self.required[key] = value if eq else None
        # x-id names the operation for SDKs; it is not sent by browsers or presigned URLs
        self.optional_id = self.required.pop("x-id", None)
        self.literal_chars = len(_LABEL.sub("", path))
        self.required_headers = _required_members(op, "header", str.lower)
        for key in _required_members(op, "querystring"):
            self.required.setdefault(key, None)

    def match(self, path: str, query: dict[str, str], headers: Any) -> tuple | None:
        m = self.regex.match(path)
        if m is None:
            return None
        for key, value in self.required.items():
            if key not in query or (value is not None and query[key] != value):
                return None
        x_id = query.get("x-id")
        if x_id is not None and self.optional_id is not None and x_id != self.optional_id:
            return None
        if any(h not in headers for h in self.required_headers):
            return None
        # deprecated operations share their successor's URI (S3's GetBucketLifecycle)
        score = (
            x_id is not None and x_id == self.optional_id,
            len(self.required),
            self.literal_chars,
            len(self.required_headers),
            not self.op.deprecated,
        )
        return score, m


def _group(name: str) -> str:
    return "L_" + re.sub(r"\W", "_", name)


def _required_members(op: OperationModel, location: str, case: Callable[[str], str] = str) -> tuple[str, ...]:
    """Wire names of the required members at ``location``: a request without them is not
    this operation (S3's AbortMultipartUpload needs ``uploadId``, CopyObject a copy source)."""
    shape = op.input_shape
    if shape is None:
        return ()
    members = (shape.members[name] for name in shape.required_members)
    return tuple(
        case(m.serialization["name"]) for m in members if m.serialization.get("location") == location
    )


class _RestPlan:
    """Where each member of a rest input shape travels, worked out once per shape."""

    def __init__(self, shape: StructureShape) -> None:
        self.labels: list[tuple[str, Shape, str]] = []
        self.query: list[tuple[str, Shape, str]] = []
        self.headers: list[tuple[str, Shape, str]] = []
        self.prefixed: list[tuple[str, Shape, str]] = []
        self.payload: str | None = shape.serialization.get("payload")
        self.has_body = False
        by_location = {"uri": self.labels, "querystring": self.query, "header": self.headers}
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            wire = member.serialization.get("name", name)
            if location in by_location:
                by_location[location].append((name, member, wire))
            elif location == "headers":
                self.prefixed.append((name, member, wire))
            elif location is None and name != self.payload:
                self.has_body = True
        self.bound = {wire for _, member, wire in self.query if member.type_name != "map"}


class BaseRestRequestParser(RequestParser):
    """Rest protocols: the method and URI template pick the operation; members come from
    URI labels, the query string, headers and the body (a payload member or the body document)."""

    def __init__(self, model: ServiceModel) -> None:
        super().__init__(model)
        # method -> [(query keys a route requires, its routes)]: a request is matched only
        # against routes whose required keys it has (S3 has 40 GET routes, most need a key)
        by_keys: dict[str, dict[frozenset[str], list[_Route]]] = {}
        for name in model.operation_names:
            route = _Route(model.operation_model(name))
            by_keys.setdefault(route.method, {}).setdefault(frozenset(route.required), []).append(route)
        self.routes = {method: list(groups.items()) for method, groups in by_keys.items()}
        self._plans: dict[str, _RestPlan] = {}
        self._last: tuple[HttpRequest, OperationModel, dict[str, str]] | None = None

    def operation_for(self, req: HttpRequest) -> OperationModel:
        op, _ = self._match(req)
        return op

    def _match(self, req: HttpRequest) -> tuple[OperationModel, dict[str, str]]:
        """The best route for the request (most required query keys, then most literal path),
        remembered for the request so that ``parse`` does not match again."""
        last = self._last
        if last is not None and last[0] is req:
            return last[1], last[2]
        query = req.query_dict()
        methods = ("HEAD", "GET") if req.method == "HEAD" else (req.method,)
        best = None
        keys = query.keys()
        for method in methods:
            for required, routes in self.routes.get(method, ()):
                if not required <= keys:
                    continue
                for route in routes:
                    found = route.match(req.path, query, req.headers)
                    if found is not None and (best is None or found[0] > best[0]):
                        best = (found[0], route, found[1])
            if best is not None:
                break
        if best is None:
            raise self._no_route(req)
        _, route, m = best
        labels = {name: m.group(_group(name)) for name, _ in route.labels}
        self._last = (req, route.op, labels)
        return route.op, labels

    def _no_route(self, req: HttpRequest) -> AwsError:
        return AwsError("UnknownOperationException", f"No operation matches {req.method} {req.path}.", 404)

    def _parse(self, op: OperationModel, shape: StructureShape, req: HttpRequest) -> dict[str, Any]:
        _, labels = self._match(req)
        plan = self._plans.get(shape.name) or self._plans.setdefault(shape.name, _RestPlan(shape))
        out: dict[str, Any] = {}
        for name, member, wire in plan.labels:
            raw = labels.get(wire)
            if raw is not None:
                out[name] = self._located("uri", wire, unquote(raw), member, self._text)
        if req.query:
            for name, member, wire in plan.query:
                value = self._querystring(member, wire, req, plan.bound)
                if value is not None:
                    out[name] = value
        for name, member, wire in plan.headers:
            raw = req.headers.get(wire)
            if raw is not None:
                out[name] = self._located("header", wire, raw, member, self._header)
        for name, member, prefix in plan.prefixed:
            value = self._prefixed_headers(member, prefix, req)
            if value is not None:
                out[name] = value
        if plan.payload is not None:
            value = self._payload(op, shape.members[plan.payload], req)
            if value is not None:
                out[plan.payload] = value
        elif plan.has_body:
            out.update(self._body(shape, req.body))
        return out

    # locations

    @staticmethod
    def _located(location: str, wire: str, raw: str, member: Shape, read: Callable[[Shape, str], Any]) -> Any:
        """``read(member, raw)`` for a value sent in ``location``: one that does not fit is a
        BadValue saying where it was."""
        try:
            return _in_range(member, read(member, raw))
        except ParseError as exc:
            raise BadValue(location, wire, raw, member.type_name, str(exc)) from exc

    def _text(self, shape: Shape, text: str) -> Any:
        """A label, query or header value written as text."""
        if shape.type_name == "timestamp":
            return parse_timestamp(text)
        if shape.type_name == "blob":
            return _scalar_blob(text)
        if shape.type_name == "string":
            return text
        return scalar(shape, text)

    def _querystring(self, member: Shape, wire: str, req: HttpRequest, bound: set[str]) -> Any:
        if member.type_name == "map":
            return self._query_map(member, req, bound)
        values = [v for k, v in req.query if k == wire]
        if not values:
            return None
        if member.type_name == "list":
            return [self._located("querystring", wire, v, member.member, self._text) for v in values]
        return self._located("querystring", wire, values[0], member, self._text)

    def _query_map(self, shape: MapShape, req: HttpRequest, bound: set[str]) -> dict[str, Any] | None:
        """A querystring map takes every parameter no other member names."""
        out: dict[str, Any] = {}
        for key, value in req.query:
            if key in bound or key == "x-id":
                continue
            if shape.value.type_name == "list":
                out.setdefault(key, []).append(
                    self._located("querystring", key, value, shape.value.member, self._text)
                )
            else:
                out.setdefault(key, self._located("querystring", key, value, shape.value, self._text))
        return out or None

    def _header(self, member: Shape, raw: str) -> Any:
        raw = raw.strip()
        if member.type_name == "list":
            return [self._text(member.member, item) for item in _split_header_list(raw)]
        if member.type_name == "string" and member.serialization.get("jsonvalue"):
            try:
                return json.loads(base64.b64decode(raw))
            except (ValueError, binascii.Error) as exc:
                raise ParseError(f"header value {raw[:40]!r} is not base64-encoded JSON") from exc
        return self._text(member, _decode_rfc2047(raw))

    def _prefixed_headers(self, member: MapShape, prefix: str, req: HttpRequest) -> dict[str, str] | None:
        prefix = prefix.lower()
        out = {
            name[len(prefix) :]: _decode_rfc2047(value.strip())
            for name, value in req.headers.lower_items()
            if name.startswith(prefix)
        }
        return out or None

    def _payload(self, op: OperationModel, member: Shape, req: HttpRequest) -> Any:
        if member.type_name in ("blob", "string"):
            if req.stream is not None:
                return req.stream
            if not req.body:
                return None
            if member.type_name == "string":
                return req.body.decode("utf-8", errors="replace")
            return req.body
        if not req.body.strip():
            return None
        return self._payload_structure(member, req.body)

    def _body(self, shape: StructureShape, body: bytes) -> dict[str, Any]:
        raise NotImplementedError

    def _payload_structure(self, member: Shape, body: bytes) -> Any:
        raise NotImplementedError


def _split_header_list(raw: str) -> list[str]:
    """A comma-separated header list; items may be double-quoted (and then hold commas)."""
    items: list[str] = []
    for match in re.finditer(r'\s*("(?:[^"\\]|\\.)*"|[^,]*)\s*(?:,|$)', raw):
        item = match.group(1)
        if item.startswith('"') and item.endswith('"') and len(item) >= 2:
            item = re.sub(r"\\(.)", r"\1", item[1:-1])
        if match.group(0) or item:
            items.append(item.strip() if not match.group(1).startswith('"') else item)
        if match.end() >= len(raw):
            break
    return [i for i in items if i != ""] if raw else []


_RFC2047 = re.compile(r"=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=", re.IGNORECASE)


def _decode_rfc2047(value: str) -> str:
    """S3 and botocore send non-ASCII header values as RFC 2047 encoded words."""
    if "=?" not in value:
        return value
    try:
        return _RFC2047.sub(lambda m: base64.b64decode(m.group(1)).decode("utf-8"), value)
    except (binascii.Error, UnicodeDecodeError):
        return value


class RestJSONRequestParser(JsonValueMixin, BaseRestRequestParser):
    protocol = "rest-json"

    def _body(self, shape: StructureShape, body: bytes) -> dict[str, Any]:
        document = self._load_json(body)
        if not isinstance(document, dict):
            raise ParseError("the request body must be a JSON object")
        body_members = {
            n for n, m in shape.members.items() if m.serialization.get("location") not in _NON_BODY
        }
        parsed = self._json(shape, document)
        return {k: v for k, v in parsed.items() if k in body_members}

    def _payload_structure(self, member: Shape, body: bytes) -> Any:
        return self._json(member, self._load_json(body))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


class RestXMLRequestParser(BaseRestRequestParser):
    protocol = "rest-xml"

    def _bad_input(self, message: str) -> AwsError:
        return AwsError(
            "MalformedXML",
            f"The XML you provided was not well-formed or did not validate against our published schema: "
            f"{message}",
            400,
        )

    def _bad_value(self, exc: BadValue) -> AwsError:
        """S3 answers InvalidArgument naming the argument; MalformedXML is only for bodies."""
        where = {"header": "header", "querystring": "query parameter", "uri": "path segment"}
        return AwsError(
            "InvalidArgument",
            f"Invalid value for {where.get(exc.location, exc.location)} {exc.name}: {exc}",
            400,
            fields={"ArgumentName": exc.name, "ArgumentValue": exc.value},
        )

    def _missing(self, shape: StructureShape, names: list[str]) -> AwsError:
        return AwsError("InvalidRequest", f"Missing required parameter: {names[0]}", 400)

    def _no_route(self, req: HttpRequest) -> AwsError:
        return AwsError("MethodNotAllowed", "The specified method is not allowed against this resource.", 405)

    def _root(self, body: bytes) -> ElementTree.Element:
        try:
            return ElementTree.fromstring(body)
        except ElementTree.ParseError as exc:
            raise ParseError(str(exc)) from exc

    def _body(self, shape: StructureShape, body: bytes) -> dict[str, Any]:
        if not body.strip():
            return {}
        parsed = self._xml_structure(shape, self._root(body))
        return {
            k: v for k, v in parsed.items() if shape.members[k].serialization.get("location") not in _NON_BODY
        }

    def _payload_structure(self, member: Shape, body: bytes) -> Any:
        return self._xml(member, self._root(body))

    # per-shape dispatch

    def _xml(self, shape: Shape, node: ElementTree.Element) -> Any:
        kind = shape.type_name
        if kind == "structure":
            value = self._xml_structure(shape, node)
            missing = _missing_required(shape, value)
            if missing:  # S3 validates documents against its schema
                raise ParseError(f"element {missing[0]} is missing from {_local(node.tag)}")
            return value
        if kind == "list":
            return self._xml_list(shape, list(node))
        if kind == "map":
            return self._xml_map(shape, list(node))
        return self._text(shape, node.text or "")

    def _xml_structure(self, shape: StructureShape, node: ElementTree.Element) -> dict[str, Any]:
        children: dict[str, list[ElementTree.Element]] = {}
        for child in node:
            children.setdefault(_local(child.tag), []).append(child)
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            wire = member.serialization.get("name", name)
            if member.serialization.get("xmlAttribute"):
                value = _xml_attribute(node, wire)
                if value is not None:
                    out[name] = self._text(member, value)
                continue
            if member.serialization.get("flattened") and member.type_name == "list":
                found = children.get(member.member.serialization.get("name", wire)) or children.get(wire)
                if found:
                    out[name] = self._xml_list(member, found)
                continue
            if member.serialization.get("flattened") and member.type_name == "map":
                if wire in children:
                    out[name] = self._xml_map(member, children[wire])
                continue
            if wire in children:
                out[name] = self._xml(member, children[wire][0])
        return out

    def _xml_list(self, shape: ListShape, items: list[ElementTree.Element]) -> list[Any]:
        return [self._xml(shape.member, item) for item in items]

    def _xml_map(self, shape: MapShape, entries: list[ElementTree.Element]) -> dict[str, Any]:
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        out: dict[str, Any] = {}
        for entry in entries:
            parts = {_local(c.tag): c for c in entry}
            if key_name in parts:
                value = parts.get(value_name)
                out[parts[key_name].text or ""] = None if value is None else self._xml(shape.value, value)
        return out


def _xml_attribute(node: ElementTree.Element, wire: str) -> str | None:
    if ":" in wire:
        prefix, local = wire.split(":", 1)
        if prefix == "xsi":
            return node.get(f"{{http://www.w3.org/2001/XMLSchema-instance}}{local}")
        return node.get(local)
    return node.get(wire)


# --------------------------------------------------------------------------- factory

_PARSERS: dict[str, type[RequestParser]] = {
    "query": QueryRequestParser,
    "ec2": EC2RequestParser,
    "json": JSONRequestParser,
    "rest-json": RestJSONRequestParser,
    "rest-xml": RestXMLRequestParser,
}


def create_parser(
    model: ServiceModel, protocol: str | None = None, *, bad_value: BadValueMapper | None = None
) -> RequestParser:
    """The parser for ``protocol`` (the model's own by default); ``bad_value`` lets the service
    answer an unreadable header, query or URI value its own way."""
    protocol = protocol or model.protocol
    try:
        parser = _PARSERS[protocol](model)
    except KeyError:
        raise ValueError(f"no request parser for protocol {protocol!r}") from None
    parser.bad_value = bad_value
    return parser
