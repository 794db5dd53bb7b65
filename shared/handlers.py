"""Operation handler registry: one small async function per AWS operation.

    handles = Handlers("sqs")

    @handles("SendMessage")
    async def send_message(ctx: RequestContext, req: dict) -> dict:
        ...

The app factory looks a handler up by the operation's model name; an operation with no
handler answers the protocol's ``NotImplemented`` error naming it.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from shared.aws.http import HttpResponse
from shared.context import RequestContext

# A handler returns the output dict, or (for requests that are not model operations) the
# whole HttpResponse, which the dispatcher sends unchanged.
Handler = Callable[[RequestContext, dict[str, Any]], Awaitable[dict[str, Any] | HttpResponse | None]]


class Handlers:
    def __init__(self, service: str) -> None:
        self.service = service
        self._by_operation: dict[str, Handler] = {}

    def __call__(self, *operations: str) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            if not inspect.iscoroutinefunction(fn):
                raise TypeError(f"handler {fn.__qualname__} must be an async function")
            for name in operations:
                if name in self._by_operation:
                    raise ValueError(f"{self.service}: {name} already has a handler")
                self._by_operation[name] = fn
            return fn

        return register

    def get(self, operation: str) -> Handler | None:
        return self._by_operation.get(operation)

    def include(self, other: Handlers) -> None:
        """Merge the handlers of another registry (a service split by resource family)."""
        for name, fn in other._by_operation.items():
            if name in self._by_operation:
                raise ValueError(f"{self.service}: {name} already has a handler")
            self._by_operation[name] = fn

    @property
    def operations(self) -> list[str]:
        return sorted(self._by_operation)
