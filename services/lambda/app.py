"""The lambda service app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from shared.app import ServiceSpec, create_service_app
from shared.handlers import Handlers
from shared.settings import Settings

from . import async_events, code_urls, function_urls, logs, pollers
from .handlers import handles as operation_handles
from .storage import LambdaStore, open_state

handles = Handlers("lambda")
handles.include(operation_handles)
handles.include(function_urls.handles)  # function URL requests (unmodelled)


@asynccontextmanager
async def open_state_running(settings: Settings) -> AsyncIterator[LambdaStore]:
    """The store, with the async-invoke queue and the event source pollers running while it is open.

    ``FLOTILLA_LAMBDA_CONCURRENCY`` (default 1000) is the account's concurrency limit.
    """
    async with open_state(settings) as store:
        if store.invoker is not None:
            store.invoker.concurrency_limit = int(settings.extra.get("concurrency", "1000"))
        async with async_events.running(store), pollers.running(store):
            yield store


SPEC = ServiceSpec(
    name="lambda",
    models=("lambda",),
    handlers=handles,
    state=open_state_running,
    unmodelled=function_urls.unmodelled_operation,
)


def create_app(settings: Settings | None = None):
    settings = settings or Settings.from_env("lambda")
    app = create_service_app(SPEC, settings)
    logs.mount(app.api, settings)
    code_urls.mount(app.api, settings)
    return app
