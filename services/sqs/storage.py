"""SQS state in Redis, so that any number of SQS replicas serve the same queues.

Each queue's keys share one hash tag, ``sqs:{<account>:<region>:<name>}:<part>``, and every
operation that touches several of them is one Lua script (lua.py): a receive pops, counts
and hides a message atomically, whichever replica runs it. Queue names per account and
region are listed in the sorted set ``sqs:index:<account>:<region>`` (lexicographic, so
ListQueues pages by name).

Long polling does not poll: SendMessage publishes the queue's tag on ``sqs:notify``; each
replica holds one subscription (Wakeups) and wakes the ReceiveMessage calls waiting on
that queue, which then try again. A waiter also wakes when the earliest delayed or
in-flight message of its queue is due.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import secrets
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from shared.settings import Settings

from . import lua
from .messages import Received
from .queues import QueueRef

log = logging.getLogger("flotilla.sqs")

NOTIFY_CHANNEL = "sqs:notify"
DEDUP_WINDOW_MS = 5 * 60 * 1000


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

    meta = _part("meta")
    msgs = _part("msgs")
    state = _part("state")
    visible = _part("visible")
    delayed = _part("delayed")
    inflight = _part("inflight")
    dedup = _part("dedup")
    dedupexp = _part("dedupexp")


def index_key(account: str, region: str) -> str:
    return f"sqs:index:{account}:{region}"


# Receipt handles carry the queue, the message and the nonce of this one receive, so a
# handle from another queue, or a forged one, is recognised as invalid without a lookup.


def encode_receipt(ref: QueueRef, message_id: str, nonce: str) -> str:
    raw = f"{ref.account}:{ref.region}:{ref.name}:{message_id}:{nonce}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_receipt(handle: str) -> tuple[QueueRef, str, str] | None:
    try:
        raw = base64.urlsafe_b64decode(handle + "=" * (-len(handle) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    parts = raw.split(":")
    if len(parts) != 5 or not all(parts):
        return None
    account, region, name, message_id, nonce = parts
    return QueueRef(account, region, name), message_id, nonce


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


class SqsStore:
    """Queues and messages of every account and region, in Redis."""

    def __init__(self, redis: aioredis.Redis, external_url: str = "http://localhost:4566") -> None:
        self.redis = redis
        self.external_url = external_url
        self.wakeups = Wakeups(redis)
        self._create = redis.register_script(lua.CREATE)
        self._delete_queue = redis.register_script(lua.DELETE_QUEUE)
        self._send = redis.register_script(lua.SEND)
        self._receive = redis.register_script(lua.RECEIVE)
        self._delete_message = redis.register_script(lua.DELETE_MESSAGE)
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
        keys = [k.meta, k.msgs, k.state, k.visible, k.delayed, k.inflight, k.dedup, k.dedupexp]
        if not await self._delete_queue(keys=[*keys, index_key(ref.account, ref.region)], args=[ref.name]):
            raise QueueGone(ref.name)

    async def queue_names(self, account: str, region: str, prefix: str = "", after: str = "") -> list[str]:
        """Queue names in name order, optionally only those with ``prefix``, strictly after ``after``."""
        low = f"({after}" if after and after >= prefix else f"[{prefix}" if prefix else "-"
        high = f"[{prefix}\U0010ffff" if prefix else "+"
        return await self.redis.zrangebylex(index_key(account, region), low, high)

    async def counts(self, ref: QueueRef) -> tuple[int, int, int]:
        """(visible, in flight, delayed) messages."""
        k = QueueKeys.of(ref)
        result = await self._counts(keys=[k.meta, k.msgs, k.state, k.visible, k.delayed, k.inflight])
        if not result:
            raise QueueGone(ref.name)
        return int(result[0]), int(result[1]), int(result[2])

    # -- messages ------------------------------------------------------------------------

    async def send(
        self, ref: QueueRef, doc: dict[str, Any], delay_s: int, *, fifo: bool = False, dedup_key: str = ""
    ) -> tuple[str, str | None]:
        """Enqueue; returns (message id, sequence number). A FIFO duplicate returns the original's."""
        k = QueueKeys.of(ref)
        result = await self._send(
            keys=[k.meta, k.msgs, k.visible, k.delayed, k.dedup, k.dedupexp],
            args=[
                doc["id"],
                json.dumps(doc),
                delay_s * 1000,
                int(fifo),
                dedup_key,
                DEDUP_WINDOW_MS,
                NOTIFY_CHANNEL,
                k.tag,
            ],  # fmt: skip
        )
        if not result:
            raise QueueGone(ref.name)
        message_id, sequence = result
        return message_id, sequence or None

    async def receive_now(
        self, ref: QueueRef, max_messages: int, visibility_s: int
    ) -> tuple[list[Received], float]:
        """One atomic receive attempt: the messages, and seconds until one may become visible (inf: never)."""
        k = QueueKeys.of(ref)
        nonces = [secrets.token_urlsafe(12) for _ in range(max_messages)]
        result = await self._receive(
            keys=[k.meta, k.msgs, k.state, k.visible, k.delayed, k.inflight],
            args=[max_messages, visibility_s * 1000, *nonces],
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
        self, ref: QueueRef, max_messages: int, visibility_s: int, wait_s: float
    ) -> list[Received]:
        """Receive, long-polling up to ``wait_s``: returns as soon as a message is there."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        with self.wakeups.watch(QueueKeys.of(ref).tag) as woken:
            while True:
                woken.clear()  # before the attempt: a send racing with it still wakes us
                received, next_due = await self.receive_now(ref, max_messages, visibility_s)
                remaining = deadline - loop.time()
                if received or remaining <= 0:
                    return received
                try:
                    await asyncio.wait_for(woken.wait(), min(remaining, next_due))
                except TimeoutError:
                    pass

    async def delete_message(self, ref: QueueRef, message_id: str, nonce: str) -> bool:
        """Delete when ``nonce`` is the message's latest receipt; False for a stale or spent one."""
        k = QueueKeys.of(ref)
        deleted = await self._delete_message(
            keys=[k.msgs, k.state, k.visible, k.delayed, k.inflight], args=[message_id, nonce]
        )
        return bool(deleted)


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
