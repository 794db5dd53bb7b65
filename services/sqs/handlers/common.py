"""What every SQS handler needs: the store, the queue a URL names, and QueueGone -> QueueDoesNotExist."""

from __future__ import annotations

import functools
import time
from typing import Any

from shared.context import RequestContext
from shared.handlers import Handler

from .. import errors
from ..queues import QueueRef, resolve_url
from ..storage import QueueGone, QueueRecord, SqsStore


def store(ctx: RequestContext) -> SqsStore:
    return ctx.state


async def queue_at(ctx: RequestContext, url: str) -> QueueRecord:
    """The queue ``url`` names (raises QueueDoesNotExist)."""
    return await store(ctx).queue(resolve_url(ctx, url))


def url_of(ctx: RequestContext, ref: QueueRef) -> str:
    return ref.url(store(ctx).external_url)


def now_ms() -> int:
    return int(time.time() * 1000)


def queue_errors(fn: Handler) -> Handler:
    """A queue that is gone, or goes while we work on it, answers QueueDoesNotExist in the caller's protocol."""

    @functools.wraps(fn)
    async def handler(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any] | None:
        try:
            return await fn(ctx, req)
        except QueueGone:
            raise errors.queue_does_not_exist(ctx.protocol) from None

    return handler


def in_range(name: str, value: int, low: int, high: int, reason: str) -> int:
    if not low <= value <= high:
        raise errors.out_of_range(name, value, reason)
    return value
