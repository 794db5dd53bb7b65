"""Message move tasks: StartMessageMoveTask, CancelMessageMoveTask, ListMessageMoveTasks.

A task moves the messages of a dead-letter queue (the source) back to the queues they were
dead-lettered from, or to one destination queue, at most ``MaxNumberOfMessagesPerSecond``;
the moving is ``admin.MoveTasks``. A ``TaskHandle`` is, as in SQS, base64 of a small JSON
object naming the task and its source queue, so Cancel finds both from the handle alone.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from typing import Any

from shared.aws.errors import AwsError
from shared.context import RequestContext
from shared.handlers import Handlers

from .. import errors
from ..admin import MoveTask, TaskActive, TaskNotFound, admin_of
from ..queues import QueueRef, parse_queue_arn
from ..storage import QueueGone, QueueRecord
from .common import store

handles = Handlers("sqs")

MAX_RATE = 500


def encode_handle(task_id: str, source_arn: str) -> str:
    raw = json.dumps({"taskId": task_id, "sourceArn": source_arn}, separators=(",", ":"))
    return base64.b64encode(raw.encode()).decode()


def decode_handle(handle: str) -> tuple[str, str]:
    """(task id, source ARN); raises InvalidParameterValue for anything that is not a handle."""
    try:
        doc = json.loads(base64.b64decode(handle.encode(), validate=True))
        task_id, source_arn = doc["taskId"], doc["sourceArn"]
    except (ValueError, binascii.Error, KeyError, TypeError, AttributeError, RecursionError):
        raise errors.invalid_parameter("Value for parameter TaskHandle is invalid.") from None
    if not isinstance(task_id, str) or not isinstance(source_arn, str):
        raise errors.invalid_parameter("Value for parameter TaskHandle is invalid.")
    return task_id, source_arn


def _not_found(parameter: str) -> AwsError:
    return AwsError(
        "ResourceNotFoundException",
        f"The resource that you specified for the {parameter} parameter doesn't exist.",
    )


async def _queue_of_arn(ctx: RequestContext, arn: str | None, parameter: str) -> QueueRecord:
    ref = parse_queue_arn(arn) if arn else None
    if ref is None:
        raise _not_found(parameter)
    try:
        return await store(ctx).queue(ref)
    except QueueGone:
        raise _not_found(parameter) from None


def _rate(req: dict[str, Any]) -> int | None:
    rate = req.get("MaxNumberOfMessagesPerSecond")
    if rate is not None and not 1 <= rate <= MAX_RATE:
        raise errors.invalid_parameter(
            "Value for parameter MaxNumberOfMessagesPerSecond is invalid. "
            f"Reason: You must enter a number that's between 1 and {MAX_RATE}."
        )
    return rate


@handles("StartMessageMoveTask")
async def start_message_move_task(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    rate = _rate(req)
    source = await _queue_of_arn(ctx, req["SourceArn"], "SourceArn")
    destination: QueueRef | None = None
    if req.get("DestinationArn"):
        destination = (await _queue_of_arn(ctx, req["DestinationArn"], "DestinationArn")).ref
    admin = admin_of(store(ctx))
    if not await admin.dead_letter_sources(source.ref):
        raise errors.invalid_parameter("Source queue must be configured as a Dead Letter Queue.")
    visible, _, _ = await store(ctx).counts(source.ref)
    task = MoveTask(str(uuid.uuid4()), source.ref, destination, rate)
    try:
        await admin.tasks.start(task, visible)
    except TaskActive:
        raise errors.invalid_parameter(
            "There is already a task running. Only one active task is allowed for a source queue arn at a "
            "given time."
        ) from None
    return {"TaskHandle": encode_handle(task.id, req["SourceArn"])}


@handles("CancelMessageMoveTask")
async def cancel_message_move_task(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    task_id, source_arn = decode_handle(req["TaskHandle"])
    source = await _queue_of_arn(ctx, source_arn, "SourceArn")
    try:
        moved = await admin_of(store(ctx)).tasks.cancel(source.ref, task_id)
    except TaskNotFound:
        raise AwsError("ResourceNotFoundException", "Task does not exist.") from None
    return {"ApproximateNumberOfMessagesMoved": moved}


def _entry(row: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Status": row["status"],
        "SourceArn": row["source"],
        "ApproximateNumberOfMessagesMoved": int(row["moved"]),
        "ApproximateNumberOfMessagesToMove": int(row["to_move"]),
        "StartedTimestamp": int(row["started"]),
    }
    if row["status"] == "RUNNING":
        out["TaskHandle"] = encode_handle(row["id"], row["source"])
    optional = {
        "DestinationArn": row.get("destination"),
        "MaxNumberOfMessagesPerSecond": int(row["rate"]) if row.get("rate") else None,
        "FailureReason": row.get("failure"),
    }
    out.update({k: v for k, v in optional.items() if v})
    return out


@handles("ListMessageMoveTasks")
async def list_message_move_tasks(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    limit = req.get("MaxResults", 1)
    if not 1 <= limit <= 10:
        raise errors.invalid_parameter(
            "Value for parameter MaxResults is invalid. Reason: You must enter a number that's between 1 and 10."
        )
    source = await _queue_of_arn(ctx, req["SourceArn"], "SourceArn")
    rows = await admin_of(store(ctx)).tasks.recent(source.ref, limit)
    return {"Results": [_entry(row) for row in rows]}
