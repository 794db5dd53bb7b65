"""CORS, enforced from the bucket's CORS configuration as S3 enforces it.

Two places:

* a **preflight** (``OPTIONS /<bucket>/<key>``, no model operation) is answered here: 200 with
  the ``Access-Control-*`` headers of the first rule that allows the origin, the requested
  method and every requested header, else 403 ``AccessForbidden`` ("CORSResponse: ...");
* an **actual request** with an ``Origin`` header gets the same headers added to whatever it
  answers (success or error) by :func:`add_cors_headers`, the service's response hook; when no
  rule matches it gets none, and the browser refuses to show the response.

Rules are tried in order; the first that matches wins. An allowed origin or header may carry
one ``*`` standing for any run of characters (``http://*.example.com``); headers match without
regard to case, origins exactly.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from shared.aws.errors import AwsError
from shared.aws.http import HttpRequest, HttpResponse
from shared.context import RequestContext
from shared.handlers import Handlers

from .bucket_config import bucket_config
from .storage import S3Store
from .website import response_ids, website_bucket

handles = Handlers("s3")

PREFLIGHT = "CorsPreflight"
VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
NOT_ALLOWED = (
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, "
    "request method / Access-Control-Request-Method or Access-Control-Request-Headers are not "
    "whitelisted by the resource's CORS spec."
)
NOT_ENABLED = "CORSResponse: CORS is not enabled for this bucket."
PREFLIGHT_METHODS = ("GET", "PUT", "POST", "DELETE", "HEAD")


# -- matching -----------------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def _pattern(allowed: str, ignore_case: bool) -> re.Pattern[str]:
    """``http://*.example.com`` -> a regex where ``*`` is any run of characters (also none)."""
    body = ".*".join(re.escape(part) for part in allowed.split("*"))
    return re.compile(body, re.IGNORECASE if ignore_case else 0)


def _allowed(value: str, patterns: Sequence[str], ignore_case: bool = False) -> bool:
    return any(_pattern(p, ignore_case).fullmatch(value) for p in patterns)


def requested_headers(value: str | None) -> list[str]:
    """``Access-Control-Request-Headers: X-Amz-Date, content-type`` -> lowercase names."""
    return [h.strip().lower() for h in (value or "").split(",") if h.strip()]


def match_rule(
    rules: Sequence[dict[str, Any]], origin: str, method: str, headers: Sequence[str] = ()
) -> dict[str, Any] | None:
    """The first rule allowing ``origin``, ``method`` and every one of ``headers``, or None."""
    for rule in rules:
        if method not in rule.get("AllowedMethods", ()):
            continue
        if not _allowed(origin, rule.get("AllowedOrigins", ())):
            continue
        allowed_headers = rule.get("AllowedHeaders") or ()
        if all(_allowed(h, allowed_headers, ignore_case=True) for h in headers):
            return rule
    return None


def rule_headers(rule: dict[str, Any], origin: str, headers: Sequence[str] = ()) -> list[tuple[str, str]]:
    """The response headers S3 sends for a matched rule.

    A rule that allows every origin (``*``) answers ``*`` and no credentials; any other echoes
    the origin and allows credentials, as S3 does.
    """
    wildcard = "*" in rule.get("AllowedOrigins", ())
    out = [("Access-Control-Allow-Origin", "*" if wildcard else origin)]
    if not wildcard:
        out.append(("Access-Control-Allow-Credentials", "true"))
    out.append(("Access-Control-Allow-Methods", ", ".join(rule["AllowedMethods"])))
    if headers:
        out.append(("Access-Control-Allow-Headers", ", ".join(headers)))
    if rule.get("ExposeHeaders"):
        out.append(("Access-Control-Expose-Headers", ", ".join(rule["ExposeHeaders"])))
    if rule.get("MaxAgeSeconds") is not None:
        out.append(("Access-Control-Max-Age", str(rule["MaxAgeSeconds"])))
    out.append(("Vary", VARY))
    return out


# -- which bucket a request is for ----------------------------------------------------------------


def bucket_name(req: HttpRequest) -> str | None:
    """The bucket of a (virtual-host rewritten) request: the website host's, else the path's first segment."""
    website = website_bucket(req.host)
    if website is not None:
        return website
    first = req.path.lstrip("/").split("/", 1)[0]
    return unquote(first) or None


def _rules(ctx: RequestContext, name: str | None) -> tuple[bool, list[dict[str, Any]] | None]:
    """Whether the bucket exists, and its CORS rules (None: not configured)."""
    store: S3Store | None = ctx.state
    bucket = store.bucket(name) if store is not None and name else None
    if bucket is None:
        return False, None
    conf = bucket_config(ctx, bucket, "cors")
    return True, conf.get("CORSRules") if conf else None


# -- the preflight ------------------------------------------------------------------------------


def is_preflight(req: HttpRequest) -> bool:
    return req.method == "OPTIONS"


@handles(PREFLIGHT)
async def preflight(ctx: RequestContext, _req: dict[str, Any]) -> HttpResponse:
    request = ctx.request
    assert request is not None
    origin = request.headers.get("origin")
    if not origin:
        raise AwsError("BadRequest", "Insufficient information. Origin request header needed.", 400)
    method = request.headers.get("access-control-request-method")
    if method not in PREFLIGHT_METHODS:
        raise AwsError("BadRequest", f"Invalid Access-Control-Request-Method: {method or 'null'}", 400)
    exists, rules = _rules(ctx, bucket_name(request))
    if not rules:
        raise _forbidden(NOT_ENABLED if exists else "CORSResponse: Bucket not found", method, "BUCKET")
    headers = requested_headers(request.headers.get("access-control-request-headers"))
    rule = match_rule(rules, origin, method, headers)
    if rule is None:
        raise _forbidden(NOT_ALLOWED, method, "OBJECT")
    return HttpResponse(
        200, [*rule_headers(rule, origin, headers), *response_ids(ctx), ("Content-Length", "0")]
    )


def _forbidden(message: str, method: str, resource_type: str) -> AwsError:
    return AwsError("AccessForbidden", message, 403, fields={"Method": method, "ResourceType": resource_type})


# -- actual requests: the response hook -----------------------------------------------------------


def add_cors_headers(ctx: RequestContext, req: HttpRequest, response: HttpResponse) -> None:
    """Add the matching rule's headers to the response of a cross-origin request (one with an
    ``Origin``); nothing when no rule matches. Costs one header lookup for other requests."""
    origin = req.headers.get("origin")
    if not origin or is_preflight(req):
        return
    _exists, rules = _rules(ctx, bucket_name(req))
    rule = match_rule(rules or (), origin, req.method)
    if rule is not None:
        response.headers.extend(rule_headers(rule, origin))
