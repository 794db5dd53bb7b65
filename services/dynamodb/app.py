"""The dynamodb service app (it also serves the ``dynamodbstreams`` model)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from shared.app import ServiceSpec, create_service_app
from shared.settings import Settings

from . import streams, ttl
from .handlers import handles
from .storage import DynamoStore, open_state


@asynccontextmanager
async def open_state_with_tasks(settings: Settings) -> AsyncIterator[DynamoStore]:
    """The item store, with stream records published on the bus and the TTL sweep running."""
    async with (
        open_state(settings) as store,
        streams.publishing(store, settings.redis_url),
        ttl.running(store, ttl.interval(settings)),
    ):
        yield store


SPEC = ServiceSpec(
    name="dynamodb", models=("dynamodb", "dynamodbstreams"), handlers=handles, state=open_state_with_tasks
)


def create_app(settings: Settings | None = None):
    return create_service_app(SPEC, settings or Settings.from_env("dynamodb"))
