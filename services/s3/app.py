"""The s3 service app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from shared.app import ServiceSpec, create_service_app
from shared.aws.http import HttpRequest
from shared.context import RequestContext
from shared.handlers import Handlers
from shared.settings import Settings

from . import access, cors, lifecycle, params, website
from .addressing import rewrite_virtual_host
from .handlers import handles as operation_handles
from .handlers.post import unmodelled_operation
from .presign import verify_sigv2
from .storage import S3Store, open_state

handles = Handlers("s3")
handles.include(operation_handles)
handles.include(cors.handles)  # CORS preflight (unmodelled)
handles.include(website.handles)  # website endpoint requests (unmodelled)


@asynccontextmanager
async def open_state_with_sweep(settings: Settings) -> AsyncIterator[S3Store]:
    """The object store, with the lifecycle sweep running in the background while it is open."""
    async with (
        open_state(settings) as store,
        lifecycle.running(store, lifecycle.interval(settings), lifecycle.clock(settings)),
    ):
        yield store


def rewrite(req: HttpRequest, settings: Settings | None = None) -> HttpRequest:
    """Before parsing: virtual-host addressing to path style; bad integer query values set aside."""
    return params.set_aside(rewrite_virtual_host(req, settings))


def authorize(ctx: RequestContext, operation: str, request: dict[str, Any], settings: Settings) -> None:
    """After parsing: a bad integer query value (InvalidArgument), then access control."""
    params.check(ctx)
    access.authorize(ctx, operation, request, settings)


SPEC = ServiceSpec(
    name="s3",
    models=("s3",),
    handlers=handles,
    state=open_state_with_sweep,
    rewrite=rewrite,
    unmodelled=unmodelled_operation,
    sigv2=verify_sigv2,
    respond=cors.add_cors_headers,
    authorize=authorize,  # bucket policies and the public access block
    max_header_bytes=8192,  # RequestHeaderSectionTooLarge beyond 8 KB of headers
)


def create_app(settings: Settings | None = None):
    return create_service_app(SPEC, settings or Settings.from_env("s3"))
