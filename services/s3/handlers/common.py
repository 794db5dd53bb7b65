"""What every S3 handler needs: the store, the bucket or object a request names, the owner."""

from __future__ import annotations

import hashlib
from typing import Any

from shared.context import RequestContext

from .. import errors
from ..storage import Bucket, ObjectMeta, S3Store


def store(ctx: RequestContext) -> S3Store:
    return ctx.state


def bucket_of(ctx: RequestContext, name: str) -> Bucket:
    """The bucket ``name`` (raises NoSuchBucket)."""
    bucket = store(ctx).bucket(name)
    if bucket is None:
        raise errors.no_such_bucket(name)
    return bucket


def object_of(ctx: RequestContext, bucket: str, key: str) -> ObjectMeta:
    """The object ``bucket/key`` (raises NoSuchBucket, then NoSuchKey)."""
    meta = store(ctx).object(bucket, key)
    if meta is None:
        bucket_of(ctx, bucket)
        raise errors.no_such_key(key)
    return meta


def owner(account: str) -> dict[str, Any]:
    """A stable canonical user id (64 hex digits, as in AWS) and display name for an account."""
    return {
        "ID": hashlib.sha256(f"flotilla:{account}".encode()).hexdigest(),
        "DisplayName": f"flotilla-{account}",
    }


def quoted(etag: str) -> str:
    return f'"{etag}"'
