"""Asynchronous invocations (``Event``): a durable queue on the bus, retries, dead-letter queues, destinations.

**Bus topic ``lambda.invoke``**: "run this function asynchronously". ``Invoke`` with
``InvocationType=Event`` and ``InvokeAsync`` publish it, and so may any service (S3 notifications)::

    {"FunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:f",   # optionally :qualifier
     "Payload": "<the event, as JSON text>",
     "RequestId": "...",          # optional: a new id when missing
     "EnqueuedAt": 1700000000000, # optional: epoch ms, now when missing (MaximumEventAgeInSeconds counts from it)
     "Attempt": 0}                # optional: how many times it already ran and failed

The service consumes it (group ``lambda``) and does what Lambda does with an event:

- runs the function (the version a qualifier or alias picks, at run time);
- on a function error or timeout retries up to ``MaximumRetryAttempts`` (default 2) times, after
  ``base``, then ``2 * base`` ... seconds; ``base`` is ``FLOTILLA_LAMBDA_ASYNC_RETRY_SECONDS``
  (default 60, as AWS's ~1 min then ~2 min);
- when throttled (a concurrency limit) tries again with a growing backoff, as AWS does (1 s doubling
  to 5 minutes, for up to the event's maximum age, 6 hours by default): ``throttle_base`` seconds
  (``FLOTILLA_LAMBDA_ASYNC_THROTTLE_SECONDS``, default 1) doubled per throttle up to ``throttle_max``
  (``FLOTILLA_LAMBDA_ASYNC_THROTTLE_MAX_SECONDS``, default 300); a throttle is not an attempt, only
  the event's age ends it (the event counts its throttles in ``Throttles``, reset by a run);
- drops an event older than ``MaximumEventAgeInSeconds`` (default 21600) before running it;
- after the last failure (or when too old) sends it to the ``OnFailure`` destination of the event
  invoke configuration and to the function's ``DeadLetterConfig`` target; after a success to the
  ``OnSuccess`` destination.

Destinations: an SQS queue gets AWS's invocation record (``{"version": "1.0", "timestamp",
"requestContext": {"requestId", "functionArn", "condition", "approximateInvokeCount"},
"requestPayload", "responseContext": {"statusCode", "executedVersion", "functionError"},
"responsePayload"}``; ``condition`` is ``Success``, ``RetriesExhausted`` or ``EventAgeExceeded``, the
last without a response) through the bus topic ``sqs.deliver``; a Lambda function gets that record
as the payload of another ``lambda.invoke`` event; an S3 bucket (on failure only, as AWS allows) gets
it as a JSON object ``aws/lambda/async/<function name>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>`` (AWS's
key), written with ``PutObject`` through the fleet as the function's account. A dead-letter SQS queue gets the original payload
as the body with the message attributes ``RequestID``, ``ErrorCode`` and ``ErrorMessage`` (the
function's ``errorMessage``, at most 1 KB). ``ErrorCode`` is, as AWS documents it, the 3-digit HTTP
status of the last attempt: ``200`` after a function error (Invoke answers function errors with 200
and ``X-Amz-Function-Error``), ``429`` for an event that aged out while throttled. SNS topics and EventBridge
buses are accepted but not delivered to (a warning names the destination): Flotilla has neither service.

Delays never block the subscription, and survive a restart:

- a retry waits in a Redis sorted set (``<ns>:lambda:async:delayed``, scored by when it is due);
  a scheduler task moves each due event back onto the stream with one Lua script (``ZREM`` +
  ``XADD``), so an event is in exactly one of the two places, whichever replica moves it;
- a running event is kept in a per-consumer Redis hash (``<ns>:lambda:async:running:<consumer>``)
  from when it is received until its outcome is handled; at start the service republishes what
  its previous run left there (an event interrupted by a restart runs again: at least once).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx

from shared.aws.client import AwsCallError, AwsClient
from shared.aws.errors import AwsError
from shared.bus import BODY, MAXLEN, Subscription
from shared.context import RequestContext

from .functions import LATEST, function_arn, parse_ref
from .handlers import invoke as invoke_handlers
from .handlers.common import invocation_record
from .invoke import Outcome, Throttled

if TYPE_CHECKING:
    from .storage import LambdaStore

log = logging.getLogger("flotilla.lambda")

TOPIC = "lambda.invoke"
GROUP = "lambda"
SQS_TOPIC = "sqs.deliver"
EVENT_INVOKE_CONFIG = "event-invoke-config"
DEFAULT_RETRIES = 2
DEFAULT_MAX_AGE = 21600
THROTTLE_BASE = 1.0  # AWS: "from 1 second ... to a maximum of 5 minutes"
THROTTLE_MAX = 300.0
ERROR_MESSAGE_LIMIT = 1024

# Move one due event from the delay set to the stream, atomically: whoever removes it publishes it.
_MOVE = """
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', ARGV[3], ARGV[1])
end
return false
"""


def now_ms() -> int:
    return int(time.time() * 1000)


async def enqueue(
    store: LambdaStore, function_arn: str, payload: bytes, request_id: str | None = None
) -> None:
    """Publish an asynchronous invocation of ``function_arn`` (what Invoke ``Event`` does)."""
    assert store.bus is not None
    event = {
        "FunctionArn": function_arn,
        "Payload": payload.decode(),
        "RequestId": request_id or str(uuid.uuid4()),
        "EnqueuedAt": now_ms(),
        "Attempt": 0,
    }
    await store.bus.publish(TOPIC, event)


def event_invoke_config(
    store: LambdaStore, account: str, region: str, name: str, qualifier: str | None
) -> dict:
    """The FunctionEventInvokeConfig of the function (and qualifier), or ``{}``."""
    return store.records.get(account, region, EVENT_INVOKE_CONFIG, f"{name}:{qualifier or LATEST}") or {}


def throttle_delay(throttles: int, base: float = THROTTLE_BASE, cap: float = THROTTLE_MAX) -> float:
    """How long to wait after the event's ``throttles``-th throttle (1st: ``base``), doubling up to ``cap``."""
    return min(cap, base * 2 ** min(max(throttles - 1, 0), 62))


def error_code(event: dict[str, Any]) -> str:
    """The DLQ's ``ErrorCode``: the HTTP status of the last attempt (429 throttled, else 200)."""
    return "429" if event.get("Throttles") else "200"


def timestamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def s3_record_key(function_name: str, when: datetime, unique: str) -> str:
    """AWS's key of an invocation record in an S3 destination:
    ``aws/lambda/async/<function-name>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>``."""
    return f"aws/lambda/async/{function_name}/{when:%Y/%m/%d}/{when:%Y-%m-%dT%H.%M.%S}-{unique}"


def _json_or_text(payload: bytes | str) -> Any:
    try:
        return json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return payload.decode(errors="replace") if isinstance(payload, bytes) else payload


class AsyncInvocations:
    """The ``lambda.invoke`` consumer: runs events, schedules retries, sends outcomes on."""

    def __init__(
        self,
        store: LambdaStore,
        retry_seconds: float,
        throttle_base: float = THROTTLE_BASE,
        throttle_max: float = THROTTLE_MAX,
    ) -> None:
        assert store.bus is not None
        self.store = store
        self.bus = store.bus
        self.retry_seconds = retry_seconds
        self.throttle_base = throttle_base
        self.throttle_max = throttle_max
        self.consumer = f"lambda@{socket.gethostname()}"
        self.delayed_key = f"{self.bus.namespace}:lambda:async:delayed"
        self.running_key = f"{self.bus.namespace}:lambda:async:running:{self.consumer}"
        self._move = self.bus.redis.register_script(_MOVE)
        settings = store.settings
        url = settings.gateway_url if settings is not None else store.external_url
        self.client = AwsClient(url, settings.credentials if settings is not None else None)
        self._tasks: set[asyncio.Task] = set()
        self._subscription: Subscription | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        await self._resume_interrupted()
        self._subscription = self.bus.subscribe(
            TOPIC, GROUP, self.receive, consumer=f"{self.consumer}:{os.getpid()}"
        )
        self._spawn(self._schedule_forever())

    async def stop(self) -> None:
        """Cancel what runs; an interrupted event stays in the running hash and is republished at start."""
        if self._subscription is not None:
            await self._subscription.stop()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.client.close()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _resume_interrupted(self) -> None:
        left = await self.bus.redis.hgetall(self.running_key)
        for key, body in left.items():
            await self.bus.publish(TOPIC, json.loads(body))
            await self.bus.redis.hdel(self.running_key, key)
        if left:
            log.info("async invocations resumed", extra={"count": len(left)})

    # -- receiving ---------------------------------------------------------------------------

    async def receive(self, event: dict[str, Any]) -> None:
        """The bus handler: note the event as running and run it in the background (never blocks)."""
        event = {
            **event,
            "RequestId": event.get("RequestId") or str(uuid.uuid4()),
            "EnqueuedAt": int(event.get("EnqueuedAt") or now_ms()),
            "Attempt": int(event.get("Attempt") or 0),
        }
        key = uuid.uuid4().hex
        await self.bus.redis.hset(self.running_key, key, json.dumps(event))
        self._spawn(self._run_noted(key, event))

    async def _run_noted(self, key: str, event: dict[str, Any]) -> None:
        try:
            await self.process(event)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("async invocation failed", extra={"function": event.get("FunctionArn")})
        await self.bus.redis.hdel(self.running_key, key)

    # -- one event ---------------------------------------------------------------------------

    async def process(self, event: dict[str, Any]) -> None:
        ref = parse_ref(str(event.get("FunctionArn", "")))
        if ref is None or not ref.account or not ref.region:
            log.warning("lambda.invoke: dropped an event without a function ARN", extra={"event": event})
            return
        ctx = RequestContext(
            "lambda",
            "Invoke",
            event["RequestId"],
            account_id=ref.account,
            region=ref.region,
            state=self.store,
        )
        try:
            doc, version = invocation_record(ctx, ref.name, ref.qualifier)
        except AwsError as err:
            log.warning("lambda.invoke: dropped an event: %s", err.message, extra={"function": ref.name})
            return
        config = event_invoke_config(self.store, ref.account, ref.region, ref.name, ref.qualifier)
        run = Run(self, event, doc, config, function_arn(ctx, ref.name, ref.qualifier or LATEST))
        if now_ms() - event["EnqueuedAt"] > run.max_age * 1000:
            await run.failed("EventAgeExceeded", None, version)
            return
        try:
            outcome = await self.store.invoker.invoke(  # type: ignore[union-attr]
                invoke_handlers.target_for(ctx, doc), _payload(event), request_id=event["RequestId"]
            )
        except Throttled:
            throttles = int(event.get("Throttles") or 0) + 1
            delay = throttle_delay(throttles, self.throttle_base, self.throttle_max)
            await self.schedule({**event, "Throttles": throttles}, delay)
            return
        if not outcome.function_error:
            await run.succeeded(outcome, version)
        elif event["Attempt"] < run.max_retries:
            retry = {**event, "Attempt": event["Attempt"] + 1, "Throttles": 0}
            await self.schedule(retry, self.retry_seconds * 2 ** event["Attempt"])
        else:
            await run.failed("RetriesExhausted", outcome, version)

    async def schedule(self, event: dict[str, Any], delay: float) -> None:
        """Put the event back on the stream in ``delay`` seconds (durably: a Redis sorted set)."""
        due = now_ms() + int(delay * 1000)
        await self.bus.redis.zadd(self.delayed_key, {json.dumps(event, sort_keys=True): due})
        log.info("async invocation retry scheduled", extra={"function": event["FunctionArn"], "in_s": delay})

    async def _schedule_forever(self) -> None:
        tick = max(0.05, min(self.retry_seconds / 4, self.throttle_base / 4, 1.0))
        while True:
            try:
                await self.move_due()
            except Exception as exc:  # Redis away: try again next tick
                log.warning("lambda async scheduler: %s", exc)
            await asyncio.sleep(tick)

    async def move_due(self) -> None:
        due = await self.bus.redis.zrangebyscore(self.delayed_key, "-inf", now_ms(), start=0, num=100)
        for member in due:
            await self._move(keys=[self.delayed_key, self.bus.stream(TOPIC)], args=[member, MAXLEN, BODY])

    # -- sending outcomes on -----------------------------------------------------------------

    async def send_record(self, destination: str, record: dict[str, Any]) -> None:
        """An invocation record to a destination: SQS, Lambda and S3 are delivered, SNS/EventBridge logged."""
        service = destination.split(":")[2] if destination.count(":") >= 5 else ""
        body = json.dumps(record)
        if service == "sqs":
            await self.bus.publish(SQS_TOPIC, {"QueueArn": destination, "MessageBody": body})
        elif service == "lambda":
            await self.bus.publish(TOPIC, {"FunctionArn": destination, "Payload": body})
        elif service == "s3":
            await self.put_record(destination, record, body)
        else:
            log.warning(
                "destination not delivered: Flotilla has no %s (records go to SQS, Lambda and S3 only)",
                service or "such service",
                extra={"to": destination, "request_id": record["requestContext"]["requestId"]},
            )

    async def put_record(self, bucket_arn: str, record: dict[str, Any], body: str) -> None:
        """The record as an S3 object under AWS's key, in the function's account and region."""
        ref = parse_ref(record["requestContext"]["functionArn"])
        assert ref is not None
        bucket = bucket_arn.split(":", 5)[5]
        key = s3_record_key(ref.name, datetime.now(UTC), str(uuid.uuid4()))
        params = {"Bucket": bucket, "Key": key, "Body": body.encode(), "ContentType": "application/json"}
        try:
            await self.client.call("s3", "PutObject", params, account=ref.account, region=ref.region)
        except (AwsCallError, httpx.HTTPError) as err:  # AWS counts DestinationDeliveryFailures
            log.warning("destination not delivered: %s", err, extra={"to": bucket_arn, "key": key})

    async def send_dead_letter(self, target: str, event: dict[str, Any], message: str) -> None:
        """The original event to the function's dead-letter queue, with Lambda's three attributes."""
        if target.split(":")[2:3] != ["sqs"]:
            log.warning(
                "dead-letter target not delivered (Flotilla delivers to SQS only)", extra={"to": target}
            )
            return
        attributes = {
            "RequestID": {"DataType": "String", "StringValue": event["RequestId"]},
            "ErrorCode": {"DataType": "Number", "StringValue": error_code(event)},
            "ErrorMessage": {
                "DataType": "String",
                "StringValue": (message or "Unknown error")[:ERROR_MESSAGE_LIMIT],
            },
        }
        delivery = {
            "QueueArn": target,
            "MessageBody": _payload(event).decode(),
            "MessageAttributes": attributes,
        }
        await self.bus.publish(SQS_TOPIC, delivery)


class Run:
    """One event's settings (from the event invoke config) and where its outcome goes."""

    def __init__(
        self, owner: AsyncInvocations, event: dict[str, Any], doc: dict[str, Any], config: dict, arn: str
    ) -> None:
        self.owner, self.event, self.doc = owner, event, doc
        self.function_arn = arn  # qualified, as the invocation record names it
        self.max_retries = int(config.get("MaximumRetryAttempts", DEFAULT_RETRIES))
        self.max_age = int(config.get("MaximumEventAgeInSeconds", DEFAULT_MAX_AGE))
        destinations = config.get("DestinationConfig") or {}
        self.on_success = (destinations.get("OnSuccess") or {}).get("Destination")
        self.on_failure = (destinations.get("OnFailure") or {}).get("Destination")

    async def succeeded(self, outcome: Outcome, version: str) -> None:
        if self.on_success:
            await self.owner.send_record(self.on_success, self.record("Success", outcome, version))

    async def failed(self, condition: str, outcome: Outcome | None, version: str) -> None:
        log.info(
            "async invocation failed for good",
            extra={"function": self.function_arn, "condition": condition, "id": self.event["RequestId"]},
        )
        if self.on_failure:
            await self.owner.send_record(self.on_failure, self.record(condition, outcome, version))
        dead_letter = (self.doc["Configuration"].get("DeadLetterConfig") or {}).get("TargetArn")
        if dead_letter:
            await self.owner.send_dead_letter(dead_letter, self.event, _error_message(condition, outcome))

    def record(self, condition: str, outcome: Outcome | None, version: str) -> dict[str, Any]:
        """AWS's invocation record, as destinations receive it."""
        record: dict[str, Any] = {
            "version": "1.0",
            "timestamp": timestamp(),
            "requestContext": {
                "requestId": self.event["RequestId"],
                "functionArn": self.function_arn,
                "condition": condition,
                "approximateInvokeCount": self.event["Attempt"] + (0 if outcome is None else 1),
            },
            "requestPayload": _json_or_text(_payload(self.event)),
        }
        if outcome is not None:
            response: dict[str, Any] = {"statusCode": 200, "executedVersion": version}
            if outcome.function_error:
                response["functionError"] = outcome.function_error
            record["responseContext"] = response
            record["responsePayload"] = _json_or_text(outcome.payload)
        return record


def _payload(event: dict[str, Any]) -> bytes:
    """The event's payload as bytes (a producer may have put a JSON value instead of JSON text)."""
    payload = event.get("Payload")
    if payload is None:
        return b"{}"
    return payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()


def _error_message(condition: str, outcome: Outcome | None) -> str:
    if outcome is None:
        return f"Event age exceeded ({condition})"
    body = _json_or_text(outcome.payload)
    return str(body.get("errorMessage", "")) if isinstance(body, dict) else str(body)


@asynccontextmanager
async def running(store: LambdaStore) -> AsyncIterator[AsyncInvocations]:
    """Consume ``lambda.invoke`` while the service runs.

    ``FLOTILLA_LAMBDA_ASYNC_RETRY_SECONDS`` (60): base delay of retries after function errors;
    ``FLOTILLA_LAMBDA_ASYNC_THROTTLE_SECONDS`` (1) / ``..._THROTTLE_MAX_SECONDS`` (300): throttle backoff.
    """
    extra = store.settings.extra if store.settings else {}
    consumer = AsyncInvocations(
        store,
        float(extra.get("async_retry_seconds", "60")),
        throttle_base=float(extra.get("async_throttle_seconds", THROTTLE_BASE)),
        throttle_max=float(extra.get("async_throttle_max_seconds", THROTTLE_MAX)),
    )
    await consumer.start()
    try:
        yield consumer
    finally:
        with contextlib.suppress(Exception):
            await consumer.stop()
