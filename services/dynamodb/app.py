"""The dynamodb service app."""

from __future__ import annotations

from shared.app import ServiceSpec, create_service_app
from shared.settings import Settings

from .handlers import handles
from .storage import open_state

SPEC = ServiceSpec(
    name="dynamodb", models=("dynamodb", "dynamodbstreams"), handlers=handles, state=open_state
)


def create_app(settings: Settings | None = None):
    return create_service_app(SPEC, settings or Settings.from_env("dynamodb"))
