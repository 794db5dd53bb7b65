"""Bucket configuration: Get/Put/Delete of policy, CORS, lifecycle, encryption, tagging, website,
logging, notification, ownership controls, request payment, accelerate, replication, versioning,
public access block; GetBucketPolicyStatus and GetBucketLocation.

Most of these operations are the same three steps (find the bucket, check the document, store
it; read it back or answer the kind's NoSuch* error), so they are generated from one table of
``Kind`` rows instead of being written out forty times. Operations with more to do (notification,
lifecycle, replication, logging) have handlers of their own below the table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.context import RequestContext
from shared.handlers import Handler, Handlers

from .. import bucket_config as bc
from .. import errors, notifications
from ..access import GRANTED
from ..storage import Bucket
from .common import bucket_of, store

handles = Handlers("s3")

Check = Callable[[RequestContext, Bucket, Any], None]


@dataclass(frozen=True)
class Kind:
    """One configuration of a bucket and how its operations read and write it.

    ``member`` is the Put input member holding the document; ``wrap``: the Get output carries
    the document under that member (a payload output) rather than as its own members.
    ``missing`` is the (code, message) of the error for a bucket without it; without one, Get
    answers ``default``.
    """

    name: str
    member: str
    get: str
    put: str | None = None
    delete: str | None = None
    wrap: bool = False
    missing: tuple[str, str] | None = None
    default: Any = None
    check: Check | None = None


def _doc(check: Callable[[Any], None]) -> Check:
    return lambda _ctx, _bucket, value: check(value)


def _member(name: str, check: Callable[[Any], None]) -> Check:
    return lambda _ctx, _bucket, value: check(value[name])


# AWS encrypts every bucket with SSE-S3 unless told otherwise (since January 2023); DeleteBucketEncryption
# returns to that default. New buckets have ObjectOwnership BucketOwnerEnforced (since April 2023).
DEFAULT_ENCRYPTION = {
    "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]
}
DEFAULT_OWNERSHIP = {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}

KINDS = (
    Kind(
        "policy",
        "Policy",
        "GetBucketPolicy",
        None,  # PutBucketPolicy below (checks JSON)
        "DeleteBucketPolicy",
        wrap=True,
        missing=("NoSuchBucketPolicy", "The bucket policy does not exist"),
    ),
    Kind(
        "public-access-block",
        "PublicAccessBlockConfiguration",
        "GetPublicAccessBlock",
        "PutPublicAccessBlock",
        "DeletePublicAccessBlock",
        wrap=True,
        missing=(
            "NoSuchPublicAccessBlockConfiguration",
            "The public access block configuration was not found",
        ),
    ),
    Kind(
        "cors",
        "CORSConfiguration",
        "GetBucketCors",
        "PutBucketCors",
        "DeleteBucketCors",
        missing=("NoSuchCORSConfiguration", "The CORS configuration does not exist"),
        check=_member("CORSRules", bc.check_cors),
    ),
    Kind(
        "lifecycle",
        "LifecycleConfiguration",
        "GetBucketLifecycleConfiguration",
        None,  # PutBucketLifecycleConfiguration below (answers TransitionDefaultMinimumObjectSize)
        "DeleteBucketLifecycle",
        missing=("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist"),
    ),
    Kind(
        "encryption",
        "ServerSideEncryptionConfiguration",
        "GetBucketEncryption",
        "PutBucketEncryption",
        "DeleteBucketEncryption",
        wrap=True,
        default=DEFAULT_ENCRYPTION,
        check=_doc(bc.check_encryption),
    ),
    Kind(
        "tagging",
        "Tagging",
        "GetBucketTagging",
        "PutBucketTagging",
        "DeleteBucketTagging",
        missing=("NoSuchTagSet", "The TagSet does not exist"),
        check=_member("TagSet", bc.check_tags),
    ),
    Kind(
        "website",
        "WebsiteConfiguration",
        "GetBucketWebsite",
        "PutBucketWebsite",
        "DeleteBucketWebsite",
        missing=("NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration"),
        check=_doc(bc.check_website),
    ),
    Kind("logging", "BucketLoggingStatus", "GetBucketLogging", default={}),
    Kind(
        "ownership",
        "OwnershipControls",
        "GetBucketOwnershipControls",
        "PutBucketOwnershipControls",
        "DeleteBucketOwnershipControls",
        wrap=True,
        missing=("OwnershipControlsNotFoundError", "The bucket ownership controls were not found"),
        default=DEFAULT_OWNERSHIP,
        check=_doc(bc.check_ownership),
    ),
    Kind(
        "request-payment",
        "RequestPaymentConfiguration",
        "GetBucketRequestPayment",
        "PutBucketRequestPayment",
        default={"Payer": "BucketOwner"},
        check=_doc(bc.check_request_payment),
    ),
    Kind(
        "accelerate",
        "AccelerateConfiguration",
        "GetBucketAccelerateConfiguration",
        "PutBucketAccelerateConfiguration",
        default={},
        check=lambda _ctx, bucket, value: bc.check_accelerate(bucket, value),
    ),
    Kind(
        "replication",
        "ReplicationConfiguration",
        "GetBucketReplication",
        None,  # PutBucketReplication below (needs versioning)
        "DeleteBucketReplication",
        wrap=True,
        missing=("ReplicationConfigurationNotFoundError", "The replication configuration was not found"),
    ),
    Kind("notification", "NotificationConfiguration", "GetBucketNotificationConfiguration", default={}),
    Kind("versioning", "VersioningConfiguration", "GetBucketVersioning", default={}),
)
KIND = {kind.name: kind for kind in KINDS}


def owned_bucket(ctx: RequestContext, name: str) -> Bucket:
    """The bucket (NoSuchBucket); another account's bucket is AccessDenied, as S3 answers, unless
    the access hook found its bucket policy allowing the request (access.GRANTED)."""
    bucket = bucket_of(ctx, name)
    if bucket.account != ctx.account_id and not ctx.extra.get(GRANTED):
        raise bc.access_denied()
    return bucket


def read(ctx: RequestContext, bucket: Bucket, kind: Kind) -> Any:
    """The stored document, or the kind's default, or its NoSuch* error."""
    value = bc.configs(ctx).get(bucket, kind.name)
    if value is bc.MISSING and kind.default is not None:
        return kind.default
    if value is bc.MISSING or value is None:
        if kind.missing is None:
            return kind.default
        raise bc.not_found(*kind.missing, bucket.name)
    return value


def write(ctx: RequestContext, bucket: Bucket, kind: Kind, value: Any) -> None:
    if kind.check is not None:
        kind.check(ctx, bucket, value)
    bc.configs(ctx).put(bucket, kind.name, value)


def _getter(kind: Kind) -> Handler:
    async def get(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        value = read(ctx, owned_bucket(ctx, req["Bucket"]), kind)
        return {kind.member: value} if kind.wrap else dict(value)

    return get


def _putter(kind: Kind) -> Handler:
    async def put(ctx: RequestContext, req: dict[str, Any]) -> None:
        write(ctx, owned_bucket(ctx, req["Bucket"]), kind, req[kind.member])

    return put


def _deleter(kind: Kind) -> Handler:
    """Delete; a kind with a default S3 applies to new buckets keeps a tombstone (ownership
    controls are then really gone), except encryption, which returns to SSE-S3."""

    async def delete(ctx: RequestContext, req: dict[str, Any]) -> None:
        bucket = owned_bucket(ctx, req["Bucket"])
        if kind.default is not None and kind.missing is not None:
            bc.configs(ctx).put(bucket, kind.name, None)
        else:
            bc.configs(ctx).delete(bucket, kind.name)

    return delete


for _kind in KINDS:
    handles(_kind.get)(_getter(_kind))
    if _kind.put:
        handles(_kind.put)(_putter(_kind))
    if _kind.delete:
        handles(_kind.delete)(_deleter(_kind))


# -- operations with more to do ---------------------------------------------------------------


@handles("PutBucketPolicy")
async def put_bucket_policy(ctx: RequestContext, req: dict[str, Any]) -> None:
    bucket = owned_bucket(ctx, req["Bucket"])
    bc.check_policy(req["Policy"], bucket.name)
    bc.configs(ctx).put(bucket, "policy", req["Policy"])
    ctx.status = 204  # S3 answers No Content; the model names no status for it


@handles("GetBucketPolicyStatus")
async def get_bucket_policy_status(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    policy = read(ctx, owned_bucket(ctx, req["Bucket"]), KIND["policy"])
    return {"PolicyStatus": {"IsPublic": bc.policy_is_public(policy)}}


@handles("PutBucketLifecycleConfiguration")
async def put_bucket_lifecycle_configuration(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    """Rules are stored and returned; nothing expires or transitions objects yet."""
    bucket = owned_bucket(ctx, req["Bucket"])
    rules = (req.get("LifecycleConfiguration") or {}).get("Rules") or []
    bc.check_lifecycle(rules)
    size = req.get("TransitionDefaultMinimumObjectSize") or "all_storage_classes_128K"
    bc.configs(ctx).put(bucket, "lifecycle", {"Rules": rules, "TransitionDefaultMinimumObjectSize": size})
    return {"TransitionDefaultMinimumObjectSize": size}


@handles("PutBucketReplication")
async def put_bucket_replication(ctx: RequestContext, req: dict[str, Any]) -> None:
    bucket = owned_bucket(ctx, req["Bucket"])
    if bc.versioning_status(ctx, bucket) != "Enabled":
        raise bc.invalid_request(
            "Versioning must be 'Enabled' on the bucket to apply a replication configuration"
        )
    bc.configs(ctx).put(bucket, "replication", req["ReplicationConfiguration"])


@handles("PutBucketVersioning")
async def put_bucket_versioning(ctx: RequestContext, req: dict[str, Any]) -> None:
    """Stores Status (and MFADelete); a bucket never returns to unversioned, so an omitted
    Status keeps the current one. Versioned object behaviour is the object store's."""
    bucket = owned_bucket(ctx, req["Bucket"])
    given = req["VersioningConfiguration"]
    bc.check_versioning(given)
    if given.get("Status") == "Suspended" and bc.bucket_config(ctx, bucket, "object-lock"):
        raise errors.invalid_bucket_state(
            "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed."
        )
    current = bc.bucket_config(ctx, bucket, "versioning") or {}
    bc.configs(ctx).put(bucket, "versioning", {**current, **given})


@handles("PutBucketLogging")
async def put_bucket_logging(ctx: RequestContext, req: dict[str, Any]) -> None:
    """An empty BucketLoggingStatus turns logging off; the target must be the owner's bucket."""
    bucket = owned_bucket(ctx, req["Bucket"])
    status = req["BucketLoggingStatus"]
    enabled = status.get("LoggingEnabled")
    if enabled is not None:
        found = store(ctx).bucket(enabled["TargetBucket"])
        if found is None or found.account != bucket.account:
            raise bc.invalid_target_bucket(enabled["TargetBucket"], exists=found is not None)
    bc.configs(ctx).put(bucket, "logging", status)


@handles("PutBucketNotificationConfiguration")
async def put_bucket_notification_configuration(ctx: RequestContext, req: dict[str, Any]) -> None:
    """Checks events, filters and overlaps, then (unless skipped) that every destination exists;
    stores the configuration with generated Ids and sends each queue ``s3:TestEvent``."""
    bucket = owned_bucket(ctx, req["Bucket"])
    conf = notifications.check_config(req["NotificationConfiguration"])
    validate = not req.get("SkipDestinationValidation")
    if validate:
        await notifications.check_destinations(ctx, bucket, conf)
    bc.configs(ctx).put(bucket, "notification", conf)
    if validate:
        await notifications.send_test_events(ctx, bucket, conf)


@handles("GetBucketLocation")
async def get_bucket_location(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    """us-east-1 buckets have no location constraint (an empty element), others their region."""
    bucket = owned_bucket(ctx, req["Bucket"])
    return {} if bucket.region == "us-east-1" else {"LocationConstraint": bucket.region}
