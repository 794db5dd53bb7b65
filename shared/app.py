"""The one app factory every service is built with.

    app = create_service_app(ServiceSpec(name="sqs", models=("sqs",), handlers=handles,
                                         extra_protocols={"sqs": ("query",)}, state=open_store),
                             settings)

The result is a FastAPI app. Its own routes live under ``/_flotilla/`` (health); every other
request is an AWS request and takes the dispatch path below, which is plain ASGI: it pays
for no FastAPI routing or validation. Per request it

1. picks the protocol endpoint (model + parser + serializer) for the request,
2. reads the caller's account and region from the SigV4 scope (and verifies the signature
   when enforcement is on),
3. finds the operation, streams or reads the body, parses the input,
4. calls the handler registered under the operation's model name, and
5. serializes the output, or the error, exactly as the protocol wants it.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import random
import shutil
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.model import OperationModel, ServiceModel
from fastapi import FastAPI

from shared import logs
from shared.aws import sigv4
from shared.aws.errors import (
    AwsError,
    auth_error,
    header_section_too_large,
    internal_error,
    invalid_payload_hash,
    not_implemented,
    payload_hash_mismatch,
)
from shared.aws.http import Headers, HttpRequest, HttpResponse
from shared.aws.models import service_model
from shared.aws.protocol import (
    BadValueMapper,
    RequestParser,
    ResponseSerializer,
    create_parser,
    create_serializer,
)
from shared.context import RequestContext
from shared.handlers import Handlers
from shared.settings import Settings

log = logging.getLogger("flotilla")
request_log = logs.RequestLog()

VERSION = "0.1.0"
MAX_BODY = 100 * 1024 * 1024  # non-streaming request bodies (Lambda zips are the largest)

StateFactory = Callable[[Settings], AbstractAsyncContextManager[Any]]
RequestRewriter = Callable[[HttpRequest, Settings], HttpRequest]
UnmodelledRouter = Callable[[HttpRequest], str | None]
LegacyVerifier = Callable[[HttpRequest, sigv4.Scope, str], None]
ResponseHook = Callable[[RequestContext, HttpRequest, HttpResponse], None]
Authorizer = Callable[[RequestContext, str, dict[str, Any], Settings], None]


@dataclass(frozen=True)
class ServiceSpec:
    """What makes a service: its name, the models it speaks, its handlers and its state.

    ``state`` opens the service's storage for the app's lifetime and yields the object that
    handlers find as ``ctx.state``. ``rewrite`` may adjust a request before parsing (S3 turns
    virtual-host addressing into path style there).

    ``unmodelled`` names requests that are no operation of the models (S3's browser POST upload):
    given the rewritten request it returns the name its handler is registered under, or None. Such
    a handler reads ``ctx.request.stream`` itself, gets ``{"Credentials": ...}`` as input (the
    credentials to check its own signature against, None when signatures are not enforced) and
    returns the ``HttpResponse``. ``sigv2`` verifies SigV2 signatures (``Authorization: AWS ...``
    and ``AWSAccessKeyId`` URLs), which only S3 still accepts; without it they are refused.

    ``respond`` sees every response (success or error) before it is sent and may add headers to
    it (S3's CORS headers on requests with an ``Origin``); it must be cheap, and if it raises the
    response goes out unchanged.

    ``authorize`` is called with the operation's name and its parsed input after parsing and before
    the handler (not for ``unmodelled`` requests); it raises ``AwsError`` to refuse the request.
    A service with ``authorize`` also serves *anonymous* requests (no credentials at all:
    ``ctx.access_key`` is None) when signatures are enforced: they are not refused as unsigned
    but left for ``authorize`` to decide (S3 serves what a bucket policy opens to everyone).
    Requests with credentials are verified as always.

    ``max_header_bytes`` refuses a request whose header section (each header as ``name: value\r\n``)
    is larger, before anything else is looked at: S3 allows 8 KB (``RequestHeaderSectionTooLarge``).
    None (the default): no limit beyond the HTTP server's.

    ``bad_value`` answers a header, query-string or URI value the parser cannot read (a
    ``shared.aws.protocol.BadValue``: location, wire name, value, type) with the service's own
    ``AwsError``; returning None keeps the protocol's answer (S3 words ``?max-keys=abc`` its way).
    """

    name: str
    models: Sequence[str]
    handlers: Handlers
    state: StateFactory | None = None
    extra_protocols: Mapping[str, Sequence[str]] = field(default_factory=dict)
    rewrite: RequestRewriter | None = None
    unmodelled: UnmodelledRouter | None = None
    sigv2: LegacyVerifier | None = None
    respond: ResponseHook | None = None
    authorize: Authorizer | None = None
    max_header_bytes: int | None = None
    bad_value: BadValueMapper | None = None


@dataclass
class Endpoint:
    model: ServiceModel
    protocol: str
    parser: RequestParser
    serializer: ResponseSerializer


class Endpoints:
    """Chooses which (model, protocol) a request speaks.

    ``X-Amz-Target`` names a json model by its target prefix; a form post or an ``Action``
    query parameter speaks the query protocol (when the service has one); anything else
    speaks the first model's own protocol.
    """

    def __init__(self, spec: ServiceSpec) -> None:
        self.by_target: dict[str, Endpoint] = {}
        self.query: Endpoint | None = None
        self.default: Endpoint | None = None
        for name in spec.models:
            model = service_model(name)
            for protocol in (model.protocol, *spec.extra_protocols.get(name, ())):
                parser = create_parser(model, protocol, bad_value=spec.bad_value)
                ep = Endpoint(model, protocol, parser, create_serializer(model, protocol))
                if protocol == "json":
                    self.by_target[model.metadata["targetPrefix"]] = ep
                elif protocol == "query" and self.query is None:
                    self.query = ep
                if self.default is None:
                    self.default = ep
        assert self.default is not None, f"{spec.name}: no models"

    def for_request(self, req: HttpRequest) -> Endpoint:
        target = req.headers.get("x-amz-target")
        if target:
            ep = self.by_target.get(target.rsplit(".", 1)[0])
            if ep is not None:
                return ep
        if self.query is not None and self.query is not self.default:
            ctype = req.headers.get("content-type", "") or ""
            if ctype.startswith("application/x-www-form-urlencoded") or any(
                k == "Action" for k, _ in req.query
            ):
                return self.query
        return self.default  # type: ignore[return-value]


def _freeze_start_up_objects() -> None:
    """Keep what start-up built (the botocore models above all, ~80,000 objects that live as long
    as the process) out of full garbage collections: each one walked all of it, 40-150 ms with
    nothing to free, inside whichever request triggered it (the p99 of S3 listings, see
    docs/performance.md). gc.freeze() moves them to a generation the collector never scans."""
    gc.collect()
    gc.freeze()


def create_service_app(spec: ServiceSpec, settings: Settings) -> FastAPI:
    logs.configure(settings.log_level)
    endpoints = Endpoints(spec)
    holder: dict[str, Any] = {"state": None}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        _freeze_start_up_objects()
        if not settings.persistence:
            shutil.rmtree(settings.service_dir, ignore_errors=True)
        settings.service_dir.mkdir(parents=True, exist_ok=True)
        if spec.state is None:
            yield
            return
        async with spec.state(settings) as state:
            holder["state"] = state
            log.info("service started", extra={"service": spec.name, "persistence": settings.persistence})
            yield
            log.info("service stopping", extra={"service": spec.name})

    api = FastAPI(
        title=f"flotilla-{spec.name}", version=VERSION, lifespan=lifespan, docs_url=None, redoc_url=None
    )

    @api.get("/_flotilla/health")
    async def health() -> dict[str, Any]:
        return {
            "service": spec.name,
            "status": "running" if holder["state"] is not None or spec.state is None else "starting",
            "version": VERSION,
            "models": list(spec.models),
            "operations": spec.handlers.operations,
        }

    dispatcher = Dispatcher(spec, settings, endpoints, holder)

    async def app(scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "http" and not scope["path"].startswith("/_flotilla/"):
            await dispatcher(scope, receive, send)
        else:
            await api(scope, receive, send)

    api.state.dispatcher = dispatcher
    # uvicorn calls the object we return; keep FastAPI's attributes reachable for tests.
    return _Wrapped(app, api)  # type: ignore[return-value]


class _Wrapped:
    """An ASGI callable that is the dispatch path, delegating attributes to the FastAPI app."""

    def __init__(self, app: Callable, api: FastAPI) -> None:
        self._app = app
        self.api = api

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        await self._app(scope, receive, send)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.api, name)


class Dispatcher:
    def __init__(self, spec: ServiceSpec, settings: Settings, endpoints: Endpoints, holder: dict) -> None:
        self.spec = spec
        self.settings = settings
        self.endpoints = endpoints
        self.holder = holder

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        started = time.perf_counter()
        request_id = new_request_id()
        req = sent = _request_from_scope(scope)
        if self.spec.rewrite is not None:
            req = self.spec.rewrite(req, self.settings)
        ep = self.endpoints.for_request(req)
        op: OperationModel | None = None
        ctx = RequestContext(
            service=self.spec.name,
            operation="",
            request_id=request_id,
            protocol=ep.protocol,
            state=self.holder["state"],
        )
        try:
            if self.spec.max_header_bytes is not None:
                _check_header_size(scope["headers"], self.spec.max_header_bytes)
            _identify(ctx, req, self.settings)
            payload = _payload_check(self.spec.name, sent.headers)
            unmodelled = self.spec.unmodelled(req) if self.spec.unmodelled is not None else None
            if unmodelled is None:
                enforce = self.settings.enforce_sigv4 and not self._anonymous_allowed(req)
                signer = _chunk_signer(sent, self.settings) if enforce else None
                if ep.protocol.startswith("rest"):
                    op = ep.parser.operation_for(req)  # from method, path and query: may stream the body
                    await _load_body(req, op.has_streaming_input, receive, ctx, signer, payload)
                else:  # the operation is named in the body
                    await _load_body(req, False, receive, ctx, signer, payload)
                    op = ep.parser.operation_for(req)
                ctx.operation = op.name
                if enforce:
                    # the signature covers the request as sent, before any rewrite
                    checked = dataclasses.replace(req, path=sent.path, headers=sent.headers, host=sent.host)
                    _verify(checked, self.settings, self.spec.sigv2)
                    req.stream = checked.stream  # a streamed body is checked as it is read
                if payload is not None:
                    payload.check()  # a body read whole; a streamed one is checked at its end
                params = ep.parser.parse(op, req)
                if self.spec.authorize is not None:
                    ctx.request = req  # conditions read headers (aws:SourceIp, aws:SecureTransport)
                    self.spec.authorize(ctx, op.name, params, self.settings)
            else:
                ctx.operation = unmodelled
                req.stream = _receive_chunks(receive)
                if payload is not None:
                    req.stream = payload.wrap(req.stream, check_at_end=True)
                params = {"Credentials": self.settings.credentials if self.settings.enforce_sigv4 else None}
            handler = self.spec.handlers.get(ctx.operation)
            if handler is None:
                raise not_implemented(self.spec.name, ctx.operation)
            ctx.request = req
            output = await handler(ctx, params)
            if isinstance(output, HttpResponse):  # an unmodelled operation answers for itself
                response = output
            else:
                response = ep.serializer.serialize(op, output or {}, request_id)
            if ctx.status is not None:
                response.status = ctx.status
        except AwsError as err:
            response = ep.serializer.serialize_error(err, op, request_id)
        except Exception:
            log.exception(
                "handler failed",
                extra={"service": self.spec.name, "op": ctx.operation, "request_id": request_id},
            )
            response = ep.serializer.serialize_error(internal_error(request_id), op, request_id)
        if self.spec.respond is not None:
            self._respond(ctx, req, response)
        await _send(response, send, head=req.method == "HEAD")
        request_log.write(
            service=self.spec.name,
            op=ctx.operation or None,
            status=response.status,
            request_id=request_id,
            account=ctx.account_id,
            region=ctx.region,
            ms=round((time.perf_counter() - started) * 1000, 2),
        )

    def _anonymous_allowed(self, req: HttpRequest) -> bool:
        """A request without any credentials goes on to ``authorize`` instead of being refused as
        unsigned; one with a malformed ``Authorization`` or presigned query is still refused."""
        if self.spec.authorize is None or req.headers.get("authorization"):
            return False
        return not any(k in _CREDENTIAL_PARAMS for k, _ in req.query)

    def _respond(self, ctx: RequestContext, req: HttpRequest, response: HttpResponse) -> None:
        try:
            self.spec.respond(ctx, req, response)  # type: ignore[misc]
        except Exception:
            log.exception("response hook failed", extra={"service": self.spec.name, "op": ctx.operation})


_CREDENTIAL_PARAMS = frozenset(
    {"X-Amz-Credential", "X-Amz-Algorithm", "X-Amz-Signature", "AWSAccessKeyId", "Signature"}
)


def new_request_id() -> str:
    """A random UUID-formatted id (``uuid4()`` costs several times more per request)."""
    h = f"{random.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{h[16:20]}-{h[20:]}"


def _request_from_scope(scope: dict) -> HttpRequest:
    raw_path = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else scope["path"]
    query_string = scope.get("query_string", b"").decode("latin-1")
    headers = ((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"])
    return HttpRequest.from_url_parts(scope["method"], path.split("?", 1)[0], query_string, headers)


def _identify(ctx: RequestContext, req: HttpRequest, settings: Settings) -> None:
    """Account and region from the credentials; a presigned URL past its expiry is refused here,
    whether signatures are enforced or not."""
    scope = sigv4.parse_credentials(req.headers, req.query)
    ctx.access_key = scope.access_key if scope else None
    ctx.account_id = sigv4.account_for(ctx.access_key)
    ctx.region = (scope.region if scope and scope.region else None) or settings.default_region
    if scope is not None and scope.presigned:
        sigv4.check_expiry(scope)


def _verify(req: HttpRequest, settings: Settings, sigv2: LegacyVerifier | None = None) -> None:
    scope = sigv4.parse_credentials(req.headers, req.query)
    if scope is None:
        raise auth_error(settings.service, "missing")
    secret = settings.credentials.get(scope.access_key)
    if secret is None:
        raise auth_error(settings.service, "unknown")
    try:
        if scope.sigv2 and sigv2 is not None:
            sigv2(req, scope, secret)
        else:
            sigv4.verify(req, scope, secret)
    except AwsError as err:
        if err.code != "SignatureDoesNotMatch":
            raise
        raise auth_error(settings.service, "mismatch", err.message) from None


def _check_header_size(headers: list[tuple[bytes, bytes]], limit: int) -> None:
    """Refuse a header section over ``limit`` bytes, counted as sent: ``name: value\r\n`` per header."""
    size = 4 * len(headers)
    for name, value in headers:
        size += len(name) + len(value)
    if size > limit:
        raise header_section_too_large(limit)


def _payload_check(service: str, headers: Headers) -> sigv4.PayloadCheck | None:
    """The check of the body against a SHA-256 digest declared in ``x-amz-content-sha256``, run
    whether signatures are enforced or not: a wrong digest fails on AWS whatever the credentials
    (S3 names it; elsewhere it breaks the signature). None when no digest is declared (no header,
    ``UNSIGNED-PAYLOAD``, ``STREAMING-*``). A value that is neither is S3's ``InvalidArgument``;
    other services ignore it (only their signature reads it)."""
    value = (headers.get("x-amz-content-sha256") or "").strip()
    if not value or value in sigv4.PAYLOAD_MODES:
        return None
    if not sigv4.is_sha256_hex(value):
        error = invalid_payload_hash(service, value)
        if error is not None:
            raise error
        return None
    return sigv4.PayloadCheck(value, lambda computed: payload_hash_mismatch(service, value, computed))


def _chunk_signer(req: HttpRequest, settings: Settings) -> sigv4.ChunkSigner | None:
    """The chunk-signature chain of a chunk-signed ``aws-chunked`` body, built before the body is
    read (a non-streaming body is read before ``_verify`` runs). None when the body carries no
    chunk signatures, or the credentials are unusable (``_verify`` then refuses the request)."""
    scope = sigv4.parse_credentials(req.headers, req.query)
    secret = settings.credentials.get(scope.access_key) if scope is not None else None
    if scope is None or secret is None:
        return None
    return sigv4.chunk_signer(req.headers, scope, secret)


def _decoded_length(headers: Headers) -> int | None:
    value = (headers.get("x-amz-decoded-content-length") or "").strip()
    return int(value) if value.isascii() and value.isdigit() else None


def _is_aws_chunked(headers: Headers) -> bool:
    encoding = headers.get("content-encoding", "") or ""
    sha = headers.get("x-amz-content-sha256", "") or ""
    return "aws-chunked" in encoding or sha.startswith("STREAMING-")


async def _receive_chunks(receive: Callable) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise AwsError(
                "IncompleteBody", "The client closed the connection before sending the whole body."
            )
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


async def _load_body(
    req: HttpRequest,
    streaming: bool,
    receive: Callable,
    ctx: RequestContext,
    signer: sigv4.ChunkSigner | None = None,
    payload: sigv4.PayloadCheck | None = None,
) -> None:
    """Stream the body of streaming operations; read (bounded) the body of all others.

    With ``payload`` the raw body (still framed) is hashed on the way: a streamed body raises at
    its end on a digest mismatch, a read one is left for the caller to ``check`` after the signature.

    An ``aws-chunked`` body is decoded on the way, its size checked against
    ``x-amz-decoded-content-length`` and, with ``signer``, its chunk signatures checked: a bad
    chunk makes the stream raise before it ends, so the handler (which stores only after a clean
    end) stores nothing, and the error is still answered because no response has started.
    """
    chunks: AsyncIterator[bytes] = _receive_chunks(receive)
    if payload is not None:
        chunks = payload.wrap(chunks, check_at_end=streaming)
    if _is_aws_chunked(req.headers):
        trailers: dict[str, str] = ctx.extra.setdefault("trailers", {})
        chunks = sigv4.decode_aws_chunked(
            chunks, on_trailers=trailers.update, signer=signer, decoded_length=_decoded_length(req.headers)
        )
    if streaming:
        req.stream = chunks
        return
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > MAX_BODY:
            raise AwsError("RequestEntityTooLarge", f"Request body is larger than {MAX_BODY} bytes.", 413)
        parts.append(chunk)
    req.body = b"".join(parts)


async def _send(response: HttpResponse, send: Callable, *, head: bool) -> None:
    headers = [(k.lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in response.headers]
    body = response.body
    has_length = any(k == b"content-length" for k, _ in headers)
    if isinstance(body, bytes | bytearray):
        if not has_length and response.status not in (204, 304):
            headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else bytes(body)})
        return
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    try:
        if not head:
            async for chunk in body:
                if chunk:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
    finally:
        closer = getattr(body, "aclose", None)
        if closer is not None:
            await closer()
    await send({"type": "http.response.body", "body": b""})
