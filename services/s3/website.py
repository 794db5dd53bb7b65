"""Static website hosting: requests to a bucket's website endpoint, served from its website configuration.

A website endpoint is a host name, not a path: ``<bucket>.s3-website.localhost.localstack.cloud``,
``<bucket>.s3-website-<region>.amazonaws.com`` or ``<bucket>.s3-website.<region>.amazonaws.com``.
Such requests are no operation of the S3 model (they are anonymous, GET/HEAD only, and answer HTML
errors), so the app routes them here through ``ServiceSpec.unmodelled``. What S3 does, in order:

1. ``RedirectAllRequestsTo``: every request is a 301 to the same path on that host;
2. a routing rule whose condition is only ``KeyPrefixEquals`` (or that has none) redirects first;
3. ``/`` and keys ending in ``/`` are folders: their index document is served;
4. an object with ``x-amz-website-redirect-location`` is a 301 there;
5. a missing key whose folder has an index document is a 302 to ``/<key>/``;
6. otherwise the error: a routing rule with ``HttpErrorCodeReturnedEquals: 404`` redirects, else
   the error document is served with status 404, else S3's HTML error page.

Access control is not applied (objects need not be public, unlike S3): Flotilla does not enforce
ACLs or policies anywhere yet.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote, unquote

from shared.aws.http import HttpRequest, HttpResponse
from shared.context import RequestContext
from shared.handlers import Handlers

from .bucket_config import bucket_config
from .storage import ObjectMeta, S3Store

handles = Handlers("s3")

OPERATION = "WebsiteRequest"
DEFAULT_CONTENT_TYPE = "binary/octet-stream"
_REGION = r"[a-z]{2}(?:-[a-z]+)+-\d+"
_HOSTS = (
    re.compile(rf"^(?P<bucket>.+?)\.s3-website(?:[.-]{_REGION})?\.localhost\.localstack\.cloud$"),
    re.compile(rf"^(?P<bucket>.+?)\.s3-website[.-]{_REGION}\.amazonaws\.com(?:\.cn)?$"),
)
# Stored object headers (output member names) -> the HTTP headers a website response carries.
_CONTENT_HEADERS = {
    "CacheControl": "Cache-Control",
    "ContentDisposition": "Content-Disposition",
    "ContentEncoding": "Content-Encoding",
    "ContentLanguage": "Content-Language",
}
_REASONS = {404: "Not Found", 405: "Method Not Allowed", 403: "Forbidden"}


def website_bucket(host: str | None) -> str | None:
    """The bucket a website endpoint's Host names, or None for any other host."""
    if not host or "s3-website" not in host:
        return None
    name = host.rsplit(":", 1)[0].lower().rstrip(".")
    for pattern in _HOSTS:
        match = pattern.match(name)
        if match:
            return match["bucket"]
    return None


def is_website_request(req: HttpRequest) -> bool:
    return website_bucket(req.host) is not None


class _Error(Exception):
    """An error S3 answers as an HTML page on website endpoints: status and the page's items."""

    def __init__(self, status: int, code: str, message: str, **items: str) -> None:
        super().__init__(message)
        self.status = status
        self.items = {"Code": code, "Message": message, **items}


def _no_such_key(key: str) -> _Error:
    return _Error(404, "NoSuchKey", "The specified key does not exist.", Key=key)


@handles(OPERATION)
async def serve(ctx: RequestContext, _req: dict[str, Any]) -> HttpResponse:
    request = ctx.request
    assert request is not None
    try:
        return await _serve(ctx, request)
    except _Error as err:
        return _error_page(ctx, err)


async def _serve(ctx: RequestContext, request: HttpRequest) -> HttpResponse:
    store: S3Store = ctx.state
    name = website_bucket(request.host) or ""
    if request.method not in ("GET", "HEAD"):
        raise _Error(
            405,
            "MethodNotAllowed",
            "The specified method is not allowed against this resource.",
            Method=request.method,
            ResourceType="OBJECT",
        )
    bucket = store.bucket(name)
    if bucket is None:
        raise _Error(404, "NoSuchBucket", "The specified bucket does not exist", BucketName=name)
    conf = bucket_config(ctx, bucket, "website")
    if conf is None:
        raise _Error(
            404,
            "NoSuchWebsiteConfiguration",
            "The specified bucket does not have a website configuration",
            BucketName=name,
        )
    key = unquote(request.path[1:])
    if "RedirectAllRequestsTo" in conf:
        target = conf["RedirectAllRequestsTo"]
        return _redirect(301, f"{target.get('Protocol') or 'http'}://{target['HostName']}{request.path}")
    rule = routing_rule(conf.get("RoutingRules") or (), key, None)
    if rule is not None:
        return _rule_redirect(rule, key, request)
    try:
        return _object_response(ctx, request, _find(store, name, key, conf["IndexDocument"]["Suffix"]))
    except _Error as err:
        return _on_error(ctx, request, conf, key, err)


def _find(store: S3Store, bucket: str, key: str, suffix: str) -> ObjectMeta | HttpResponse:
    """The object a website path names (a folder's index document), or the redirect it answers."""
    target = key + suffix if key == "" or key.endswith("/") else key
    meta = store.object(bucket, target)
    if meta is not None:
        location = meta.headers.get("WebsiteRedirectLocation")
        return _redirect(301, location) if location else meta
    if target == key and store.object(bucket, f"{key}/{suffix}") is not None:
        return _redirect(302, "/" + quote(key, safe="/~") + "/")
    raise _no_such_key(target)


def _on_error(
    ctx: RequestContext, request: HttpRequest, conf: dict[str, Any], key: str, err: _Error
) -> HttpResponse:
    """A rule for the error code redirects; else the error document (with the error's status)."""
    rule = routing_rule(conf.get("RoutingRules") or (), key, err.status)
    if rule is not None:
        return _rule_redirect(rule, key, request)
    document = (conf.get("ErrorDocument") or {}).get("Key")
    if document is None:
        raise err
    store: S3Store = ctx.state
    meta = store.object(website_bucket(request.host) or "", document)
    if meta is None:
        return _error_page(ctx, err, custom=_no_such_key(document))
    response = _object_response(ctx, request, meta)
    response.status = err.status
    return response


# -- routing rules --------------------------------------------------------------------------------


def routing_rule(rules: Any, key: str, status: int | None) -> dict[str, Any] | None:
    """The first rule whose condition holds for ``key``: before the object is looked up
    (``status`` None) only rules without an error-code condition; after an error only rules whose
    ``HttpErrorCodeReturnedEquals`` is that status."""
    for rule in rules:
        condition = rule.get("Condition") or {}
        code = condition.get("HttpErrorCodeReturnedEquals")
        if (code is None) != (status is None) or (code is not None and code != str(status)):
            continue
        if key.startswith(condition.get("KeyPrefixEquals") or ""):
            return rule
    return None


def redirect_location(rule: dict[str, Any], key: str, host: str) -> str:
    """Where a rule sends ``key``: ``ReplaceKeyWith`` replaces the key, ``ReplaceKeyPrefixWith``
    the matched prefix; ``HostName``/``Protocol`` default to the request's."""
    redirect = rule["Redirect"]
    prefix = (rule.get("Condition") or {}).get("KeyPrefixEquals") or ""
    if "ReplaceKeyWith" in redirect:
        key = redirect["ReplaceKeyWith"]
    elif "ReplaceKeyPrefixWith" in redirect:
        key = redirect["ReplaceKeyPrefixWith"] + key[len(prefix) :]
    protocol = redirect.get("Protocol") or "http"
    return f"{protocol}://{redirect.get('HostName') or host}/{quote(key, safe='/~')}"


def _rule_redirect(rule: dict[str, Any], key: str, request: HttpRequest) -> HttpResponse:
    status = int(rule["Redirect"].get("HttpRedirectCode") or 301)
    return _redirect(status, redirect_location(rule, key, request.host))


# -- responses ----------------------------------------------------------------------------------


def _redirect(status: int, location: str) -> HttpResponse:
    return HttpResponse(status, [("Location", location), ("Content-Length", "0")], b"")


def _object_response(
    ctx: RequestContext, request: HttpRequest, found: ObjectMeta | HttpResponse
) -> HttpResponse:
    if isinstance(found, HttpResponse):
        return found
    meta = found
    headers = [
        ("Content-Type", meta.content_type or DEFAULT_CONTENT_TYPE),
        ("Content-Length", str(meta.size)),
        ("ETag", f'"{meta.etag}"'),
        ("Last-Modified", format_datetime(meta.last_modified, usegmt=True)),
        *(
            (header, meta.headers[member])
            for member, header in _CONTENT_HEADERS.items()
            if member in meta.headers
        ),
        *((f"x-amz-meta-{name}", value) for name, value in meta.metadata.items()),
        *response_ids(ctx),
    ]
    store: S3Store = ctx.state
    body = b"" if request.method == "HEAD" or meta.size == 0 else store.open_object(meta)
    return HttpResponse(200, headers, body)


def _error_page(ctx: RequestContext, err: _Error, custom: _Error | None = None) -> HttpResponse:
    """S3's HTML error page; with ``custom``, the failure to read the error document below it."""
    title = f"{err.status} {_REASONS.get(err.status, 'Error')}"
    items = {**err.items, "RequestId": ctx.request_id, "HostId": _host_id(ctx)}
    lines = ["<html>", f"<head><title>{title}</title></head>", "<body>", f"<h1>{title}</h1>"]
    lines += _items(items)
    lines.append("<hr/>")
    if custom is not None:
        lines.append("<h3>An Error Occurred While Attempting to Retrieve a Custom Error Document</h3>")
        lines += _items(custom.items)
        lines.append("<hr/>")
    lines += ["</body>", "</html>", ""]
    body = "\n".join(lines).encode()
    headers = [("Content-Type", "text/html; charset=utf-8"), *response_ids(ctx)]
    return HttpResponse(err.status, headers, body)


def _items(items: dict[str, str]) -> list[str]:
    return ["<ul>", *(f"<li>{name}: {html.escape(value)}</li>" for name, value in items.items()), "</ul>"]


def _host_id(ctx: RequestContext) -> str:
    return base64.b64encode(hashlib.sha256(ctx.request_id.encode()).digest()).decode()


def response_ids(ctx: RequestContext) -> list[tuple[str, str]]:
    return [("x-amz-request-id", ctx.request_id), ("x-amz-id-2", _host_id(ctx))]
