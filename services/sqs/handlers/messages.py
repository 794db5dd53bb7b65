"""Message operations: SendMessage, ReceiveMessage, DeleteMessage, ChangeMessageVisibility.

Their batch forms are in batches.py and registered here, so the service registry needs only
this module.
"""

from __future__ import annotations

from typing import Any

from shared.context import RequestContext
from shared.handlers import Handlers

from .. import messages
from ..queues import resolve_url
from ..storage import QueueRecord, Redrive
from . import batches
from .common import in_range, now_ms, queue_at, queue_errors, store

handles = Handlers("sqs")
handles.include(batches.handles)


@handles("SendMessage")
@queue_errors
async def send_message(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    queue = await queue_at(ctx, req["QueueUrl"])
    outgoing = messages.prepare(req, queue.attributes, sender=ctx.account_id, sent_ms=now_ms())
    message_id, sequence = (await store(ctx).send_many(queue.ref, [outgoing]))[0]
    return messages.sent_result(outgoing, message_id, sequence)


def _attempt_id(queue: QueueRecord, req: dict[str, Any]) -> str:
    attempt = req.get("ReceiveRequestAttemptId") or ""
    if not queue.fifo or not attempt:
        return ""  # SQS ignores it on standard queues
    return messages.check_token("ReceiveRequestAttemptId", attempt)


def _redrive(ctx: RequestContext, queue: QueueRecord) -> Redrive | None:
    target = messages.redrive_target(queue.attributes)
    if target is None:
        return None
    dlq, max_receive_count = target
    return Redrive(dlq, max_receive_count, queue.ref.arn(ctx))


@handles("ReceiveMessage")
@queue_errors
async def receive_message(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    queue = await queue_at(ctx, req["QueueUrl"])
    count = req.get("MaxNumberOfMessages", 1)
    in_range("MaxNumberOfMessages", count, 1, 10, "Must be between 1 and 10, if provided.")
    visibility = messages.check_visibility(
        req.get("VisibilityTimeout", queue.int_attribute("VisibilityTimeout"))
    )
    wait = req.get("WaitTimeSeconds", queue.int_attribute("ReceiveMessageWaitTimeSeconds"))
    in_range("WaitTimeSeconds", wait, 0, 20, "Must be >= 0 and <= 20, if provided.")
    received = await store(ctx).receive(
        queue.ref, count, visibility, wait, attempt=_attempt_id(queue, req), redrive=_redrive(ctx, queue)
    )
    if not received:
        return {}
    system = [*(req.get("AttributeNames") or ()), *(req.get("MessageSystemAttributeNames") or ())]
    wanted = req.get("MessageAttributeNames") or ()
    return {"Messages": [messages.to_output(item, system, wanted) for item in received]}


@handles("DeleteMessage")
@queue_errors
async def delete_message(ctx: RequestContext, req: dict[str, Any]) -> None:
    queue = await queue_at(ctx, req["QueueUrl"])
    handle = req["ReceiptHandle"]
    receipt = messages.receipt_of(queue.ref, handle)
    # A stale handle (the message was received again since) succeeds without deleting on a standard
    # queue; a FIFO queue says it expired.
    deleted = await store(ctx).delete_messages(queue.ref, [receipt])
    if not deleted[0] and queue.fifo:
        raise messages.receipt_expired(handle)


@handles("ChangeMessageVisibility")
@queue_errors
async def change_message_visibility(ctx: RequestContext, req: dict[str, Any]) -> None:
    ref = resolve_url(ctx, req["QueueUrl"])
    handle = req["ReceiptHandle"]
    message_id, nonce = messages.receipt_of(ref, handle)
    seconds = messages.check_visibility(req["VisibilityTimeout"])
    outcome = (await store(ctx).change_visibility(ref, [(message_id, nonce, seconds)]))[0]
    if outcome == 0:
        raise messages.not_changeable(handle)
    if outcome < 0:
        raise messages.not_in_flight()
