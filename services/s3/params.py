"""Integer query parameters S3 refuses as InvalidArgument, not as the parser's MalformedXML.

The shared rest-xml parser reports any value it cannot read as MalformedXML, which is what S3
answers for a bad XML body; for ``?max-keys=abc`` S3 answers 400 InvalidArgument ("Provided
max-keys not an integer or within integer range"). The parser runs before any S3 code, and the
app's ``rewrite`` hook (which runs before it) cannot answer, so the check is split in two:
``set_aside`` (part of the rewrite) takes a bad value out of the query, so parsing succeeds, and
notes it in a private header; ``check`` (first thing in ``authorize``) raises the error.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from urllib.parse import parse_qsl, urlencode

from shared.aws.http import Headers, HttpRequest
from shared.aws.models import service_model
from shared.context import RequestContext

from . import errors

MARK = "x-flotilla-s3-invalid-integer"  # private: set by set_aside, dropped if a client sends it
INT32_MAX = 2**31 - 1


@cache
def integer_params() -> frozenset[str]:
    """The query parameters S3's model types as integers (max-keys, max-parts, partNumber...)."""
    model = service_model("s3")
    return frozenset(
        member.serialization["name"]
        for name in model.operation_names
        if (shape := model.operation_model(name).input_shape) is not None
        for member in shape.members.values()
        if member.serialization.get("location") == "querystring" and member.type_name in ("integer", "long")
    )


def _is_int32(text: str) -> bool:
    stripped = text.strip()
    digits = stripped.removeprefix("-")
    return digits.isdigit() and -INT32_MAX - 1 <= int(stripped) <= INT32_MAX


def set_aside(req: HttpRequest) -> HttpRequest:
    """The request without integer query parameters that are not 32-bit integers (the first one
    noted under ``MARK``); the request itself when all are good, as nearly always."""
    names = integer_params()
    bad = [(k, v) for k, v in req.query if k in names and not _is_int32(v)]
    if not bad and MARK not in req.headers:
        return req
    headers = Headers((k, v) for k, v in req.headers.items() if k.lower() != MARK)
    if bad:
        headers.add(MARK, urlencode(bad[:1]))
    query = [(k, v) for k, v in req.query if (k, v) not in bad]
    return dataclasses.replace(req, query=query, headers=headers)


def check(ctx: RequestContext) -> None:
    """Raise InvalidArgument for the integer parameter ``set_aside`` took out, if any."""
    noted = ctx.request.headers.get(MARK) if ctx.request is not None else None
    if noted:
        name, value = parse_qsl(noted, keep_blank_values=True)[0]
        raise errors.invalid_argument(f"Provided {name} not an integer or within integer range", name, value)
