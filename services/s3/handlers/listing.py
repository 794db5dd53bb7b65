"""Listings of a bucket's objects: ListObjectsV2 (continuation tokens, start-after), ListObjects v1
(markers) and ListObjectVersions (every version and delete marker, newest first within a key)."""

from __future__ import annotations

import re
from operator import attrgetter
from typing import Any
from urllib.parse import quote

from shared.context import RequestContext
from shared.handlers import Handlers

from .. import errors
from ..listing import Page, decode_token, encode_token, paginate
from ..storage import Bucket, Listed
from .common import bucket_of, owner, quoted, store

handles = Handlers("s3")

MAX_KEYS = 1000
_key = attrgetter("key")  # of a listed object


def encoder(encoding_type: str | None):
    """``EncodingType=url`` (what boto3 asks for by default): keys go out percent-encoded; any
    other value is InvalidArgument."""
    if encoding_type is None:
        return _as_is
    if encoding_type != "url":
        raise errors.invalid_encoding_type(encoding_type)
    return _url_encode


_URL_SAFE = re.compile(r"[A-Za-z0-9_.~/-]*")  # what quote(text, safe="/") leaves as it is


def _url_encode(text: str) -> str:
    return text if _URL_SAFE.fullmatch(text) else quote(text, safe="/")  # most keys need no quote()


def _as_is(text: str) -> str:
    return text


def _entry(meta: Listed, encode, owner_: dict[str, str] | None) -> dict[str, Any]:
    """One object of a page; ``owner_`` is the one dict every entry of the page shares (or None)."""
    entry: dict[str, Any] = {
        "Key": encode(meta.key),
        "LastModified": meta.last_modified,
        "ETag": quoted(meta.etag),
        "Size": meta.size,
        "StorageClass": meta.storage_class,
    }
    if meta.checksum_algorithms:
        entry["ChecksumAlgorithm"] = meta.checksum_algorithms
        entry["ChecksumType"] = "FULL_OBJECT"
    if owner_ is not None:
        entry["Owner"] = owner_
    return entry


def _max_keys(req: dict[str, Any]) -> int:
    max_keys = req.get("MaxKeys", MAX_KEYS)
    if max_keys < 0:
        raise errors.invalid_argument(
            "Argument maxKeys must be an integer between 0 and 2147483647", "maxKeys", str(max_keys)
        )
    return max_keys


def _page(ctx: RequestContext, bucket: Bucket, req: dict[str, Any], after: str) -> Page[Listed]:
    prefix, delimiter = req.get("Prefix") or "", req.get("Delimiter") or ""
    rows = store(ctx).listing(bucket.name, prefix, after, delimiter)
    return paginate(rows, _key, prefix, delimiter, after, min(_max_keys(req), MAX_KEYS))


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
    shared_owner = owner(bucket.account)
    out["Contents"] = [_entry(m, encode, shared_owner) for m in page.contents] or None
    if page.truncated and req.get("Delimiter") and page.last is not None:
        out["NextMarker"] = encode(page.last)
    return out


def _version_entry(meta: Listed, encode, owner_: dict[str, str]) -> dict[str, Any]:
    if meta.delete_marker:
        return {
            "Owner": owner_,
            "Key": encode(meta.key),
            "VersionId": meta.version_id,
            "IsLatest": meta.is_latest,
            "LastModified": meta.last_modified,
        }
    entry = _entry(meta, encode, owner_)
    entry["VersionId"], entry["IsLatest"] = meta.version_id, meta.is_latest
    return entry


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
    versions = store(ctx).versions(bucket.name, prefix, key_marker, id_marker, delimiter)
    page = paginate(versions, _key, prefix, delimiter, key_marker, min(_max_keys(req), MAX_KEYS))
    encode = encoder(req.get("EncodingType"))
    out = _common(bucket, req, page, encode)
    out["KeyMarker"] = encode(key_marker)
    out["VersionIdMarker"] = id_marker
    shared_owner = owner(bucket.account)
    entries = [_version_entry(m, encode, shared_owner) for m in page.contents]
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
    shared_owner = owner(bucket.account) if req.get("FetchOwner") else None
    out["Contents"] = [_entry(m, encode, shared_owner) for m in page.contents] or None
    if token:
        out["ContinuationToken"] = token
    if req.get("StartAfter"):
        out["StartAfter"] = encode(req["StartAfter"])
    if page.truncated and page.last is not None:
        out["NextContinuationToken"] = encode_token(page.last)
    return out
