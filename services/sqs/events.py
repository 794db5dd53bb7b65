"""What SQS shares with other services: the registry entries it writes, the bus events it consumes.

**Registry** (shared/registry.py): every queue is published under its ARN when it is created
(``{"url", "name", "fifo", "account", "region"}``) and removed when it is deleted; see
``admin.SqsAdmin.publish``.

**Bus topic ``sqs.deliver``**: "deliver this message". Any service (S3 notifications, Lambda
destinations ...) sends a message to a queue without knowing SQS by publishing::

    {"QueueArn": "arn:aws:sqs:us-east-1:000000000000:orders",
     "MessageBody": "...",
     "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}},   # optional
     "MessageGroupId": "...", "MessageDeduplicationId": "...",                   # FIFO, optional
     "DelaySeconds": 0,                                                          # optional
     "EventId": "..."}                                                           # optional

Binary attribute values are base64 strings (JSON has no bytes). The message goes through
SendMessage itself (same checks, digests, FIFO rules), sent by the queue's own account. An
event that cannot be delivered (no such queue, invalid message) is logged and dropped: a
retry would fail the same way. Delivery is at least once (the bus redelivers after a crash);
an event with an ``EventId`` is delivered at most once per 10 minutes per id.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from shared.aws.errors import AwsError
from shared.bus import Bus
from shared.context import RequestContext
from shared.settings import Settings

from .handlers.messages import send_message
from .queues import QueueRef, parse_queue_arn
from .storage import SqsStore

log = logging.getLogger("flotilla.sqs")

TOPIC = "sqs.deliver"
GROUP = "sqs"
SEEN_TTL_S = 600
_OPTIONAL = ("MessageGroupId", "MessageDeduplicationId", "DelaySeconds", "MessageSystemAttributes")


class BadEvent(ValueError):
    pass


def _attributes(raw: Any) -> dict[str, dict[str, Any]]:
    """Message attributes of an event, binary values decoded from base64."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise BadEvent("MessageAttributes must be an object")
    out: dict[str, dict[str, Any]] = {}
    for name, value in raw.items():
        if not isinstance(value, Mapping):
            raise BadEvent(f"message attribute {name!r} must be an object")
        value = dict(value)
        if isinstance(value.get("BinaryValue"), str):
            try:
                value["BinaryValue"] = base64.b64decode(value["BinaryValue"], validate=True)
            except (ValueError, binascii.Error):
                raise BadEvent(f"message attribute {name!r}: BinaryValue is not base64") from None
        out[name] = value
    return out


def send_request(event: Mapping[str, Any], external_url: str) -> tuple[QueueRef, dict[str, Any]]:
    """The queue an event names and the SendMessage input that delivers it (raises BadEvent)."""
    arn = event.get("QueueArn")
    ref = parse_queue_arn(arn) if isinstance(arn, str) else None
    if ref is None:
        raise BadEvent(f"QueueArn {arn!r} is not a queue ARN")
    body = event.get("MessageBody")
    if not isinstance(body, str):
        raise BadEvent("MessageBody must be a string")
    req: dict[str, Any] = {"QueueUrl": ref.url(external_url), "MessageBody": body}
    attributes = _attributes(event.get("MessageAttributes"))
    if attributes:
        req["MessageAttributes"] = attributes
    req.update({k: event[k] for k in _OPTIONAL if event.get(k) is not None})
    return ref, req


class Deliveries:
    """The ``sqs.deliver`` handler: one event, one SendMessage."""

    def __init__(self, store: SqsStore) -> None:
        self.store = store

    async def __call__(self, event: dict[str, Any]) -> None:
        try:
            ref, req = send_request(event, self.store.external_url)
        except BadEvent as exc:
            log.warning("sqs.deliver: dropped an event: %s", exc)
            return
        seen = f"sqs:delivered:{event['EventId']}" if isinstance(event.get("EventId"), str) else None
        if seen and await self.store.redis.exists(seen):
            return
        ctx = RequestContext(
            service="sqs",
            operation="SendMessage",
            request_id=f"bus-{uuid.uuid4()}",
            account_id=ref.account,
            region=ref.region,
            protocol="json",
            state=self.store,
        )
        try:
            await send_message(ctx, req)
        except (AwsError, TypeError, KeyError, ValueError) as exc:
            log.warning("sqs.deliver: dropped an event for %s: %s", event.get("QueueArn"), exc)
            return
        if seen:
            await self.store.redis.set(seen, "1", ex=SEEN_TTL_S)


@asynccontextmanager
async def consuming(store: SqsStore, settings: Settings) -> AsyncIterator[Bus]:
    """Consume ``sqs.deliver`` while the service runs (one consumer per process, group ``sqs``)."""
    bus = Bus(settings.redis_url)
    bus.subscribe(TOPIC, GROUP, Deliveries(store), consumer=f"sqs@{socket.gethostname()}:{os.getpid()}")
    try:
        yield bus
    finally:
        await bus.close()
