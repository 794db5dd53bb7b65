"""Object Lock: the bucket's lock configuration (default retention), and each version's retention
and legal hold; the rules that keep a locked version from being deleted.

The bucket's configuration is stored with the other bucket configurations (kind
``object-lock``); a version's retention (``{"Mode", "RetainUntilDate"}``) and legal hold
(``"ON"``/``"OFF"``) live in its ``extra``, so they follow the version, not the key.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shared.context import RequestContext
from shared.handlers import Handlers

from .. import bucket_config as bc
from .. import errors
from ..storage import Bucket, ObjectMeta
from .common import bucket_of, object_of, store, versioning_of

handles = Handlers("s3")

KIND = "object-lock"
MODES = ("GOVERNANCE", "COMPLIANCE")
ENABLED = {"ObjectLockEnabled": "Enabled"}


def lock_config(ctx: RequestContext, bucket: Bucket) -> dict[str, Any] | None:
    """The bucket's Object Lock configuration, None when the bucket has no Object Lock."""
    return bc.bucket_config(ctx, bucket, KIND)


def enable(ctx: RequestContext, bucket: Bucket) -> None:
    """CreateBucket with ``x-amz-bucket-object-lock-enabled``: lock on, versioning Enabled."""
    bc.configs(ctx).put(bucket, KIND, ENABLED)
    bc.configs(ctx).put(bucket, "versioning", {"Status": "Enabled"})


def _owned(ctx: RequestContext, name: str) -> Bucket:
    bucket = bucket_of(ctx, name)
    if bucket.account != ctx.account_id:
        raise errors.access_denied()
    return bucket


def _locked_bucket(ctx: RequestContext, name: str) -> Bucket:
    bucket = _owned(ctx, name)
    if lock_config(ctx, bucket) is None:
        raise errors.no_object_lock()
    return bucket


# -- rules -------------------------------------------------------------------------------------


def _until(retention: dict[str, Any] | None) -> datetime | None:
    value = (retention or {}).get("RetainUntilDate")
    return datetime.fromisoformat(value) if value else None


def _retention(mode: Any, until: Any) -> dict[str, Any]:
    """A retention as stored, checked: a known mode and a date in the future."""
    if mode not in MODES or not isinstance(until, datetime):
        raise errors.malformed_xml()
    until = until if until.tzinfo else until.replace(tzinfo=UTC)
    if until <= datetime.now(UTC):
        raise errors.invalid_argument(
            "The retain until date must be in the future!", "RetainUntilDate", str(until)
        )
    return {"Mode": mode, "RetainUntilDate": until.isoformat()}


def _default_retention(rule: dict[str, Any] | None) -> dict[str, Any] | None:
    default = (rule or {}).get("DefaultRetention")
    if not default:
        return None
    days = default.get("Days") or 365 * (default.get("Years") or 0)
    until = datetime.now(UTC) + timedelta(days=days)
    return {"Mode": default["Mode"], "RetainUntilDate": until.isoformat()}


def lock_for_write(ctx: RequestContext, bucket: Bucket, req: dict[str, Any]) -> dict[str, Any]:
    """The lock entries of a new version's ``extra``: the request's ``x-amz-object-lock-*``
    headers, else the bucket's default retention (nothing for a bucket without Object Lock)."""
    mode, until, hold = (
        req.get("ObjectLockMode"),
        req.get("ObjectLockRetainUntilDate"),
        req.get("ObjectLockLegalHoldStatus"),
    )
    config = lock_config(ctx, bucket) if (mode or until or hold) else None
    if (mode or until or hold) and config is None:
        raise errors.no_object_lock()
    if bool(mode) != bool(until):
        raise errors.invalid_argument(
            "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied",
            "x-amz-object-lock-mode" if until else "x-amz-object-lock-retain-until-date",
            "null",
        )
    out: dict[str, Any] = {}
    if hold:
        if hold not in ("ON", "OFF"):
            raise errors.invalid_argument(
                "Legal Hold must be either of 'ON' or 'OFF'", "x-amz-object-lock-legal-hold", hold
            )
        out["legal_hold"] = hold
    if mode:
        if mode not in MODES:
            raise errors.invalid_argument("Unknown wormMode directive.", "x-amz-object-lock-mode", mode)
        out["retention"] = _retention(mode, until)
        return out
    config = config or lock_config(ctx, bucket)
    default = _default_retention((config or {}).get("Rule"))
    if default is not None:
        out["retention"] = default
    return out


def check_delete(meta: ObjectMeta, bypass_governance: bool) -> None:
    """A version under legal hold, or retained (COMPLIANCE; GOVERNANCE without the bypass), stays."""
    if meta.extra.get("legal_hold") == "ON":
        raise errors.locked_version()
    retention = meta.extra.get("retention")
    until = _until(retention)
    if until is None or until <= datetime.now(UTC):
        return
    if retention["Mode"] == "COMPLIANCE" or not bypass_governance:
        raise errors.locked_version()


def lock_headers(meta: ObjectMeta) -> dict[str, Any]:
    """The ``x-amz-object-lock-*`` members GetObject and HeadObject answer."""
    out: dict[str, Any] = {}
    retention = meta.extra.get("retention")
    if retention:
        out["ObjectLockMode"] = retention["Mode"]
        out["ObjectLockRetainUntilDate"] = _until(retention)
    if meta.extra.get("legal_hold"):
        out["ObjectLockLegalHoldStatus"] = meta.extra["legal_hold"]
    return out


def _update(ctx: RequestContext, meta: ObjectMeta, extra: dict[str, Any]) -> None:
    if store(ctx).update_object(meta, extra=extra) is None:
        raise errors.no_such_version(meta.key, meta.version_id)


# -- bucket configuration ------------------------------------------------------------------------


@handles("PutObjectLockConfiguration")
async def put_object_lock_configuration(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    """Turns Object Lock on for a versioned bucket, or changes its default retention."""
    bucket = _owned(ctx, req["Bucket"])
    conf = req.get("ObjectLockConfiguration") or {}
    if conf.get("ObjectLockEnabled") != "Enabled":
        raise errors.malformed_xml()
    rule = conf.get("Rule")
    if rule is not None:
        default = rule.get("DefaultRetention") or {}
        days, years = default.get("Days"), default.get("Years")
        if default.get("Mode") not in MODES or (days is None) == (years is None):
            raise errors.malformed_xml()
        if (days if days is not None else years) <= 0:
            raise errors.invalid_argument(
                "Default retention period must be a positive integer value",
                "Days" if days else "Years",
                str(days or years),
            )
    if lock_config(ctx, bucket) is None and versioning_of(ctx, bucket) != "Enabled":
        raise errors.invalid_bucket_state(
            "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration"
        )
    bc.configs(ctx).put(bucket, KIND, conf)
    return {}


@handles("GetObjectLockConfiguration")
async def get_object_lock_configuration(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    bucket = _owned(ctx, req["Bucket"])
    config = lock_config(ctx, bucket)
    if config is None:
        raise errors.object_lock_config_not_found(bucket.name)
    return {"ObjectLockConfiguration": config}


# -- retention and legal hold of a version --------------------------------------------------------


@handles("PutObjectRetention")
async def put_object_retention(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    """COMPLIANCE retention can only be extended; GOVERNANCE retention can be shortened, removed
    or changed only with ``x-amz-bypass-governance-retention``."""
    bucket = _locked_bucket(ctx, req["Bucket"])
    meta = object_of(ctx, bucket.name, req["Key"], req.get("VersionId"))
    given = req.get("Retention") or {}
    new = _retention(given.get("Mode"), given.get("RetainUntilDate")) if given else None
    old = meta.extra.get("retention")
    old_until = _until(old)
    if old_until is not None and old_until > datetime.now(UTC):
        weaker = new is None or _until(new) < old_until or new["Mode"] != old["Mode"]
        if weaker and (old["Mode"] == "COMPLIANCE" or not req.get("BypassGovernanceRetention")):
            raise errors.locked_version()
    extra = {k: v for k, v in meta.extra.items() if k != "retention"}
    _update(ctx, meta, {**extra, "retention": new} if new else extra)
    return {}


@handles("GetObjectRetention")
async def get_object_retention(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    bucket = _locked_bucket(ctx, req["Bucket"])
    meta = object_of(ctx, bucket.name, req["Key"], req.get("VersionId"))
    retention = meta.extra.get("retention")
    if not retention:
        raise errors.no_such_object_lock_configuration()
    return {"Retention": {"Mode": retention["Mode"], "RetainUntilDate": _until(retention)}}


@handles("PutObjectLegalHold")
async def put_object_legal_hold(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    bucket = _locked_bucket(ctx, req["Bucket"])
    meta = object_of(ctx, bucket.name, req["Key"], req.get("VersionId"))
    status = (req.get("LegalHold") or {}).get("Status")
    if status not in ("ON", "OFF"):
        raise errors.malformed_xml()
    _update(ctx, meta, {**meta.extra, "legal_hold": status})
    return {}


@handles("GetObjectLegalHold")
async def get_object_legal_hold(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    bucket = _locked_bucket(ctx, req["Bucket"])
    meta = object_of(ctx, bucket.name, req["Key"], req.get("VersionId"))
    if not meta.extra.get("legal_hold"):
        raise errors.no_such_object_lock_configuration()
    return {"LegalHold": {"Status": meta.extra["legal_hold"]}}
