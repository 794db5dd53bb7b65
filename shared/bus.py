"""The event bus: Redis Streams with consumer groups.

Why streams and not PUB/SUB: an event published while its consumer restarts must be delivered
when it comes back (DESIGN.md, "Redis"). A stream keeps the events; a consumer group remembers,
per group, what was delivered and, per consumer, what was delivered but not yet acknowledged
(the pending entries list, PEL).

Layout: topic ``t`` is the stream ``<namespace>:events:t``; each entry carries one field,
``body``, the event as JSON. Streams are trimmed to about ``MAXLEN`` entries (``MAXLEN ~``).

Delivery is at least once, so **handlers must be idempotent**: an event is redelivered when its
handler raised, when the consumer stopped (or died) before acknowledging it, and when a group is
created on a stream that already holds events (see ``Subscription._ensure_group``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger("flotilla.bus")

MAXLEN = 100_000
BODY = "body"
Handler = Callable[[dict[str, Any]], Awaitable[object]]
Entry = tuple[str, dict[str, Any]]

# Errors after which the subscription waits and starts over (group re-ensured: a Redis that
# restarted without persistence has lost the stream and the group, and answers NOGROUP).
_RETRYABLE = (RedisConnectionError, RedisTimeoutError, OSError, ResponseError)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def connect(redis_url_or_client: str | aioredis.Redis) -> tuple[aioredis.Redis, bool]:
    """A client and whether we own it (and so must close it).

    The socket timeout must exceed any subscription's ``block_ms``, else a blocking read times
    out client-side; 30 s leaves room while still noticing a silently dead connection.
    """
    if isinstance(redis_url_or_client, str):
        return aioredis.from_url(redis_url_or_client, socket_timeout=30, socket_connect_timeout=5), True
    return redis_url_or_client, False


def default_consumer(group: str) -> str:
    """``<group>@<hostname>``: stable across restarts of a container or process on one host.

    Services should pass their own name (e.g. ``f"{service}@{hostname}"``); replicas of one
    service on one host must pass distinct names, or they would re-read each other's pending
    events at start (harmless for idempotent handlers, but wasteful).
    """
    return f"{group}@{socket.gethostname()}"


def _entries(reply: Any) -> list[Entry]:
    """XREADGROUP's reply (RESP2 list or RESP3/unified dict, one stream) -> [(id, fields)]."""
    if not reply:
        return []
    per_stream = reply.values() if isinstance(reply, dict) else (entries for _, entries in reply)
    out: list[Entry] = []
    for entries in per_stream:
        out.extend(_flatten(entries))
    return out


def _flatten(entries: Iterable[Any]) -> Iterable[Entry]:
    """Entries as (id, fields); RESP3 with one stream may nest them in one more list."""
    for item in entries or ():
        if isinstance(item, list):
            yield from _flatten(item)
        elif item[0] is not None:
            yield _text(item[0]), item[1] or {}


def _decode(fields: dict[Any, Any]) -> dict[str, Any] | None:
    """The event of one entry, or None for an entry trimmed away while it was pending."""
    body = fields.get(BODY, fields.get(BODY.encode()))
    return None if body is None else json.loads(body)


class Bus:
    """Publish events to topics and subscribe consumer groups to them."""

    def __init__(self, redis_url_or_client: str | aioredis.Redis, namespace: str = "flotilla") -> None:
        self.redis, self._owns_client = connect(redis_url_or_client)
        self.namespace = namespace
        self._subscriptions: set[Subscription] = set()

    def stream(self, topic: str) -> str:
        return f"{self.namespace}:events:{topic}"

    async def publish(self, topic: str, event: dict[str, Any]) -> str:
        """Append ``event`` to the topic's stream; returns the entry id.

        Raises redis errors when Redis is unreachable (after redis-py's own reconnect retries):
        the caller decides whether losing the event is acceptable.
        """
        body = json.dumps(event, separators=(",", ":"), default=str)
        entry_id = await self.redis.xadd(self.stream(topic), {BODY: body}, maxlen=MAXLEN, approximate=True)
        return _text(entry_id)

    def subscribe(
        self,
        topic: str,
        group: str,
        handler: Handler,
        consumer: str | None = None,
        block_ms: int = 1000,
        claim_idle_ms: int = 30_000,
        batch: int = 100,
    ) -> Subscription:
        """Run ``handler(event)`` for every event of ``topic`` delivered to ``group``, in a task.

        Every group gets every event; consumers of one group share them. ``handler`` must be
        idempotent (delivery is at least once). An event is acknowledged once the handler
        returns; if it raises, the event stays pending and is retried after ``claim_idle_ms``
        (by this consumer, or by whichever consumer of the group claims it first). Call from a
        running event loop.
        """
        sub = Subscription(
            self, topic, group, handler, consumer or default_consumer(group), block_ms, claim_idle_ms, batch
        )
        self._subscriptions.add(sub)
        sub.start()
        return sub

    async def close(self) -> None:
        """Stop every subscription, then close the client if the bus created it."""
        for sub in list(self._subscriptions):
            await sub.stop()
        if self._owns_client:
            await self.redis.aclose()


class Subscription:
    """One consumer of one group on one topic, driven by a background task."""

    def __init__(
        self,
        bus: Bus,
        topic: str,
        group: str,
        handler: Handler,
        consumer: str,
        block_ms: int,
        claim_idle_ms: int,
        batch: int,
    ) -> None:
        self.bus, self.topic, self.group, self.consumer = bus, topic, group, consumer
        self.stream = bus.stream(topic)
        self.handler = handler
        self.block_ms, self.claim_idle_ms, self.batch = block_ms, claim_idle_ms, batch
        self.ready = asyncio.Event()  # set each time the group is (re)ensured; for tests and health
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._next_claim = 0.0

    def start(self) -> None:
        name = f"bus:{self.topic}:{self.group}:{self.consumer}"
        self._task = asyncio.get_running_loop().create_task(self._run(), name=name)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        """Cancel the task; an event whose handler was interrupted stays pending (redelivered).

        Cancels until the task is done: redis-py 8 on Python 3.11 can swallow a cancellation
        that lands in a read after a reconnect (seen in the Redis-restart test), and the read
        then goes on blocking. ``_stopping`` also ends the loop at its next turn.
        """
        self.bus._subscriptions.discard(self)
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        while not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=0.5)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _run(self) -> None:
        """Consume forever; on Redis trouble log, back off (capped) and start over."""
        backoff = 0.1
        while not self._stopping:
            try:
                await self._ensure_group()
                backoff = 0.1
                await self._drain_own_pending()
                while not self._stopping:
                    await self._claim_idle()
                    await self._read_new()
            except _RETRYABLE as exc:
                self.ready.clear()
                log.warning(
                    "bus subscription %s/%s: %s; retrying in %.1fs", self.topic, self.group, exc, backoff
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)

    async def _ensure_group(self) -> None:
        """Create the group (and the stream) if missing.

        The group starts at id ``0``, not ``$``: a brand-new group then also gets the events
        published before it existed (a consumer that starts after its producer, or a Redis
        that restarted and lost the group), at the price of replaying the retained stream once
        when a group is first created. Handlers are idempotent, so a replay is safe; losing
        events silently is not. An existing group (BUSYGROUP) keeps its position.
        """
        try:
            await self.bus.redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self.ready.set()

    async def _drain_own_pending(self) -> None:
        """Re-handle what this consumer was given but never acknowledged (e.g. before a restart)."""
        cursor = "0"
        while True:
            reply = await self.bus.redis.xreadgroup(
                self.group, self.consumer, {self.stream: cursor}, count=self.batch
            )
            entries = _entries(reply)
            if not entries:
                return
            await self._handle(entries)
            cursor = entries[-1][0]

    async def _read_new(self) -> None:
        reply = await self.bus.redis.xreadgroup(
            self.group, self.consumer, {self.stream: ">"}, count=self.batch, block=self.block_ms
        )
        await self._handle(_entries(reply))

    async def _claim_idle(self) -> None:
        """XAUTOCLAIM entries pending longer than ``claim_idle_ms``, for any consumer of the group.

        That retries both our own failed events and those of consumers that died. Run at most
        every ``claim_idle_ms / 2`` so an idle subscription does not scan the PEL on every read.
        """
        now = asyncio.get_running_loop().time()
        if now < self._next_claim:
            return
        self._next_claim = now + self.claim_idle_ms / 2000
        cursor = "0-0"
        while True:
            reply = await self.bus.redis.xautoclaim(
                self.stream, self.group, self.consumer, self.claim_idle_ms, start_id=cursor, count=self.batch
            )
            cursor = _text(reply[0])
            await self._handle(list(_flatten(reply[1])))
            if cursor == "0-0":
                return

    async def _handle(self, entries: list[Entry]) -> None:
        """Run the handler per entry, in stream order; acknowledge what succeeded (or was trimmed)."""
        for entry_id, fields in entries:
            event = _decode(fields)
            if event is not None and not await self._call(entry_id, event):
                continue
            await self.bus.redis.xack(self.stream, self.group, entry_id)

    async def _call(self, entry_id: str, event: dict[str, Any]) -> bool:
        try:
            await self.handler(event)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception(
                "bus handler failed for %s %s (group %s); left pending for retry",
                self.topic,
                entry_id,
                self.group,
            )
            return False
        return True
