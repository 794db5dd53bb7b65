"""SQS state in Redis, so that any number of SQS replicas serve the same queues.

Each queue's keys share one hash tag, ``sqs:{<account>:<region>:<name>}:<part>``, and every
operation that touches several of them is one Lua script (lua.py): a receive pops, counts
and hides a message atomically, whichever replica runs it. Queue names per account and
region are listed in the sorted set ``sqs:index:<account>:<region>`` (lexicographic, so
ListQueues pages by name).

The key layout is described in lua.py. Scripts build some key names at run time (FIFO group
lists, the dead-letter queue of a redrive), so the store needs one Redis, not a cluster.

Long polling does not poll: whatever makes a message receivable at once (SendMessage, a
redrive into a dead-letter queue, a deleted FIFO message that frees its group, a visibility
timeout changed to 0) publishes the queue's tag on ``sqs:notify``; each replica holds one
subscription (Wakeups) and wakes the ReceiveMessage calls waiting on that queue, which then
try again. A waiter also wakes when the earliest delayed or in-flight message of its queue
is due.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from shared.settings import Settings

from . import lua
from .messages import Outgoing, Received, decode_receipt, encode_receipt
from .queues import QueueRef

log = logging.getLogger("flotilla.sqs")

NOTIFY_CHANNEL = "sqs:notify"
DEDUP_WINDOW_MS = 5 * 60 * 1000
ATTEMPT_WINDOW_MS = 5 * 60 * 1000


__all__ = ["Outgoing", "QueueGone", "QueueRecord", "Redrive", "SqsStore", "decode_receipt", "encode_receipt"]


class QueueGone(Exception):
    """The queue does not exist (or was deleted while we worked on it)."""


def _part(name: str) -> property:
    return property(lambda self: f"sqs:{{{self.tag}}}:{name}")


@dataclass(frozen=True)
class QueueKeys:
    """The Redis keys of one queue; they share the hash tag ``{account:region:name}``."""

    tag: str

    @classmethod
    def of(cls, ref: QueueRef) -> QueueKeys:
        return cls(f"{ref.account}:{ref.region}:{ref.name}")

    @property
    def prefix(self) -> str:
        """What every key of the queue starts with (the Lua scripts build the key names from it)."""
        return f"sqs:{{{self.tag}}}:"

    meta = _part("meta")
    msgs = _part("msgs")
    state = _part("state")
    sent = _part("sent")
    visible = _part("visible")
    delayed = _part("delayed")
    inflight = _part("inflight")
    dedup = _part("dedup")
    dedupexp = _part("dedupexp")


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def index_key(account: str, region: str) -> str:
    return f"sqs:index:{account}:{region}"


@dataclass
class QueueRecord:
    ref: QueueRef
    attributes: dict[str, str]
    tags: dict[str, str]
    created: int
    modified: int

    @property
    def fifo(self) -> bool:
        return self.attributes.get("FifoQueue") == "true"

    def int_attribute(self, name: str) -> int:
        return int(self.attributes[name])


class Wakeups:
    """One pub/sub subscription per process, fanned out to the local long-polling receivers."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis
        self._waiting: dict[str, set[asyncio.Event]] = {}
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(NOTIFY_CHANNEL)
        self._task = asyncio.create_task(self._listen(pubsub), name="sqs-wakeups")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _listen(self, pubsub: Any) -> None:
        try:
            while True:
                try:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
                except (aioredis.ConnectionError, aioredis.TimeoutError, OSError):
                    # Notifications may have been lost while disconnected: let every waiter look again.
                    log.warning("sqs wakeups: redis connection lost, retrying")
                    self._wake_all()
                    await asyncio.sleep(0.5)
                    continue
                if message is not None:
                    self._wake(message["data"])
        finally:
            await pubsub.aclose()

    def _wake(self, tag: str) -> None:
        for event in self._waiting.get(tag, ()):
            event.set()

    def _wake_all(self) -> None:
        for events in self._waiting.values():
            for event in events:
                event.set()

    @contextmanager
    def watch(self, tag: str) -> Iterator[asyncio.Event]:
        event = asyncio.Event()
        self._waiting.setdefault(tag, set()).add(event)
        try:
            yield event
        finally:
            events = self._waiting.get(tag)
            if events is not None:
                events.discard(event)
                if not events:
                    del self._waiting[tag]


@dataclass(frozen=True)
class Redrive:
    """Where a queue's messages go after ``max_receive_count`` receives (its RedrivePolicy)."""

    dlq: QueueRef
    max_receive_count: int
    source_arn: str


class SqsStore:
    """Queues and messages of every account and region, in Redis."""

    def __init__(self, redis: aioredis.Redis, external_url: str = "http://localhost:4566") -> None:
        self.redis = redis
        self.external_url = external_url
        self.wakeups = Wakeups(redis)
        self._create = redis.register_script(lua.CREATE)
        self._delete_queue = redis.register_script(lua.DELETE_QUEUE)
        self._purge = redis.register_script(lua.PURGE)
        self._send = redis.register_script(lua.SEND)
        self._receive = redis.register_script(lua.RECEIVE)
        self._delete_messages = redis.register_script(lua.DELETE_MESSAGES)
        self._change_visibility = redis.register_script(lua.CHANGE_VISIBILITY)
        self._counts = redis.register_script(lua.COUNTS)

    # -- queues --------------------------------------------------------------------------

    async def create_queue(
        self, ref: QueueRef, attributes: Mapping[str, str], tags: Mapping[str, str], now_s: int
    ) -> dict[str, str] | None:
        """Create the queue; when it exists already, return its attributes instead."""
        keys = QueueKeys.of(ref)
        existing = await self._create(
            keys=[keys.meta, index_key(ref.account, ref.region)],
            args=[ref.name, json.dumps(dict(attributes)), json.dumps(dict(tags)), now_s],
        )
        return json.loads(existing) if existing else None

    async def queue(self, ref: QueueRef) -> QueueRecord:
        if not _encodable(ref.name):
            raise QueueGone(ref.name)  # no queue has such a name (lone surrogates cannot reach Redis)
        meta = await self.redis.hgetall(QueueKeys.of(ref).meta)
        if not meta:
            raise QueueGone(ref.name)
        return QueueRecord(
            ref,
            json.loads(meta["attrs"]),
            json.loads(meta["tags"]),
            int(meta["created"]),
            int(meta["modified"]),
        )

    async def delete_queue(self, ref: QueueRef) -> None:
        k = QueueKeys.of(ref)
        deleted = await self._delete_queue(
            keys=[k.meta, index_key(ref.account, ref.region)], args=[k.prefix, ref.name]
        )
        if not deleted:
            raise QueueGone(ref.name)

    async def purge(self, ref: QueueRef) -> None:
        """Delete every message of the queue (deduplication ids and sequence numbers survive)."""
        if not await self._purge(args=[QueueKeys.of(ref).prefix]):
            raise QueueGone(ref.name)

    async def queue_names(self, account: str, region: str, prefix: str = "", after: str = "") -> list[str]:
        """Queue names in name order, optionally only those with ``prefix``, strictly after ``after``."""
        if not (_encodable(prefix) and _encodable(after)):
            return []
        low = f"({after}" if after and after >= prefix else f"[{prefix}" if prefix else "-"
        high = f"[{prefix}\U0010ffff" if prefix else "+"
        return await self.redis.zrangebylex(index_key(account, region), low, high)

    async def counts(self, ref: QueueRef) -> tuple[int, int, int]:
        """(visible, in flight, delayed) messages, after applying retention and due times."""
        result = await self._counts(args=[QueueKeys.of(ref).prefix])
        if not result:
            raise QueueGone(ref.name)
        return int(result[0]), int(result[1]), int(result[2])

    # -- messages ------------------------------------------------------------------------

    async def send(
        self, ref: QueueRef, doc: dict[str, Any], delay_s: int, *, fifo: bool = False, dedup_key: str = ""
    ) -> tuple[str, str | None]:
        """Enqueue one message; returns (message id, sequence number). A FIFO duplicate returns the original's.

        ``fifo`` is accepted for callers that know it; the script reads the queue type itself.
        """
        return (await self.send_many(ref, [Outgoing(doc, delay_s, dedup_key)]))[0]

    async def send_many(self, ref: QueueRef, messages: Sequence[Outgoing]) -> list[tuple[str, str | None]]:
        """Enqueue messages in order, atomically: (message id, sequence number) for each."""
        k = QueueKeys.of(ref)
        args: list[Any] = [k.prefix, NOTIFY_CHANNEL, k.tag, DEDUP_WINDOW_MS]
        for m in messages:
            doc = m.doc
            args += [doc["id"], json.dumps(doc), m.delay_s * 1000, m.dedup_key, doc.get("group", "")]
        result = await self._send(args=args)
        if not result:
            raise QueueGone(ref.name)
        return [(message_id, sequence or None) for message_id, sequence in result]

    async def receive_now(
        self,
        ref: QueueRef,
        max_messages: int,
        visibility_s: int,
        *,
        attempt: str = "",
        redrive: Redrive | None = None,
    ) -> tuple[list[Received], float]:
        """One atomic receive attempt: the messages, and seconds until one may become visible (inf: never)."""
        k = QueueKeys.of(ref)
        nonces = [secrets.token_urlsafe(12) for _ in range(max_messages)]
        dlq = QueueKeys.of(redrive.dlq) if redrive else None
        result = await self._receive(
            args=[
                k.prefix,
                NOTIFY_CHANNEL,
                k.tag,
                max_messages,
                visibility_s * 1000,
                attempt,
                ATTEMPT_WINDOW_MS,
                dlq.prefix if dlq else "",
                dlq.tag if dlq else "",
                redrive.max_receive_count if redrive else 0,
                redrive.source_arn if redrive else "",
                *nonces,
            ]  # fmt: skip
        )
        if not result:
            raise QueueGone(ref.name)
        now, next_due, *rows = result
        received = [
            Received(json.loads(doc), int(count), int(first), encode_receipt(ref, mid, nonce))
            for mid, doc, count, first, nonce in rows
        ]
        wait = float("inf") if int(next_due) < 0 else max(0.0, (int(next_due) - int(now)) / 1000)
        return received, wait

    async def receive(
        self,
        ref: QueueRef,
        max_messages: int,
        visibility_s: int,
        wait_s: float,
        *,
        attempt: str = "",
        redrive: Redrive | None = None,
    ) -> list[Received]:
        """Receive, long-polling up to ``wait_s``: returns as soon as a message is there."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        with self.wakeups.watch(QueueKeys.of(ref).tag) as woken:
            while True:
                woken.clear()  # before the attempt: a send racing with it still wakes us
                received, next_due = await self.receive_now(
                    ref, max_messages, visibility_s, attempt=attempt, redrive=redrive
                )
                remaining = deadline - loop.time()
                if received or remaining <= 0:
                    return received
                try:
                    await asyncio.wait_for(woken.wait(), min(remaining, next_due))
                except TimeoutError:
                    pass

    async def delete_messages(self, ref: QueueRef, receipts: Sequence[tuple[str, str]]) -> list[bool]:
        """Delete each (message id, nonce) whose nonce is the latest receipt; False for a stale or spent one."""
        k = QueueKeys.of(ref)
        result = await self._delete_messages(
            args=[k.prefix, NOTIFY_CHANNEL, k.tag, *(part for pair in receipts for part in pair)]
        )
        if result is None:
            raise QueueGone(ref.name)
        return [bool(r) for r in result]

    async def delete_message(self, ref: QueueRef, message_id: str, nonce: str) -> bool:
        """Delete when ``nonce`` is the message's latest receipt; False for a stale or spent one."""
        return (await self.delete_messages(ref, [(message_id, nonce)]))[0]

    async def change_visibility(self, ref: QueueRef, changes: Sequence[tuple[str, str, int]]) -> list[int]:
        """Per (message id, nonce, seconds): 1 changed, 0 stale receipt or message gone, -1 not in flight."""
        k = QueueKeys.of(ref)
        args: list[Any] = [k.prefix, NOTIFY_CHANNEL, k.tag]
        for message_id, nonce, seconds in changes:
            args += [message_id, nonce, seconds * 1000]
        result = await self._change_visibility(args=args)
        if result is None:
            raise QueueGone(ref.name)
        return [int(r) for r in result]


@asynccontextmanager
async def open_state(settings: Settings) -> AsyncIterator[SqsStore]:
    """Connect to the fleet's Redis. State is not wiped at start: other replicas may share it."""
    redis = aioredis.Redis.from_url(settings.redis_url, decode_responses=True)
    store = SqsStore(redis, settings.external_url)
    await store.wakeups.start()
    try:
        yield store
    finally:
        await store.wakeups.stop()
        await redis.aclose()
