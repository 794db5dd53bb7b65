"""The s3 service app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from shared.app import ServiceSpec, create_service_app
from shared.handlers import Handlers
from shared.settings import Settings

from . import access, cors, errors, lifecycle, notifications, website
from .addressing import rewrite_virtual_host
from .handlers import handles as operation_handles
from .handlers.post import unmodelled_operation
from .outbox import Outbox, draining
from .presign import verify_sigv2
from .storage import S3Store, open_state

handles = Handlers("s3")
handles.include(operation_handles)
handles.include(cors.handles)  # CORS preflight (unmodelled)
handles.include(website.handles)  # website endpoint requests (unmodelled)


@asynccontextmanager
async def open_state_with_sweep(settings: Settings) -> AsyncIterator[S3Store]:
    """The object store, with the lifecycle sweep and the notification outbox running in the
    background while it is open."""
    box = Outbox(settings.service_dir / "outbox.db")
    notifications.use_outbox(box)
    try:
        async with (
            open_state(settings) as store,
            lifecycle.running(store, lifecycle.interval(settings), lifecycle.clock(settings)),
            draining(box, notifications.publish),
        ):
            yield store
    finally:
        notifications.use_outbox(None)
        box.close()


SPEC = ServiceSpec(
    name="s3",
    models=("s3",),
    handlers=handles,
    state=open_state_with_sweep,
    rewrite=rewrite_virtual_host,  # virtual-host addressing to path style
    unmodelled=unmodelled_operation,
    sigv2=verify_sigv2,
    respond=cors.add_cors_headers,
    authorize=access.authorize,  # bucket policies and the public access block
    max_header_bytes=8192,  # RequestHeaderSectionTooLarge beyond 8 KB of headers
    bad_value=errors.bad_value,  # ?max-keys=abc: InvalidArgument in S3's words
)


def create_app(settings: Settings | None = None):
    return create_service_app(SPEC, settings or Settings.from_env("s3"))
