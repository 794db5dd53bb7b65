"""ListObjectsV2: prefix, delimiter, max-keys, start-after and continuation tokens."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from shared.context import RequestContext
from shared.handlers import Handlers

from .. import errors
from ..listing import decode_token, encode_token, paginate
from ..storage import ObjectMeta
from .common import bucket_of, owner, quoted, store

handles = Handlers("s3")

MAX_KEYS = 1000


def _encoder(encoding_type: str | None):
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
        "StorageClass": "STANDARD",
    }
    if meta.checksums:
        entry["ChecksumAlgorithm"] = [m.removeprefix("Checksum") for m in meta.checksums]
        entry["ChecksumType"] = "FULL_OBJECT"
    if fetch_owner:
        entry["Owner"] = owner(account)
    return entry


@handles("ListObjectsV2")
async def list_objects_v2(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    bucket = bucket_of(ctx, req["Bucket"])
    max_keys = req.get("MaxKeys", MAX_KEYS)
    if max_keys < 0:
        raise errors.invalid_argument(
            "Argument maxKeys must be an integer between 0 and 2147483647", "maxKeys", str(max_keys)
        )
    prefix, delimiter = req.get("Prefix") or "", req.get("Delimiter") or ""
    token = req.get("ContinuationToken")
    after = decode_token(token) if token else (req.get("StartAfter") or "")
    page = paginate(
        store(ctx).keys(bucket.name, prefix=prefix, after=after),
        lambda m: m.key,
        prefix,
        delimiter,
        after,
        min(max_keys, MAX_KEYS),
    )
    encode = _encoder(req.get("EncodingType"))
    out: dict[str, Any] = {
        "Name": bucket.name,
        "Prefix": encode(prefix),
        "MaxKeys": max_keys,
        "KeyCount": page.count,
        "IsTruncated": page.truncated,
        "Contents": [_entry(m, encode, bool(req.get("FetchOwner")), bucket.account) for m in page.contents]
        or None,
        "CommonPrefixes": [{"Prefix": encode(p)} for p in page.prefixes] or None,
    }
    if delimiter:
        out["Delimiter"] = encode(delimiter)
    if req.get("EncodingType"):
        out["EncodingType"] = req["EncodingType"]
    if token:
        out["ContinuationToken"] = token
    if req.get("StartAfter"):
        out["StartAfter"] = encode(req["StartAfter"])
    if page.truncated and page.last is not None:
        out["NextContinuationToken"] = encode_token(page.last)
    return out
