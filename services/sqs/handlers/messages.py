"""Message operations: SendMessage, ReceiveMessage, DeleteMessage."""

from __future__ import annotations

import hashlib
from typing import Any

from shared.context import RequestContext
from shared.handlers import Handlers

from .. import errors, messages
from ..queues import resolve_url
from ..storage import QueueRecord, decode_receipt
from .common import in_range, now_ms, queue_at, queue_errors, store

handles = Handlers("sqs")

NOT_FOR_THIS_QUEUE = "The request include parameter that is not valid for this queue type."


def _delay(queue: QueueRecord, req: dict[str, Any]) -> int:
    delay = req.get("DelaySeconds")
    if delay is None:
        return queue.int_attribute("DelaySeconds")
    if queue.fifo:
        raise errors.out_of_range("DelaySeconds", delay, NOT_FOR_THIS_QUEUE)
    return in_range("DelaySeconds", delay, 0, 900, "Must be >= 0 and <= 900.")


def _dedup_key(queue: QueueRecord, req: dict[str, Any]) -> str:
    """FIFO: the key duplicates share within the 5-minute window ('' for standard queues)."""
    if not queue.fifo:
        if req.get("MessageDeduplicationId"):
            raise errors.out_of_range(
                "MessageDeduplicationId", req["MessageDeduplicationId"], NOT_FOR_THIS_QUEUE
            )
        return ""
    if not req.get("MessageGroupId"):
        raise errors.missing_parameter("MessageGroupId")
    dedup = req.get("MessageDeduplicationId")
    if not dedup:
        if queue.attributes.get("ContentBasedDeduplication") != "true":
            raise errors.invalid_parameter(
                "The queue should either have ContentBasedDeduplication enabled or "
                "MessageDeduplicationId provided explicitly"
            )
        dedup = hashlib.sha256(req["MessageBody"].encode("utf-8")).hexdigest()
        req["MessageDeduplicationId"] = dedup
    if queue.attributes.get("DeduplicationScope") == "messageGroup":
        return f"{req['MessageGroupId']}\x00{dedup}"
    return dedup


@handles("SendMessage")
@queue_errors
async def send_message(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    queue = await queue_at(ctx, req["QueueUrl"])
    messages.check_body(req.get("MessageBody"))
    messages.check_attributes(req.get("MessageAttributes"))
    messages.check_system_attributes(req.get("MessageSystemAttributes"))
    messages.check_size(
        req["MessageBody"], req.get("MessageAttributes"), queue.int_attribute("MaximumMessageSize")
    )
    delay, dedup_key = _delay(queue, req), _dedup_key(queue, req)
    doc = messages.new_message(req, sender=ctx.account_id, sent_ms=now_ms())
    message_id, sequence = await store(ctx).send(queue.ref, doc, delay, fifo=queue.fifo, dedup_key=dedup_key)
    out = {
        "MessageId": message_id,
        "MD5OfMessageBody": doc["md5"],
        "MD5OfMessageAttributes": doc["md5_attrs"],
        "MD5OfMessageSystemAttributes": doc["md5_sys"],
        "SequenceNumber": sequence,
    }
    return {k: v for k, v in out.items() if v is not None}


@handles("ReceiveMessage")
@queue_errors
async def receive_message(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    queue = await queue_at(ctx, req["QueueUrl"])
    count = req.get("MaxNumberOfMessages", 1)
    in_range("MaxNumberOfMessages", count, 1, 10, "Must be between 1 and 10, if provided.")
    visibility = req.get("VisibilityTimeout", queue.int_attribute("VisibilityTimeout"))
    in_range("VisibilityTimeout", visibility, 0, 43_200, "Must be >= 0 and <= 43200, if provided.")
    wait = req.get("WaitTimeSeconds", queue.int_attribute("ReceiveMessageWaitTimeSeconds"))
    in_range("WaitTimeSeconds", wait, 0, 20, "Must be >= 0 and <= 20, if provided.")
    received = await store(ctx).receive(queue.ref, count, visibility, wait)
    if not received:
        return {}
    system = [*(req.get("AttributeNames") or ()), *(req.get("MessageSystemAttributeNames") or ())]
    wanted = req.get("MessageAttributeNames") or ()
    return {"Messages": [messages.to_output(item, system, wanted) for item in received]}


@handles("DeleteMessage")
@queue_errors
async def delete_message(ctx: RequestContext, req: dict[str, Any]) -> None:
    ref = resolve_url(ctx, req["QueueUrl"])
    await store(ctx).queue(ref)
    handle = req["ReceiptHandle"]
    decoded = decode_receipt(handle)
    if decoded is None or decoded[0] != ref:
        raise errors.receipt_handle_invalid(handle)
    _, message_id, nonce = decoded
    # A stale handle (the message was received again since) succeeds without deleting, as in SQS.
    await store(ctx).delete_message(ref, message_id, nonce)
