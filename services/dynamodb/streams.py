"""DynamoDB Streams storage: one shard per stream, records in SQLite next to the items, 24 h retention.

Tables ``streams`` (one row per stream ever seen: its table, view type, key schema, when it was
created and disabled) and ``stream_records`` live in the item store's own SQLite database and
connection. A record is written right after the item's transaction committed (``record_change``
is called after every commit, with no ``await`` in between, so records are in commit order; a
crash between the two would lose the record). Every record takes the next value of one
AUTOINCREMENT counter shared by all streams; its SequenceNumber is ``SEQ_BASE + seq``, a
21-digit decimal string that only grows, as AWS's do.

A stream's status is derived from its table's stored description: the stream is ENABLED while
it is the table's ``LatestStreamArn`` and the table has ``StreamSpecification.StreamEnabled``;
otherwise it is DISABLED (its one shard closed) and stays readable for 24 hours. Tables are not
told about streams (no service code calls in here on UpdateTable/DeleteTable); instead listing
and reading reconcile the ``streams`` rows with the table descriptions (``sync``/``refresh``).

Each record is also handed to ``StreamLog.publish`` (set by the app: the bus publisher), as the
record a Lambda event source mapping delivers.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import time
import uuid
import zlib
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, NamedTuple
from weakref import WeakKeyDictionary

from shared.aws.errors import AwsError
from shared.bus import Bus

from . import schema
from .storage import DynamoStore
from .values import Item, from_json, item_size, to_json

log = logging.getLogger("flotilla.dynamodb.streams")

RETENTION = 24 * 3600.0  # seconds a record (and a disabled stream) is kept
ITERATOR_LIFETIME = 15 * 60.0
SEQ_BASE = 10**20  # SequenceNumber = SEQ_BASE + seq: at least 21 digits
SERVICE_IDENTITY = {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}  # TTL deletions
NEW_VIEWS = ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
OLD_VIEWS = ("OLD_IMAGE", "NEW_AND_OLD_IMAGES")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS streams (
    arn        TEXT PRIMARY KEY,
    account    TEXT NOT NULL,
    region     TEXT NOT NULL,
    table_name TEXT NOT NULL,
    table_id   TEXT NOT NULL,
    label      TEXT NOT NULL,
    view_type  TEXT NOT NULL,
    key_schema TEXT NOT NULL,
    created    REAL NOT NULL,
    disabled   REAL,
    first_seq  INTEGER NOT NULL,
    trimmed    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS streams_by_scope ON streams (account, region, arn);
CREATE TABLE IF NOT EXISTS stream_records (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    stream_arn TEXT NOT NULL,
    created    REAL NOT NULL,
    doc        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS stream_records_by_stream ON stream_records (stream_arn, seq);
"""

Publish = Callable[[str, dict[str, Any]], None]


class Stream(NamedTuple):
    """One row of ``streams``; ``trimmed`` is the highest seq no longer kept (records after it are)."""

    arn: str
    account: str
    region: str
    table_name: str
    table_id: str
    label: str
    view_type: str
    key_schema: list[dict[str, str]]
    created: float
    disabled: float | None
    first_seq: int
    trimmed: int

    @property
    def status(self) -> str:
        return "ENABLED" if self.disabled is None else "DISABLED"

    @property
    def shard_id(self) -> str:
        """``shardId-<20-digit creation ms>-<8 hex>``, AWS's form; stable for the stream."""
        return f"shardId-{int(self.created * 1000):020d}-{zlib.crc32(self.arn.encode()):08x}"


def sequence_number(seq: int) -> str:
    return str(SEQ_BASE + seq)


def parse_sequence_number(text: str) -> int:
    if not text.isdigit() or int(text) <= SEQ_BASE:
        raise AwsError("ValidationException", f"Invalid SequenceNumber: {text}", 400)
    return int(text) - SEQ_BASE


# -- the record ---------------------------------------------------------------------------------


def build_record(
    desc: Mapping[str, Any],
    region: str,
    old: Item | None,
    new: Item | None,
    identity: Mapping[str, str] | None,
    now: float,
) -> dict[str, Any]:
    """The stored record (images in DynamoDB JSON, no sequence number yet) of one item change."""
    view = desc["StreamSpecification"]["StreamViewType"]
    current = new if new is not None else old
    assert current is not None
    keys = {name: current[name] for name in schema.key_names(desc)}
    body: dict[str, Any] = {"ApproximateCreationDateTime": int(now), "Keys": to_json(keys)}
    size = item_size(keys)
    if new is not None and view in NEW_VIEWS:
        body["NewImage"] = to_json(new)
        size += item_size(new)
    if old is not None and view in OLD_VIEWS:
        body["OldImage"] = to_json(old)
        size += item_size(old)
    body.update(SizeBytes=size, StreamViewType=view)
    record = {
        "eventID": uuid.uuid4().hex,
        "eventName": "INSERT" if old is None else "REMOVE" if new is None else "MODIFY",
        "awsRegion": region,
        "dynamodb": body,
    }
    if identity:
        record["userIdentity"] = dict(identity)
    return record


def api_record(seq: int, doc: Mapping[str, Any]) -> dict[str, Any]:
    """The GetRecords ``Record`` shape: images decoded, a datetime, the sequence number."""
    body = dict(doc["dynamodb"])
    for image in ("Keys", "NewImage", "OldImage"):
        if image in body:
            body[image] = from_json(body[image])
    body["ApproximateCreationDateTime"] = datetime.fromtimestamp(body["ApproximateCreationDateTime"], UTC)
    body["SequenceNumber"] = sequence_number(seq)
    out = {**doc, "eventVersion": "1.1", "eventSource": "aws:dynamodb", "dynamodb": body}
    return out


def lambda_record(seq: int, doc: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    """The record as Lambda delivers it (and as the bus carries it): DynamoDB JSON, epoch seconds."""
    out = {
        **doc,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "eventSourceARN": stream_arn,
        "dynamodb": {**doc["dynamodb"], "SequenceNumber": sequence_number(seq)},
    }
    if "userIdentity" in doc:
        identity = doc["userIdentity"]
        out["userIdentity"] = {"type": identity["Type"], "principalId": identity["PrincipalId"]}
    return out


# -- shard iterators ----------------------------------------------------------------------------


class Iterator(NamedTuple):
    """A position in a shard: the next record read is the first with seq > ``after``."""

    stream_arn: str
    shard_id: str
    after: int
    issued: float

    def encode(self) -> str:
        """``<stream ARN>|1|<opaque>``, the shape of AWS's iterators."""
        token = json.dumps([self.shard_id, self.after, self.issued], separators=(",", ":"))
        return f"{self.stream_arn}|1|{base64.urlsafe_b64encode(token.encode()).decode()}"

    @classmethod
    def decode(cls, text: str, now: float) -> Iterator:
        """The iterator a string stands for; ValidationException if malformed, Expired after 15 min."""
        try:
            arn, version, token = text.rsplit("|", 2)
            shard_id, after, issued = json.loads(base64.urlsafe_b64decode(token.encode()))
            found = cls(arn, str(shard_id), int(after), float(issued))
        except (ValueError, TypeError, binascii.Error):
            raise AwsError("ValidationException", "Invalid ShardIterator", 400) from None
        if version != "1":
            raise AwsError("ValidationException", "Invalid ShardIterator", 400)
        if now - found.issued > ITERATOR_LIFETIME:
            raise AwsError(
                "ExpiredIteratorException",
                f"Iterator expired. The iterator was created at time {_iso(found.issued)} while right now "
                f"it is {_iso(now)} which is further in the future than the tolerated delay of "
                f"{int(ITERATOR_LIFETIME * 1000)} milliseconds.",
                400,
            )
        return found


def _iso(when: float) -> str:
    return datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# -- the log ------------------------------------------------------------------------------------


class StreamLog:
    """Streams and their records, in the item store's database."""

    def __init__(self, store: DynamoStore) -> None:
        self._store = store
        self._db = store.connection  # stream rows share the item store's transactions
        self._db.executescript(_SCHEMA)
        self._known: set[str] = set()  # stream rows known to exist: spares an INSERT per write
        self.publish: Publish | None = None

    # -- writing --------------------------------------------------------------------------

    def append(
        self,
        account: str,
        region: str,
        desc: Mapping[str, Any],
        old: Item | None,
        new: Item | None,
        identity: Mapping[str, str] | None = None,
        now: float | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Store the record of one change on the table's current stream; (seq, record)."""
        now = time.time() if now is None else now
        record = build_record(desc, region, old, new, identity, now)
        arn = desc["LatestStreamArn"]
        with self._store.transaction():
            self._ensure(account, region, desc, now)
            cur = self._db.execute(
                "INSERT INTO stream_records (stream_arn, created, doc) VALUES (?, ?, ?)",
                (arn, now, json.dumps(record, separators=(",", ":"))),
            )
        seq = int(cur.lastrowid or 0)
        if self.publish is not None:
            self.publish(topic(desc["TableArn"]), lambda_record(seq, record, arn))
        return seq, record

    def _ensure(self, account: str, region: str, desc: Mapping[str, Any], now: float) -> None:
        """Insert the row of the table's latest stream unless it exists (disabled if it is not enabled)."""
        arn = desc["LatestStreamArn"]
        if arn in self._known:
            return
        spec = desc.get("StreamSpecification") or {}
        view = spec.get("StreamViewType") or self._old_view(arn) or "KEYS_ONLY"
        first = self._counter() + 1
        self._db.execute(
            "INSERT OR IGNORE INTO streams (arn, account, region, table_name, table_id, label, view_type, "
            "key_schema, created, disabled, first_seq, trimmed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                arn,
                account,
                region,
                desc["TableName"],
                desc["TableId"],
                desc["LatestStreamLabel"],
                view,
                json.dumps(desc["KeySchema"]),
                _label_time(desc["LatestStreamLabel"], now),
                None if spec.get("StreamEnabled") else now,
                first,
                first - 1,
            ),
        )
        self._known.add(arn)

    def _old_view(self, arn: str) -> str | None:
        row = self._db.execute("SELECT view_type FROM streams WHERE arn = ?", (arn,)).fetchone()
        return row[0] if row else None

    def _counter(self) -> int:
        row = self._db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'stream_records'").fetchone()
        return int(row[0]) if row else 0

    # -- reconciling with the tables --------------------------------------------------------

    def sync(self, account: str, region: str, now: float | None = None) -> None:
        """Bring every stream of an account and region in line with its table's description."""
        now = time.time() if now is None else now
        descs: dict[str, dict[str, Any]] = {}
        after = ""
        while names := self._store.table_names(account, region, after):
            for name in names:
                desc = self._store.table(account, region, name)
                if desc is not None:
                    descs[name] = desc
            after = names[-1]
        with self._store.transaction():
            for desc in descs.values():
                if desc.get("LatestStreamArn"):
                    self._ensure(account, region, desc, now)
            for stream in self._streams("account = ? AND region = ? AND disabled IS NULL", (account, region)):
                self._close_unless_live(stream, descs.get(stream.table_name), now)

    def refresh(self, stream: Stream, now: float | None = None) -> Stream:
        """The stream with its status brought up to date from its table."""
        if stream.disabled is not None:
            return stream
        now = time.time() if now is None else now
        desc = self._store.table(stream.account, stream.region, stream.table_name)
        if self._close_unless_live(stream, desc, now):
            return stream._replace(disabled=now)
        return stream

    def _close_unless_live(self, stream: Stream, desc: Mapping[str, Any] | None, now: float) -> bool:
        live = (
            desc is not None
            and desc["TableId"] == stream.table_id
            and desc.get("LatestStreamArn") == stream.arn
            and (desc.get("StreamSpecification") or {}).get("StreamEnabled")
        )
        if not live:
            self._db.execute("UPDATE streams SET disabled = ? WHERE arn = ?", (now, stream.arn))
        return not live

    # -- reading --------------------------------------------------------------------------

    def streams(self, account: str, region: str, table_name: str | None = None) -> list[Stream]:
        """The streams of an account and region (of one table), in ARN order."""
        where, args = "account = ? AND region = ?", [account, region]
        if table_name is not None:
            where += " AND table_name = ?"
            args.append(table_name)
        return self._streams(where, args)

    def stream(self, account: str, region: str, arn: str) -> Stream | None:
        found = self._streams("account = ? AND region = ? AND arn = ?", (account, region, arn))
        return found[0] if found else None

    def _streams(self, where: str, args: Any) -> list[Stream]:
        rows = self._db.execute(f"SELECT * FROM streams WHERE {where} ORDER BY arn", tuple(args)).fetchall()
        return [Stream(*row[:7], json.loads(row[7]), *row[8:]) for row in rows]

    def records(self, arn: str, after: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
        """Up to ``limit`` (seq, stored record) of a stream with seq > ``after``, in order."""
        rows = self._db.execute(
            "SELECT seq, doc FROM stream_records WHERE stream_arn = ? AND seq > ? ORDER BY seq LIMIT ?",
            (arn, after, limit),
        )
        return [(seq, json.loads(doc)) for seq, doc in rows]

    def last_seq(self, stream: Stream) -> int:
        """The seq of the stream's newest record (or the one before its first, when it has none)."""
        (last,) = self._db.execute(
            "SELECT MAX(seq) FROM stream_records WHERE stream_arn = ?", (stream.arn,)
        ).fetchone()
        return int(last) if last is not None else stream.first_seq - 1

    # -- retention ------------------------------------------------------------------------

    def trim(self, now: float | None = None) -> int:
        """Drop records older than 24 h, and streams disabled more than 24 h ago; records dropped."""
        cutoff = (time.time() if now is None else now) - RETENTION
        with self._store.transaction():
            gone = [
                arn for (arn,) in self._db.execute("SELECT arn FROM streams WHERE disabled < ?", (cutoff,))
            ]
            for arn in gone:
                self._db.execute("DELETE FROM stream_records WHERE stream_arn = ?", (arn,))
                self._db.execute("DELETE FROM streams WHERE arn = ?", (arn,))
                self._known.discard(arn)
            self._db.execute(
                "UPDATE streams SET trimmed = (SELECT MAX(seq) FROM stream_records "
                "WHERE stream_arn = streams.arn AND created < ?) "
                "WHERE EXISTS (SELECT 1 FROM stream_records WHERE stream_arn = streams.arn AND created < ?)",
                (cutoff, cutoff),
            )
            cur = self._db.execute("DELETE FROM stream_records WHERE created < ?", (cutoff,))
        return cur.rowcount


def _label_time(label: str, default: float) -> float:
    """The stream's creation time, read back from its label (ISO 8601, milliseconds, UTC)."""
    try:
        return datetime.strptime(label, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return default


def topic(table_arn: str) -> str:
    """The bus topic of a table's stream records: ``dynamodb.stream.<table ARN>``."""
    return f"dynamodb.stream.{table_arn}"


_logs: WeakKeyDictionary[DynamoStore, StreamLog] = WeakKeyDictionary()


def stream_log(store: DynamoStore) -> StreamLog:
    """The StreamLog of a store (made on first use, so any DynamoStore has streams)."""
    found = _logs.get(store)
    if found is None:
        found = _logs[store] = StreamLog(store)
    return found


# -- the bus ------------------------------------------------------------------------------------


class BusPublisher:
    """Hands records to the bus in order, from one task, without ever holding up a write.

    ``offer`` (called synchronously from ``StreamLog.append``) only queues; the task publishes.
    A full queue (Redis down for long) or a failed publish drops the record with a log line:
    the stream in SQLite stays the source of truth.
    """

    MAX_QUEUED = 10_000

    def __init__(self, bus: Any) -> None:
        self.bus = bus
        self.queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue(self.MAX_QUEUED)
        self.task = asyncio.get_running_loop().create_task(self._run(), name="dynamodb-streams-bus")

    def offer(self, topic_name: str, event: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait((topic_name, event))
        except asyncio.QueueFull:
            log.warning("dynamodb streams: bus queue full, record %s not published", event.get("eventID"))

    async def _run(self) -> None:
        while True:
            topic_name, event = await self.queue.get()
            try:
                await self.bus.publish(topic_name, event)
            except Exception:
                log.exception("dynamodb streams: could not publish record %s", event.get("eventID"))
            finally:
                self.queue.task_done()

    async def close(self) -> None:
        """Publish what is queued (for at most a second), then stop."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                await self.queue.join()
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


@asynccontextmanager
async def publishing(store: DynamoStore, redis_url: str) -> AsyncIterator[BusPublisher]:
    """Publish every stream record of ``store`` on the bus for the duration of the block."""
    bus = Bus(redis_url)
    publisher = BusPublisher(bus)
    stream_log(store).publish = publisher.offer
    try:
        yield publisher
    finally:
        stream_log(store).publish = None
        await publisher.close()
        await bus.close()
