"""S3 notifications the bus does not take wait in the outbox and go out once Redis answers again."""

from __future__ import annotations

import asyncio
import json

import redis

from flotilla.fleet import free_port
from services.s3 import notifications
from services.s3.outbox import Outbox, draining

EVENT = {"QueueArn": "arn:aws:sqs:us-east-1:000000000000:orders", "MessageBody": "{}", "EventId": "e-1"}


def stream_bodies(url: str, topic: str) -> list[dict]:
    client = redis.Redis.from_url(url)
    try:
        return [json.loads(fields[b"body"]) for _, fields in client.xrange(f"flotilla:events:{topic}")]
    finally:
        client.close()


def test_events_wait_while_the_bus_is_away_then_go_out(server, tmp_path):
    box = Outbox(tmp_path / "outbox.db")

    async def scenario() -> None:
        notifications.use_outbox(box)
        notifications.use_redis(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
        try:
            await notifications._publish(dict(EVENT))
            assert [event for _, _, event in box.pending()] == [EVENT]
            await notifications.close()
            notifications.use_redis(server.url)  # the bus is back
            async with draining(box, notifications.publish, every=0.05):
                for _ in range(200):  # wait (10 s at most) for the drain
                    if not box.pending():
                        break
                    await asyncio.sleep(0.05)
            assert box.pending() == []
        finally:
            await notifications.close()
            notifications.use_redis(None)
            notifications.use_outbox(None)

    try:
        asyncio.run(scenario())
    finally:
        box.close()
    assert EVENT in stream_bodies(server.url, notifications.TOPIC)


def test_waiting_events_survive_reopening(tmp_path):
    box = Outbox(tmp_path / "outbox.db")
    box.add(notifications.LAMBDA_TOPIC, {"FunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:f"})
    box.close()
    again = Outbox(tmp_path / "outbox.db")
    try:
        [(_, topic, event)] = again.pending()
        assert topic == notifications.LAMBDA_TOPIC and event["FunctionArn"].endswith(":function:f")
    finally:
        again.close()
