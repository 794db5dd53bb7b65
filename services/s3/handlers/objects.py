"""Objects: Put/Get/Head/Delete, DeleteObjects, CopyObject, GetObjectAttributes, RestoreObject,
object tagging and object ACLs; each on the latest version or (``versionId``) on one version."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from shared.aws.errors import AwsError
from shared.context import RequestContext
from shared.handlers import Handlers

from .. import conditions, errors, sse
from ..access import DENIED_DELETES
from ..bucket_config import bucket_config
from ..checksums import MEMBERS
from ..names import check_key
from ..notifications import object_event
from ..ranges import byte_range
from ..storage import Bucket, Deletion, ObjectAttrs, ObjectMeta, is_version_id
from .common import (
    ARCHIVED,
    algorithms_of,
    body_chunks,
    bucket_of,
    check_body_size,
    check_copy_source,
    check_metadata,
    check_tags,
    copy_source,
    default_acl,
    object_acl,
    object_of,
    owner_account,
    quoted,
    storage_class,
    store,
    tag_set,
    tags_from_header,
    verifier,
    version_header,
    versioning_of,
)
from .locking import check_delete, lock_for_write, lock_headers

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


REDIRECT_PREFIXES = ("/", "http://", "https://")


def _headers(req: dict[str, Any]) -> dict[str, str]:
    """The stored headers a write sets (raises InvalidRedirectLocation)."""
    redirect = req.get("WebsiteRedirectLocation")
    if redirect is not None and not redirect.startswith(REDIRECT_PREFIXES):
        raise errors.invalid_redirect_location()
    headers = {name: req[name] for name in STORED_HEADERS if req.get(name)}
    encoding = _content_encoding(req.get("ContentEncoding"))
    headers.pop("ContentEncoding", None)
    if encoding:
        headers["ContentEncoding"] = encoding
    if isinstance(req.get("Expires"), datetime):
        headers["Expires"] = req["Expires"].isoformat()
    return headers


def object_attrs(ctx: RequestContext, req: dict[str, Any], bucket: Bucket) -> ObjectAttrs:
    """What a PutObject or CreateMultipartUpload request says about the object it writes."""
    return ObjectAttrs(
        content_type=req.get("ContentType"),
        metadata=check_metadata(req.get("Metadata")),
        headers=_headers(req),
        algorithms=algorithms_of(ctx, req),
        storage_class=storage_class(req),
        tags=tags_from_header(req.get("Tagging")),
        acl=object_acl(ctx, req, bucket, ctx.account_id),
        extra=written_extra(ctx, req, bucket),
    )


def written_extra(ctx: RequestContext, req: dict[str, Any], bucket: Bucket) -> dict[str, Any]:
    """What a write keeps in the new version's ``extra``: its encryption and Object Lock state."""
    encryption = sse.for_write(req, bucket_config(ctx, bucket, "encryption"), bucket.region, bucket.account)
    return {"sse": encryption, **lock_for_write(ctx, bucket, req)}


def written(meta: ObjectMeta, versioning: str | None) -> dict[str, Any]:
    """The members every write answers: version id and encryption."""
    return {**version_header(meta, versioning), **sse.headers(meta.extra.get("sse"))}


@handles("PutObject")
async def put_object(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    bucket, key = req["Bucket"], req["Key"]
    check_key(key)
    found = bucket_of(ctx, bucket)
    check_body_size(ctx)
    precondition = conditions.write_precondition(req)
    if precondition is not None:  # early, before the body; again at commit
        current = store(ctx).object(bucket, key)
        precondition(current.etag if current else None)
    attrs = object_attrs(ctx, req, found)
    versioning = versioning_of(ctx, found)
    meta = await store(ctx).put_object(
        bucket,
        key,
        body_chunks(req.get("Body")),
        attrs,
        verify=verifier(ctx, req, attrs.algorithms),
        versioning=versioning,
        precondition=precondition,
    )
    version = meta.version_id if versioning else None
    await object_event(ctx, "s3:ObjectCreated:Put", bucket, key, meta.size, meta.etag, version_id=version)
    return {"ETag": quoted(meta.etag), **checksums_of(meta), **written(meta, versioning)}


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
        **sse.headers(meta.extra.get("sse")),
        **lock_headers(meta),
    }
    if meta.version_id != "null" or req.get("VersionId"):
        out["VersionId"] = meta.version_id
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
    meta = object_of(ctx, req["Bucket"], req["Key"], req.get("VersionId"))
    sse.for_read(meta.extra.get("sse"), req)
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


ANONYMOUS_OVERRIDES = "Request specific response headers cannot be used for anonymous GET requests."


@handles("GetObject")
async def get_object(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    if ctx.access_key is None and any(req.get(param) is not None for param in OVERRIDES):
        raise errors.invalid_request(ANONYMOUS_OVERRIDES)
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


def _deleted(ctx: RequestContext, bucket: Bucket, key: str, version_id: str | None, bypass: bool) -> Deletion:
    """Delete the key (a delete marker in a versioned bucket) or one version of it, which Object
    Lock may protect; raises InvalidArgument for a version id that cannot be one."""
    if version_id is not None:
        if not is_version_id(version_id):
            raise errors.invalid_version_id(version_id)
        found = store(ctx).version(bucket.name, key, version_id)
        if found is not None and not found.delete_marker:
            check_delete(found, bypass)
        return store(ctx).delete_object(bucket.name, key, version_id) or Deletion(version_id, False, None)
    return store(ctx).delete_object(bucket.name, key, versioning=versioning_of(ctx, bucket))


async def _announce(
    ctx: RequestContext, bucket: str, key: str, deletion: Deletion, version_id: str | None
) -> None:
    """The removal event: a delete marker created, or a version (or marker) removed."""
    if version_id is None and deletion.delete_marker:
        await object_event(
            ctx,
            "s3:ObjectRemoved:DeleteMarkerCreated",
            bucket,
            key,
            None,
            None,
            version_id=deletion.version_id,
        )
    elif deletion.removed is not None or (version_id is not None and deletion.delete_marker):
        await object_event(ctx, "s3:ObjectRemoved:Delete", bucket, key, None, None, version_id=version_id)


@handles("DeleteObject")
async def delete_object(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    bucket = bucket_of(ctx, req["Bucket"])
    version_id = req.get("VersionId")
    deletion = _deleted(ctx, bucket, req["Key"], version_id, bool(req.get("BypassGovernanceRetention")))
    await _announce(ctx, bucket.name, req["Key"], deletion, version_id)
    out: dict[str, Any] = {}
    if deletion.version_id is not None:
        out["VersionId"] = deletion.version_id
    if deletion.delete_marker:
        out["DeleteMarker"] = True
    return out


def _delete_one(ctx: RequestContext, bucket: Bucket, item: dict[str, Any], bypass: bool) -> dict[str, Any]:
    """Delete one key of a DeleteObjects request: its Deleted entry (with the Deletion, popped
    before answering), or its Error entry (Code set)."""
    key, version = item.get("Key", ""), item.get("VersionId")
    if (item.get("Key"), version) in ctx.extra.get(DENIED_DELETES, ()):
        return {
            "Key": key,
            **({"VersionId": version} if version else {}),
            "Code": "AccessDenied",
            "Message": "Access Denied",
        }
    if version is not None and not is_version_id(version):
        return {
            "Key": key,
            "VersionId": version,
            "Code": "NoSuchVersion",
            "Message": "The specified version does not exist.",
        }
    try:
        deletion = _deleted(ctx, bucket, key, version, bypass)
    except AwsError as err:
        return {
            "Key": key,
            **({"VersionId": version} if version else {}),
            "Code": err.code,
            "Message": err.message,
        }
    entry: dict[str, Any] = {"Key": key, "deletion": deletion}
    if version is not None:
        entry["VersionId"] = version
    if deletion.delete_marker:
        entry["DeleteMarker"] = True
        entry["DeleteMarkerVersionId"] = deletion.version_id
    return entry


def _check_integrity_header(ctx: RequestContext) -> None:
    """DeleteObjects needs Content-MD5 or an ``x-amz-checksum-<algorithm>`` header (S3's rule for
    requests whose body it must trust; the SDKs always send one)."""
    headers = ctx.request.headers if ctx.request is not None else None
    if headers is None or "content-md5" in headers:
        return
    if not any(
        name.lower().startswith("x-amz-checksum-") and name.lower() != "x-amz-checksum-type"
        for name, _ in headers.items()
    ):
        raise errors.invalid_request("Missing required header for this request: Content-MD5")


@handles("DeleteObjects")
async def delete_objects(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    bucket = bucket_of(ctx, req["Bucket"])
    _check_integrity_header(ctx)
    spec = req.get("Delete") or {}
    items = spec.get("Objects") or []
    if not items or len(items) > MAX_DELETE:
        raise errors.malformed_xml()
    bypass = bool(req.get("BypassGovernanceRetention"))
    results = [_delete_one(ctx, bucket, item, bypass) for item in items]
    deleted = [r for r in results if "Code" not in r]
    for entry in deleted:
        await _announce(ctx, bucket.name, entry["Key"], entry.pop("deletion"), entry.get("VersionId"))
    failed = [r for r in results if "Code" in r]
    return {"Deleted": None if spec.get("Quiet") else deleted or None, "Errors": failed or None}


# -- copy ----------------------------------------------------------------------------------


def _directive(req: dict[str, Any], member: str) -> str:
    value = req.get(member) or "COPY"
    if value not in ("COPY", "REPLACE"):
        header = "x-amz-metadata-directive" if member == "MetadataDirective" else "x-amz-tagging-directive"
        raise errors.invalid_argument(f"Unknown {header.removeprefix('x-amz-')}.", header, value)
    return value


def _copy_attrs(ctx: RequestContext, req: dict[str, Any], source: ObjectMeta, bucket: Bucket) -> ObjectAttrs:
    """The copy's attributes: the source's metadata and tags unless the directives say REPLACE;
    storage class and ACL from the request (STANDARD and private when absent, as in S3)."""
    replace = _directive(req, "MetadataDirective") == "REPLACE"
    algorithms = algorithms_of(ctx, req)
    if not algorithms and source.checksum_type == "FULL_OBJECT":
        algorithms = tuple(alg for alg, member in MEMBERS.items() if member in source.checksums)
    return ObjectAttrs(
        content_type=req.get("ContentType") if replace else source.content_type,
        metadata=check_metadata(req.get("Metadata")) if replace else dict(source.metadata),
        headers=_headers(req) if replace else dict(source.headers),
        algorithms=algorithms,
        storage_class=storage_class(req),
        tags=tags_from_header(req.get("Tagging"))
        if _directive(req, "TaggingDirective") == "REPLACE"
        else dict(source.tags),
        acl=object_acl(ctx, req, bucket, ctx.account_id),
        extra=written_extra(ctx, req, bucket),
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


# Members whose presence makes a copy of an object onto itself a change S3 allows.
SELF_COPY_CHANGES = (
    "StorageClass",
    "WebsiteRedirectLocation",
    "ServerSideEncryption",
    "SSECustomerAlgorithm",
    "SSEKMSKeyId",
    "BucketKeyEnabled",
    "ChecksumAlgorithm",
)


def _is_self_copy_without_change(req: dict[str, Any], same: bool) -> bool:
    return (
        same
        and req.get("MetadataDirective") != "REPLACE"
        and not any(req.get(m) is not None for m in SELF_COPY_CHANGES)
    )


@handles("CopyObject")
async def copy_object(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    bucket, key = req["Bucket"], req["Key"]
    check_key(key)
    found = bucket_of(ctx, bucket)
    src_bucket, src_key, src_version = copy_source(req["CopySource"])
    source = copy_source_object(ctx, src_bucket, src_key, src_version)
    sse.for_read(source.extra.get("sse"), req, "CopySource")
    check_copy_source(req, source)
    check_readable(source)
    if source.size > MAX_COPY_SIZE:
        raise errors.invalid_request(
            "The specified copy source is larger than the maximum allowable size for a copy source: "
            f"{MAX_COPY_SIZE}"
        )
    same = (src_bucket, src_key) == (bucket, key) and source.is_latest  # an older version may be copied back
    if _is_self_copy_without_change(req, same):
        raise errors.invalid_request(SELF_COPY)
    precondition = conditions.write_precondition(req)
    if precondition is not None:  # early, before the body; again at commit
        current = store(ctx).object(bucket, key)
        precondition(current.etag if current else None)
    attrs = _copy_attrs(ctx, req, source, found)
    versioning = versioning_of(ctx, found)
    body = body_chunks(store(ctx).open_object(source))
    verify = _copy_verifier(source, attrs.algorithms)
    meta = await store(ctx).put_object(
        bucket, key, body, attrs, verify, versioning=versioning, precondition=precondition
    )
    version = meta.version_id if versioning else None
    await object_event(ctx, "s3:ObjectCreated:Copy", bucket, key, meta.size, meta.etag, version_id=version)
    result = {"ETag": quoted(meta.etag), "LastModified": meta.last_modified, **checksums_of(meta)}
    out: dict[str, Any] = {"CopyObjectResult": result, **written(meta, versioning)}
    if src_version is not None or source.version_id != "null":
        out["CopySourceVersionId"] = source.version_id
    return out


def copy_source_object(ctx: RequestContext, bucket: str, key: str, version_id: str | None) -> ObjectMeta:
    """The object a copy reads: a delete marker named by version id is InvalidRequest."""
    try:
        return object_of(ctx, bucket, key, version_id)
    except AwsError as err:
        if err.code == "MethodNotAllowed":
            raise errors.copy_from_delete_marker() from None
        raise


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
    meta = object_of(ctx, req["Bucket"], req["Key"], req.get("VersionId"))
    sse.for_read(meta.extra.get("sse"), req)
    wanted = set(req.get("ObjectAttributes") or [])
    unknown = wanted - {"ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"}
    if unknown or not wanted:
        raise errors.invalid_argument(
            "Invalid attribute name specified.", "x-amz-object-attributes", ",".join(sorted(unknown))
        )
    out: dict[str, Any] = {"LastModified": meta.last_modified}
    if meta.version_id != "null" or req.get("VersionId"):
        out["VersionId"] = meta.version_id
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
    meta = object_of(ctx, req["Bucket"], req["Key"], req.get("VersionId"))
    if meta.storage_class not in ARCHIVED:
        raise errors.restore_not_allowed(meta.storage_class)
    days = (req.get("RestoreRequest") or {}).get("Days") or 1
    expiry = datetime.combine(datetime.now(UTC).date() + timedelta(days=days + 1), time(), UTC)
    if store(ctx).update_object(meta, extra={**meta.extra, "restore": expiry.isoformat()}) is None:
        raise errors.no_such_key(meta.key)
    await _object_changed(ctx, "s3:ObjectRestore:Post", meta)
    if _restored_until(meta) is None:
        ctx.status = 202
        await _object_changed(ctx, "s3:ObjectRestore:Completed", meta)  # restores finish at once
    return {}


async def _object_changed(ctx: RequestContext, event: str, meta: ObjectMeta) -> None:
    """The event of a change to an existing object (tags, ACL, restore), with its version's id."""
    version = meta.version_id if meta.version_id != "null" else None
    await object_event(ctx, event, meta.bucket, meta.key, meta.size, meta.etag, version_id=version)


# -- tagging ---------------------------------------------------------------------------------


def _version_of(meta: ObjectMeta) -> dict[str, str]:
    return {"VersionId": meta.version_id} if meta.version_id != "null" else {}


def _update(ctx: RequestContext, meta: ObjectMeta, **changes: Any) -> None:
    if store(ctx).update_object(meta, **changes) is None:  # replaced or deleted meanwhile
        raise errors.no_such_key(meta.key)


@handles("PutObjectTagging")
async def put_object_tagging(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    meta = object_of(ctx, req["Bucket"], req["Key"], req.get("VersionId"))
    tags = check_tags((req.get("Tagging") or {}).get("TagSet") or [])
    _update(ctx, meta, tags=tags)
    await _object_changed(ctx, "s3:ObjectTagging:Put", meta)
    return _version_of(meta)


@handles("GetObjectTagging")
async def get_object_tagging(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    meta = object_of(ctx, req["Bucket"], req["Key"], req.get("VersionId"))
    return {"TagSet": tag_set(meta.tags), **_version_of(meta)}


@handles("DeleteObjectTagging")
async def delete_object_tagging(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    meta = object_of(ctx, req["Bucket"], req["Key"], req.get("VersionId"))
    _update(ctx, meta, tags={})
    await _object_changed(ctx, "s3:ObjectTagging:Delete", meta)
    return _version_of(meta)


# -- ACLs ------------------------------------------------------------------------------------


@handles("PutObjectAcl")
async def put_object_acl(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    bucket = bucket_of(ctx, req["Bucket"])
    meta = object_of(ctx, req["Bucket"], req["Key"], req.get("VersionId"))
    # the object's owner stays its owner, whoever (with WRITE_ACP) sets the ACL
    acl = object_acl(ctx, req, bucket, owner_account(ctx, meta, bucket), required=True)
    _update(ctx, meta, acl=acl)
    await _object_changed(ctx, "s3:ObjectAcl:Put", meta)
    return {}


@handles("GetObjectAcl")
async def get_object_acl(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    bucket = bucket_of(ctx, req["Bucket"])
    meta = object_of(ctx, req["Bucket"], req["Key"], req.get("VersionId"))
    return meta.acl or default_acl(bucket.account)
