"""SQS long-poll wake-up latency: how soon a waiting ReceiveMessage returns once a message is sent.

Per round: a receiver thread calls ReceiveMessage(WaitTimeSeconds=20) on an empty queue; after
``settle`` seconds (long enough for the call to be parked in the server; the receiver's own
send time is recorded so this is checked, not hoped) the main thread sends one message. The
latency runs from just before SendMessage to the receive returning with that message, so it
includes the SendMessage round trip: what an application sees between "I sent" and "my
consumer has it". A server that only answers at the end of the wait costs 20 s a round; the
per-target ``budget`` stops the rounds early so the bench stays bounded.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from bench import boto_load

QUEUE = "bench-longpoll"
WAIT_SECONDS = 20


@dataclass
class LongPollResult:
    rounds: int = 0  # rounds measured (the receive returned with the message after the send)
    p50_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    early: int = 0  # the receive returned before the send: not a wake-up
    empty: int = 0  # the receive returned after the send without the message
    errors: int = 0
    error: str | None = None  # the first error, or why nothing could be measured
    extra: dict = field(default_factory=dict)


class _Receiver(threading.Thread):
    """One long-poll ReceiveMessage; records when it returned and what it got."""

    def __init__(self, client: Any, url: str) -> None:
        super().__init__(daemon=True)
        self.client, self.url = client, url
        self.returned: float | None = None
        self.messages: list[dict] = []
        self.failure: Exception | None = None

    def run(self) -> None:
        try:
            response = self.client.receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=1, WaitTimeSeconds=WAIT_SECONDS
            )
            self.messages = response.get("Messages", [])
        except Exception as err:  # noqa: BLE001 - reported as a data point
            self.failure = err
        self.returned = time.perf_counter()


def measure(endpoint: str, rounds: int, settle: float = 0.2, budget: float = 20.0) -> LongPollResult:
    """Run up to ``rounds`` wake-ups against ``endpoint``, stopping once ``budget`` seconds are spent."""
    result = LongPollResult(extra={"settle_ms": round(settle * 1000), "wait_seconds": WAIT_SECONDS})
    try:
        receiver_client, sender_client = boto_load.make_clients("sqs", endpoint, 2)
        url = sender_client.create_queue(QueueName=QUEUE)["QueueUrl"]
    except Exception as err:  # noqa: BLE001
        result.error = f"setup failed: {type(err).__name__}: {err}"[:300]
        return result
    latencies: list[float] = []
    deadline = time.perf_counter() + budget
    for n in range(rounds):
        if time.perf_counter() > deadline:
            result.extra["stopped_by_budget_after"] = n
            break
        outcome = _round(receiver_client, sender_client, url, f"wake-up {n}", settle)
        if isinstance(outcome, float):
            latencies.append(outcome)
            continue
        kind, detail = outcome
        setattr(result, kind, getattr(result, kind) + 1)
        result.error = result.error or detail
    _summarize(result, latencies)
    return result


def _round(receiver_client: Any, sender_client: Any, url: str, body: str, settle: float) -> float | tuple:
    """One wake-up: the latency in seconds, or (counter name, description) when it was not one."""
    receiver = _Receiver(receiver_client, url)
    receiver.start()
    time.sleep(settle)  # a measured head start for the receive to be parked, not a correctness wait
    if receiver.returned is not None:
        receiver.join()
        _delete(sender_client, url, receiver.messages)
        kind = "errors" if receiver.failure else "early"
        return kind, f"receive returned before the send: {receiver.failure or receiver.messages}"[:300]
    sent_at = time.perf_counter()
    try:
        sender_client.send_message(QueueUrl=url, MessageBody=body)
    except Exception as err:  # noqa: BLE001
        receiver.join()
        return "errors", f"SendMessage: {type(err).__name__}: {err}"[:300]
    receiver.join()
    if receiver.failure is not None:
        return "errors", f"ReceiveMessage: {type(receiver.failure).__name__}: {receiver.failure}"[:300]
    _delete(sender_client, url, receiver.messages)  # leave the queue empty for the next round
    if not any(m.get("Body") == body for m in receiver.messages):
        return "empty", f"receive returned without the message after {receiver.returned - sent_at:.1f} s"
    return receiver.returned - sent_at


def _delete(client: Any, url: str, messages: list[dict]) -> None:
    for message in messages:
        client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def _summarize(result: LongPollResult, latencies: list[float]) -> None:
    ordered = sorted(latencies)
    result.rounds = len(ordered)
    if ordered:
        result.p50_ms = round(boto_load.percentile(ordered, 50) * 1000, 2)
        result.p99_ms = round(boto_load.percentile(ordered, 99) * 1000, 2)
        result.max_ms = round(ordered[-1] * 1000, 2)
