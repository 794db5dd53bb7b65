"""The sqs service app."""

from __future__ import annotations

from shared.app import ServiceSpec, create_service_app
from shared.settings import Settings

from .handlers import handles
from .storage import open_state

SPEC = ServiceSpec(
    name="sqs", models=("sqs",), handlers=handles, state=open_state, extra_protocols={"sqs": ("query",)}
)


def create_app(settings: Settings | None = None):
    return create_service_app(SPEC, settings or Settings.from_env("sqs"))
