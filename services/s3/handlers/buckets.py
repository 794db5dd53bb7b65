"""Buckets: CreateBucket (optionally with Object Lock), ListBuckets, HeadBucket, DeleteBucket, bucket ACLs."""

from __future__ import annotations

from functools import cache
from typing import Any

import botocore.session

from shared.context import RequestContext
from shared.handlers import Handlers

from .. import bucket_config as bc
from .. import errors
from ..listing import decode_token, encode_token
from ..names import check_bucket_name
from .common import BUCKET_ACLS, acl_from_request, bucket_of, default_acl, owner, store
from .locking import enable as enable_object_lock

handles = Handlers("s3")

US_EAST_1 = "us-east-1"
_LEGACY_CONSTRAINTS = {"EU": "eu-west-1"}
MAX_BUCKETS = 10000
OWNERSHIPS = ("BucketOwnerPreferred", "ObjectWriter", "BucketOwnerEnforced")


@cache
def known_regions() -> frozenset[str]:
    """Every region S3 is in, in any partition (botocore's endpoint data)."""
    session = botocore.session.get_session()
    return frozenset(
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("s3", partition)
    )


def bucket_region(request_region: str, constraint: str | None) -> str:
    """Where a new bucket lives: its LocationConstraint, which must name the region of the
    endpoint, except that the us-east-1 (global) endpoint creates buckets in any region."""
    if constraint == US_EAST_1 or (
        constraint is not None and constraint not in _LEGACY_CONSTRAINTS and constraint not in known_regions()
    ):
        raise errors.invalid_location_constraint(constraint)
    region = _LEGACY_CONSTRAINTS.get(constraint or "", constraint) or US_EAST_1
    if request_region != US_EAST_1 and region != request_region:
        raise errors.illegal_location_constraint(constraint, request_region)
    return region


def location(name: str, region: str) -> str:
    return f"/{name}" if region == US_EAST_1 else f"http://{name}.s3.amazonaws.com/"


@handles("CreateBucket")
async def create_bucket(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    name = req["Bucket"]
    check_bucket_name(name)
    config = req.get("CreateBucketConfiguration") or {}
    region = bucket_region(ctx.region, config.get("LocationConstraint"))
    ownership = object_ownership(req.get("ObjectOwnership"))
    acl = acl_from_request(req, ctx.account_id, BUCKET_ACLS)
    bucket, created = store(ctx).create_bucket(name, ctx.account_id, region, acl)
    if not created:
        if bucket.account != ctx.account_id:
            raise errors.bucket_already_exists(name)
        # us-east-1 answers 200 to its owner creating the bucket again (a legacy of the global endpoint)
        if not (region == US_EAST_1 and bucket.region == US_EAST_1):
            raise errors.bucket_already_owned_by_you(name)
    else:
        if ownership is not None:
            bc.configs(ctx).put(bucket, "ownership", {"Rules": [{"ObjectOwnership": ownership}]})
        if req.get("ObjectLockEnabledForBucket"):
            enable_object_lock(ctx, bucket)
    return {"Location": location(name, bucket.region), "BucketArn": f"arn:aws:s3:::{name}"}


def object_ownership(value: str | None) -> str | None:
    """``x-amz-object-ownership`` (None: the default, BucketOwnerEnforced, applies)."""
    if value is not None and value not in OWNERSHIPS:
        raise errors.invalid_argument(
            f"Invalid x-amz-object-ownership header: {value}", "x-amz-object-ownership", value
        )
    return value


@handles("ListBuckets")
async def list_buckets(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    limit = req.get("MaxBuckets")
    if limit is not None and not 1 <= limit <= MAX_BUCKETS:
        raise errors.invalid_argument(
            "Argument max-buckets must be an integer between 1 and 10000", "max-buckets", str(limit)
        )
    after = decode_token(req["ContinuationToken"]) if req.get("ContinuationToken") else ""
    prefix = req.get("Prefix") or ""
    buckets = [
        b
        for b in store(ctx).buckets(ctx.account_id, prefix=prefix, after=after)
        if not req.get("BucketRegion") or b.region == req["BucketRegion"]
    ]
    page = buckets[: limit or MAX_BUCKETS]
    out: dict[str, Any] = {
        "Buckets": [{"Name": b.name, "CreationDate": b.created, "BucketRegion": b.region} for b in page],
        "Owner": owner(ctx.account_id),
    }
    if len(buckets) > len(page):
        out["ContinuationToken"] = encode_token(page[-1].name)
    if req.get("Prefix") is not None:
        out["Prefix"] = prefix
    return out


@handles("HeadBucket")
async def head_bucket(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    bucket = bucket_of(ctx, req["Bucket"])
    return {"BucketRegion": bucket.region, "AccessPointAlias": False}


@handles("DeleteBucket")
async def delete_bucket(ctx: RequestContext, req: dict[str, Any]) -> None:
    store(ctx).delete_bucket(req["Bucket"])


@handles("PutBucketAcl")
async def put_bucket_acl(ctx: RequestContext, req: dict[str, Any]) -> None:
    bucket = bucket_of(ctx, req["Bucket"])
    # the bucket's owner stays its owner, whoever (with WRITE_ACP) sets the ACL
    store(ctx).set_bucket_acl(bucket.name, acl_from_request(req, bucket.account, BUCKET_ACLS, required=True))


@handles("GetBucketAcl")
async def get_bucket_acl(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    bucket = bucket_of(ctx, req["Bucket"])
    return bucket.acl or default_acl(bucket.account)
