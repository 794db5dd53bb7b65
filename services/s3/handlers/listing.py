"""Listings of a bucket's objects: ListObjectsV2 (continuation tokens, start-after), ListObjects v1
(markers) and ListObjectVersions (every version and delete marker, newest first within a key)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from shared.context import RequestContext
from shared.handlers import Handlers

from .. import errors
from ..listing import Page, decode_token, encode_token, paginate
from ..storage import Bucket, ObjectMeta
from .common import bucket_of, owner, quoted, store

handles = Handlers("s3")

MAX_KEYS = 1000


def encoder(encoding_type: str | None):
    """``EncodingType=url`` (what boto3 asks for by default): keys go out percent-encoded."""
    if encoding_type == "url":
        return lambda text: quote(text, safe="/")
    return lambda text: text


def _entry(meta: ObjectMeta, encode, fetch_owner: bool, account: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "Key": encode(meta.key),
        "LastModified": meta.last_modified,
        "ETag": quoted(meta.etag),
        "Size": meta.size,
        "StorageClass": meta.storage_class,
    }
    if meta.checksums:
        entry["ChecksumAlgorithm"] = [m.removeprefix("Checksum") for m in meta.checksums]
        entry["ChecksumType"] = "FULL_OBJECT"
    if fetch_owner:
        entry["Owner"] = owner(account)
    return entry


def _max_keys(req: dict[str, Any]) -> int:
    max_keys = req.get("MaxKeys", MAX_KEYS)
    if max_keys < 0:
        raise errors.invalid_argument(
            "Argument maxKeys must be an integer between 0 and 2147483647", "maxKeys", str(max_keys)
        )
    return max_keys


def _page(ctx: RequestContext, bucket: Bucket, req: dict[str, Any], after: str) -> Page[ObjectMeta]:
    prefix, delimiter = req.get("Prefix") or "", req.get("Delimiter") or ""
    max_keys = min(_max_keys(req), MAX_KEYS)
    # one row more than the page: whether it is truncated is known without a second query
    rows = store(ctx).keys(bucket.name, prefix=prefix, after=after, batch=max_keys + 1)
    return paginate(rows, lambda m: m.key, prefix, delimiter, after, max_keys)


def _common(bucket: Bucket, req: dict[str, Any], page: Page, encode) -> dict[str, Any]:
    """The members every listing shares: name, prefix, delimiter, max-keys, common prefixes."""
    out: dict[str, Any] = {
        "Name": bucket.name,
        "Prefix": encode(req.get("Prefix") or ""),
        "MaxKeys": _max_keys(req),
        "IsTruncated": page.truncated,
        "CommonPrefixes": [{"Prefix": encode(p)} for p in page.prefixes] or None,
    }
    if req.get("Delimiter"):
        out["Delimiter"] = encode(req["Delimiter"])
    if req.get("EncodingType"):
        out["EncodingType"] = req["EncodingType"]
    return out


@handles("ListObjects")
async def list_objects(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    """v1: Owner always listed; NextMarker only with a delimiter (else the last key is the marker)."""
    bucket = bucket_of(ctx, req["Bucket"])
    marker = req.get("Marker") or ""
    page = _page(ctx, bucket, req, marker)
    encode = encoder(req.get("EncodingType"))
    out = _common(bucket, req, page, encode)
    out["Marker"] = encode(marker)
    out["Contents"] = [_entry(m, encode, True, bucket.account) for m in page.contents] or None
    if page.truncated and req.get("Delimiter") and page.last is not None:
        out["NextMarker"] = encode(page.last)
    return out


def _version_entry(meta: ObjectMeta, encode, account: str) -> dict[str, Any]:
    if meta.delete_marker:
        return {
            "Owner": owner(account),
            "Key": encode(meta.key),
            "VersionId": meta.version_id,
            "IsLatest": meta.is_latest,
            "LastModified": meta.last_modified,
        }
    return {**_entry(meta, encode, True, account), "VersionId": meta.version_id, "IsLatest": meta.is_latest}


@handles("ListObjectVersions")
async def list_object_versions(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    """Versions and delete markers share the page (max-keys counts both); the next page starts
    after NextKeyMarker's NextVersionIdMarker version."""
    bucket = bucket_of(ctx, req["Bucket"])
    key_marker, id_marker = req.get("KeyMarker") or "", req.get("VersionIdMarker") or ""
    if id_marker and not key_marker:
        raise errors.invalid_argument(
            "A version-id marker cannot be specified without a key marker.", "version-id-marker", id_marker
        )
    prefix, delimiter = req.get("Prefix") or "", req.get("Delimiter") or ""
    versions = store(ctx).versions(bucket.name, prefix, key_marker, id_marker)
    page = paginate(versions, lambda m: m.key, prefix, delimiter, key_marker, min(_max_keys(req), MAX_KEYS))
    encode = encoder(req.get("EncodingType"))
    out = _common(bucket, req, page, encode)
    out["KeyMarker"] = encode(key_marker)
    out["VersionIdMarker"] = id_marker
    entries = [_version_entry(m, encode, bucket.account) for m in page.contents]
    out["Versions"] = [e for e, m in zip(entries, page.contents, strict=True) if not m.delete_marker] or None
    out["DeleteMarkers"] = [e for e, m in zip(entries, page.contents, strict=True) if m.delete_marker] or None
    if page.truncated and page.last is not None:
        out["NextKeyMarker"] = encode(page.last)
        if page.contents and page.contents[-1].key == page.last:
            out["NextVersionIdMarker"] = page.contents[-1].version_id
    return out


@handles("ListObjectsV2")
async def list_objects_v2(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    bucket = bucket_of(ctx, req["Bucket"])
    token = req.get("ContinuationToken")
    after = decode_token(token) if token else (req.get("StartAfter") or "")
    page = _page(ctx, bucket, req, after)
    encode = encoder(req.get("EncodingType"))
    out = _common(bucket, req, page, encode)
    out["KeyCount"] = page.count
    out["Contents"] = [
        _entry(m, encode, bool(req.get("FetchOwner")), bucket.account) for m in page.contents
    ] or None
    if token:
        out["ContinuationToken"] = token
    if req.get("StartAfter"):
        out["StartAfter"] = encode(req["StartAfter"])
    if page.truncated and page.last is not None:
        out["NextContinuationToken"] = encode_token(page.last)
    return out
