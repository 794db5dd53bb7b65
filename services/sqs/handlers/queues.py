"""Queue operations: CreateQueue, GetQueueUrl, ListQueues, GetQueueAttributes, DeleteQueue."""

from __future__ import annotations

import base64
from typing import Any

from shared.context import RequestContext
from shared.handlers import Handlers

from .. import attributes, errors
from ..queues import QueueRef, check_name
from ..storage import QueueRecord
from .common import in_range, now_ms, queue_at, queue_errors, store, url_of

handles = Handlers("sqs")


@handles("CreateQueue")
async def create_queue(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    name, fifo = req["QueueName"], attributes.is_fifo(req.get("Attributes"))
    check_name(name, fifo)
    requested = attributes.validate(req.get("Attributes"), fifo)
    ref = QueueRef(ctx.account_id, ctx.region, name)
    stored = {**attributes.defaults(fifo), **requested}
    existing = await store(ctx).create_queue(ref, stored, req.get("tags") or {}, now_ms() // 1000)
    if existing is not None:
        different = attributes.first_difference(existing, requested)
        if different:
            raise errors.queue_name_exists(different)
    return {"QueueUrl": url_of(ctx, ref)}


@handles("GetQueueUrl")
@queue_errors
async def get_queue_url(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    ref = QueueRef(req.get("QueueOwnerAWSAccountId") or ctx.account_id, ctx.region, req["QueueName"])
    await store(ctx).queue(ref)
    return {"QueueUrl": url_of(ctx, ref)}


@handles("DeleteQueue")
@queue_errors
async def delete_queue(ctx: RequestContext, req: dict[str, Any]) -> None:
    queue = await queue_at(ctx, req["QueueUrl"])
    await store(ctx).delete_queue(queue.ref)


def _token(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).decode()


def _after(token: str | None) -> str:
    if not token:
        return ""
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except ValueError:
        raise errors.invalid_parameter("Invalid or expired next token.") from None


@handles("ListQueues")
async def list_queues(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    limit = req.get("MaxResults")
    if limit is not None:
        in_range("MaxResults", limit, 1, 1000, "MaxResults must be an integer between 1 and 1000.")
    elif req.get("NextToken"):
        raise errors.invalid_parameter(
            "MaxResults is a mandatory parameter when you provide a value for NextToken."
        )
    prefix = req.get("QueueNamePrefix") or ""
    names = await store(ctx).queue_names(ctx.account_id, ctx.region, prefix, _after(req.get("NextToken")))
    page = names[: limit or 1000]
    out: dict[str, Any] = {}
    if page:
        out["QueueUrls"] = [url_of(ctx, QueueRef(ctx.account_id, ctx.region, n)) for n in page]
    if limit is not None and len(names) > limit:
        out["NextToken"] = _token(page[-1])
    return out


async def _computed(ctx: RequestContext, queue: QueueRecord) -> dict[str, str]:
    visible, in_flight, delayed = await store(ctx).counts(queue.ref)
    return {
        "QueueArn": queue.ref.arn(ctx),
        "ApproximateNumberOfMessages": str(visible),
        "ApproximateNumberOfMessagesNotVisible": str(in_flight),
        "ApproximateNumberOfMessagesDelayed": str(delayed),
        "CreatedTimestamp": str(queue.created),
        "LastModifiedTimestamp": str(queue.modified),
    }


@handles("GetQueueAttributes")
@queue_errors
async def get_queue_attributes(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    queue = await queue_at(ctx, req["QueueUrl"])
    wanted = set(req.get("AttributeNames") or ())
    for name in wanted - {"All"}:
        if name not in attributes.SETTABLE and name not in attributes.COMPUTED:
            raise errors.invalid_attribute_name(name)
    if not wanted:
        return {}
    every = {**queue.attributes, **await _computed(ctx, queue)}
    chosen = every if "All" in wanted else {k: v for k, v in every.items() if k in wanted}
    return {"Attributes": chosen} if chosen else {}
