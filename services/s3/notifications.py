"""Bucket event notifications: configuration checks, the S3 event record, delivery over the bus.

S3 imports neither SQS nor Lambda: an event for a queue is published on the bus topic
``sqs.deliver`` (docs/sqs.md) as ``{"QueueArn", "MessageBody", "EventId"}``, an event for a
function on ``lambda.invoke`` (docs/lambda.md) as ``{"FunctionArn", "Payload"}``; the body or
payload is AWS's event notification JSON (``{"Records": [...]}``, eventVersion 2.1). Destinations
are checked against the shared resource registry (SQS publishes its queues there and Lambda its
functions, keyed by ARN).

Object handlers call :func:`object_event` after a write or delete has committed. Publishing
never fails the request that caused it: the object is already written, so a Redis outage is
logged and the event lost (the bus gives at-least-once delivery from the moment it accepted
the event). SNS destinations are stored and validated, not delivered (the fleet has no SNS).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

from shared.aws.errors import AwsError
from shared.bus import Bus
from shared.context import RequestContext
from shared.registry import Registry, parse_arn
from shared.settings import Settings

from . import errors
from .bucket_config import bucket_config
from .outbox import Outbox
from .storage import Bucket, S3Store

log = logging.getLogger("flotilla.s3")

TOPIC = "sqs.deliver"
LAMBDA_TOPIC = "lambda.invoke"
EVENTS = (
    "s3:ReducedRedundancyLostObject",
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete",
    "s3:ObjectRemoved:DeleteMarkerCreated",
    "s3:ObjectRestore:*",
    "s3:ObjectRestore:Post",
    "s3:ObjectRestore:Completed",
    "s3:ObjectRestore:Delete",
    "s3:Replication:*",
    "s3:Replication:OperationFailedReplication",
    "s3:Replication:OperationNotTracked",
    "s3:Replication:OperationMissedThreshold",
    "s3:Replication:OperationReplicatedAfterThreshold",
    "s3:LifecycleTransition",
    "s3:IntelligentTiering",
    "s3:ObjectAcl:Put",
    "s3:LifecycleExpiration:*",
    "s3:LifecycleExpiration:Delete",
    "s3:LifecycleExpiration:DeleteMarkerCreated",
    "s3:ObjectTagging:*",
    "s3:ObjectTagging:Put",
    "s3:ObjectTagging:Delete",
)

# configuration list -> (ARN member, what S3 calls the destination in its errors)
DESTINATIONS = {
    "QueueConfigurations": ("QueueArn", "queue"),
    "TopicConfigurations": ("TopicArn", "topic"),
    "LambdaFunctionConfigurations": ("LambdaFunctionArn", "function"),
}


# -- checking a configuration -----------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    """One configuration entry, flattened for overlap checks and matching."""

    arn: str
    kind: str
    events: tuple[str, ...]
    prefix: str
    suffix: str


def _targets(conf: dict[str, Any]) -> list[_Target]:
    out = []
    for member, (arn_member, kind) in DESTINATIONS.items():
        for entry in conf.get(member) or []:
            prefix, suffix = _filter_rules(entry)
            out.append(_Target(entry[arn_member], kind, tuple(entry["Events"]), prefix, suffix))
    return out


def _filter_rules(entry: dict[str, Any]) -> tuple[str, str]:
    """(prefix, suffix) of an entry's key filter; rule names are case-insensitive, one of each."""
    found: dict[str, str] = {}
    for rule in ((entry.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []:
        name = (rule.get("Name") or "").lower()
        if name not in ("prefix", "suffix"):
            raise errors.invalid_argument(
                "filter rule name must be either prefix or suffix", "FilterRule", rule.get("Name") or ""
            )
        if name in found:
            raise errors.invalid_argument(
                f"Cannot specify more than one {name} rule in a filter.", "FilterRule", name
            )
        found[name] = rule.get("Value") or ""
    return found.get("prefix", ""), found.get("suffix", "")


def _covers(pattern: str, event: str) -> bool:
    """``s3:ObjectCreated:*`` covers ``s3:ObjectCreated:Put``; every event covers itself."""
    return pattern == event or (pattern.endswith(":*") and event.startswith(pattern[:-1]))


def _overlap(a: _Target, b: _Target) -> bool:
    """Two entries overlap when one event can match both: S3 rejects such a configuration."""
    shared = any(_covers(x, y) or _covers(y, x) for x in a.events for y in b.events)
    prefixes = a.prefix.startswith(b.prefix) or b.prefix.startswith(a.prefix)
    suffixes = a.suffix.endswith(b.suffix) or b.suffix.endswith(a.suffix)
    return shared and prefixes and suffixes


def check_config(conf: dict[str, Any]) -> dict[str, Any]:
    """The configuration to store: events and filters checked, a generated ``Id`` where none was given."""
    targets = _targets(conf)
    for target in targets:
        for event in target.events:
            if event not in EVENTS:
                raise errors.invalid_argument("The event is not supported for notifications", "Event", event)
    for i, a in enumerate(targets):
        if any(_overlap(a, b) for b in targets[i + 1 :]):
            raise errors.invalid_argument(
                "Configurations overlap. Configurations on the same bucket cannot share a common event type.",
                "Event",
                ",".join(a.events),
            )
    out = dict(conf)
    for member in DESTINATIONS:
        if member in conf:
            out[member] = [{"Id": str(uuid.uuid4()), **entry} for entry in conf[member]]
    return out


async def check_destinations(ctx: RequestContext, bucket: Bucket, conf: dict[str, Any]) -> None:
    """Every destination must exist (in the registry) in the bucket's region; S3 names each failure."""
    registry = _connection().registry
    failures: dict[str, str] = {}
    for target in _targets(conf):
        if target.arn not in failures:
            reason = await _unusable(registry, bucket, target)
            if reason:
                failures[target.arn] = reason
    if failures:
        fields: dict[str, str] = {}
        for n, (arn, reason) in enumerate(failures.items(), start=1):
            fields[f"ArgumentName{n}"] = arn
            fields[f"ArgumentValue{n}"] = reason
        raise AwsError(
            "InvalidArgument",
            "Unable to validate the following destination configurations",
            400,
            fields=fields,
        )


async def _unusable(registry: Registry, bucket: Bucket, target: _Target) -> str | None:
    try:
        arn = parse_arn(target.arn)
    except ValueError:
        return f"The destination {target.kind} does not exist"
    if arn.region != bucket.region:
        return "The notification destination service region is not valid for the bucket location constraint"
    found = await registry.get(target.arn)
    if found is None and target.kind == "function":  # a qualified ARN: the function is registered unqualified
        found = await registry.get(_unqualified_function_arn(target.arn))
    if found is None:
        return f"The destination {target.kind} does not exist"
    if found.get("fifo"):
        return "FIFO queues are not supported as a destination of event notifications"
    return None


def _unqualified_function_arn(arn: str) -> str:
    """``arn:aws:lambda:r:a:function:name:alias`` -> ``arn:aws:lambda:r:a:function:name``."""
    return ":".join(arn.split(":")[:7])


# -- events -----------------------------------------------------------------------------------


async def send_test_events(ctx: RequestContext, bucket: Bucket, conf: dict[str, Any]) -> None:
    """S3 sends ``s3:TestEvent`` to each queue when a notification configuration is put."""
    body = json.dumps(
        {
            "Service": "Amazon S3",
            "Event": "s3:TestEvent",
            "Time": _event_time(),
            "Bucket": bucket.name,
            "RequestId": ctx.request_id,
            "HostId": _host_id(ctx.request_id),
        },
        separators=(",", ":"),
    )
    queues = dict.fromkeys(entry["QueueArn"] for entry in conf.get("QueueConfigurations") or [])
    for arn in queues:
        await _publish({"QueueArn": arn, "MessageBody": body, "EventId": f"s3-test-{ctx.request_id}-{arn}"})


async def object_event(
    ctx: RequestContext,
    event_name: str,
    bucket: str,
    key: str,
    size: int | None,
    etag: str | None,
    version_id: str | None = None,
    sequencer: str | None = None,
) -> None:
    """Publish ``event_name`` (``s3:ObjectCreated:Put``, ``ObjectRemoved:Delete`` ...) for an object
    that was just written or deleted, to every queue and function whose configuration matches it.

    Call after the change committed. ``size`` and ``etag`` (hex, quoted or not) are left out of
    removal events; ``version_id`` for versioned buckets. Never raises for delivery trouble.
    """
    store: S3Store = ctx.state
    found = store.bucket(bucket)
    conf = bucket_config(ctx, found, "notification") if found is not None else None
    if not conf or not (conf.get("QueueConfigurations") or conf.get("LambdaFunctionConfigurations")):
        return
    name = event_name.removeprefix("s3:")
    sequencer = sequencer or _next_sequencer()
    for member in ("QueueConfigurations", "LambdaFunctionConfigurations"):
        for entry in conf.get(member) or []:
            if not _matches(entry, "s3:" + name, key):
                continue
            record = _record(ctx, found, name, entry["Id"], key, size, etag, version_id, sequencer)
            body = json.dumps({"Records": [record]}, separators=(",", ":"))
            if member == "LambdaFunctionConfigurations":
                await _publish({"FunctionArn": entry["LambdaFunctionArn"], "Payload": body}, LAMBDA_TOPIC)
                continue
            event_id = hashlib.sha256(
                "\0".join((ctx.request_id, bucket, key, name, sequencer, entry["QueueArn"])).encode()
            ).hexdigest()
            await _publish({"QueueArn": entry["QueueArn"], "MessageBody": body, "EventId": event_id})


def _matches(entry: dict[str, Any], event: str, key: str) -> bool:
    prefix, suffix = _filter_rules(entry)
    return (
        any(_covers(pattern, event) for pattern in entry["Events"])
        and key.startswith(prefix)
        and key.endswith(suffix)
    )


def _record(
    ctx: RequestContext,
    bucket: Bucket,
    name: str,
    config_id: str,
    key: str,
    size: int | None,
    etag: str | None,
    version_id: str | None,
    sequencer: str,
) -> dict[str, Any]:
    """One record of AWS's event notification structure (eventVersion 2.1)."""
    obj: dict[str, Any] = {"key": encode_key(key)}
    if not name.startswith(("ObjectRemoved", "LifecycleExpiration")):
        obj["size"] = size or 0
        obj["eTag"] = (etag or "").strip('"')
    if version_id:
        obj["versionId"] = version_id
    obj["sequencer"] = sequencer
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": bucket.region,
        "eventTime": _event_time(),
        "eventName": name,
        "userIdentity": {"principalId": _principal(ctx)},
        "requestParameters": {"sourceIPAddress": _source_ip(ctx)},
        "responseElements": {"x-amz-request-id": ctx.request_id, "x-amz-id-2": _host_id(ctx.request_id)},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": config_id,
            "bucket": {
                "name": bucket.name,
                "ownerIdentity": {"principalId": owner_principal(bucket.account)},
                "arn": f"arn:aws:s3:::{bucket.name}",
            },
            "object": obj,
        },
    }


def encode_key(key: str) -> str:
    """Keys in event records are form-encoded as S3 writes them (``a b/c=d`` -> ``a+b/c%3Dd``)."""
    return quote_plus(key, safe="/")


def owner_principal(account: str) -> str:
    """A stable short principal id for an account (AWS shows an opaque id such as A3NL1KOZZKExample)."""
    return "A" + hashlib.sha256(f"flotilla:{account}".encode()).hexdigest()[:13].upper()


def _principal(ctx: RequestContext) -> str:
    """The caller's access key; S3's own principal for events no request caused (lifecycle)."""
    if ctx.extra.get("principal"):
        return ctx.extra["principal"]
    return f"AWS:{ctx.access_key}" if ctx.access_key else "Anonymous"


def _source_ip(ctx: RequestContext) -> str:
    forwarded = ctx.request.headers.get("x-forwarded-for") if ctx.request is not None else None
    return (forwarded or "127.0.0.1").split(",")[0].strip()


def _host_id(request_id: str) -> str:
    return hashlib.sha256(request_id.encode()).hexdigest()


def _event_time() -> str:
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


_last_sequencer = 0


def _next_sequencer() -> str:
    """Hex, strictly increasing within the process (S3's sequencers order events of one key)."""
    global _last_sequencer
    _last_sequencer = max(_last_sequencer + 1, time.time_ns())
    return f"{_last_sequencer:018X}"


# -- the bus and the registry, one connection per process (and event loop) --------------------


class _Connection:
    """A Bus and a Registry sharing one Redis client, bound to the event loop that made them."""

    def __init__(self, redis_url: str) -> None:
        self.loop = asyncio.get_running_loop()
        self.bus = Bus(redis_url)
        self.registry = Registry(self.bus.redis)


_current: dict[str, Any] = {"url": None, "connection": None, "outbox": None}


def use_redis(redis_url: str | None) -> None:
    """Point notifications at this Redis (default: ``FLOTILLA_REDIS_URL``, as the service's Settings)."""
    _current["url"] = redis_url
    _current["connection"] = None


def _connection() -> _Connection:
    conn: _Connection | None = _current["connection"]
    if conn is None or conn.loop is not asyncio.get_running_loop():
        conn = _Connection(_current["url"] or Settings.from_env("s3").redis_url)
        _current["connection"] = conn
    return conn


async def close() -> None:
    """Close this process's connection (tests; the service keeps it for its lifetime)."""
    conn: _Connection | None = _current["connection"]
    _current["connection"] = None
    if conn is not None and conn.loop is asyncio.get_running_loop():
        await conn.bus.close()


def use_outbox(outbox: Outbox | None) -> None:
    """Where events the bus refuses wait to be published again (services/s3/outbox.py)."""
    _current["outbox"] = outbox


async def publish(topic: str, event: dict[str, Any]) -> None:
    """Publish on the bus now; raises when Redis cannot be reached (the outbox drains with this)."""
    await _connection().bus.publish(topic, event)


async def _publish(event: dict[str, Any], topic: str = TOPIC) -> None:
    try:
        await publish(topic, event)
    except Exception:
        target = event.get("QueueArn") or event.get("FunctionArn")
        outbox: Outbox | None = _current["outbox"]
        if outbox is None:
            log.exception("s3: could not publish a notification for %s", target)
            return
        outbox.add(topic, event)
        log.warning("s3: the bus is away; the notification for %s waits in the outbox", target)
