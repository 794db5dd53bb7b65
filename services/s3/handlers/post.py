"""Browser POST uploads (``POST /<bucket>`` with a ``multipart/form-data`` body).

Not an operation of the S3 model (botocore has no PostObject: ``generate_presigned_post`` only
builds the form), so the app routes it here through ``ServiceSpec.unmodelled`` and this handler
answers with the ``HttpResponse`` itself. The form's fields are read (bounded), the policy is
checked (always) and its signature (when signatures are enforced), then the file part streams
into the store: a big upload is never held in memory, and one over the policy's
``content-length-range`` is refused without being committed. The other fields are read as the
PutObject input they stand for (storage class, ACL, encryption, headers, checksums), so the same
rules apply (the 2 KB user-metadata limit included); ``tagging`` is a Tagging XML document where
PutObject has a query string. S3's POST form has no If-Match / If-None-Match fields (conditional
writes are PutObject, CopyObject and CompleteMultipartUpload only), so there is no commit-time
precondition here.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Mapping
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit

from shared.aws import sigv4
from shared.aws.errors import AwsError
from shared.aws.http import HttpRequest, HttpResponse
from shared.context import RequestContext
from shared.handlers import Handlers

from .. import cors, errors, notifications, presign, website
from ..checksums import MEMBERS, Digests
from ..formdata import FormReader, Part, boundary_of, malformed
from ..names import check_key
from ..storage import Bucket, ObjectAttrs, ObjectMeta, S3Store, Verify
from .common import check_tags, verifier, versioning_of
from .objects import object_attrs

handles = Handlers("s3")

OPERATION = "PostObject"
MAX_FIELDS = 20 * 1024  # S3's limit on the form fields before the file
# Form fields that say what PutObject's headers say (lowercase field name -> input member).
FIELD_MEMBERS = {
    "content-type": "ContentType",
    "cache-control": "CacheControl",
    "content-disposition": "ContentDisposition",
    "content-encoding": "ContentEncoding",
    "content-language": "ContentLanguage",
    "x-amz-website-redirect-location": "WebsiteRedirectLocation",
    "x-amz-storage-class": "StorageClass",
    "acl": "ACL",
    "x-amz-server-side-encryption": "ServerSideEncryption",
    "x-amz-server-side-encryption-aws-kms-key-id": "SSEKMSKeyId",
    "x-amz-checksum-algorithm": "ChecksumAlgorithm",
    **{f"x-amz-checksum-{alg.lower()}": member for alg, member in MEMBERS.items()},
}


def unmodelled_operation(req: HttpRequest) -> str | None:
    """The requests S3 answers that are no model operation: a CORS preflight (any ``OPTIONS``),
    anything sent to a website endpoint (by its Host), and a browser upload: ``POST /<bucket>``
    without a query string (every modelled POST of S3 names a sub-resource: ``?delete``,
    ``?uploads``, ``?restore`` ...)."""
    if cors.is_preflight(req):
        return cors.PREFLIGHT
    if website.is_website_request(req):
        return website.OPERATION
    if req.method != "POST" or req.query:
        return None
    bucket = req.path.strip("/")
    return OPERATION if bucket and "/" not in bucket else None


@handles(OPERATION)
async def post_object(ctx: RequestContext, req: dict[str, Any]) -> HttpResponse:
    request = ctx.request
    assert request is not None and request.stream is not None
    bucket = unquote(request.path.strip("/"))
    boundary = boundary_of(request.headers.get("content-type"))
    if boundary is None:
        raise errors.precondition_failed("Bucket POST must be of the enclosure-type multipart/form-data")
    store: S3Store = ctx.state
    found = store.bucket(bucket)
    if found is None:
        raise errors.no_such_bucket(bucket)
    form = FormReader(request.stream, boundary)
    fields, file = await _read_fields(form)
    _identify(ctx, fields)
    key = _key(fields, file)
    length_range = _authorize(fields, bucket, req.get("Credentials"))
    check_key(key)
    put = _put_request(fields, bucket, key)
    attrs = _attrs(ctx, fields, put, found)
    versioning = versioning_of(ctx, found)
    meta = await store.put_object(
        bucket,
        key,
        _file_data(form, length_range),
        attrs,
        verify=_verify(length_range, verifier(ctx, put, attrs.algorithms)),
        versioning=versioning,
    )
    await form.drain()
    await notifications.object_event(
        ctx, "s3:ObjectCreated:Post", bucket, key, meta.size, meta.etag, version_id=meta.version_id
    )
    return _answer(ctx, fields, bucket, key, meta, versioning)


async def _read_fields(form: FormReader) -> tuple[dict[str, str], Part]:
    """The fields before the file (lowercase names, first value wins) and the file part."""
    fields: dict[str, str] = {}
    size = 0
    while (part := await form.next_part()) is not None:
        if part.name.lower() == "file":
            return fields, part
        try:
            raw = await form.value(MAX_FIELDS - size)
            value = raw.decode("utf-8")
        except OverflowError:
            raise _fields_too_large() from None
        except UnicodeDecodeError:
            raise malformed() from None
        size += len(raw)
        fields.setdefault(part.name.lower(), value)
    raise errors.invalid_argument("POST requires exactly one file upload per request.", "file", "0")


def _fields_too_large() -> AwsError:
    return AwsError(
        "MaxPostPreDataLengthExceeded",
        "Your POST request fields preceeding the upload file was too large.",
        400,
        fields={"MaxPostPreDataLength": str(MAX_FIELDS)},
    )


def _identify(ctx: RequestContext, fields: Mapping[str, str]) -> None:
    """The form's signer picks the account and region, as a signed request's credentials would."""
    access_key = presign.post_access_key(fields)
    if access_key:
        ctx.access_key = access_key
        ctx.account_id = sigv4.account_for(access_key)
    parts = fields.get("x-amz-credential", "").split("/")
    if len(parts) == 5 and parts[2]:
        ctx.region = parts[2]


def _key(fields: Mapping[str, str], file: Part) -> str:
    """The ``key`` field, with ``${filename}`` replaced by the uploaded file's name."""
    if "key" not in fields:
        raise presign.missing_field("key")
    key = fields["key"].replace("${filename}", file.filename or "")
    if not key:
        raise errors.invalid_argument("User key must have a length greater than 0.", "key", "")
    return key


def _authorize(
    fields: Mapping[str, str], bucket: str, credentials: Mapping[str, str] | None
) -> tuple[int, int] | None:
    """Check the policy (always) and its signature (when enforced); the content-length-range."""
    if "policy" not in fields:
        if credentials is not None:
            raise AwsError("AccessDenied", "Access Denied", 403)
        if "x-amz-signature" in fields or "signature" in fields:
            raise presign.missing_field("policy")
        return None
    if credentials is not None:
        presign.verify_post_signature(fields, credentials)
    return presign.check_policy(presign.read_policy(fields["policy"]), fields, bucket)


def _put_request(fields: Mapping[str, str], bucket: str, key: str) -> dict[str, Any]:
    """The form as the PutObject input it stands for, so that the same rules (storage classes,
    ACLs, encryption, checksums) apply to both."""
    req: dict[str, Any] = {"Bucket": bucket, "Key": key}
    req.update({member: fields[name] for name, member in FIELD_MEMBERS.items() if fields.get(name)})
    req["Metadata"] = {
        k.removeprefix("x-amz-meta-"): v for k, v in fields.items() if k.startswith("x-amz-meta-")
    }
    try:
        req["Expires"] = parsedate_to_datetime(fields["expires"])
    except (KeyError, TypeError, ValueError):
        pass
    return req


def _attrs(
    ctx: RequestContext, fields: Mapping[str, str], put: dict[str, Any], bucket: Bucket
) -> ObjectAttrs:
    """PutObject's attributes, with the tags of the ``tagging`` field (a Tagging XML document, where
    PutObject has a query string)."""
    return dataclasses.replace(object_attrs(ctx, put, bucket), tags=_tags(fields.get("tagging")))


def _tags(document: str | None) -> dict[str, str]:
    """``<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag>...</TagSet></Tagging>``."""
    if not document:
        return {}
    try:
        root = ET.fromstring(document)
    except ET.ParseError:
        raise errors.malformed_xml() from None
    if _local(root.tag) != "Tagging":
        raise errors.malformed_xml()
    tags = []
    for tag in root.iter():
        if _local(tag.tag) == "Tag":
            values = {_local(child.tag): child.text or "" for child in tag}
            if "Key" not in values:
                raise errors.malformed_xml()
            tags.append({"Key": values["Key"], "Value": values.get("Value", "")})
    return check_tags(tags)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


async def _file_data(form: FormReader, length_range: tuple[int, int] | None) -> AsyncIterator[bytes]:
    """The file's bytes; past the range's maximum the rest is counted (not stored) and refused."""
    high = length_range[1] if length_range else None
    size = 0
    data = form.data()
    async for chunk in data:
        size += len(chunk)
        if high is not None and size > high:
            async for rest in data:
                size += len(rest)
            presign.check_size(size, length_range)
        yield chunk


def _verify(length_range: tuple[int, int] | None, checksums: Verify) -> Verify:
    """The store's verify hook: refuse a file under the range's minimum before it is committed,
    then check the checksum fields as PutObject checks its headers."""

    def verify(digests: Digests) -> dict[str, str]:
        presign.check_size(digests.size, length_range)
        return checksums(digests)

    return verify


def _answer(
    ctx: RequestContext,
    fields: Mapping[str, str],
    bucket: str,
    key: str,
    meta: ObjectMeta,
    versioning: str | None,
) -> HttpResponse:
    """303 to ``success_action_redirect``; else ``success_action_status`` 200, 201 (with a
    ``PostResponse`` document) or 204 (the default)."""
    request = ctx.request
    assert request is not None
    etag = meta.etag
    location = f"http://{request.host or 'localhost'}/{quote(bucket)}/{quote(key, safe='/~')}"
    headers = [
        ("ETag", f'"{etag}"'),
        ("Location", location),
        ("x-amz-request-id", ctx.request_id),
        ("x-amz-id-2", base64.b64encode(hashlib.sha256(ctx.request_id.encode()).digest()).decode()),
    ]
    if versioning is not None:
        headers.append(("x-amz-version-id", meta.version_id))
    headers += [
        (f"x-amz-checksum-{alg.lower()}", meta.checksums[m])
        for alg, m in MEMBERS.items()
        if m in meta.checksums
    ]
    redirect = fields.get("success_action_redirect") or fields.get("redirect") or ""
    if urlsplit(redirect).scheme in ("http", "https"):
        query = urlencode({"bucket": bucket, "key": key, "etag": f'"{etag}"'})
        target = redirect + ("&" if urlsplit(redirect).query else "?") + query
        return HttpResponse(303, [("Location", target), *headers[2:]], b"")
    status = fields.get("success_action_status", "")
    if status == "201":
        body = _post_response(location, bucket, key, etag)
        return HttpResponse(201, [*headers, ("Content-Type", "application/xml")], body)
    return HttpResponse(200 if status == "200" else 204, headers, b"")


def _post_response(location: str, bucket: str, key: str, etag: str) -> bytes:
    """S3's ``PostResponse`` document (not in the model: no operation returns it)."""
    root = ET.Element("PostResponse")
    for name, value in (("Location", location), ("Bucket", bucket), ("Key", key), ("ETag", f'"{etag}"')):
        ET.SubElement(root, name).text = value
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True)
