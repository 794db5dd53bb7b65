"""The SQS store against a real redis-server: atomic receive, visibility, delays, long polling."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator

import pytest
import redis.asyncio as aioredis

from flotilla.fleet import free_port
from services.sqs import attributes
from services.sqs.messages import new_message
from services.sqs.queues import QueueRef
from services.sqs.storage import Outgoing, QueueGone, Redrive, SqsStore, decode_receipt

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server is not on PATH")
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)]  # fmt: skip
    proc = subprocess.Popen([exe, *args], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                raise
            time.sleep(0.02)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(5)


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[SqsStore]:
    redis = aioredis.Redis.from_url(redis_url, decode_responses=True)
    await redis.flushdb()
    s = SqsStore(redis)
    await s.wakeups.start()
    try:
        yield s
    finally:
        await s.wakeups.stop()
        await redis.aclose()


REF = QueueRef("000000000000", "us-east-1", "q")


async def make_queue(store: SqsStore, ref: QueueRef = REF, **attrs: str) -> None:
    assert await store.create_queue(ref, {**attributes.defaults(ref.fifo), **attrs}, {}, 1) is None


async def send(store: SqsStore, body: str, ref: QueueRef = REF, delay: int = 0) -> str:
    doc = new_message({"MessageBody": body}, sender="s", sent_ms=1)
    message_id, _ = await store.send(ref, doc, delay)
    return message_id


async def test_create_is_idempotent_and_scoped(store):
    await make_queue(store)
    assert (await store.create_queue(REF, {"VisibilityTimeout": "99"}, {}, 2))["VisibilityTimeout"] == "30"
    other = QueueRef("111111111111", "us-east-1", "q")
    await make_queue(store, other)
    await make_queue(store, QueueRef("000000000000", "eu-west-1", "q"))
    assert await store.queue_names("000000000000", "us-east-1") == ["q"]
    await store.delete_queue(REF)
    with pytest.raises(QueueGone):
        await store.queue(REF)
    assert (await store.queue(other)).attributes["VisibilityTimeout"] == "30"
    assert await store.queue_names("000000000000", "us-east-1") == []


async def test_queue_names_by_prefix_and_page(store):
    for name in ("b1", "a1", "a2", "c"):
        await make_queue(store, QueueRef("000000000000", "us-east-1", name))
    assert await store.queue_names("000000000000", "us-east-1", "a") == ["a1", "a2"]
    assert await store.queue_names("000000000000", "us-east-1", "", "a2") == ["b1", "c"]
    assert await store.queue_names("000000000000", "us-east-1", "a", "a1") == ["a2"]


async def test_receive_hides_counts_and_deletes(store):
    await make_queue(store)
    sent = [await send(store, f"m{i}") for i in range(3)]
    got = await store.receive(REF, 10, 30, 0)
    assert [r.doc["id"] for r in got] == sent
    assert {r.receive_count for r in got} == {1}
    assert len({r.receipt_handle for r in got}) == 3
    assert await store.receive(REF, 10, 30, 0) == []
    assert await store.counts(REF) == (0, 3, 0)
    _, message_id, nonce = decode_receipt(got[0].receipt_handle)
    assert await store.delete_message(REF, message_id, nonce)
    assert not await store.delete_message(REF, message_id, nonce)
    assert await store.counts(REF) == (0, 2, 0)


async def test_visibility_zero_redelivers_with_new_receipt(store):
    await make_queue(store)
    await send(store, "again")
    first = (await store.receive(REF, 1, 0, 0))[0]
    second = (await store.receive(REF, 1, 0, 0))[0]
    assert second.receive_count == 2
    assert second.first_receive_ms == first.first_receive_ms
    assert second.receipt_handle != first.receipt_handle
    _, message_id, stale = decode_receipt(first.receipt_handle)
    assert not await store.delete_message(REF, message_id, stale)  # stale handle deletes nothing


async def test_visibility_timeout_expires(store):
    await make_queue(store)
    await send(store, "x")
    assert len(await store.receive(REF, 1, 1, 0)) == 1
    started = time.monotonic()
    again = await store.receive(REF, 1, 1, 5)  # wakes when the in-flight message is due
    assert len(again) == 1 and again[0].receive_count == 2
    assert 0.3 < time.monotonic() - started < 3


async def test_delayed_message_is_invisible_until_due(store):
    await make_queue(store)
    await send(store, "later", delay=1)
    assert await store.counts(REF) == (0, 0, 1)
    assert await store.receive(REF, 1, 30, 0) == []
    got = await store.receive(REF, 1, 30, 5)
    assert [r.doc["body"] for r in got] == ["later"]


async def test_long_poll_returns_as_soon_as_a_message_arrives(store):
    await make_queue(store)
    started = time.monotonic()
    waiter = asyncio.create_task(store.receive(REF, 1, 30, 10))
    await asyncio.sleep(0.3)
    assert not waiter.done()
    await send(store, "wake up")
    got = await asyncio.wait_for(waiter, 5)
    assert [r.doc["body"] for r in got] == ["wake up"]
    assert time.monotonic() - started < 2


async def test_concurrent_receivers_never_share_a_message(store):
    await make_queue(store)
    waiters = [asyncio.create_task(store.receive(REF, 1, 30, 5)) for _ in range(4)]
    await asyncio.sleep(0.2)
    ids = {await send(store, f"m{i}") for i in range(4)}
    results = await asyncio.wait_for(asyncio.gather(*waiters), 5)
    assert sorted(r[0].doc["id"] for r in results) == sorted(ids)


async def test_long_poll_times_out_empty(store):
    await make_queue(store)
    started = time.monotonic()
    assert await store.receive(REF, 1, 30, 1) == []
    assert 0.9 < time.monotonic() - started < 2


async def test_operations_on_missing_queue(store):
    with pytest.raises(QueueGone):
        await send(store, "x")
    with pytest.raises(QueueGone):
        await store.receive(REF, 1, 30, 0)
    with pytest.raises(QueueGone):
        await store.delete_queue(REF)


async def test_fifo_sequence_numbers_and_deduplication(store):
    ref = QueueRef("000000000000", "us-east-1", "f.fifo")
    await make_queue(store, ref)
    first = new_message({"MessageBody": "a", "MessageGroupId": "g"}, sender="s", sent_ms=1)
    second = new_message({"MessageBody": "b", "MessageGroupId": "g"}, sender="s", sent_ms=1)
    id1, seq1 = await store.send(ref, first, 0, fifo=True, dedup_key="d1")
    id2, seq2 = await store.send(ref, second, 0, fifo=True, dedup_key="d2")
    dup, dup_seq = await store.send(ref, dict(second, id="other"), 0, fifo=True, dedup_key="d1")
    assert (dup, dup_seq) == (id1, seq1)
    assert len(seq1) == 20 and seq1 < seq2
    got = await store.receive(ref, 10, 30, 0)
    assert [(r.doc["id"], r.doc["seq"]) for r in got] == [(id1, seq1), (id2, seq2)]


# -- FIFO groups, redrive, retention, visibility changes, batches --------------------------------

FIFO = QueueRef("000000000000", "us-east-1", "g.fifo")


async def send_fifo(store: SqsStore, body: str, group: str, ref: QueueRef = FIFO) -> str:
    doc = new_message({"MessageBody": body, "MessageGroupId": group}, sender="s", sent_ms=1)
    message_id, _ = await store.send(ref, doc, 0, dedup_key=body)
    return message_id


def bodies(received) -> list[str]:
    return [r.doc["body"] for r in received]


async def test_fifo_group_in_flight_blocks_the_group_not_others(store):
    await make_queue(store, FIFO)
    for body, group in (("a1", "a"), ("b1", "b"), ("a2", "a"), ("b2", "b")):
        await send_fifo(store, body, group)
    first = await store.receive(FIFO, 1, 30, 0)
    assert bodies(first) == ["a1"]
    second = await store.receive(FIFO, 10, 30, 0)
    assert bodies(second) == ["b1", "b2"]  # group a is locked while a1 is in flight
    assert await store.receive(FIFO, 10, 30, 0) == []
    _, message_id, nonce = decode_receipt(first[0].receipt_handle)
    assert await store.delete_message(FIFO, message_id, nonce)
    assert bodies(await store.receive(FIFO, 10, 30, 0)) == ["a2"]


async def test_fifo_expired_visibility_redelivers_the_head_first(store):
    await make_queue(store, FIFO)
    for i in range(3):
        await send_fifo(store, f"m{i}", "g")
    got = await store.receive(FIFO, 2, 30, 0)
    assert bodies(got) == ["m0", "m1"]
    changes = [(*decode_receipt(r.receipt_handle)[1:], 0) for r in got]
    assert await store.change_visibility(FIFO, changes) == [1, 1]
    again = await store.receive(FIFO, 10, 30, 0)
    assert bodies(again) == ["m0", "m1", "m2"]
    assert [r.receive_count for r in again] == [2, 2, 1]


async def test_change_visibility_outcomes(store):
    await make_queue(store)
    await send(store, "x")
    got = (await store.receive(REF, 1, 30, 0))[0]
    _, message_id, nonce = decode_receipt(got.receipt_handle)
    assert await store.change_visibility(REF, [(message_id, nonce, 1)]) == [1]
    assert await store.change_visibility(REF, [(message_id, "stale", 5)]) == [0]
    assert await store.counts(REF) == (0, 1, 0)
    again = await store.receive(REF, 1, 0, 3)  # due after the shortened timeout
    assert bodies(again) == ["x"]
    _, _, nonce2 = decode_receipt(again[0].receipt_handle)
    assert await store.change_visibility(REF, [(message_id, nonce2, 5)]) == [
        -1
    ]  # visible again: not in flight


async def test_receive_count_redrives_to_dead_letter_queue(store):
    dlq = QueueRef("000000000000", "us-east-1", "dlq")
    await make_queue(store)
    await make_queue(store, dlq)
    sent = await send(store, "poison")
    redrive = Redrive(dlq, 2, "arn:aws:sqs:us-east-1:000000000000:q")
    for count in (1, 2):
        got = await store.receive(REF, 1, 0, 0, redrive=redrive)
        assert [r.receive_count for r in got] == [count]
    assert await store.receive(REF, 1, 0, 0, redrive=redrive) == []
    assert await store.counts(REF) == (0, 0, 0)
    moved = await store.receive(dlq, 1, 30, 0)
    assert [r.doc["id"] for r in moved] == [sent]
    assert moved[0].receive_count == 1 and moved[0].doc["dlq_src"] == redrive.source_arn


async def test_retention_period_expires_messages(store):
    await make_queue(store, MessageRetentionPeriod="1")
    await send(store, "old")
    assert await store.counts(REF) == (1, 0, 0)
    deadline = time.monotonic() + 5
    while await store.counts(REF) != (0, 0, 0):
        assert time.monotonic() < deadline, "message outlived its retention period"
        await asyncio.sleep(0.1)
    assert await store.receive(REF, 10, 30, 0) == []


async def test_send_many_is_ordered_and_purge_empties(store):
    await make_queue(store, FIFO)
    outgoing = [
        Outgoing(new_message({"MessageBody": f"m{i}", "MessageGroupId": "g"}, "s", 1), 0, f"d{i}")
        for i in range(5)
    ]
    results = await store.send_many(FIFO, [*outgoing, outgoing[0]])
    sequences = [seq for _, seq in results]
    assert sequences[:5] == sorted(sequences[:5]) and results[5] == results[0]
    assert bodies(await store.receive(FIFO, 10, 30, 0)) == [f"m{i}" for i in range(5)]
    await store.purge(FIFO)
    assert await store.counts(FIFO) == (0, 0, 0)
    await send_fifo(store, "after", "g")
    assert bodies(await store.receive(FIFO, 10, 30, 0)) == ["after"]


async def test_receive_request_attempt_id_repeats_the_same_receive(store):
    await make_queue(store, FIFO)
    for i in range(3):
        await send_fifo(store, f"m{i}", "g")
    first = await store.receive(FIFO, 2, 30, 0, attempt="try-1")
    retry = await store.receive(FIFO, 2, 30, 0, attempt="try-1")
    assert [r.receipt_handle for r in retry] == [r.receipt_handle for r in first]
    _, message_id, nonce = decode_receipt(first[0].receipt_handle)
    assert await store.delete_message(FIFO, message_id, nonce)
    assert await store.receive(FIFO, 2, 30, 0, attempt="try-1") == []  # modified: a fresh (empty) receive


async def test_delete_in_flight_fifo_message_wakes_a_waiting_receiver(store):
    await make_queue(store, FIFO)
    await send_fifo(store, "m0", "g")
    await send_fifo(store, "m1", "g")
    head = (await store.receive(FIFO, 1, 30, 0))[0]
    waiter = asyncio.create_task(store.receive(FIFO, 1, 30, 10))
    await asyncio.sleep(0.2)
    assert not waiter.done()
    _, message_id, nonce = decode_receipt(head.receipt_handle)
    started = time.monotonic()
    await store.delete_message(FIFO, message_id, nonce)
    assert bodies(await asyncio.wait_for(waiter, 5)) == ["m1"]
    assert time.monotonic() - started < 1
