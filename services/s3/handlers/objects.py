"""Objects: PutObject, GetObject, HeadObject, DeleteObject."""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from shared.context import RequestContext
from shared.handlers import Handlers

from .. import conditions, errors
from ..checksums import MEMBERS, Digests
from ..names import check_key
from ..ranges import byte_range
from ..storage import ObjectAttrs, ObjectMeta
from .common import bucket_of, object_of, quoted, store

handles = Handlers("s3")

DEFAULT_CONTENT_TYPE = "binary/octet-stream"
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


async def _body(value: Any) -> AsyncIterator[bytes]:
    """The payload as chunks, whether the app streamed it or (in tests) handed us bytes."""
    if value is None:
        return
    if isinstance(value, bytes | bytearray):
        yield bytes(value)
        return
    async for chunk in value:
        yield chunk


def _content_encoding(value: str | None) -> str | None:
    """Content-Encoding without ``aws-chunked``, which describes the transfer, not the object."""
    if not value:
        return None
    kept = [v.strip() for v in value.split(",") if v.strip() and v.strip() != "aws-chunked"]
    return ",".join(kept) or None


def _algorithms(ctx: RequestContext, req: dict[str, Any]) -> tuple[str, ...]:
    """The flexible checksums the client sends (by header, by trailer, or names)."""
    names = {str(req.get("ChecksumAlgorithm") or "").upper()}
    names.update(alg for alg, member in MEMBERS.items() if req.get(member))
    trailer = ctx.request.headers.get("x-amz-trailer", "") if ctx.request is not None else ""
    names.update(
        t.strip().lower().removeprefix("x-amz-checksum-").upper() for t in (trailer or "").split(",")
    )
    return tuple(sorted(n for n in names if n in MEMBERS))


def _attrs(ctx: RequestContext, req: dict[str, Any]) -> ObjectAttrs:
    headers = {name: req[name] for name in STORED_HEADERS if req.get(name)}
    encoding = _content_encoding(req.get("ContentEncoding"))
    headers.pop("ContentEncoding", None)
    if encoding:
        headers["ContentEncoding"] = encoding
    if isinstance(req.get("Expires"), datetime):
        headers["Expires"] = req["Expires"].isoformat()
    return ObjectAttrs(
        content_type=req.get("ContentType"),
        metadata=dict(req.get("Metadata") or {}),
        headers=headers,
        algorithms=_algorithms(ctx, req),
    )


def _verifier(ctx: RequestContext, req: dict[str, Any], algorithms: tuple[str, ...]):
    """Checks Content-MD5 and the flexible checksums (headers or trailers) once the body is on disk."""

    def verify(digests: Digests) -> dict[str, str]:
        if req.get("ContentMD5") is not None:
            _check_md5(req["ContentMD5"], digests)
        trailers = ctx.extra.get("trailers", {})
        stored: dict[str, str] = {}
        for alg in algorithms:
            member = MEMBERS[alg]
            sent = req.get(member) or trailers.get(f"x-amz-checksum-{alg.lower()}")
            computed = digests.checksum(alg)
            if sent and computed and sent != computed:
                raise errors.bad_digest(alg)
            if computed or sent:
                stored[member] = computed or sent
        return stored

    return verify


def _check_md5(sent: str, digests: Digests) -> None:
    try:
        valid = len(base64.b64decode(sent, validate=True)) == 16
    except (binascii.Error, ValueError):
        valid = False
    if not valid:
        raise errors.invalid_digest("Content-MD5")
    if sent != digests.md5_b64:
        raise errors.bad_digest("Content-MD5")


@handles("PutObject")
async def put_object(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    bucket, key = req["Bucket"], req["Key"]
    check_key(key)
    bucket_of(ctx, bucket)
    if req.get("IfMatch") is not None or req.get("IfNoneMatch") is not None:
        current = store(ctx).object(bucket, key)
        conditions.check_write(req, current.etag if current else None)
    attrs = _attrs(ctx, req)
    meta = await store(ctx).put_object(
        bucket, key, _body(req.get("Body")), attrs, verify=_verifier(ctx, req, attrs.algorithms)
    )
    return {"ETag": quoted(meta.etag), **_checksums(meta)}


def _checksums(meta: ObjectMeta) -> dict[str, str]:
    return {**meta.checksums, "ChecksumType": "FULL_OBJECT"} if meta.checksums else {}


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
    if req.get("ChecksumMode") == "ENABLED":
        out.update(_checksums(meta))
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
    span = byte_range(req.get("Range"), meta.size)
    if span is not None:
        first, last = span
        out["ContentRange"] = f"bytes {first}-{last}/{meta.size}"
        out["ContentLength"] = last - first + 1
        ctx.status = 206  # Partial Content: the model has no status member for it
        for member in (*MEMBERS.values(), "ChecksumType"):
            out.pop(member, None)  # a full-object checksum does not describe a range
    return meta, out, span


@handles("GetObject")
async def get_object(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    meta, out, span = _read(ctx, req)
    first, last = span if span is not None else (0, None)
    out["Body"] = store(ctx).open_object(meta, first, last)
    return out


@handles("HeadObject")
async def head_object(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    return _read(ctx, req)[1]


@handles("DeleteObject")
async def delete_object(ctx: RequestContext, req: dict[str, Any]) -> None:
    bucket_of(ctx, req["Bucket"])
    store(ctx).delete_object(req["Bucket"], req["Key"])
