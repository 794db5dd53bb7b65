"""The lambda service app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from shared.app import ServiceSpec, create_service_app
from shared.settings import Settings

from . import async_events, pollers
from .handlers import handles
from .storage import LambdaStore, open_state


@asynccontextmanager
async def open_state_running(settings: Settings) -> AsyncIterator[LambdaStore]:
    """The store, with the async-invoke queue and the event source pollers running while it is open."""
    async with open_state(settings) as store, async_events.running(store), pollers.running(store):
        yield store


SPEC = ServiceSpec(name="lambda", models=("lambda",), handlers=handles, state=open_state_running)


def create_app(settings: Settings | None = None):
    return create_service_app(SPEC, settings or Settings.from_env("lambda"))
