"""Queue administration in Redis: attributes, tags, purge, dead-letter sources, the registry.

The message half of the store (storage.py) owns the key layout (``QueueKeys``); this module
adds the queue-level operations on the same keys, each one atomic (a Lua script), so that
replicas of the SQS service may run them concurrently:

- attributes and tags are JSON strings in the queue's ``meta`` hash (fields ``attrs``,
  ``tags``, ``modified``); an update is a read-modify-write inside one script;
- ``meta`` field ``purged`` holds the time (ms) of the last PurgeQueue, for the 60-second rule
  (the purge itself is the store's).

Message move tasks (StartMessageMoveTask ...) are ``MoveTasks`` below: each runs as an asyncio
task in the replica that started it, with its state in Redis so any replica can list or
cancel it (see ``MoveTasks`` for the layout).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from redis.exceptions import WatchError

from shared.registry import Registry

from . import attributes
from .messages import Received, decode_receipt
from .queues import QueueRef, arn_of, parse_queue_arn
from .storage import QueueGone, QueueKeys, QueueRecord, SqsStore, index_key

log = logging.getLogger("flotilla.sqs")

PURGE_INTERVAL_MS = 60_000
MAX_TAGS = 50

NOW = """
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
"""

# KEYS: meta | ARGV: changes_json ('' values remove) -> false (no queue) | new attrs json
UPDATE_ATTRIBUTES = (
    NOW
    + """
local raw = redis.call('HGET', KEYS[1], 'attrs')
if not raw then return false end
local attrs = cjson.decode(raw)
for name, value in pairs(cjson.decode(ARGV[1])) do
  if value == '' then attrs[name] = nil else attrs[name] = value end
end
local out = cjson.encode(attrs)
redis.call('HSET', KEYS[1], 'attrs', out, 'modified', math.floor(now_ms() / 1000))
return out
"""
)

# KEYS: meta | ARGV: add_json remove_json max_tags -> false (no queue) | -1 (too many) | tag count
UPDATE_TAGS = """
local raw = redis.call('HGET', KEYS[1], 'tags')
if not raw then return false end
local tags = cjson.decode(raw)
for _, key in ipairs(cjson.decode(ARGV[2])) do tags[key] = nil end
for key, value in pairs(cjson.decode(ARGV[1])) do tags[key] = value end
local count = 0
for _ in pairs(tags) do count = count + 1 end
if count > tonumber(ARGV[3]) then return -1 end
if count == 0 then redis.call('HSET', KEYS[1], 'tags', '{}')
else redis.call('HSET', KEYS[1], 'tags', cjson.encode(tags)) end
return count
"""

# KEYS: meta | ARGV: interval_ms
# -> false (no queue) | 0 (purge allowed, time recorded) | ms to wait before the next purge is allowed
PURGE_ALLOWED = (
    NOW
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local now = now_ms()
local last = tonumber(redis.call('HGET', KEYS[1], 'purged') or '-1')
if last >= 0 and now - last < tonumber(ARGV[1]) then return tonumber(ARGV[1]) - (now - last) end
redis.call('HSET', KEYS[1], 'purged', now)
return 0
"""
)


class TooManyTags(Exception):
    pass


@dataclass
class PurgeRefused(Exception):
    wait_ms: int


class SqsAdmin:
    """The queue-level operations, next to the store (same Redis client)."""

    def __init__(self, store: SqsStore, registry: Registry | None = None) -> None:
        self.store = store
        self.redis = store.redis
        self.registry = registry if registry is not None else Registry(store.redis)
        self._update_attributes = self.redis.register_script(UPDATE_ATTRIBUTES)
        self._update_tags = self.redis.register_script(UPDATE_TAGS)
        self._purge_allowed = self.redis.register_script(PURGE_ALLOWED)
        self.tasks = MoveTasks(self)

    async def update_attributes(self, ref: QueueRef, changes: Mapping[str, str]) -> dict[str, str]:
        """Set (or, for '', remove) attributes; returns the queue's attributes after the change."""
        result = await self._update_attributes(
            keys=[QueueKeys.of(ref).meta], args=[json.dumps(dict(changes))]
        )
        if not result:
            raise QueueGone(ref.name)
        return _string_map(result)

    async def modify_attribute(self, ref: QueueRef, name: str, change: Callable[[str], str]) -> str:
        """Replace one attribute by ``change(current)`` ('' when unset; returning '' removes it).

        Optimistic (WATCH/MULTI): a concurrent update of the queue makes us read and change again,
        so two AddPermission calls never lose one another's statement. ``change`` may raise.
        """
        meta = QueueKeys.of(ref).meta
        async with self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(meta)
                    raw = await pipe.hget(meta, "attrs")
                    if raw is None:
                        raise QueueGone(ref.name)
                    current = _string_map(raw)
                    value = change(current.get(name, ""))
                    if value:
                        current[name] = value
                    else:
                        current.pop(name, None)
                    seconds, _ = await pipe.time()
                    pipe.multi()
                    pipe.hset(meta, mapping={"attrs": json.dumps(current), "modified": int(seconds)})
                    await pipe.execute()
                    return value
                except WatchError:
                    continue

    async def update_tags(
        self, ref: QueueRef, add: Mapping[str, str] | None = None, remove: Sequence[str] = ()
    ) -> None:
        """Add (overwrite) and remove tags atomically; more than 50 in all leaves them unchanged."""
        result = await self._update_tags(
            keys=[QueueKeys.of(ref).meta],
            args=[json.dumps(dict(add or {})), json.dumps(list(remove)), MAX_TAGS],
        )
        if result is None or result is False:
            raise QueueGone(ref.name)
        if int(result) < 0:
            raise TooManyTags(ref.name)

    async def purge(self, ref: QueueRef) -> None:
        """Delete every message, at most once a minute (raises PurgeRefused within 60 s of the last)."""
        result = await self._purge_allowed(keys=[QueueKeys.of(ref).meta], args=[PURGE_INTERVAL_MS])
        if result is None or result is False:
            raise QueueGone(ref.name)
        if int(result) > 0:
            raise PurgeRefused(int(result))
        await self.store.purge(ref)

    async def queue_records(self, account: str, region: str) -> list[QueueRecord]:
        """Every queue of an account and region (names in order), read in one round trip."""
        names = await self.store.queue_names(account, region)
        refs = [QueueRef(account, region, name) for name in names]
        async with self.redis.pipeline(transaction=False) as pipe:
            for ref in refs:
                pipe.hgetall(QueueKeys.of(ref).meta)
            metas = await pipe.execute()
        return [_record(ref, meta) for ref, meta in zip(refs, metas, strict=True) if meta]

    async def dead_letter_sources(self, dlq: QueueRef) -> list[QueueRef]:
        """Queues (same account and region) whose RedrivePolicy targets ``dlq``, by name."""
        target = arn_of(dlq)
        out = []
        for record in await self.queue_records(dlq.account, dlq.region):
            redrive = attributes.redrive_target(record.attributes)
            if redrive is not None and redrive[0] == target:
                out.append(record.ref)
        return out

    async def publish(self, ref: QueueRef, url: str) -> None:
        """Tell other services the queue exists (registry: ARN -> url, name, fifo)."""
        await self.registry.put(
            arn_of(ref),
            {"url": url, "name": ref.name, "fifo": ref.fifo, "account": ref.account, "region": ref.region},
        )

    async def unpublish(self, ref: QueueRef) -> None:
        await self.registry.delete(arn_of(ref))

    async def index_has(self, ref: QueueRef) -> bool:
        return await self.redis.zscore(index_key(ref.account, ref.region), ref.name) is not None


def _string_map(raw: str | bytes) -> dict[str, str]:
    """cjson writes an empty table as ``{}`` and escapes '/': both read back fine as JSON."""
    value = json.loads(raw)
    return value if isinstance(value, dict) else {}


def _record(ref: QueueRef, meta: Mapping[str, str]) -> QueueRecord:
    return QueueRecord(
        ref,
        _string_map(meta["attrs"]),
        _string_map(meta["tags"]),
        int(meta["created"]),
        int(meta["modified"]),
    )


_ADMINS: weakref.WeakKeyDictionary[SqsStore, SqsAdmin] = weakref.WeakKeyDictionary()


def admin_of(store: SqsStore) -> SqsAdmin:
    """The admin next to a store (made on first use; app.py makes it at start)."""
    admin = _ADMINS.get(store)
    if admin is None:
        admin = _ADMINS[store] = SqsAdmin(store)
    return admin


# -- message move tasks ---------------------------------------------------------------------

TASK_STATUSES = ("RUNNING", "COMPLETED", "CANCELLING", "CANCELLED", "FAILED")
TASK_HISTORY = 10  # ListMessageMoveTasks returns at most the 10 most recent tasks
TASK_STALE_MS = 60_000  # a RUNNING task whose runner has not reported for this long has failed
MOVE_VISIBILITY_S = 60  # messages being moved are hidden this long (a crash mid-move redelivers)
ORIGIN_FIELD = "dlq_src"  # where a dead-lettered message's document names its source queue

# KEYS: task | ARGV: from_status to_status [field value ...] -> 1 changed, 0 not in from_status
TRANSITION = """
if redis.call('HGET', KEYS[1], 'status') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[2])
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1
"""


class MoveFailed(Exception):
    """The task cannot go on; the message is the FailureReason SQS reports."""


@dataclass
class MoveTask:
    id: str
    source: QueueRef
    destination: QueueRef | None
    rate: int | None


def task_key(task_id: str) -> str:
    return f"sqs:movetask:{task_id}"


def tasks_key(source: QueueRef) -> str:
    return f"sqs:movetasks:{source.account}:{source.region}:{source.name}"


def active_key(source: QueueRef) -> str:
    return f"sqs:movetask-active:{source.account}:{source.region}:{source.name}"


class TaskActive(Exception):
    """The source queue already has a running task."""


class TaskNotFound(Exception):
    pass


class MoveTasks:
    """Message move tasks: state in Redis, the moving itself in an asyncio task of this replica.

    Layout: ``sqs:movetask:<id>`` a hash (source, destination, rate, status, moved, to_move,
    started, failure, beat); ``sqs:movetasks:<account>:<region>:<name>`` the source queue's
    task ids, newest first (10 kept); ``sqs:movetask-active:<...>`` the id of the source's
    running task, taken with SET NX so that one runs per source across replicas. The runner
    reports (``beat``) after every batch; a RUNNING task whose runner went quiet for 60 s
    (its replica died) is shown, and treated, as FAILED.
    """

    def __init__(self, admin: SqsAdmin) -> None:
        self.admin = admin
        self.store = admin.store
        self.redis = admin.redis
        self._transition = self.redis.register_script(TRANSITION)
        self._runners: set[asyncio.Task[None]] = set()

    async def start(self, task: MoveTask, to_move: int) -> None:
        """Record the task and start moving; raises TaskActive when the source has one running."""
        if not await self._claim(task):
            raise TaskActive(task.source.name)
        now = await self._now_ms()
        fields = {
            "source": arn_of(task.source),
            "destination": arn_of(task.destination) if task.destination else "",
            "rate": str(task.rate or ""),
            "status": "RUNNING",
            "moved": 0,
            "to_move": to_move,
            "started": now,
            "failure": "",
            "beat": now,
        }
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(task_key(task.id), mapping=fields)
            pipe.lpush(tasks_key(task.source), task.id)
            pipe.ltrim(tasks_key(task.source), 0, TASK_HISTORY - 1)
            await pipe.execute()
        runner = asyncio.get_running_loop().create_task(self._run(task), name=f"sqs-move-{task.id}")
        self._runners.add(runner)
        runner.add_done_callback(self._runners.discard)

    async def _claim(self, task: MoveTask) -> bool:
        key = active_key(task.source)
        if await self.redis.set(key, task.id, nx=True):
            return True
        current = await self.redis.get(key)
        if current and await self._stale(current):
            await self._finish(current, "RUNNING", "FAILED", failure="ServiceUnavailable")
            await self._release(task.source, current)
            return bool(await self.redis.set(key, task.id, nx=True))
        return False

    async def _stale(self, task_id: str) -> bool:
        beat = await self.redis.hget(task_key(task_id), "beat")
        return beat is None or await self._now_ms() - int(beat) > TASK_STALE_MS

    async def cancel(self, source: QueueRef, task_id: str) -> int:
        """Ask a running task to stop; returns how many messages it had moved."""
        if task_id not in await self.redis.lrange(tasks_key(source), 0, -1):
            raise TaskNotFound(task_id)
        if not await self._finish(task_id, "RUNNING", "CANCELLED"):
            raise TaskNotFound(task_id)
        await self._release(source, task_id)
        return int(await self.redis.hget(task_key(task_id), "moved") or 0)

    async def recent(self, source: QueueRef, limit: int) -> list[dict[str, str]]:
        """The source's most recent tasks, newest first (stale RUNNING ones reported FAILED)."""
        ids = await self.redis.lrange(tasks_key(source), 0, limit - 1)
        async with self.redis.pipeline(transaction=False) as pipe:
            for task_id in ids:
                pipe.hgetall(task_key(task_id))
            rows = await pipe.execute()
        now = await self._now_ms()
        out = []
        for task_id, row in zip(ids, rows, strict=True):
            if not row:
                continue
            row["id"] = task_id
            if row["status"] == "RUNNING" and now - int(row["beat"]) > TASK_STALE_MS:
                row["status"], row["failure"] = "FAILED", "ServiceUnavailable"
            out.append(row)
        return out

    async def stop(self) -> None:
        """At shutdown: stop the runners; their tasks fail (a restarted service does not resume them)."""
        for runner in list(self._runners):
            runner.cancel()
        for runner in list(self._runners):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await runner

    # -- the runner ------------------------------------------------------------------------

    async def _run(self, task: MoveTask) -> None:
        status, failure = "COMPLETED", ""
        try:
            await self._move_all(task)
        except asyncio.CancelledError:
            status, failure = "FAILED", "ServiceUnavailable"
        except MoveFailed as exc:
            status, failure = "FAILED", str(exc)
        except Exception:
            log.exception("message move task %s failed", task.id)
            status, failure = "FAILED", "InternalError"
        try:
            await asyncio.shield(self._end(task, status, failure))
        except Exception:
            log.exception("message move task %s: could not record its end", task.id)

    async def _end(self, task: MoveTask, status: str, failure: str) -> None:
        await self._finish(task.id, "RUNNING", status, failure=failure)
        await self._release(task.source, task.id)

    async def _move_all(self, task: MoveTask) -> None:
        key = task_key(task.id)
        to_move = int(await self.redis.hget(key, "to_move") or 0)
        loop = asyncio.get_running_loop()
        started, moved = loop.time(), 0
        while moved < to_move and await self.redis.hget(key, "status") == "RUNNING":
            batch = min(10, to_move - moved, task.rate or 10)
            try:
                received, _ = await self.store.receive_now(task.source, batch, MOVE_VISIBILITY_S)
            except QueueGone:
                raise MoveFailed("AWS.SimpleQueueService.NonExistentQueue") from None
            if not received:
                return
            for item in received:
                await self._move_one(task, item)
            moved += len(received)
            await self.redis.hset(key, mapping={"moved": moved, "beat": await self._now_ms()})
            if task.rate:
                await asyncio.sleep(max(0.0, started + moved / task.rate - loop.time()))

    async def _move_one(self, task: MoveTask, item: Received) -> None:
        doc = {k: v for k, v in item.doc.items() if k not in ("seq", ORIGIN_FIELD)}
        target = task.destination or await self._origin(task.source, item.doc)
        try:
            queue = await self.store.queue(target)
            if queue.fifo and not doc.get("group"):
                raise MoveFailed("InvalidParameterValue")
            # No deduplication: a redriven message may carry a deduplication id seen minutes ago.
            await self.store.send(target, doc, 0, fifo=queue.fifo, dedup_key="")
        except QueueGone:
            raise MoveFailed("AWS.SimpleQueueService.NonExistentQueue") from None
        decoded = decode_receipt(item.receipt_handle)
        if decoded is not None:
            await self.store.delete_message(task.source, decoded[1], decoded[2])

    async def _origin(self, dlq: QueueRef, doc: Mapping[str, object]) -> QueueRef:
        """Where a dead-lettered message came from: its recorded source, else the DLQ's only source."""
        recorded = doc.get(ORIGIN_FIELD)
        ref = parse_queue_arn(recorded) if isinstance(recorded, str) else None
        if ref is not None:
            return ref
        sources = await self.admin.dead_letter_sources(dlq)
        if len(sources) != 1:
            raise MoveFailed("CouldNotDetermineMessageSource")
        return sources[0]

    # -- small steps -----------------------------------------------------------------------

    async def _finish(self, task_id: str, from_status: str, to_status: str, failure: str = "") -> bool:
        args = [from_status, to_status, "beat", await self._now_ms()]
        if failure:
            args += ["failure", failure]
        return bool(await self._transition(keys=[task_key(task_id)], args=args))

    async def _release(self, source: QueueRef, task_id: str) -> None:
        """Free the source for a new task, if ``task_id`` still holds it."""
        key = active_key(source)
        if await self.redis.get(key) == task_id:
            await self.redis.delete(key)

    async def _now_ms(self) -> int:
        seconds, micros = await self.redis.time()
        return int(seconds) * 1000 + int(micros) // 1000
