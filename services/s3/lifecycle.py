"""The lifecycle sweep: bucket lifecycle configurations, really applied.

A background task (started and stopped with the S3 state) runs :func:`sweep_once` every
``FLOTILLA_S3_LIFECYCLE_INTERVAL`` seconds (default 60), on a clock that may run
``FLOTILLA_S3_LIFECYCLE_CLOCK_OFFSET`` seconds ahead (tests). One sweep applies, for every enabled
rule of every bucket with a lifecycle configuration:

* ``Expiration`` with ``Days``: an object expires at the first midnight UTC at or after
  ``last_modified + Days`` (S3 rounds up to the next midnight: an object written on 15 January at
  10:30 with ``Days: 1`` expires at 00:00 on 17 January); with ``Date``: every object the rule
  filters expires once that date is reached. In a bucket that was never versioned the object is
  deleted; in a versioned one it gets a delete marker (a ``null`` one when versioning is
  suspended, which replaces the ``null`` version), as a DeleteObject without a version id would;
* expired object delete markers (a marker that is the key's only version) are removed with
  ``ExpiredObjectDeleteMarker: true``, or by a ``Days`` rule once the marker is that old;
* ``NoncurrentVersionExpiration``: a noncurrent version (or delete marker) is removed
  ``NoncurrentDays`` after it became noncurrent (the next newer version's time, same rounding),
  unless it is one of the ``NewerNoncurrentVersions`` newest noncurrent versions;
* ``AbortIncompleteMultipartUpload``: an upload initiated ``DaysAfterInitiation`` days ago (the
  same rounding) is aborted.

The rule's filter picks the objects: ``Prefix`` (also the legacy rule-level ``Prefix``), ``Tag``,
``ObjectSizeGreaterThan``/``ObjectSizeLessThan`` (strict) and an ``And`` of them; a delete marker
has no tags and size 0. Uploads have no tags or size yet, so only a rule whose filter is a prefix at
most aborts them, as S3 requires.

Each removal is announced, after the sweep, as S3's ``s3:LifecycleExpiration:Delete`` (an object,
version or delete marker deleted) or ``s3:LifecycleExpiration:DeleteMarkerCreated`` (an expired
current version of a versioned bucket), to the bucket's notification destinations.

Not applied: transitions (there is one storage tier: ``Transitions`` and
``NoncurrentVersionTransitions`` are stored and returned, the storage class stays).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from shared import tasks
from shared.context import RequestContext
from shared.settings import Settings

from . import bucket_config, notifications
from .storage import ObjectMeta, S3Store, Upload

log = logging.getLogger("flotilla.s3.lifecycle")

DEFAULT_INTERVAL = 60.0
YIELD_EVERY = 500  # objects examined between two yields to the event loop


@dataclass
class SweepResult:
    """What one sweep did: expired current versions ``(bucket, key)`` (deleted, or given a delete
    marker in a versioned bucket), removed versions and delete markers ``(bucket, key, version)``,
    and aborted upload ids."""

    expired: list[tuple[str, str]] = field(default_factory=list)
    removed: list[tuple[str, str, str]] = field(default_factory=list)
    aborted: list[str] = field(default_factory=list)
    events: list[Expiry] = field(default_factory=list)


@dataclass(frozen=True)
class Expiry:
    """One removal to announce: the event name, the object and the version id it names (None in
    a bucket that was never versioned)."""

    event: str
    bucket: str
    key: str
    version_id: str | None = None


DELETED = "s3:LifecycleExpiration:Delete"
MARKER_CREATED = "s3:LifecycleExpiration:DeleteMarkerCreated"
LIFECYCLE_PRINCIPAL = "s3.amazonaws.com"  # the userIdentity of lifecycle events, as in S3's records


def clock(settings: Settings) -> Callable[[], datetime]:
    """The sweep's clock: now, plus ``FLOTILLA_S3_LIFECYCLE_CLOCK_OFFSET`` seconds (a testing knob:
    a fleet that runs days ahead expires objects written a moment ago)."""
    try:
        offset = timedelta(seconds=float(settings.extra.get("lifecycle_clock_offset", 0)))
    except ValueError:
        offset = timedelta()
    return lambda: datetime.now(UTC) + offset


def interval(settings: Settings) -> float:
    """Seconds between sweeps, from ``FLOTILLA_S3_LIFECYCLE_INTERVAL``."""
    try:
        value = float(settings.extra.get("lifecycle_interval", DEFAULT_INTERVAL))
    except ValueError:
        return DEFAULT_INTERVAL
    return value if value > 0 else DEFAULT_INTERVAL


# -- when ------------------------------------------------------------------------------------------


def due(start: datetime, days: int) -> datetime:
    """``start + days``, rounded up to midnight UTC (S3's rule for Days-based actions)."""
    moment = start.astimezone(UTC) + timedelta(days=days)
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight if midnight == moment else midnight + timedelta(days=1)


def _expired(expiration: Mapping[str, Any], meta: ObjectMeta, now: datetime) -> bool:
    if "Days" in expiration:
        return now >= due(meta.last_modified, int(expiration["Days"]))
    if "Date" in expiration:
        date = expiration["Date"]
        return now >= (date if date.tzinfo else date.replace(tzinfo=UTC))
    return False


# -- which objects -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filter:
    """A rule's filter, flattened: the ``And`` form and the single-condition forms alike."""

    prefix: str = ""
    tags: tuple[tuple[str, str], ...] = ()
    greater_than: int | None = None
    less_than: int | None = None

    @classmethod
    def of(cls, rule: Mapping[str, Any]) -> Filter:
        spec = rule.get("Filter")
        if spec is None:
            return cls(prefix=rule.get("Prefix") or "")
        spec = spec.get("And", spec)
        tags = [*spec.get("Tags", ()), *([spec["Tag"]] if "Tag" in spec else [])]
        return cls(
            prefix=spec.get("Prefix") or "",
            tags=tuple((t["Key"], t["Value"]) for t in tags),
            greater_than=spec.get("ObjectSizeGreaterThan"),
            less_than=spec.get("ObjectSizeLessThan"),
        )

    def matches(self, meta: ObjectMeta) -> bool:
        if not meta.key.startswith(self.prefix):
            return False
        if any(meta.tags.get(key) != value for key, value in self.tags):
            return False
        if self.greater_than is not None and not meta.size > self.greater_than:
            return False
        return self.less_than is None or meta.size < self.less_than

    @property
    def prefix_only(self) -> bool:
        return not self.tags and self.greater_than is None and self.less_than is None


# -- one sweep -------------------------------------------------------------------------------------


async def sweep_once(
    store: S3Store,
    configs: Mapping[str, Mapping[str, Any]],
    now: datetime | None = None,
    versioning: Mapping[str, str | None] | None = None,
) -> SweepResult:
    """Apply the lifecycle configurations ``configs`` (bucket name -> ``{"Rules": [...]}``) at ``now``;
    ``versioning`` gives each bucket's versioning status (absent: never versioned).

    Yields to the event loop every few hundred keys, so a sweep over a big bucket does not stall
    requests; SQLite calls stay on the loop's thread, like every other store call.
    """
    now = now or datetime.now(UTC)
    result = SweepResult()
    for bucket, conf in configs.items():
        rules = [rule for rule in conf.get("Rules") or () if rule.get("Status") == "Enabled"]
        status = (versioning or {}).get(bucket)
        if status is None:
            await _expire_unversioned(store, bucket, rules, now, result)
        else:
            await _expire_versions(store, bucket, rules, now, status, result)
        for rule in rules:
            if rule.get("AbortIncompleteMultipartUpload"):
                _abort(store, bucket, rule, now, result)
    return result


async def _expire_unversioned(
    store: S3Store, bucket: str, rules: list[Mapping[str, Any]], now: datetime, result: SweepResult
) -> None:
    """A bucket that was never versioned: an expired object is deleted (one cheap pass per rule)."""
    for rule in rules:
        if not rule.get("Expiration"):
            continue
        spec = Filter.of(rule)
        # keys() reads in batches and resumes after the last key it gave, so deleting as we go is safe
        for count, meta in enumerate(store.keys(bucket, spec.prefix), 1):
            if (
                spec.matches(meta)
                and _expired(rule["Expiration"], meta, now)
                and store.delete_object(bucket, meta.key)
            ):
                result.expired.append((bucket, meta.key))
                result.events.append(Expiry(DELETED, bucket, meta.key))
            if count % YIELD_EVERY == 0:
                await asyncio.sleep(0)


async def _expire_versions(
    store: S3Store,
    bucket: str,
    rules: list[Mapping[str, Any]],
    now: datetime,
    status: str,
    result: SweepResult,
) -> None:
    """A versioned (or suspended) bucket, key by key: every rule sees the key's versions as the
    rules before it left them."""
    acting = [rule for rule in rules if rule.get("Expiration") or rule.get("NoncurrentVersionExpiration")]
    if not acting:
        return
    prefix = _common_prefix([Filter.of(rule).prefix for rule in acting])
    for count, key in enumerate(store.version_keys(bucket, prefix), 1):
        for rule in acting:
            spec = Filter.of(rule)
            if key.startswith(spec.prefix):
                _apply_versioned(store, bucket, key, rule, spec, now, status, result)
        if count % YIELD_EVERY == 0:
            await asyncio.sleep(0)


def _apply_versioned(
    store: S3Store,
    bucket: str,
    key: str,
    rule: Mapping[str, Any],
    spec: Filter,
    now: datetime,
    status: str,
    result: SweepResult,
) -> None:
    expiration = rule.get("Expiration") or {}
    versions = store.key_versions(bucket, key)
    latest = versions[0] if versions else None
    if latest is None:
        return
    if not latest.delete_marker and spec.matches(latest) and _expired(expiration, latest, now):
        marker = store.delete_object(bucket, key, versioning=status)  # a delete marker: the data stays
        result.expired.append((bucket, key))
        result.events.append(Expiry(MARKER_CREATED, bucket, key, marker.version_id if marker else None))
        versions = store.key_versions(bucket, key)
    elif latest.delete_marker and len(versions) == 1 and _marker_expired(expiration, latest, now):
        store.delete_object(bucket, key, latest.version_id)
        result.removed.append((bucket, key, latest.version_id))
        result.events.append(Expiry(DELETED, bucket, key, latest.version_id))
        return
    noncurrent = rule.get("NoncurrentVersionExpiration")
    if noncurrent:
        for version in _noncurrent_expired(noncurrent, versions, spec, now):
            store.delete_object(bucket, key, version.version_id)
            result.removed.append((bucket, key, version.version_id))
            result.events.append(Expiry(DELETED, bucket, key, version.version_id))


def _marker_expired(expiration: Mapping[str, Any], marker: ObjectMeta, now: datetime) -> bool:
    """An expired object delete marker (the key's only version) goes with ``ExpiredObjectDeleteMarker``
    at once, or with ``Days`` once it is that old (S3 cleans them up with the Days action)."""
    if expiration.get("ExpiredObjectDeleteMarker"):
        return True
    return "Days" in expiration and now >= due(marker.last_modified, int(expiration["Days"]))


def _noncurrent_expired(
    spec: Mapping[str, Any], versions: list[ObjectMeta], rule_filter: Filter, now: datetime
) -> list[ObjectMeta]:
    """Noncurrent versions (and markers) ``NoncurrentDays`` after they became noncurrent (when the
    next newer version was written), beyond the ``NewerNoncurrentVersions`` newest ones kept."""
    days = int(spec.get("NoncurrentDays") or 0)
    keep = int(spec.get("NewerNoncurrentVersions") or 0)
    doomed = []
    for index in range(1, len(versions)):
        version, successor = versions[index], versions[index - 1]
        newer_noncurrent = index - 1
        if newer_noncurrent < keep or not rule_filter.matches(version):
            continue
        if now >= due(successor.last_modified, days):
            doomed.append(version)
    return doomed


def _common_prefix(prefixes: list[str]) -> str:
    """The longest prefix every rule's prefix starts with (the keys worth visiting)."""
    first = min(prefixes, default="")
    last = max(prefixes, default="")
    size = 0
    while size < len(first) and first[size] == last[size]:
        size += 1
    return first[:size]


def _abort(store: S3Store, bucket: str, rule: Mapping[str, Any], now: datetime, result: SweepResult) -> None:
    spec = Filter.of(rule)
    if not spec.prefix_only:
        return
    days = int(rule["AbortIncompleteMultipartUpload"].get("DaysAfterInitiation", 0))
    stale: list[Upload] = [u for u in store.uploads(bucket, spec.prefix) if now >= due(u.initiated, days)]
    for upload in stale:
        if store.abort_upload(upload.id):
            result.aborted.append(upload.id)


# -- the configurations, and the background task -----------------------------------------------------


def lifecycle_configs(store: S3Store) -> dict[str, dict[str, Any]]:
    """Bucket name -> lifecycle configuration, for every live bucket that has one.

    The configuration store has no "every bucket with a kind" reader yet, so the bucket names
    come from its table directly; each value is then read through its ``get`` (which drops the
    rows of deleted buckets).
    """
    configs = bucket_config.configs(SimpleNamespace(state=store))  # type: ignore[arg-type]
    rows = configs._db.execute("SELECT bucket FROM configs WHERE kind = 'lifecycle'").fetchall()
    found: dict[str, dict[str, Any]] = {}
    for (name,) in rows:
        bucket = store.bucket(name)
        value = configs.get(bucket, "lifecycle") if bucket is not None else None
        if value and value is not bucket_config.MISSING:
            found[name] = value
    return found


def versioning_statuses(store: S3Store, names: Iterable[str]) -> dict[str, str | None]:
    """Each bucket's versioning status (None: never versioned)."""
    ctx = SimpleNamespace(state=store)
    found: dict[str, str | None] = {}
    for name in names:
        bucket = store.bucket(name)
        found[name] = bucket_config.versioning_status(ctx, bucket) if bucket is not None else None  # type: ignore[arg-type]
    return found


async def run(store: S3Store, every: float, now: Callable[[], datetime] | None = None) -> None:
    """Sweep every ``every`` seconds until cancelled; a failing sweep is logged and retried next time."""
    now = now or (lambda: datetime.now(UTC))
    while True:
        await asyncio.sleep(every)
        try:
            configs = lifecycle_configs(store)
            result = await sweep_once(store, configs, now(), versioning_statuses(store, configs))
            await announce(store, result.events)
        except Exception:
            log.exception("lifecycle sweep failed")
            continue
        if result.expired or result.removed or result.aborted:
            log.info(
                "lifecycle sweep",
                extra={
                    "expired": len(result.expired),
                    "removed": len(result.removed),
                    "aborted": len(result.aborted),
                },
            )


async def announce(store: S3Store, events: Iterable[Expiry]) -> None:
    """Publish a sweep's ``s3:LifecycleExpiration:*`` events (no request: a context of S3's own)."""
    ctx = RequestContext(
        service="s3",
        operation="LifecycleExpiration",
        request_id=uuid.uuid4().hex.upper()[:16],
        state=store,
        extra={"principal": LIFECYCLE_PRINCIPAL},
    )
    for expiry in events:
        await notifications.object_event(
            ctx, expiry.event, expiry.bucket, expiry.key, None, None, version_id=expiry.version_id
        )


def running(
    store: S3Store, every: float, now: Callable[[], datetime] | None = None
) -> AbstractAsyncContextManager[asyncio.Task[None]]:
    """The sweep as a task for the duration of the block (cancelled and awaited on exit)."""
    return tasks.running(run(store, every, now), "s3-lifecycle")
