"""Objects: Put/Get/Head/Delete, DeleteObjects, CopyObject, GetObjectAttributes, RestoreObject,
object tagging and object ACLs."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from shared.context import RequestContext
from shared.handlers import Handlers

from .. import conditions, errors
from ..checksums import MEMBERS
from ..names import check_key
from ..notifications import object_event
from ..ranges import byte_range
from ..storage import ObjectAttrs, ObjectMeta
from .common import (
    ARCHIVED,
    OBJECT_ACLS,
    acl_from_request,
    algorithms_of,
    body_chunks,
    bucket_of,
    check_copy_source,
    check_tags,
    copy_source,
    default_acl,
    object_of,
    quoted,
    storage_class,
    store,
    tag_set,
    tags_from_header,
    verifier,
)

handles = Handlers("s3")

DEFAULT_CONTENT_TYPE = "binary/octet-stream"
MAX_DELETE = 1000
MAX_COPY_SIZE = 5 * 1024**3  # larger objects are copied with UploadPartCopy
# Headers S3 stores with an object and sends back on reads (output member names).
STORED_HEADERS = (
    "CacheControl",
    "ContentDisposition",
    "ContentEncoding",
    "ContentLanguage",
    "WebsiteRedirectLocation",
)
# GetObject's response-* query overrides.
OVERRIDES = {
    "ResponseCacheControl": "CacheControl",
    "ResponseContentDisposition": "ContentDisposition",
    "ResponseContentEncoding": "ContentEncoding",
    "ResponseContentLanguage": "ContentLanguage",
    "ResponseContentType": "ContentType",
    "ResponseExpires": "Expires",
}
SELF_COPY = (
    "This copy request is illegal because it is trying to copy an object to itself without changing the "
    "object's metadata, storage class, website redirect location or encryption attributes."
)


def _content_encoding(value: str | None) -> str | None:
    """Content-Encoding without ``aws-chunked``, which describes the transfer, not the object."""
    if not value:
        return None
    kept = [v.strip() for v in value.split(",") if v.strip() and v.strip() != "aws-chunked"]
    return ",".join(kept) or None


def _headers(req: dict[str, Any]) -> dict[str, str]:
    headers = {name: req[name] for name in STORED_HEADERS if req.get(name)}
    encoding = _content_encoding(req.get("ContentEncoding"))
    headers.pop("ContentEncoding", None)
    if encoding:
        headers["ContentEncoding"] = encoding
    if isinstance(req.get("Expires"), datetime):
        headers["Expires"] = req["Expires"].isoformat()
    return headers


def object_attrs(ctx: RequestContext, req: dict[str, Any]) -> ObjectAttrs:
    """What a PutObject or CreateMultipartUpload request says about the object it writes."""
    return ObjectAttrs(
        content_type=req.get("ContentType"),
        metadata=dict(req.get("Metadata") or {}),
        headers=_headers(req),
        algorithms=algorithms_of(ctx, req),
        storage_class=storage_class(req),
        tags=tags_from_header(req.get("Tagging")),
        acl=acl_from_request(req, ctx.account_id, OBJECT_ACLS),
    )


@handles("PutObject")
async def put_object(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    bucket, key = req["Bucket"], req["Key"]
    check_key(key)
    bucket_of(ctx, bucket)
    if req.get("IfMatch") is not None or req.get("IfNoneMatch") is not None:
        current = store(ctx).object(bucket, key)
        conditions.check_write(req, current.etag if current else None)
    attrs = object_attrs(ctx, req)
    meta = await store(ctx).put_object(
        bucket, key, body_chunks(req.get("Body")), attrs, verify=verifier(ctx, req, attrs.algorithms)
    )
    await object_event(ctx, "s3:ObjectCreated:Put", bucket, key, meta.size, meta.etag)
    return {"ETag": quoted(meta.etag), **checksums_of(meta)}


def checksums_of(meta: ObjectMeta) -> dict[str, str]:
    return {**meta.checksums, "ChecksumType": meta.checksum_type} if meta.checksums else {}


def _http_date(value: datetime) -> str:
    return value.strftime("%a, %d %b %Y %H:%M:%S GMT")


def _restored_until(meta: ObjectMeta) -> datetime | None:
    restore = meta.extra.get("restore")
    return datetime.fromisoformat(restore) if restore else None


def check_readable(meta: ObjectMeta) -> None:
    """An archived object's bytes can be read only while a restored copy exists."""
    if meta.storage_class in ARCHIVED:
        until = _restored_until(meta)
        if until is None or until < datetime.now(UTC):
            raise errors.invalid_object_state(meta.storage_class)


def _describe(meta: ObjectMeta, req: dict[str, Any]) -> dict[str, Any]:
    """The headers GetObject and HeadObject send for an object (before any range)."""
    out: dict[str, Any] = {
        "AcceptRanges": "bytes",
        "LastModified": meta.last_modified,
        "ContentLength": meta.size,
        "ETag": quoted(meta.etag),
        "ContentType": meta.content_type or DEFAULT_CONTENT_TYPE,
        "Metadata": meta.metadata,
        **{k: v for k, v in meta.headers.items() if k != "Expires"},
    }
    if "Expires" in meta.headers:
        out["Expires"] = datetime.fromisoformat(meta.headers["Expires"])
    if meta.storage_class != "STANDARD":
        out["StorageClass"] = meta.storage_class
    until = _restored_until(meta)
    if until is not None:
        out["Restore"] = f'ongoing-request="false", expiry-date="{_http_date(until)}"'
    if req.get("ChecksumMode") == "ENABLED":
        out.update(checksums_of(meta))
    for param, member in OVERRIDES.items():
        if req.get(param) is not None:
            out[member] = req[param]
    return out


def _read(
    ctx: RequestContext, req: dict[str, Any]
) -> tuple[ObjectMeta, dict[str, Any], tuple[int, int] | None]:
    """The object, its response headers and the byte range asked for (a 206 when set)."""
    meta = object_of(ctx, req["Bucket"], req["Key"])
    conditions.check_read(req, meta.etag, meta.last_modified)
    out = _describe(meta, req)
    if req.get("PartNumber") is not None:
        if req.get("Range"):
            raise errors.invalid_request("Cannot specify both Range header and partNumber query parameter")
        span = _part_span(meta, req["PartNumber"], out)
    else:
        span = byte_range(req.get("Range"), meta.size)
    if span is not None:
        first, last = span
        out["ContentRange"] = f"bytes {first}-{last}/{meta.size}"
        out["ContentLength"] = last - first + 1
        ctx.status = 206  # Partial Content: the model has no status member for it
        for member in (*MEMBERS.values(), "ChecksumType"):
            out.pop(member, None)  # a full-object checksum does not describe a range
        if req.get("PartNumber") is not None and req.get("ChecksumMode") == "ENABLED":
            out.update(_part_checksums(meta, req["PartNumber"]))
    return meta, out, span


def _part_span(meta: ObjectMeta, number: int, out: dict[str, Any]) -> tuple[int, int] | None:
    """The bytes of part ``number`` of a multipart object (a single-part object has part 1)."""
    parts = meta.extra.get("parts") or [{"PartNumber": 1, "Size": meta.size}]
    if not 1 <= number <= len(parts):
        raise errors.invalid_part_number()
    if meta.extra.get("parts"):
        out["PartsCount"] = len(parts)
    if meta.size == 0:
        return None
    first = sum(p["Size"] for p in parts[: number - 1])
    return first, first + parts[number - 1]["Size"] - 1


def _part_checksums(meta: ObjectMeta, number: int) -> dict[str, str]:
    part = (meta.extra.get("parts") or [{}])[number - 1]
    return {k: v for k, v in part.items() if k.startswith("Checksum")}


@handles("GetObject")
async def get_object(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    meta, out, span = _read(ctx, req)
    check_readable(meta)
    first, last = span if span is not None else (0, None)
    if meta.tags:
        out["TagCount"] = len(meta.tags)
    out["Body"] = store(ctx).open_object(meta, first, last)
    return out


@handles("HeadObject")
async def head_object(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    return _read(ctx, req)[1]


@handles("DeleteObject")
async def delete_object(ctx: RequestContext, req: dict[str, Any]) -> None:
    bucket_of(ctx, req["Bucket"])
    if store(ctx).delete_object(req["Bucket"], req["Key"]):
        await object_event(ctx, "s3:ObjectRemoved:Delete", req["Bucket"], req["Key"], None, None)


def _delete_one(ctx: RequestContext, bucket: str, item: dict[str, Any]) -> dict[str, Any]:
    """Delete one key of a DeleteObjects request: its Deleted entry, or its Error entry (Code set)."""
    key, version = item.get("Key", ""), item.get("VersionId")
    if version not in (None, "null"):  # no versioning yet: only the "null" version exists
        return {
            "Key": key,
            "VersionId": version,
            "Code": "NoSuchVersion",
            "Message": "The specified version does not exist.",
        }
    gone = store(ctx).delete_object(bucket, key)
    return {"Key": key, "VersionId": version, "gone": gone} if version else {"Key": key, "gone": gone}


@handles("DeleteObjects")
async def delete_objects(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    bucket = bucket_of(ctx, req["Bucket"])
    spec = req.get("Delete") or {}
    items = spec.get("Objects") or []
    if not items or len(items) > MAX_DELETE:
        raise errors.malformed_xml()
    results = [_delete_one(ctx, bucket.name, item) for item in items]
    deleted = [r for r in results if "Code" not in r]
    for entry in deleted:
        if entry.pop("gone"):
            await object_event(ctx, "s3:ObjectRemoved:Delete", bucket.name, entry["Key"], None, None)
    failed = [r for r in results if "Code" in r]
    return {"Deleted": None if spec.get("Quiet") else deleted or None, "Errors": failed or None}


# -- copy ----------------------------------------------------------------------------------


def _directive(req: dict[str, Any], member: str) -> str:
    value = req.get(member) or "COPY"
    if value not in ("COPY", "REPLACE"):
        header = "x-amz-metadata-directive" if member == "MetadataDirective" else "x-amz-tagging-directive"
        raise errors.invalid_argument(f"Unknown {header.removeprefix('x-amz-')}.", header, value)
    return value


def _copy_attrs(ctx: RequestContext, req: dict[str, Any], source: ObjectMeta) -> ObjectAttrs:
    """The copy's attributes: the source's metadata and tags unless the directives say REPLACE;
    storage class and ACL from the request (STANDARD and private when absent, as in S3)."""
    replace = _directive(req, "MetadataDirective") == "REPLACE"
    algorithms = algorithms_of(ctx, req)
    if not algorithms and source.checksum_type == "FULL_OBJECT":
        algorithms = tuple(alg for alg, member in MEMBERS.items() if member in source.checksums)
    return ObjectAttrs(
        content_type=req.get("ContentType") if replace else source.content_type,
        metadata=dict(req.get("Metadata") or {}) if replace else dict(source.metadata),
        headers=_headers(req) if replace else dict(source.headers),
        algorithms=algorithms,
        storage_class=storage_class(req),
        tags=tags_from_header(req.get("Tagging"))
        if _directive(req, "TaggingDirective") == "REPLACE"
        else dict(source.tags),
        acl=acl_from_request(req, ctx.account_id, OBJECT_ACLS),
    )


def _copy_verifier(source: ObjectMeta, algorithms: tuple[str, ...]):
    """The copy's checksums: computed where we can, else the source's (same bytes, full-object)."""

    def verify(digests) -> dict[str, str]:
        out = {}
        for alg in algorithms:
            value = digests.checksum(alg) or source.checksums.get(MEMBERS[alg])
            if value and "-" not in value:
                out[MEMBERS[alg]] = value
        return out

    return verify


def _is_self_copy_without_change(req: dict[str, Any], same: bool) -> bool:
    changes = ("StorageClass", "WebsiteRedirectLocation", "ServerSideEncryption", "SSECustomerAlgorithm")
    return same and req.get("MetadataDirective") != "REPLACE" and not any(req.get(m) for m in changes)


@handles("CopyObject")
async def copy_object(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    bucket, key = req["Bucket"], req["Key"]
    check_key(key)
    bucket_of(ctx, bucket)
    src_bucket, src_key, _version = copy_source(req["CopySource"])  # version ids: no versioning yet
    source = object_of(ctx, src_bucket, src_key)
    check_copy_source(req, source)
    check_readable(source)
    if source.size > MAX_COPY_SIZE:
        raise errors.invalid_request(
            "The specified copy source is larger than the maximum allowable size for a copy source: "
            f"{MAX_COPY_SIZE}"
        )
    if _is_self_copy_without_change(req, (src_bucket, src_key) == (bucket, key)):
        raise errors.invalid_request(SELF_COPY)
    if req.get("IfMatch") is not None or req.get("IfNoneMatch") is not None:
        current = store(ctx).object(bucket, key)
        conditions.check_write(req, current.etag if current else None)
    attrs = _copy_attrs(ctx, req, source)
    body = body_chunks(store(ctx).open_object(source))
    meta = await store(ctx).put_object(bucket, key, body, attrs, _copy_verifier(source, attrs.algorithms))
    await object_event(ctx, "s3:ObjectCreated:Copy", bucket, key, meta.size, meta.etag)
    result = {"ETag": quoted(meta.etag), "LastModified": meta.last_modified, **checksums_of(meta)}
    return {"CopyObjectResult": result}


# -- attributes and restore ------------------------------------------------------------------

MAX_PARTS = 1000


def _object_parts(meta: ObjectMeta, req: dict[str, Any]) -> dict[str, Any]:
    parts = meta.extra.get("parts") or []
    marker = req.get("PartNumberMarker") or 0
    limit = req.get("MaxParts") or MAX_PARTS
    after = [p for p in parts if p["PartNumber"] > marker]
    page = after[:limit]
    out: dict[str, Any] = {
        "TotalPartsCount": len(parts),
        "PartNumberMarker": marker,
        "MaxParts": limit,
        "IsTruncated": len(after) > len(page),
        "Parts": page,
    }
    if page:
        out["NextPartNumberMarker"] = page[-1]["PartNumber"]
    return out


@handles("GetObjectAttributes")
async def get_object_attributes(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    meta = object_of(ctx, req["Bucket"], req["Key"])
    wanted = set(req.get("ObjectAttributes") or [])
    unknown = wanted - {"ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"}
    if unknown or not wanted:
        raise errors.invalid_argument(
            "Invalid attribute name specified.", "x-amz-object-attributes", ",".join(sorted(unknown))
        )
    out: dict[str, Any] = {"LastModified": meta.last_modified}
    if "ETag" in wanted:
        out["ETag"] = meta.etag  # unquoted, unlike every other operation
    if "Checksum" in wanted and meta.checksums:
        out["Checksum"] = checksums_of(meta)
    if "ObjectParts" in wanted and meta.extra.get("parts"):
        out["ObjectParts"] = _object_parts(meta, req)
    if "StorageClass" in wanted:
        out["StorageClass"] = meta.storage_class
    if "ObjectSize" in wanted:
        out["ObjectSize"] = meta.size
    return out


@handles("RestoreObject")
async def restore_object(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    """Archived objects are restored at once: 202 the first time, 200 when a copy is already
    restored (its expiry moves); a restore is never left in progress, so no 409."""
    meta = object_of(ctx, req["Bucket"], req["Key"])
    if meta.storage_class not in ARCHIVED:
        raise errors.restore_not_allowed(meta.storage_class)
    days = (req.get("RestoreRequest") or {}).get("Days") or 1
    expiry = datetime.combine(datetime.now(UTC).date() + timedelta(days=days + 1), time(), UTC)
    if store(ctx).update_object(meta, extra={**meta.extra, "restore": expiry.isoformat()}) is None:
        raise errors.no_such_key(meta.key)
    if _restored_until(meta) is None:
        ctx.status = 202
    return {}


# -- tagging ---------------------------------------------------------------------------------


def _update(ctx: RequestContext, meta: ObjectMeta, **changes: Any) -> None:
    if store(ctx).update_object(meta, **changes) is None:  # replaced or deleted meanwhile
        raise errors.no_such_key(meta.key)


@handles("PutObjectTagging")
async def put_object_tagging(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    meta = object_of(ctx, req["Bucket"], req["Key"])
    tags = check_tags((req.get("Tagging") or {}).get("TagSet") or [])
    _update(ctx, meta, tags=tags)
    return {}


@handles("GetObjectTagging")
async def get_object_tagging(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    meta = object_of(ctx, req["Bucket"], req["Key"])
    return {"TagSet": tag_set(meta.tags)}


@handles("DeleteObjectTagging")
async def delete_object_tagging(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    meta = object_of(ctx, req["Bucket"], req["Key"])
    _update(ctx, meta, tags={})
    return {}


# -- ACLs ------------------------------------------------------------------------------------


@handles("PutObjectAcl")
async def put_object_acl(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    meta = object_of(ctx, req["Bucket"], req["Key"])
    _update(ctx, meta, acl=acl_from_request(req, ctx.account_id, OBJECT_ACLS, required=True))
    return {}


@handles("GetObjectAcl")
async def get_object_acl(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    bucket = bucket_of(ctx, req["Bucket"])
    meta = object_of(ctx, req["Bucket"], req["Key"])
    return meta.acl or default_acl(bucket.account)
