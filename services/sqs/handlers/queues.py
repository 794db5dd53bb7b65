"""Queue operations: create, find, list, attributes, purge, delete, dead-letter sources."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from shared.aws.errors import AwsError
from shared.context import RequestContext
from shared.handlers import Handlers

from .. import attributes, errors
from ..admin import PurgeRefused, admin_of
from ..queues import QueueRef, arn_of, check_name, parse_queue_arn
from ..storage import QueueGone, QueueRecord
from .common import in_range, now_ms, queue_at, queue_errors, store, url_of
from .tags import check_tags

handles = Handlers("sqs")

_PREFIX = re.compile(r"[A-Za-z0-9_.-]{0,80}")


def _redrive_invalid(value: str, reason: str) -> AwsError:
    return errors.invalid_parameter(f"Value {value} for parameter RedrivePolicy is invalid. Reason: {reason}")


async def check_redrive(ctx: RequestContext, ref: QueueRef, wanted: dict[str, str], raw: str) -> None:
    """A RedrivePolicy must name an existing queue of the same type, account and region that allows us."""
    target = attributes.redrive_target(wanted)
    if target is None:
        return
    dlq_ref = parse_queue_arn(target[0])
    if dlq_ref is None or (dlq_ref.account, dlq_ref.region) != (ref.account, ref.region):
        raise _redrive_invalid(raw, "Dead letter target does not exist.")
    try:
        dlq = await store(ctx).queue(dlq_ref)
    except QueueGone:
        raise _redrive_invalid(raw, "Dead letter target does not exist.") from None
    if dlq.fifo != ref.fifo:
        raise _redrive_invalid(raw, "Dead-letter queue must be same type of queue as the source..")
    if not attributes.allows_redrive_from(dlq.attributes, arn_of(ref)):
        raise _redrive_invalid(
            raw, "Dead-letter queue's RedriveAllowPolicy does not allow this source queue."
        )


@handles("CreateQueue")
async def create_queue(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    name, fifo = req["QueueName"], attributes.is_fifo(req.get("Attributes"))
    check_name(name, fifo)
    requested = attributes.validate(req.get("Attributes"), fifo)
    tags = check_tags(req.get("tags") or {}, name)
    ref = QueueRef(ctx.account_id, ctx.region, name)
    await check_redrive(ctx, ref, requested, (req.get("Attributes") or {}).get("RedrivePolicy", ""))
    stored = {**attributes.defaults(fifo), **requested}
    existing = await store(ctx).create_queue(ref, stored, tags, now_ms() // 1000)
    if existing is not None:
        different = attributes.first_difference(existing, requested)
        if different:
            raise errors.queue_name_exists(different)
    url = url_of(ctx, ref)
    await admin_of(store(ctx)).publish(ref, url)
    return {"QueueUrl": url}


@handles("GetQueueUrl")
@queue_errors
async def get_queue_url(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    ref = QueueRef(req.get("QueueOwnerAWSAccountId") or ctx.account_id, ctx.region, req["QueueName"])
    if not ref.valid:
        raise QueueGone(ref.name)
    await store(ctx).queue(ref)
    return {"QueueUrl": url_of(ctx, ref)}


@handles("DeleteQueue")
@queue_errors
async def delete_queue(ctx: RequestContext, req: dict[str, Any]) -> None:
    queue = await queue_at(ctx, req["QueueUrl"])
    await store(ctx).delete_queue(queue.ref)
    await admin_of(store(ctx)).unpublish(queue.ref)


def _token(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).decode()


def _after(token: str | None) -> str:
    if not token:
        return ""
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (ValueError, binascii.Error):
        raise errors.invalid_parameter("Invalid or expired next token.") from None


def _page_limit(req: dict[str, Any]) -> int | None:
    limit = req.get("MaxResults")
    if limit is not None:
        in_range("MaxResults", limit, 1, 1000, "MaxResults must be an integer between 1 and 1000.")
    elif req.get("NextToken"):
        raise errors.invalid_parameter(
            "MaxResults is a mandatory parameter when you provide a value for NextToken."
        )
    return limit


def _page(names: list[str], limit: int | None) -> tuple[list[str], str | None]:
    """One page of names (all of them, up to 1000, without MaxResults) and the token for the next."""
    page = names[: limit or 1000]
    more = limit is not None and len(names) > limit
    return page, (_token(page[-1]) if more else None)


@handles("ListQueues")
async def list_queues(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    limit = _page_limit(req)
    prefix = req.get("QueueNamePrefix") or ""
    if not _PREFIX.fullmatch(prefix):
        return {}  # no queue name has such a prefix
    names = await store(ctx).queue_names(ctx.account_id, ctx.region, prefix, _after(req.get("NextToken")))
    page, token = _page(names, limit)
    out: dict[str, Any] = {}
    if page:
        out["QueueUrls"] = [url_of(ctx, QueueRef(ctx.account_id, ctx.region, n)) for n in page]
    if token:
        out["NextToken"] = token
    return out


@handles("ListDeadLetterSourceQueues")
@queue_errors
async def list_dead_letter_source_queues(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    limit = _page_limit(req)
    dlq = await queue_at(ctx, req["QueueUrl"])
    after = _after(req.get("NextToken"))
    sources = await admin_of(store(ctx)).dead_letter_sources(dlq.ref)
    page, token = _page([ref.name for ref in sources if ref.name > after], limit)
    out: dict[str, Any] = {
        "queueUrls": [url_of(ctx, QueueRef(dlq.ref.account, dlq.ref.region, n)) for n in page]
    }
    if token:
        out["NextToken"] = token
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
    names = attributes.check_names(req.get("AttributeNames") or (), queue.fifo)
    if not names:
        return {}
    every = dict(queue.attributes)
    if "All" in names or names & set(attributes.COMPUTED):
        every.update(await _computed(ctx, queue))
    chosen = attributes.select(every, names)
    return {"Attributes": chosen} if chosen else {}


@handles("SetQueueAttributes")
@queue_errors
async def set_queue_attributes(ctx: RequestContext, req: dict[str, Any]) -> None:
    queue = await queue_at(ctx, req["QueueUrl"])
    changes = attributes.validate_update(req.get("Attributes"), queue.attributes)
    if changes.get("RedrivePolicy"):
        await check_redrive(ctx, queue.ref, changes, req["Attributes"]["RedrivePolicy"])
    if changes:
        await admin_of(store(ctx)).update_attributes(queue.ref, changes)


@handles("PurgeQueue")
@queue_errors
async def purge_queue(ctx: RequestContext, req: dict[str, Any]) -> None:
    queue = await queue_at(ctx, req["QueueUrl"])
    try:
        await admin_of(store(ctx)).purge(queue.ref)
    except PurgeRefused:
        raise AwsError(
            "PurgeQueueInProgress",
            f"Only one PurgeQueue operation on {queue.ref.name} is allowed every 60 seconds.",
        ) from None
