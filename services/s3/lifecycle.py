"""The lifecycle sweep: expiration rules of bucket lifecycle configurations, really applied.

A background task (started and stopped with the S3 state) runs :func:`sweep_once` every
``FLOTILLA_S3_LIFECYCLE_INTERVAL`` seconds (default 60). One sweep applies, for every enabled
rule of every bucket with a lifecycle configuration:

* ``Expiration`` with ``Days``: an object expires at the first midnight UTC at or after
  ``last_modified + Days`` (S3 rounds up to the next midnight: an object written on 15 January at
  10:30 with ``Days: 1`` expires at 00:00 on 17 January);
* ``Expiration`` with ``Date``: every object the rule filters expires once that date is reached;
* ``AbortIncompleteMultipartUpload``: an upload initiated ``DaysAfterInitiation`` days ago (the
  same rounding) is aborted.

The rule's filter picks the objects: ``Prefix`` (also the legacy rule-level ``Prefix``), ``Tag``,
``ObjectSizeGreaterThan``/``ObjectSizeLessThan`` (strict) and an ``And`` of them. Uploads have no
tags or size yet, so only a rule whose filter is a prefix at most aborts them, as S3 requires.

Not applied: transitions (there is one storage tier), noncurrent-version actions and
``ExpiredObjectDeleteMarker`` (they need versioning); expirations publish no
``s3:LifecycleExpiration:*`` events yet. An expiration is ``S3Store.delete_object``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from shared import tasks
from shared.settings import Settings

from . import bucket_config
from .storage import ObjectMeta, S3Store, Upload

log = logging.getLogger("flotilla.s3.lifecycle")

DEFAULT_INTERVAL = 60.0
YIELD_EVERY = 500  # objects examined between two yields to the event loop


@dataclass
class SweepResult:
    """What one sweep did: expired ``(bucket, key)`` pairs and aborted upload ids."""

    expired: list[tuple[str, str]] = field(default_factory=list)
    aborted: list[str] = field(default_factory=list)


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
    store: S3Store, configs: Mapping[str, Mapping[str, Any]], now: datetime | None = None
) -> SweepResult:
    """Apply the lifecycle configurations ``configs`` (bucket name -> ``{"Rules": [...]}``) at ``now``.

    Yields to the event loop every few hundred objects, so a sweep over a big bucket does not
    stall requests; SQLite calls stay on the loop's thread, like every other store call.
    """
    now = now or datetime.now(UTC)
    result = SweepResult()
    for bucket, conf in configs.items():
        for rule in conf.get("Rules") or ():
            if rule.get("Status") != "Enabled":
                continue
            if rule.get("Expiration"):
                await _expire(store, bucket, rule, now, result)
            if rule.get("AbortIncompleteMultipartUpload"):
                _abort(store, bucket, rule, now, result)
    return result


async def _expire(
    store: S3Store, bucket: str, rule: Mapping[str, Any], now: datetime, result: SweepResult
) -> None:
    spec = Filter.of(rule)
    expiration = rule["Expiration"]
    # keys() reads in batches and resumes after the last key it gave, so deleting as we go is safe
    for count, meta in enumerate(store.keys(bucket, spec.prefix), 1):
        if spec.matches(meta) and _expired(expiration, meta, now) and store.delete_object(bucket, meta.key):
            result.expired.append((bucket, meta.key))
        if count % YIELD_EVERY == 0:
            await asyncio.sleep(0)


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


async def run(store: S3Store, every: float) -> None:
    """Sweep every ``every`` seconds until cancelled; a failing sweep is logged and retried next time."""
    while True:
        await asyncio.sleep(every)
        try:
            result = await sweep_once(store, lifecycle_configs(store))
        except Exception:
            log.exception("lifecycle sweep failed")
            continue
        if result.expired or result.aborted:
            log.info(
                "lifecycle sweep", extra={"expired": len(result.expired), "aborted": len(result.aborted)}
            )


def running(store: S3Store, every: float) -> AbstractAsyncContextManager[asyncio.Task[None]]:
    """The sweep as a task for the duration of the block (cancelled and awaited on exit)."""
    return tasks.running(run(store, every), "s3-lifecycle")
