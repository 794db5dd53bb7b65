"""Multipart uploads: create, upload part (and part copy), complete, abort, list uploads and parts.

Parts are files of their own (see storage); completing concatenates them from disk. The object's
ETag is the MD5 of the parts' binary MD5s followed by ``-<parts>``; its checksum is COMPOSITE
(the algorithm over the parts' checksums, ``-<parts>``) or FULL_OBJECT (CRC over all bytes).
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

from shared.context import RequestContext
from shared.handlers import Handlers

from .. import conditions, errors, sse
from ..checksums import COMPOSITE, FULL_OBJECT, MEMBERS, Digests, composite, well_formed
from ..listing import paginate
from ..names import check_key
from ..notifications import object_event
from ..ranges import copy_range
from ..storage import Part, Upload
from .common import (
    algorithms_of,
    body_chunks,
    bucket_of,
    check_body_size,
    check_copy_source,
    copy_source,
    owner,
    quoted,
    store,
    verifier,
    versioning_of,
)
from .listing import encoder
from .objects import check_readable, checksums_of, copy_source_object, object_attrs, written

handles = Handlers("s3")

MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PART_NUMBER = 10000
MAX_LISTED = 1000


def _upload_of(ctx: RequestContext, bucket: str, key: str, upload_id: str) -> Upload:
    """The upload ``upload_id`` of ``bucket/key`` (raises NoSuchBucket, then NoSuchUpload)."""
    upload = store(ctx).upload(upload_id)
    if upload is None or upload.bucket != bucket or upload.key != key:
        bucket_of(ctx, bucket)
        raise errors.no_such_upload(upload_id)
    return upload


def _part_number(number: int) -> int:
    if not 1 <= number <= MAX_PART_NUMBER:
        raise errors.invalid_argument(
            "Part number must be an integer between 1 and 10000, inclusive", "partNumber", str(number)
        )
    return number


def _checksum_type(algorithm: str | None, requested: str | None) -> str | None:
    """The upload's checksum type: COMPOSITE by default, FULL_OBJECT for CRC64NVME; checked
    against what S3 allows for the algorithm."""
    if algorithm is None:
        if requested:
            raise errors.invalid_request(
                "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header."
            )
        return None
    kind = requested or ("FULL_OBJECT" if algorithm == "CRC64NVME" else "COMPOSITE")
    allowed = COMPOSITE if kind == "COMPOSITE" else FULL_OBJECT
    if kind not in ("COMPOSITE", "FULL_OBJECT") or algorithm not in allowed:
        raise errors.invalid_request(
            f"The {kind} checksum type cannot be used with the {algorithm.lower()} checksum algorithm."
        )
    return kind


@handles("CreateMultipartUpload")
async def create_multipart_upload(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    bucket, key = req["Bucket"], req["Key"]
    check_key(key)
    found = bucket_of(ctx, bucket)
    algorithm = str(req.get("ChecksumAlgorithm") or "").upper() or None
    if algorithm is not None and algorithm not in MEMBERS:
        raise errors.invalid_request(f"Checksum algorithm {algorithm} is not supported.")
    kind = _checksum_type(algorithm, req.get("ChecksumType"))
    attrs = object_attrs(ctx, req, found)
    upload = store(ctx).create_upload(bucket, key, ctx.account_id, attrs, algorithm, kind)
    out: dict[str, Any] = {
        "Bucket": bucket,
        "Key": key,
        "UploadId": upload.id,
        **sse.headers(attrs.extra["sse"]),
    }
    if algorithm:
        out.update(ChecksumAlgorithm=algorithm, ChecksumType=kind)
    return out


def _part_output(part: Part) -> dict[str, Any]:
    return {"ETag": quoted(part.etag), **part.checksums}


def _encryption(upload: Upload, req: dict[str, Any]) -> dict[str, Any]:
    """An SSE-C upload's parts must bring its key; every part answers the upload's encryption."""
    stored = upload.attrs.extra.get("sse")
    sse.same_key(stored, req)
    return sse.headers(stored)


@handles("UploadPart")
async def upload_part(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    upload = _upload_of(ctx, req["Bucket"], req["Key"], req["UploadId"])
    number = _part_number(req["PartNumber"])
    check_body_size(ctx)
    encryption = _encryption(upload, req)
    algorithms = tuple(sorted({*algorithms_of(ctx, req), *([upload.algorithm] if upload.algorithm else [])}))
    part = await store(ctx).put_part(
        upload, number, body_chunks(req.get("Body")), algorithms, verifier(ctx, req, algorithms)
    )
    return {**_part_output(part), **encryption}


@handles("UploadPartCopy")
async def upload_part_copy(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    upload = _upload_of(ctx, req["Bucket"], req["Key"], req["UploadId"])
    number = _part_number(req["PartNumber"])
    encryption = _encryption(upload, req)
    src_bucket, src_key, src_version = copy_source(req["CopySource"])
    source = copy_source_object(ctx, src_bucket, src_key, src_version)
    sse.for_read(source.extra.get("sse"), req, "CopySource")
    check_copy_source(req, source)
    check_readable(source)
    first, last = copy_range(req.get("CopySourceRange"), source.size) or (0, source.size - 1)
    algorithms = (upload.algorithm,) if upload.algorithm else ()

    def computed(digests: Digests) -> dict[str, str]:
        return {MEMBERS[a]: v for a in algorithms if (v := digests.checksum(a))}

    body = body_chunks(store(ctx).open_object(source, first, last) if source.size else b"")
    part = await store(ctx).put_part(upload, number, body, algorithms, computed)
    out = {"CopyPartResult": {**_part_output(part), "LastModified": part.last_modified}, **encryption}
    if src_version is not None or source.version_id != "null":
        out["CopySourceVersionId"] = source.version_id
    return out


# -- complete ------------------------------------------------------------------------------


def _chosen_parts(upload: Upload, listed: list[dict[str, Any]], stored: dict[int, Part]) -> list[Part]:
    """The stored parts a CompleteMultipartUpload names, checked in S3's order: ascending part
    numbers, each part uploaded with that ETag (and checksum), every part but the last >= 5 MiB."""
    if not listed:
        raise errors.malformed_xml()
    numbers = [item.get("PartNumber", 0) for item in listed]
    if any(a >= b for a, b in zip(numbers, numbers[1:], strict=False)):
        raise errors.invalid_part_order(upload.id)
    member = MEMBERS.get(upload.algorithm or "")
    chosen: list[Part] = []
    for item in listed:
        number, etag = item.get("PartNumber", 0), str(item.get("ETag") or "")
        part = stored.get(number)
        if part is None or etag.strip('"') != part.etag:
            raise errors.invalid_part(upload.id, number, etag)
        if member is not None:
            sent = item.get(member)
            if not sent:
                raise errors.invalid_request(
                    f"The upload was created using a {upload.algorithm.lower()} checksum. The complete request "
                    f"must include the checksum for each part. It was missing for part {number} in the request."
                )
            if part.checksums.get(member, sent) != sent:
                raise errors.invalid_part(upload.id, number, etag)
            part = Part(
                part.number,
                part.size,
                part.etag,
                part.last_modified,
                {**part.checksums, member: sent},
                part.file,
            )
        chosen.append(part)
    for part in chosen[:-1]:
        if part.size < MIN_PART_SIZE:
            raise errors.entity_too_small(part.size, MIN_PART_SIZE, part.number, quoted(part.etag))
    return chosen


def multipart_etag(parts: list[Part]) -> str:
    joined = b"".join(bytes.fromhex(p.etag) for p in parts)
    return f"{hashlib.md5(joined).hexdigest()}-{len(parts)}"


def _completion_checksums(upload: Upload, parts: list[Part], req: dict[str, Any]):
    """The checksum type and a verifier that returns the object's checksums once the bytes are
    concatenated (checking a full-object value the client sent against ours)."""
    algorithm = upload.algorithm or "CRC32"
    kind = upload.checksum_type or "FULL_OBJECT"  # no algorithm named: we keep a full-object CRC32
    member = MEMBERS[algorithm]

    def verify(digests: Digests) -> dict[str, str]:
        size = req.get("MpuObjectSize")
        if size is not None and size != digests.size:
            raise errors.invalid_request(
                f"The provided 'x-amz-mp-object-size' header value {size} does not match what was "
                f"computed: {digests.size}"
            )
        if kind == "COMPOSITE":
            value = composite(algorithm, [p.checksums[member] for p in parts])
            return {member: value} if value else {}
        computed, sent = digests.checksum(algorithm), req.get(member)
        if sent and not well_formed(algorithm, sent):
            raise errors.invalid_request(f"Value for x-amz-checksum-{algorithm.lower()} header is invalid.")
        if sent and computed and sent != computed:
            raise errors.bad_digest(algorithm)
        value = computed or sent
        return {member: value} if value else {}

    return kind, verify


def _location(ctx: RequestContext, bucket: str, key: str) -> str:
    host = (ctx.request.host or ctx.request.headers.get("host")) if ctx.request is not None else None
    return f"http://{host or 's3.localhost.localstack.cloud'}/{bucket}/{quote(key)}"


@handles("CompleteMultipartUpload")
async def complete_multipart_upload(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    bucket, key = req["Bucket"], req["Key"]
    upload = _upload_of(ctx, bucket, key, req["UploadId"])
    sse.same_key(upload.attrs.extra.get("sse"), req)
    stored = {p.number: p for p in store(ctx).parts(upload.id)}
    parts = _chosen_parts(upload, (req.get("MultipartUpload") or {}).get("Parts") or [], stored)
    precondition = conditions.write_precondition(req)
    if precondition is not None:  # early, before the parts are joined; again at commit
        current = store(ctx).object(bucket, key)
        precondition(current.etag if current else None)
    kind, verify = _completion_checksums(upload, parts, req)
    listed = [{"PartNumber": p.number, "Size": p.size, **p.checksums} for p in parts]
    extra = {"checksum_type": kind, "parts": listed}
    versioning = versioning_of(ctx, bucket_of(ctx, bucket))
    algorithms = (upload.algorithm,) if upload.algorithm and kind == "FULL_OBJECT" else ()
    meta = await store(ctx).complete_upload(
        upload, parts, multipart_etag(parts), verify, extra, versioning, algorithms, precondition
    )
    version = meta.version_id if versioning else None
    await object_event(
        ctx, "s3:ObjectCreated:CompleteMultipartUpload", bucket, key, meta.size, meta.etag, version_id=version
    )
    return {
        **written(meta, versioning),
        "Location": _location(ctx, bucket, key),
        "Bucket": bucket,
        "Key": key,
        "ETag": quoted(meta.etag),
        **checksums_of(meta),
    }


@handles("AbortMultipartUpload")
async def abort_multipart_upload(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    upload = _upload_of(ctx, req["Bucket"], req["Key"], req["UploadId"])
    if not store(ctx).abort_upload(upload.id):
        raise errors.no_such_upload(upload.id)
    return {}


# -- listing -------------------------------------------------------------------------------


def _limit(value: int | None, name: str) -> int:
    if value is None:
        return MAX_LISTED
    if value < 0:
        raise errors.invalid_argument(
            f"Argument {name} must be an integer between 0 and 2147483647", name, str(value)
        )
    return min(value, MAX_LISTED)


def _upload_entry(upload: Upload, encode) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "UploadId": upload.id,
        "Key": encode(upload.key),
        "Initiated": upload.initiated,
        "StorageClass": upload.attrs.storage_class,
        "Owner": owner(upload.account),
        "Initiator": owner(upload.account),
    }
    if upload.algorithm:
        entry.update(ChecksumAlgorithm=upload.algorithm, ChecksumType=upload.checksum_type)
    return entry


@handles("ListMultipartUploads")
async def list_multipart_uploads(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    bucket = bucket_of(ctx, req["Bucket"])
    prefix, delimiter = req.get("Prefix") or "", req.get("Delimiter") or ""
    key_marker, id_marker = req.get("KeyMarker") or "", req.get("UploadIdMarker") or ""
    limit = _limit(req.get("MaxUploads"), "max-uploads")
    uploads = store(ctx).uploads(bucket.name, prefix, key_marker, id_marker)
    page = paginate(uploads, lambda u: u.key, prefix, delimiter, key_marker, limit)
    encode = encoder(req.get("EncodingType"))
    out: dict[str, Any] = {
        "Bucket": bucket.name,
        "KeyMarker": encode(key_marker),
        "UploadIdMarker": id_marker,
        "Prefix": encode(prefix),
        "MaxUploads": limit,
        "IsTruncated": page.truncated,
        "Uploads": [_upload_entry(u, encode) for u in page.contents] or None,
        "CommonPrefixes": [{"Prefix": encode(p)} for p in page.prefixes] or None,
    }
    if delimiter:
        out["Delimiter"] = encode(delimiter)
    if req.get("EncodingType"):
        out["EncodingType"] = req["EncodingType"]
    if page.truncated and page.last is not None:
        out["NextKeyMarker"] = encode(page.last)
        if page.contents and page.contents[-1].key == page.last:
            out["NextUploadIdMarker"] = page.contents[-1].id
    return out


@handles("ListParts")
async def list_parts(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    upload = _upload_of(ctx, req["Bucket"], req["Key"], req["UploadId"])
    marker = req.get("PartNumberMarker") or 0
    limit = _limit(req.get("MaxParts"), "max-parts")
    parts = store(ctx).parts(upload.id, after=marker, limit=limit + 1)
    page = parts[:limit]
    out: dict[str, Any] = {
        "Bucket": upload.bucket,
        "Key": upload.key,
        "UploadId": upload.id,
        "PartNumberMarker": marker,
        "MaxParts": limit,
        "IsTruncated": len(parts) > limit,
        "Parts": [
            {"PartNumber": p.number, "LastModified": p.last_modified, "Size": p.size, **_part_output(p)}
            for p in page
        ]
        or None,
        "Initiator": owner(upload.account),
        "Owner": owner(upload.account),
        "StorageClass": upload.attrs.storage_class,
    }
    if page:
        out["NextPartNumberMarker"] = page[-1].number
    if upload.algorithm:
        out.update(ChecksumAlgorithm=upload.algorithm, ChecksumType=upload.checksum_type)
    return out
