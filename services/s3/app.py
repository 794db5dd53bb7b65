"""The s3 service app."""

from __future__ import annotations

from shared.app import ServiceSpec, create_service_app
from shared.settings import Settings

from .addressing import rewrite_virtual_host
from .handlers import handles
from .handlers.post import unmodelled_operation
from .presign import verify_sigv2
from .storage import open_state

SPEC = ServiceSpec(
    name="s3",
    models=("s3",),
    handlers=handles,
    state=open_state,
    rewrite=rewrite_virtual_host,
    unmodelled=unmodelled_operation,
    sigv2=verify_sigv2,
)


def create_app(settings: Settings | None = None):
    return create_service_app(SPEC, settings or Settings.from_env("s3"))
