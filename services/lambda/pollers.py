"""Event source mappings at work: pollers for SQS queues and DynamoDB streams.

Every enabled mapping has one ``Poller`` (a background task) while the service runs: started at
service start for the mappings already stored (so, with persistence, they survive a restart and a
stream continues from its checkpoint), and started, restarted or stopped when a mapping is created,
updated or deleted (``Pollers.changed`` / ``Pollers.removed``, called by the handlers).

Pollers read their source through the other service's public API (``shared.aws.client.AwsClient``
through the gateway; no service imports another) and run the function with
``handlers.invoke.invoke_function``, synchronously, as Lambda's pollers do.

- **SQS**: workers, each long-polling ``ReceiveMessage`` (20 s, up to 10 messages a call) and
  gathering up to
  ``BatchSize`` messages within ``MaximumBatchingWindowInSeconds``. As on AWS it starts with five
  (fewer when ``ScalingConfig.MaximumConcurrency`` or the function's reserved concurrency is lower;
  FIFO queues one), adds a worker (at most one a second, up to that bound, ``SQS_MAX_WORKERS`` here)
  while batches come back full, and lets extra workers go when a long poll comes back empty.
  A successful invoke deletes the
  batch (``DeleteMessageBatch``); a function error leaves it, so the messages come back after the
  visibility timeout and the queue's redrive policy moves them to its dead-letter queue. With
  ``ReportBatchItemFailures`` only the reported ``itemIdentifier``s are left (for FIFO queues,
  everything from the first failure on); an invalid report fails the whole batch.
- **DynamoDB Streams**: one worker per mapping reading the stream's shards in order
  (``DescribeStream``, ``GetShardIterator`` at ``StartingPosition`` or after the checkpoint,
  ``GetRecords``). The last sequence number handled per shard is checkpointed in the mapping's
  record. A failed batch is retried (``MaximumRetryAttempts``, -1 = until the records are too old
  or expire), split in two first when ``BisectBatchOnFunctionError`` (splits do not use up
  retries), records older than ``MaximumRecordAgeInSeconds`` are dropped; what is given up is
  described to the on-failure destination (an SQS queue, via the bus topic ``sqs.deliver``) with
  AWS's ``DDBStreamBatchInfo`` record, then skipped.

Throttling (``TooManyRequestsException``) or a missing function never drops a batch: the poller
backs off and tries again.

Filters (``FilterCriteria``, ``filters.py``): only records matching a pattern reach the function;
SQS messages that match none are deleted, stream records that match none are checkpointed past.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import uuid
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx

from shared.aws.client import AwsCallError, AwsClient
from shared.aws.errors import AwsError
from shared.context import RequestContext
from shared.registry import parse_arn

from . import filters
from .functions import parse_ref
from .mappings import DYNAMODB, MAPPING, SCOPE, is_fifo, source_kind

if TYPE_CHECKING:
    from .invoke import Outcome
    from .storage import LambdaStore

log = logging.getLogger("flotilla.lambda")

SQS_START_WORKERS = 5  # AWS starts polling a queue with five concurrent batches
SQS_MAX_WORKERS = 20  # a local fleet's bound on one mapping's workers (AWS: up to 1250)
SQS_SCALE_UP_INTERVAL = 1.0  # at most one more worker a second while batches come back full
SQS_LONG_POLL = 20
STREAM_POLL_INTERVAL = 0.25  # Lambda polls a shard about four times a second
GET_RECORDS_LIMIT = 1000
STREAM_RETENTION = 24 * 3600  # DynamoDB Streams keeps records a day
# Stop gathering a batch past this many bytes, so one more read cannot push the event over Lambda's
# 6 MB synchronous payload limit (a ReceiveMessage returns at most 10 x 256 KB, a GetRecords ~1 MB).
BATCH_BYTES = 3 * 1024 * 1024
IDLE_RETRY = 2.0
FAILURE_TOPIC = "sqs.deliver"

_managers: dict[int, Pollers] = {}


def manager(store: LambdaStore) -> Pollers | None:
    """The running pollers of this store (None outside a running service, e.g. in unit tests)."""
    return _managers.get(id(store))


@asynccontextmanager
async def running(store: LambdaStore) -> AsyncIterator[Pollers]:
    """Pollers for every stored enabled mapping while the service runs."""
    pollers = Pollers(store)
    _managers[id(store)] = pollers
    pollers.start_all()
    try:
        yield pollers
    finally:
        _managers.pop(id(store), None)
        await pollers.close()


class Pollers:
    """The pollers of one service process, one per enabled mapping."""

    def __init__(self, store: LambdaStore) -> None:
        self.store = store
        settings = store.settings
        url = settings.gateway_url if settings is not None else store.external_url
        self.client = AwsClient(url, settings.credentials if settings is not None else None, timeout=40.0)
        self.pollers: dict[str, Poller] = {}
        self._stopping: set[asyncio.Task] = set()

    def start_all(self) -> None:
        for mapping_id, _ in list(self.store.records.list(*SCOPE, MAPPING)):
            self.changed(mapping_id)

    def changed(self, mapping_id: str) -> None:
        """The mapping was created or updated: stop its poller, start a new one if it is enabled."""
        previous = self._stop(mapping_id)
        doc = self.read(mapping_id)
        if doc is None:
            return
        if doc["Enabled"]:
            kind = source_kind(doc["Configuration"]["EventSourceArn"])
            poller_class = StreamPoller if kind == DYNAMODB else SqsPoller
            poller = poller_class(self, mapping_id, doc)
            self.pollers[mapping_id] = poller
            poller.start(previous)
        elif previous is None:
            self._settle_disabled(mapping_id)
        else:
            previous.add_done_callback(lambda _: self._settle_disabled(mapping_id))

    def _settle_disabled(self, mapping_id: str) -> None:
        doc = self.read(mapping_id)
        if doc is not None and not doc["Enabled"]:
            self.set_state(mapping_id, "Disabled")

    def removed(self, mapping_id: str) -> None:
        self._stop(mapping_id)

    def _stop(self, mapping_id: str) -> asyncio.Task | None:
        poller = self.pollers.pop(mapping_id, None)
        if poller is None:
            return None
        task = asyncio.create_task(poller.stop())
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)
        return task

    async def close(self) -> None:
        for poller in list(self.pollers.values()):
            poller.cancel()
        tasks = [p.task for p in self.pollers.values() if p.task is not None] + list(self._stopping)
        self.pollers.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.client.close()

    # -- the mapping's record ------------------------------------------------------------------

    def read(self, mapping_id: str) -> dict[str, Any] | None:
        return self.store.records.get(*SCOPE, MAPPING, mapping_id)

    def update(self, mapping_id: str, **changes: Any) -> None:
        """Change the stored record (no await between read and write, so handlers' writes are not lost)."""
        doc = self.read(mapping_id)
        if doc is None:
            return
        config = doc["Configuration"]
        for key, value in changes.items():
            if key == "Checkpoint":
                doc["Checkpoints"][value[0]] = value[1]
            else:
                config[key] = value
        self.store.records.put(*SCOPE, MAPPING, mapping_id, doc)

    def set_state(self, mapping_id: str, state: str) -> None:
        self.update(mapping_id, State=state)


class Poller:
    """One mapping's background work: position on the source, then poll and invoke until stopped."""

    def __init__(self, pollers: Pollers, mapping_id: str, doc: dict[str, Any]) -> None:
        self.pollers = pollers
        self.id = mapping_id
        self.doc = doc
        self.config: dict[str, Any] = doc["Configuration"]
        self.source = self.config["EventSourceArn"]
        self.account, self.region = doc["Account"], doc["Region"]
        self.task: asyncio.Task | None = None
        self.stopping = False
        self.busy = 0  # invocations in flight: a stop lets them finish
        self.patterns = _patterns(mapping_id, self.config)

    def start(self, previous: asyncio.Task | None) -> None:
        self.task = asyncio.create_task(self._main(previous), name=f"lambda-poller:{self.id}")

    async def _main(self, previous: asyncio.Task | None) -> None:
        if previous is not None:
            with contextlib.suppress(Exception):
                await previous
        try:
            await self.prepare()
            if not self.stopping:
                self.pollers.set_state(self.id, "Enabled")
                await self.poll()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("event source mapping %s: poller crashed", self.id)

    async def stop(self) -> None:
        """Stop polling; an invocation in flight is allowed to finish (up to the function's timeout)."""
        self.stopping = True
        task = self.task
        if task is None or task.done():
            return
        if self.busy:
            with contextlib.suppress(TimeoutError, Exception):
                await asyncio.wait_for(asyncio.shield(task), timeout=960)
        self.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def note(self, result: str) -> None:
        """``LastProcessingResult`` (streams show it; SQS mappings do not have it)."""
        if "LastProcessingResult" in self.config:
            self.pollers.update(self.id, LastProcessingResult=result)

    async def prepare(self) -> None:
        """Get ready to read (streams: the first iterator, so ``LATEST`` is where the mapping became Enabled)."""

    async def poll(self) -> None:
        raise NotImplementedError

    # -- calling the fleet and the function ----------------------------------------------------

    async def call(self, service: str, operation: str, params: dict[str, Any], **kw: Any) -> dict[str, Any]:
        arn = parse_arn(self.source)
        return await self.pollers.client.call(
            service, operation, params, account=arn.account, region=arn.region, **kw
        )

    async def invoke(self, event: dict[str, Any]) -> tuple[Outcome, str]:
        """Run the function on ``event`` until it ran (throttling and a missing function are waited out)."""
        from .handlers.invoke import invoke_function  # the handlers package imports this module

        payload = json.dumps(event, separators=(",", ":")).encode()
        delay = 0.5
        while True:
            request_id = str(uuid.uuid4())
            ctx = RequestContext(
                "lambda",
                "Invoke",
                request_id,
                account_id=self.account,
                region=self.region,
                state=self.pollers.store,
            )
            self.busy += 1
            try:
                return await invoke_function(ctx, self.config["FunctionArn"], payload), request_id
            except AwsError as err:
                log.info("event source mapping %s: invoke refused (%s); retrying", self.id, err.code)
                self.note(f"PROBLEM: {err.code}")
            finally:
                self.busy -= 1
            if self.stopping:
                raise asyncio.CancelledError
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)


# -- SQS ----------------------------------------------------------------------------------------


class SqsPoller(Poller):
    """Receive, invoke, delete: ``MaximumConcurrency`` workers on one queue."""

    async def poll(self) -> None:
        """Run the workers: start with AWS's default, scale up on full batches, down when idle."""
        self.floor, self.ceiling = sqs_concurrency(
            (self.config.get("ScalingConfig") or {}).get("MaximumConcurrency"),
            self._reserved_concurrency(),
            is_fifo(self.source),
        )
        self.workers: set[asyncio.Task] = set()
        self.scaled_at = 0.0
        for _ in range(self.floor):
            self._add_worker()
        try:
            while self.workers:  # workers added while waiting are waited for on the next round
                await asyncio.gather(*list(self.workers), return_exceptions=True)
        finally:
            for task in self.workers:
                task.cancel()

    def _add_worker(self) -> None:
        task = asyncio.create_task(self._work(), name=f"lambda-poller:{self.id}:worker")
        self.workers.add(task)
        task.add_done_callback(self._worker_done)

    def _worker_done(self, task: asyncio.Task) -> None:
        self.workers.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("event source mapping %s: poller crashed", self.id, exc_info=task.exception())

    def _reserved_concurrency(self) -> int | None:
        """The function's reserved concurrency when the poller starts (None: none reserved)."""
        ref = parse_ref(self.config["FunctionArn"])
        doc = self.pollers.store.get(self.account, self.region, ref.name) if ref else None
        reserved = ((doc or {}).get("Concurrency") or {}).get("ReservedConcurrentExecutions")
        return None if reserved is None else int(reserved)

    def _scale(self, received: int) -> bool:
        """After a receive of ``received`` messages: add a worker when the batch was full; answer whether
        this worker should stop (an empty long poll while there are more workers than at the start)."""
        loop_time = asyncio.get_running_loop().time()
        full = received >= min(10, self.config["BatchSize"])
        if full and len(self.workers) < self.ceiling and loop_time - self.scaled_at >= SQS_SCALE_UP_INTERVAL:
            self.scaled_at = loop_time
            self._add_worker()
            log.info("event source mapping %s: scaled up to %d pollers", self.id, len(self.workers))
        return received == 0 and len(self.workers) > self.floor

    async def _work(self) -> None:
        while not self.stopping:
            try:
                url = await self._queue_url()
                messages = await self._gather(url) if url else []
                if not url:
                    await asyncio.sleep(IDLE_RETRY)
                    continue
                if self._scale(len(messages)):
                    log.info(
                        "event source mapping %s: scaled down to %d pollers", self.id, len(self.workers) - 1
                    )
                    return
                if messages:
                    await self._deliver(url, messages)
            except (AwsCallError, httpx.HTTPError) as err:
                log.info("event source mapping %s: %s", self.id, err)
                await asyncio.sleep(IDLE_RETRY)

    async def _queue_url(self) -> str | None:
        registry = self.pollers.store.registry
        entry = await registry.get(self.source) if registry is not None else None
        return entry.get("url") if entry else None

    async def _receive(self, url: str, count: int, wait: int) -> list[dict[str, Any]]:
        out = await self.call(
            "sqs",
            "ReceiveMessage",
            {
                "QueueUrl": url,
                "MaxNumberOfMessages": count,
                "WaitTimeSeconds": wait,
                "MessageSystemAttributeNames": ["All"],
                "MessageAttributeNames": ["All"],
            },
            http_timeout=wait + 15,
        )
        return out.get("Messages") or []

    async def _gather(self, url: str) -> list[dict[str, Any]]:
        """Up to BatchSize messages: the first call long-polls, then the batching window fills the batch."""
        size = self.config["BatchSize"]
        window = self.config.get("MaximumBatchingWindowInSeconds") or 0
        batch = await self._receive(url, min(10, size), SQS_LONG_POLL)
        if not batch or window <= 0:
            return batch
        loop = asyncio.get_running_loop()
        deadline = loop.time() + window
        total = approximate_size(batch)
        while len(batch) < size and total < BATCH_BYTES and not self.stopping:
            wait = min(SQS_LONG_POLL, int(deadline - loop.time()))
            more = await self._receive(url, min(10, size - len(batch)), max(wait, 0))
            batch.extend(more)
            total += approximate_size(more)
            if not more and wait <= 0:
                break
        return batch

    async def _deliver(self, url: str, messages: list[dict[str, Any]]) -> None:
        """Invoke with the messages that pass the filters; delete those done and those filtered out."""
        region = parse_arn(self.source).region
        records = [sqs_record(m, self.source, region) for m in messages]
        passed = [filters.matches_any(self.patterns, filters.sqs_view(r)) for r in records]
        kept = [m for m, ok in zip(messages, passed, strict=True) if ok]
        failed: set[str] = set()
        if kept:
            outcome, _ = await self.invoke(
                {"Records": [r for r, ok in zip(records, passed, strict=True) if ok]}
            )
            failed = failed_messages(outcome, kept, self._reports_failures(), is_fifo(self.source))
        if len(kept) < len(messages):
            log.info("event source mapping %s: %d messages filtered out", self.id, len(messages) - len(kept))
        await self._delete(url, [m for m in messages if m["MessageId"] not in failed])

    async def _delete(self, url: str, done: list[dict[str, Any]]) -> None:
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)]
            out = await self.call("sqs", "DeleteMessageBatch", {"QueueUrl": url, "Entries": entries})
            for failed_entry in out.get("Failed") or []:
                log.info("event source mapping %s: could not delete a message: %s", self.id, failed_entry)

    def _reports_failures(self) -> bool:
        return "ReportBatchItemFailures" in (self.config.get("FunctionResponseTypes") or [])


def _patterns(mapping_id: str, config: dict[str, Any]) -> list[filters.Pattern] | None:
    """The mapping's filter patterns (checked when the mapping was stored; a bad one filters nothing)."""
    try:
        return filters.compile_criteria(config.get("FilterCriteria"))
    except AwsError as err:
        log.warning("event source mapping %s: filters ignored: %s", mapping_id, err.message)
        return None


def approximate_size(items: list[dict[str, Any]]) -> int:
    """About how many bytes these messages or records take in the function's event."""
    return sum(len(json.dumps(item, default=str)) for item in items)


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """A message as Lambda hands it to the function (camel-cased, attributes flattened)."""
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": dict(message.get("Attributes") or {}),
        "messageAttributes": {
            name: _message_attribute(value)
            for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    record.update(eventSource="aws:sqs", eventSourceARN=queue_arn, awsRegion=region)
    return record


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "StringValue" in value:
        out["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        out["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    out["stringListValues"] = list(value.get("StringListValues") or [])
    out["binaryListValues"] = [base64.b64encode(v).decode() for v in value.get("BinaryListValues") or []]
    out["dataType"] = value.get("DataType", "String")
    return out


def sqs_concurrency(maximum: int | None, reserved: int | None, fifo: bool) -> tuple[int, int]:
    """(workers to start with, most workers) of an SQS mapping.

    AWS starts with five concurrent batches and scales up to ``MaximumConcurrency`` (when set); the
    function's reserved concurrency bounds both (with at least one worker, which waits out throttles).
    FIFO queues get one worker here (AWS scales them by message group; one keeps every group in order).
    """
    if fifo:
        return 1, 1
    ceiling = min(maximum or SQS_MAX_WORKERS, SQS_MAX_WORKERS)
    if reserved is not None:
        ceiling = min(ceiling, reserved)
    ceiling = max(ceiling, 1)
    return min(SQS_START_WORKERS, ceiling), ceiling


def reported_failures(payload: bytes, identifiers: list[str]) -> list[int] | None:
    """Indexes of the items a partial batch response names; None when the response is invalid.

    As Lambda documents it: an empty or ``null`` response, ``{}``, or a ``batchItemFailures`` that is
    empty or ``null`` report no failure; a response that is not JSON, not an object, a
    ``batchItemFailures`` that is not a list, an item that is not an object, or an identifier that is
    missing, empty or not in the batch makes the response invalid (the whole batch failed).
    """
    if not payload.strip():
        return []
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return None
    if body is None:
        return []
    if not isinstance(body, dict):
        return None
    if body.get("batchItemFailures") is None:
        return []
    items = body["batchItemFailures"]
    if not isinstance(items, list):
        return None
    index = {identifier: i for i, identifier in enumerate(identifiers)}
    out = []
    for item in items:
        found = index.get(item.get("itemIdentifier")) if isinstance(item, dict) else None
        if found is None:
            return None
        out.append(found)
    return sorted(set(out))


def failed_messages(outcome: Outcome, messages: list[dict[str, Any]], report: bool, fifo: bool) -> set[str]:
    """Message ids to leave on the queue after an invoke."""
    ids = [m["MessageId"] for m in messages]
    if outcome.function_error:
        return set(ids)
    if not report:
        return set()
    failures = reported_failures(outcome.payload, ids)
    if failures is None:
        return set(ids)
    if fifo and failures:  # order within a group: nothing after a failure may be deleted
        return set(ids[failures[0] :])
    return {ids[i] for i in failures}


# -- DynamoDB Streams -----------------------------------------------------------------------------


class StreamPoller(Poller):
    """Read the stream's shards in order, invoke per batch, checkpoint, retry and give up as configured."""

    def __init__(self, pollers: Pollers, mapping_id: str, doc: dict[str, Any]) -> None:
        super().__init__(pollers, mapping_id, doc)
        self.iterators: dict[str, str] = {}
        self.closed: set[str] = set()

    async def prepare(self) -> None:
        delay = 0.5
        while not self.stopping:
            try:
                for shard in await self._open_shards():
                    self.iterators[shard] = await self._iterator(shard)
                return
            except (AwsCallError, httpx.HTTPError) as err:
                log.info("event source mapping %s: cannot read %s yet: %s", self.id, self.source, err)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def poll(self) -> None:
        while not self.stopping:
            try:
                shards = await self._open_shards()
                for shard in shards:
                    await self._consume(shard)
                if not shards:
                    await asyncio.sleep(IDLE_RETRY)
            except (AwsCallError, httpx.HTTPError) as err:
                log.info("event source mapping %s: %s", self.id, err)
                self.iterators.clear()
                await asyncio.sleep(IDLE_RETRY)

    async def _open_shards(self) -> list[str]:
        """Shards not yet read to their end, oldest first."""
        out = await self.call("dynamodbstreams", "DescribeStream", {"StreamArn": self.source})
        shards = out["StreamDescription"].get("Shards") or []
        return [s["ShardId"] for s in shards if s["ShardId"] not in self.closed]

    async def _iterator(self, shard: str) -> str:
        checkpoint = (self.pollers.read(self.id) or self.doc)["Checkpoints"].get(shard)
        params: dict[str, Any] = {"StreamArn": self.source, "ShardId": shard}
        if checkpoint:
            params.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=checkpoint)
        else:
            params["ShardIteratorType"] = self.config.get("StartingPosition") or "TRIM_HORIZON"
        try:
            out = await self.call("dynamodbstreams", "GetShardIterator", params)
        except AwsCallError as err:
            if err.code != "TrimmedDataAccessException":
                raise
            params = {"StreamArn": self.source, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"}
            out = await self.call("dynamodbstreams", "GetShardIterator", params)
        return out["ShardIterator"]

    async def _consume(self, shard: str) -> None:
        """Read one shard until it ends (closed and drained) or the poller stops."""
        iterator: str | None = self.iterators.pop(shard, None) or await self._iterator(shard)
        while iterator and not self.stopping:
            try:
                records, iterator = await self._read_batch(iterator)
            except AwsCallError as err:
                if err.code not in ("ExpiredIteratorException", "TrimmedDataAccessException"):
                    raise
                iterator = await self._iterator(shard)
                continue
            if records:
                await self._handle(shard, records)
            elif iterator:
                await asyncio.sleep(STREAM_POLL_INTERVAL)
        if iterator is None:
            self.closed.add(shard)

    async def _read_batch(self, iterator: str) -> tuple[list[dict[str, Any]], str | None]:
        """Up to BatchSize records, waiting at most MaximumBatchingWindowInSeconds for more."""
        size = self.config["BatchSize"]
        window = self.config.get("MaximumBatchingWindowInSeconds") or 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + window
        records: list[dict[str, Any]] = []
        next_iterator: str | None = iterator
        total = 0
        while next_iterator and len(records) < size and total < BATCH_BYTES:
            out = await self.call(
                "dynamodbstreams",
                "GetRecords",
                {"ShardIterator": next_iterator, "Limit": min(GET_RECORDS_LIMIT, size - len(records))},
            )
            got = out.get("Records") or []
            records.extend(got)
            total += approximate_size(got)
            next_iterator = out.get("NextShardIterator")
            if not records or (not got and loop.time() >= deadline):
                break
            if not got:
                await asyncio.sleep(STREAM_POLL_INTERVAL)
        return [stream_record(r, self.source) for r in records], next_iterator

    # -- one batch: invoke, retry, bisect, give up ----------------------------------------------

    async def _handle(self, shard: str, records: list[dict[str, Any]]) -> None:
        """The records that pass the filters, then a checkpoint past the whole batch (filtered ones too)."""
        kept = [r for r in records if filters.matches_any(self.patterns, r)]
        if kept:
            await self._handle_kept(shard, kept)
        if kept[-1:] != records[-1:]:
            self._checkpoint(shard, records[-1], None)

    async def _handle_kept(self, shard: str, records: list[dict[str, Any]]) -> None:
        retries_limit = self.config.get("MaximumRetryAttempts", -1)
        parts = deque([records])
        attempts = failures = 0
        while parts:
            part = await self._drop_expired(shard, parts.popleft())
            if not part:
                continue
            outcome, request_id = await self.invoke({"Records": part})
            failed_from = self._failed_from(outcome, part)
            if failed_from is None:
                self._checkpoint(shard, part[-1], "OK")
                attempts = 0
                continue
            if failed_from > 0:
                self._checkpoint(shard, part[failed_from - 1], "PROBLEM: Function call failed")
                part = part[failed_from:]
            failures += 1
            if self.config.get("BisectBatchOnFunctionError") and len(part) > 1:
                middle = len(part) // 2
                parts.extendleft([part[middle:], part[:middle]])
            else:
                attempts += 1
                if retries_limit != -1 and attempts > retries_limit:
                    await self._give_up(shard, part, "RetryAttemptsExhausted", attempts, outcome, request_id)
                    attempts = 0
                    continue
                parts.appendleft(part)
            await asyncio.sleep(min(5.0, 0.25 * 2 ** min(failures, 5)))

    def _failed_from(self, outcome: Outcome, part: list[dict[str, Any]]) -> int | None:
        """Index of the first record to retry, None when the batch succeeded."""
        if outcome.function_error:
            return 0
        if "ReportBatchItemFailures" not in (self.config.get("FunctionResponseTypes") or []):
            return None
        failures = reported_failures(outcome.payload, [r["dynamodb"]["SequenceNumber"] for r in part])
        if failures is None:
            return 0
        return failures[0] if failures else None

    async def _drop_expired(self, shard: str, part: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Records past ``MaximumRecordAgeInSeconds`` (-1: past the stream's 24 h retention) are given up."""
        limit = self.config.get("MaximumRecordAgeInSeconds", -1)
        if limit == -1:
            limit = STREAM_RETENTION
        now = datetime.now(UTC).timestamp()
        expired = [r for r in part if now - r["dynamodb"]["ApproximateCreationDateTime"] > limit]
        if expired:
            await self._give_up(shard, expired, "RecordAgeExceeded", 0, None, None)
        return part[len(expired) :]

    async def _give_up(
        self,
        shard: str,
        part: list[dict[str, Any]],
        condition: str,
        attempts: int,
        outcome: Outcome | None,
        request_id: str | None,
    ) -> None:
        """Describe the skipped records to the on-failure destination (if any), then move past them."""
        destination = ((self.config.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        log.info("event source mapping %s: skipping %d records (%s)", self.id, len(part), condition)
        if destination and self.pollers.store.bus is not None:
            body = failure_record(self.config["FunctionArn"], self.source, shard, part, condition, attempts,
                                  outcome, request_id)  # fmt: skip
            try:
                await self.pollers.store.bus.publish(
                    FAILURE_TOPIC,
                    {"QueueArn": destination, "MessageBody": json.dumps(body), "EventId": str(uuid.uuid4())},
                )
            except Exception:
                log.exception("event source mapping %s: could not send the failure record", self.id)
        self._checkpoint(shard, part[-1], "PROBLEM: Function call failed")

    def _checkpoint(self, shard: str, record: dict[str, Any], result: str | None) -> None:
        """Move the shard's checkpoint to ``record``; ``result`` (when given) is the LastProcessingResult."""
        changes: dict[str, Any] = {"Checkpoint": (shard, record["dynamodb"]["SequenceNumber"])}
        if result is not None:
            changes["LastProcessingResult"] = result
        self.pollers.update(self.id, **changes)


def _jsonable(value: Any) -> Any:
    """A parsed API value as JSON: bytes as base64, timestamps as epoch seconds."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return int(value.timestamp())
    return value


def stream_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A GetRecords record as Lambda delivers it: DynamoDB JSON, epoch seconds, ``eventSourceARN``."""
    out = _jsonable(record)
    identity = out.pop("userIdentity", None)
    if identity:
        out["userIdentity"] = {"type": identity.get("Type"), "principalId": identity.get("PrincipalId")}
    out["eventSourceARN"] = stream_arn
    return out


def _iso(epoch: float, millis: bool = False) -> str:
    when = datetime.fromtimestamp(epoch, UTC)
    if millis:
        return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def failure_record(
    function_arn: str,
    stream_arn: str,
    shard: str,
    part: list[dict[str, Any]],
    condition: str,
    attempts: int,
    outcome: Outcome | None,
    request_id: str | None,
) -> dict[str, Any]:
    """AWS's on-failure record for a stream batch: what failed, not the records themselves."""
    record: dict[str, Any] = {
        "requestContext": {
            "requestId": request_id or str(uuid.uuid4()),
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
    }
    if outcome is not None:
        record["responseContext"] = {"statusCode": 200, "executedVersion": outcome.version}
        if outcome.function_error:
            record["responseContext"]["functionError"] = outcome.function_error
    record.update(
        version="1.0",
        timestamp=_iso(datetime.now(UTC).timestamp(), millis=True),
        DDBStreamBatchInfo={
            "shardId": shard,
            "startSequenceNumber": part[0]["dynamodb"]["SequenceNumber"],
            "endSequenceNumber": part[-1]["dynamodb"]["SequenceNumber"],
            "approximateArrivalOfFirstRecord": _iso(part[0]["dynamodb"]["ApproximateCreationDateTime"]),
            "approximateArrivalOfLastRecord": _iso(part[-1]["dynamodb"]["ApproximateCreationDateTime"]),
            "batchSize": len(part),
            "streamArn": stream_arn,
        },
    )
    return record
