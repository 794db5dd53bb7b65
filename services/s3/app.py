"""The s3 service app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.app import ServiceSpec, create_service_app
from shared.settings import Settings

from .addressing import rewrite_virtual_host
from .handlers import handles
from .storage import open_state

SPEC = ServiceSpec(
    name="s3", models=("s3",), handlers=handles, state=open_state, rewrite=rewrite_virtual_host
)


def create_app(settings: Settings | None = None):
    return PartialContent(create_service_app(SPEC, settings or Settings.from_env("s3")))


class PartialContent:
    """Answers 206 for a successful response that carries a ``Content-Range`` (a ranged GetObject
    or HeadObject): the S3 model has no status member for it, so the serializer writes 200."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_partial(message: dict) -> None:
            if (
                message["type"] == "http.response.start"
                and message["status"] == 200
                and any(name == b"content-range" for name, _ in message.get("headers", ()))
            ):
                message = {**message, "status": 206}
            await send(message)

        await self.app(scope, receive, send_partial)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)
