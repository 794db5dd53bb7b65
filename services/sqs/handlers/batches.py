"""Batch operations: SendMessageBatch, DeleteMessageBatch, ChangeMessageVisibilityBatch.

A batch is checked as a whole first (1-10 entries, distinct valid ids, total size): those
errors fail the request. Then each entry succeeds or fails on its own, and the store does all
the good entries in one atomic script call (a FIFO batch is enqueued in entry order).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from shared.aws.errors import AwsError
from shared.context import RequestContext
from shared.handlers import Handlers

from .. import messages
from .common import now_ms, queue_at, queue_errors, store

handles = Handlers("sqs")


def _split(entries: list[dict[str, Any]], check: Callable[[dict[str, Any]], Any]) -> tuple[list, list]:
    """Run ``check`` on each entry: ([(entry, checked value)], [failed entries])."""
    good, failed = [], []
    for entry in entries:
        try:
            good.append((entry, check(entry)))
        except AwsError as err:
            failed.append(messages.failed_entry(entry["Id"], err))
    return good, failed


def _result(successful: list[dict[str, Any]], failed: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Successful": successful, "Failed": failed}


@handles("SendMessageBatch")
@queue_errors
async def send_message_batch(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    queue = await queue_at(ctx, req["QueueUrl"])
    entries = req.get("Entries") or []
    messages.check_batch(entries, "SendMessageBatchRequestEntry")
    messages.check_batch_size(entries)
    sent_ms = now_ms()
    good, failed = _split(
        entries, lambda e: messages.prepare(e, queue.attributes, sender=ctx.account_id, sent_ms=sent_ms)
    )
    results = await store(ctx).send_many(queue.ref, [outgoing for _, outgoing in good]) if good else []
    successful = [
        {"Id": entry["Id"], **messages.sent_result(outgoing, message_id, sequence)}
        for (entry, outgoing), (message_id, sequence) in zip(good, results, strict=True)
    ]
    return _result(successful, failed)


async def _by_receipt(
    ctx: RequestContext,
    req: dict[str, Any],
    entry_shape: str,
    check: Callable[[Any, dict[str, Any]], Any],
    apply: Callable[[Any, list], Awaitable[list[AwsError | None]]],
) -> dict[str, Any]:
    """The shared shape of the receipt-handle batches: check each entry, apply the good ones at once."""
    queue = await queue_at(ctx, req["QueueUrl"])
    entries = req.get("Entries") or []
    messages.check_batch(entries, entry_shape)
    good, failed = _split(entries, lambda e: check(queue, e))
    outcomes = await apply(queue, [value for _, value in good]) if good else []
    successful = []
    for (entry, _), error in zip(good, outcomes, strict=True):
        if error is None:
            successful.append({"Id": entry["Id"]})
        else:
            failed.append(messages.failed_entry(entry["Id"], error))
    return _result(successful, failed)


@handles("DeleteMessageBatch")
@queue_errors
async def delete_message_batch(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    def check(queue: Any, entry: dict[str, Any]) -> tuple[str, str, str]:
        return (*messages.receipt_of(queue.ref, entry.get("ReceiptHandle") or ""), entry["ReceiptHandle"])

    async def apply(queue: Any, receipts: list[tuple[str, str, str]]) -> list[AwsError | None]:
        deleted = await store(ctx).delete_messages(queue.ref, [(mid, nonce) for mid, nonce, _ in receipts])
        return [
            messages.receipt_expired(handle) if not ok and queue.fifo else None
            for ok, (_, _, handle) in zip(deleted, receipts, strict=True)
        ]

    return await _by_receipt(ctx, req, "DeleteMessageBatchRequestEntry", check, apply)


@handles("ChangeMessageVisibilityBatch")
@queue_errors
async def change_message_visibility_batch(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    def check(queue: Any, entry: dict[str, Any]) -> tuple[str, str, int, str]:
        message_id, nonce = messages.receipt_of(queue.ref, entry.get("ReceiptHandle") or "")
        seconds = messages.check_visibility(entry.get("VisibilityTimeout", 0))
        return message_id, nonce, seconds, entry["ReceiptHandle"]

    async def apply(queue: Any, changes: list[tuple[str, str, int, str]]) -> list[AwsError | None]:
        outcomes = await store(ctx).change_visibility(queue.ref, [c[:3] for c in changes])
        errors_by_outcome = {0: messages.not_changeable, -1: lambda _: messages.not_in_flight()}
        return [
            errors_by_outcome[outcome](change[3]) if outcome != 1 else None
            for outcome, change in zip(outcomes, changes, strict=True)
        ]

    return await _by_receipt(ctx, req, "ChangeMessageVisibilityBatchRequestEntry", check, apply)
