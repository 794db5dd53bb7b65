"""The sqs service app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from shared.app import ServiceSpec, create_service_app
from shared.settings import Settings

from . import events
from .admin import admin_of
from .handlers import handles
from .queues import url_base
from .storage import SqsStore, open_state


@asynccontextmanager
async def open_service(settings: Settings) -> AsyncIterator[SqsStore]:
    """The store (storage.open_state), plus what runs beside it: bus consumers and move tasks.

    ``FLOTILLA_SQS_ENDPOINT_STRATEGY`` (``off``, ``standard``, ``path``) picks the queue URL form.
    """
    async with open_state(settings) as store:
        store.external_url = url_base(settings.external_url, settings.extra.get("endpoint_strategy", "off"))
        admin = admin_of(store)
        try:
            async with events.consuming(store, settings):
                yield store
        finally:
            await admin.tasks.stop()


SPEC = ServiceSpec(
    name="sqs", models=("sqs",), handlers=handles, state=open_service, extra_protocols={"sqs": ("query",)}
)


def create_app(settings: Settings | None = None):
    return create_service_app(SPEC, settings or Settings.from_env("sqs"))
