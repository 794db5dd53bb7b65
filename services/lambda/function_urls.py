"""Function URLs served over HTTP: ``http(s)://<url-id>.lambda-url.<region>.<domain>/<path>``.

The gateway sends requests whose Host is ``<url-id>.lambda-url.<region>.localhost.localstack.cloud``
(or AWS's ``...lambda-url.<region>.on.aws``) to this service; they are no operation of the Lambda
model, so the app names them ``InvokeFunctionUrl`` through ``ServiceSpec.unmodelled`` and this module
answers them:

1. the URL id is looked up in the global index (``urls_config.locate``) and its configuration read
   with ``urls_config.url_config`` (404 ``{"Message": "Not Found"}`` when unknown);
2. ``AuthType`` ``AWS_IAM``: when the fleet enforces signatures (``FLOTILLA_ENFORCE_SIGV4=1``), the
   request must carry a valid SigV4 signature of a known access key (else 403
   ``{"Message": "Forbidden"}``); when it does not, the URL is open, as every other API is.
   ``NONE`` is always open. Resource policies (``lambda:InvokeFunctionUrl`` permissions) are not
   evaluated;
3. with a ``Cors`` configuration, a preflight (``OPTIONS`` with ``Origin`` and
   ``Access-Control-Request-Method``) is answered here without invoking the function, and responses
   to an allowed ``Origin`` get ``Access-Control-Allow-Origin`` / ``-Expose-Headers`` /
   ``-Allow-Credentials``;
4. otherwise the function runs synchronously (same throttling as Invoke) with the payload format
   2.0 event, and its result becomes the HTTP response: ``{"statusCode", "headers", "cookies",
   "body", "isBase64Encoded"}``, or any other JSON value as a 200 ``application/json`` body. A
   function error or timeout is 502 ``{"Message": "Internal Server Error"}``, a throttle 429.
   ``InvokeMode`` ``RESPONSE_STREAM`` is answered buffered.
"""

from __future__ import annotations

import base64
import json
import re
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote, urlencode

from shared.aws import sigv4
from shared.aws.errors import AwsError
from shared.aws.http import HttpRequest, HttpResponse
from shared.context import RequestContext
from shared.handlers import Handlers

from . import urls_config
from .handlers.invoke import SYNC_LIMIT, invoke_function

handles = Handlers("lambda")

OPERATION = "InvokeFunctionUrl"
_HOST = re.compile(
    r"^(?P<id>[a-z0-9]+)\.lambda-url\.(?P<region>[a-z0-9-]+)\.(?:localhost\.localstack\.cloud|on\.aws)\.?(?::\d+)?$"
)
_TEXT_TYPES = re.compile(r"^(text/|application/(json|xml|javascript|x-www-form-urlencoded)|.*\+(json|xml))")


def url_host(req: HttpRequest) -> re.Match[str] | None:
    return _HOST.match((req.headers.get("host") or req.host or "").lower())


def unmodelled_operation(req: HttpRequest) -> str | None:
    """``ServiceSpec.unmodelled``: a request to a function URL host is ``InvokeFunctionUrl``."""
    return OPERATION if url_host(req) else None


@handles(OPERATION)
async def serve(ctx: RequestContext, params: dict[str, Any]) -> HttpResponse:
    req = ctx.request
    assert req is not None
    host = url_host(req)
    assert host is not None
    found = lookup(ctx.state, host["id"])
    if found is None:
        return message(404, "Not Found")
    account, region, config = found
    body = await read_body(req)
    if body is None:
        return message(
            413, f"Request must be smaller than {SYNC_LIMIT} bytes for the InvokeFunction operation"
        )
    caller = authenticate(req, body, config, params.get("Credentials"))
    if caller is False:
        return message(403, "Forbidden")
    cors = config.get("Cors") or None
    if cors and is_preflight(req):
        return HttpResponse(200, preflight_headers(req, cors), b"")
    event = build_event(req, body, host["id"], region, caller, ctx.request_id)
    run_ctx = RequestContext(
        "lambda", "Invoke", ctx.request_id, account_id=account, region=region, state=ctx.state
    )
    try:
        outcome = await invoke_function(
            run_ctx, config["FunctionName"], json.dumps(event).encode(), config.get("Qualifier")
        )
    except AwsError as err:
        if err.code == "TooManyRequestsException":
            return message(429, "Rate Exceeded.")
        return message(err.status or 502, err.message)
    response = (
        message(502, "Internal Server Error") if outcome.function_error else http_response(outcome.payload)
    )
    response.headers += [("x-amzn-RequestId", ctx.request_id), *cors_headers(req, cors)]
    return response


def lookup(store: Any, url_id: str) -> tuple[str, str, dict[str, Any]] | None:
    """The URL's account, region and configuration, or None."""
    where = urls_config.locate(store, url_id)
    config = urls_config.url_config(store, *where, url_id) if where else None
    return None if config is None or where is None else (*where, config)


async def read_body(req: HttpRequest) -> bytes | None:
    """The whole body, or None past Lambda's 6 MB request limit."""
    if req.stream is None:
        return req.body
    parts, size = [], 0
    async for chunk in req.stream:
        size += len(chunk)
        if size > SYNC_LIMIT:
            return None
        parts.append(chunk)
    return b"".join(parts)


def authenticate(
    req: HttpRequest, body: bytes, config: dict[str, Any], credentials: dict[str, str] | None
) -> dict[str, str] | None | bool:
    """The IAM caller (for ``requestContext.authorizer``), None when anonymous, False when refused."""
    if config.get("AuthType") != "AWS_IAM":
        return None
    scope = sigv4.parse_credentials(req.headers, req.query)
    if credentials is not None:  # signatures enforced: check it
        secret = credentials.get(scope.access_key) if scope else None
        if scope is None or secret is None:
            return False
        req.body, req.stream = body, None
        try:
            sigv4.verify(req, scope, secret)
        except AwsError:
            return False
    if scope is None:
        return None
    account = sigv4.account_for(scope.access_key)
    return {"accessKey": scope.access_key, "accountId": account, "callerId": scope.access_key,
            "userArn": f"arn:aws:iam::{account}:root", "userId": scope.access_key}  # fmt: skip


# -- the event -------------------------------------------------------------------------------


def build_event(
    req: HttpRequest, body: bytes, url_id: str, region: str, caller: dict | None, request_id: str
) -> dict[str, Any]:
    """The payload format 2.0 event Lambda sends for a function URL request."""
    headers: dict[str, str] = {}
    for name, value in req.headers.lower_items():
        if name != "cookie":
            headers[name] = f"{headers[name]},{value}" if name in headers else value
    cookies = [c.strip() for v in req.headers.get_all("cookie") for c in v.split(";") if c.strip()]
    query: dict[str, str] = {}
    for name, value in req.query:
        query[name] = f"{query[name]},{value}" if name in query else value
    now = time.time()
    domain = (req.headers.get("host") or "").split(":")[0]
    context: dict[str, Any] = {
        "accountId": caller["accountId"] if caller else "anonymous",
        "apiId": url_id,
        "domainName": domain,
        "domainPrefix": url_id,
        "http": {
            "method": req.method,
            "path": unquote(req.path),
            "protocol": "HTTP/1.1",
            "sourceIp": (req.headers.get("x-forwarded-for") or "127.0.0.1").split(",")[0].strip(),
            "userAgent": req.headers.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": "$default",
        "stage": "$default",
        "time": datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now * 1000),
    }
    if caller:
        context["authorizer"] = {"iam": caller}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": req.path,
        "rawQueryString": urlencode(req.query, quote_via=quote),
        "headers": headers,
        "requestContext": context,
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if body:
        text = _TEXT_TYPES.match(headers.get("content-type", "")) is not None
        event["body"] = body.decode(errors="replace") if text else base64.b64encode(body).decode()
        event["isBase64Encoded"] = not text
    return event


# -- the response ----------------------------------------------------------------------------


def http_response(result: bytes) -> HttpResponse:
    """The function's result as HTTP: a ``statusCode`` object as it says, any other value as JSON."""
    try:
        value = json.loads(result)
    except (ValueError, UnicodeDecodeError):
        value = None
    if not (isinstance(value, dict) and "statusCode" in value):
        return HttpResponse(200, [("Content-Type", "application/json")], result)
    headers = [(str(k), str(v)) for k, v in (value.get("headers") or {}).items()]
    headers += [("Set-Cookie", str(c)) for c in value.get("cookies") or ()]
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("Content-Type", "application/json"))
    body = value.get("body")
    if body is None:
        data = b""
    elif not isinstance(body, str):
        data = json.dumps(body).encode()
    elif value.get("isBase64Encoded"):
        data = base64.b64decode(body)
    else:
        data = body.encode()
    return HttpResponse(int(value["statusCode"]), headers, data)


def message(status: int, text: str) -> HttpResponse:
    body = json.dumps({"Message": text}).encode()
    return HttpResponse(status, [("Content-Type", "application/json")], body)


# -- CORS ------------------------------------------------------------------------------------


def is_preflight(req: HttpRequest) -> bool:
    return (
        req.method == "OPTIONS" and "origin" in req.headers and "access-control-request-method" in req.headers
    )


def _origin_allowed(origin: str, cors: dict[str, Any]) -> str | None:
    allowed = cors.get("AllowOrigins") or []
    if "*" in allowed:
        return "*"
    return origin if origin in allowed else None


def preflight_headers(req: HttpRequest, cors: dict[str, Any]) -> list[tuple[str, str]]:
    """What a preflight gets: the allow headers when origin and method are allowed, else none."""
    origin = _origin_allowed(req.headers.get("origin", ""), cors)
    method = (req.headers.get("access-control-request-method") or "").upper()
    methods = [m.upper() for m in cors.get("AllowMethods") or []]
    if origin is None or not ("*" in methods or method in methods):
        return []
    out = [("Access-Control-Allow-Origin", origin), ("Access-Control-Allow-Methods", ", ".join(methods))]
    if cors.get("AllowHeaders"):
        out.append(("Access-Control-Allow-Headers", ", ".join(cors["AllowHeaders"])))
    if cors.get("MaxAge") is not None:
        out.append(("Access-Control-Max-Age", str(cors["MaxAge"])))
    if cors.get("AllowCredentials"):
        out.append(("Access-Control-Allow-Credentials", "true"))
    return out


def cors_headers(req: HttpRequest, cors: dict[str, Any] | None) -> list[tuple[str, str]]:
    """CORS headers of an actual (not preflight) response to an allowed ``Origin``."""
    if not cors or "origin" not in req.headers:
        return []
    origin = _origin_allowed(req.headers.get("origin", ""), cors)
    if origin is None:
        return []
    out = [("Access-Control-Allow-Origin", origin)]
    if cors.get("ExposeHeaders"):
        out.append(("Access-Control-Expose-Headers", ", ".join(cors["ExposeHeaders"])))
    if cors.get("AllowCredentials"):
        out.append(("Access-Control-Allow-Credentials", "true"))
    return out
