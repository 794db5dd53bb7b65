"""The event bus against a real redis-server: ordering, groups, redelivery, restarts, claims."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

from shared.bus import Bus
from tests.redis_server import RedisServer, available, redis_server

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not available(), reason="redis-server is not on PATH"),
]

DEADLINE = 5.0
FAST = {"block_ms": 50}  # short blocking reads so claims and retries happen promptly


@pytest.fixture
async def bus(server: RedisServer) -> AsyncIterator[Bus]:
    """A bus in a namespace of its own, so tests sharing the server never see each other's events."""
    bus = Bus(server.url, namespace=f"t{uuid.uuid4().hex[:8]}")
    yield bus
    await bus.close()


class Inbox:
    """Collects delivered events; ``take(n)`` waits for the next ``n`` with a deadline."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Any] = asyncio.Queue()

    async def __call__(self, event: dict[str, Any]) -> None:
        self.queue.put_nowait(event)

    async def take(self, n: int) -> list[Any]:
        return [await asyncio.wait_for(self.queue.get(), DEADLINE) for _ in range(n)]


async def no_pending(bus: Bus, topic: str, group: str) -> None:
    """Wait until the group has acknowledged everything (acks follow the handler: no event to await)."""
    async with asyncio.timeout(DEADLINE):
        for _ in itertools.count():
            if (await bus.redis.xpending(bus.stream(topic), group))["pending"] == 0:
                return
            await asyncio.sleep(0.02)


async def publish(bus: Bus, topic: str, numbers: range) -> None:
    for n in numbers:
        await bus.publish(topic, {"n": n})


async def test_delivers_in_order_and_acknowledges(bus: Bus) -> None:
    inbox = Inbox()
    bus.subscribe("orders", "g", inbox, consumer="c1", **FAST)
    await publish(bus, "orders", range(20))
    assert [e["n"] for e in await inbox.take(20)] == list(range(20))
    await no_pending(bus, "orders", "g")


async def test_events_published_before_any_subscriber_are_delivered(bus: Bus) -> None:
    await publish(bus, "early", range(3))
    inbox = Inbox()
    bus.subscribe("early", "g", inbox, consumer="c1", **FAST)
    assert [e["n"] for e in await inbox.take(3)] == [0, 1, 2]


async def test_every_group_gets_every_event(bus: Bus) -> None:
    a, b = Inbox(), Inbox()
    bus.subscribe("t", "group-a", a, consumer="c", **FAST)
    bus.subscribe("t", "group-b", b, consumer="c", **FAST)
    await publish(bus, "t", range(5))
    assert [e["n"] for e in await a.take(5)] == list(range(5))
    assert [e["n"] for e in await b.take(5)] == list(range(5))


async def test_consumers_of_one_group_share_events(bus: Bus) -> None:
    seen: dict[str, list[int]] = {"c1": [], "c2": []}
    both_busy = asyncio.Event()
    done = asyncio.Event()

    def handler(name: str) -> Callable[[dict[str, Any]], Awaitable[None]]:
        async def handle(event: dict[str, Any]) -> None:
            seen[name].append(event["n"])
            if all(seen.values()):
                both_busy.set()
            # Hold the first event until the other consumer got one too: proves sharing.
            await asyncio.wait_for(both_busy.wait(), DEADLINE)
            if sum(map(len, seen.values())) == 10:
                done.set()

        return handle

    await publish(bus, "shared", range(10))
    bus.subscribe("shared", "g", handler("c1"), consumer="c1", batch=1, **FAST)
    bus.subscribe("shared", "g", handler("c2"), consumer="c2", batch=1, **FAST)
    await asyncio.wait_for(done.wait(), DEADLINE)
    assert seen["c1"] and seen["c2"]
    assert sorted(seen["c1"] + seen["c2"]) == list(range(10))


async def test_failed_handler_is_retried(bus: Bus) -> None:
    attempts: dict[int, int] = {}
    inbox = Inbox()

    async def flaky(event: dict[str, Any]) -> None:
        attempts[event["n"]] = attempts.get(event["n"], 0) + 1
        if event["n"] == 1 and attempts[1] == 1:
            raise RuntimeError("transient")
        await inbox(event)

    bus.subscribe("retry", "g", flaky, consumer="c1", claim_idle_ms=100, **FAST)
    await publish(bus, "retry", range(3))
    assert sorted(e["n"] for e in await inbox.take(3)) == [0, 1, 2]
    assert attempts == {0: 1, 1: 2, 2: 1}
    await no_pending(bus, "retry", "g")


async def test_restarted_consumer_gets_its_pending_and_missed_events(bus: Bus) -> None:
    got_one = asyncio.Event()

    async def dies_on_one(event: dict[str, Any]) -> None:
        if event["n"] == 1:
            got_one.set()
            await asyncio.Event().wait()  # "crash" mid-handler: never acknowledged

    first = bus.subscribe("restart", "g", dies_on_one, consumer="svc@host", **FAST)
    await publish(bus, "restart", range(2))
    await asyncio.wait_for(got_one.wait(), DEADLINE)
    await first.stop()
    await publish(bus, "restart", range(2, 4))  # while the consumer is down

    inbox = Inbox()  # a long claim_idle_ms: only the re-read of its own pending entries can deliver 1
    bus.subscribe("restart", "g", inbox, consumer="svc@host", claim_idle_ms=60_000, **FAST)
    assert [e["n"] for e in await inbox.take(3)] == [1, 2, 3]
    await no_pending(bus, "restart", "g")


async def test_idle_pending_of_a_dead_consumer_is_claimed(bus: Bus) -> None:
    stream = bus.stream("claim")
    await bus.redis.xgroup_create(stream, "g", id="0", mkstream=True)
    await publish(bus, "claim", range(3))
    taken = await bus.redis.xreadgroup("g", "dead", {stream: ">"})  # delivered, never acknowledged
    assert sum(len(entries) for _, entries in _stream_items(taken)) == 3

    inbox = Inbox()
    bus.subscribe("claim", "g", inbox, consumer="alive", claim_idle_ms=50, **FAST)
    assert [e["n"] for e in await inbox.take(3)] == [0, 1, 2]
    await no_pending(bus, "claim", "g")


async def test_subscription_survives_a_redis_restart() -> None:
    with redis_server() as server:
        bus = Bus(server.url, namespace="restart")
        try:
            inbox = Inbox()
            sub = bus.subscribe("t", "g", inbox, consumer="c1", block_ms=100)
            await bus.publish("t", {"n": 0})
            assert await inbox.take(1) == [{"n": 0}]

            await asyncio.to_thread(server.restart)  # all data lost: stream and group too
            await _publish_when_reachable(bus, "t", {"n": 1})
            assert await inbox.take(1) == [{"n": 1}]
            assert sub.running
        finally:
            await bus.close()


async def test_close_stops_subscriptions(bus: Bus) -> None:
    sub = bus.subscribe("t", "g", Inbox(), consumer="c1", **FAST)
    await asyncio.wait_for(sub.ready.wait(), DEADLINE)
    await bus.close()
    assert not sub.running


async def test_bus_accepts_a_client(server: RedisServer) -> None:
    client = aioredis.from_url(server.url, decode_responses=True)
    bus = Bus(client, namespace=f"t{uuid.uuid4().hex[:8]}")
    inbox = Inbox()
    bus.subscribe("t", "g", inbox, consumer="c1", **FAST)
    entry_id = await bus.publish("t", {"k": "v"})
    assert "-" in entry_id
    assert await inbox.take(1) == [{"k": "v"}]
    await bus.close()
    assert await client.ping()  # not ours to close
    await client.aclose()


async def _publish_when_reachable(bus: Bus, topic: str, event: dict[str, Any]) -> None:
    async with asyncio.timeout(DEADLINE):
        while True:
            try:
                await bus.publish(topic, event)
                return
            except RedisConnectionError:
                await asyncio.sleep(0.05)


def _stream_items(reply: Any) -> list[tuple[Any, list[Any]]]:
    return list(reply.items()) if isinstance(reply, dict) else [(s, e) for s, e in reply]
