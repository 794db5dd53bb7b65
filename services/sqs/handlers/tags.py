"""Queue tags: TagQueue, UntagQueue, ListQueueTags (and the tag rules CreateQueue shares)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.context import RequestContext
from shared.handlers import Handlers

from .. import errors
from ..admin import MAX_TAGS, TooManyTags, admin_of
from ..attributes import utf8_text
from .common import queue_at, queue_errors, store

handles = Handlers("sqs")

MAX_KEY, MAX_VALUE = 128, 256


def _check_key(key: object) -> None:
    if not utf8_text(key) or not 1 <= len(key) <= MAX_KEY:  # type: ignore[arg-type]
        raise errors.invalid_parameter(f"Tag keys must be between 1 and {MAX_KEY} characters in length.")


def check_tags(tags: Mapping[str, str], queue_name: str) -> dict[str, str]:
    """At most 50 tags; keys of 1-128 characters, values of 0-256."""
    if len(tags) > MAX_TAGS:
        raise errors.invalid_parameter(f"Too many tags added for queue {queue_name}.")
    for key, value in tags.items():
        _check_key(key)
        if not utf8_text(value) or len(value) > MAX_VALUE:
            raise errors.invalid_parameter(
                f"Tag values must be between 0 and {MAX_VALUE} characters in length."
            )
    return dict(tags)


@handles("TagQueue")
@queue_errors
async def tag_queue(ctx: RequestContext, req: dict[str, Any]) -> None:
    queue = await queue_at(ctx, req["QueueUrl"])
    if not req.get("Tags"):
        raise errors.missing_parameter("Tags")
    tags = check_tags(req["Tags"], queue.ref.name)
    try:
        await admin_of(store(ctx)).update_tags(queue.ref, add=tags)
    except TooManyTags:
        raise errors.invalid_parameter(f"Too many tags added for queue {queue.ref.name}.") from None


@handles("UntagQueue")
@queue_errors
async def untag_queue(ctx: RequestContext, req: dict[str, Any]) -> None:
    queue = await queue_at(ctx, req["QueueUrl"])
    keys = req.get("TagKeys") or []
    if not keys:
        raise errors.invalid_parameter(f"Tag keys must be between 1 and {MAX_KEY} characters in length.")
    for key in keys:
        _check_key(key)
    await admin_of(store(ctx)).update_tags(queue.ref, remove=keys)


@handles("ListQueueTags")
@queue_errors
async def list_queue_tags(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    queue = await queue_at(ctx, req["QueueUrl"])
    return {"Tags": queue.tags} if queue.tags else {}
