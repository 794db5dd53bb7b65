"""What every S3 handler needs: the store, the bucket or object a request names, the owner, and the
request rules several operations share (bodies and checksums, storage classes, tags, ACLs, copy
sources)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from shared.context import RequestContext

from .. import conditions, errors
from ..acls import canonical_id
from ..bucket_config import ENFORCED, PREFERRED, configs, object_ownership, versioning_status
from ..checksums import MEMBERS, Digests, well_formed
from ..storage import Bucket, ObjectMeta, S3Store, is_version_id


def store(ctx: RequestContext) -> S3Store:
    return ctx.state


def bucket_of(ctx: RequestContext, name: str) -> Bucket:
    """The bucket ``name`` (raises NoSuchBucket)."""
    bucket = store(ctx).bucket(name)
    if bucket is None:
        raise errors.no_such_bucket(name)
    return bucket


def object_of(ctx: RequestContext, bucket: str, key: str, version_id: str | None = None) -> ObjectMeta:
    """The object ``bucket/key``, its latest version or the version ``version_id`` (raises
    NoSuchBucket, then NoSuchKey (with the delete marker's headers when the latest is one),
    InvalidArgument for a malformed version id, NoSuchVersion, or MethodNotAllowed for a version
    id naming a delete marker)."""
    if version_id is None:
        meta = store(ctx).object(bucket, key)
        if meta is None:
            bucket_of(ctx, bucket)
            marker = store(ctx).latest(bucket, key)
            if marker is not None:
                raise errors.deleted_key(key, marker.version_id)
            raise errors.no_such_key(key)
        return meta
    if not is_version_id(version_id):
        bucket_of(ctx, bucket)
        raise errors.invalid_version_id(version_id)
    meta = store(ctx).version(bucket, key, version_id)
    if meta is None:
        bucket_of(ctx, bucket)
        raise errors.no_such_version(key, version_id)
    if meta.delete_marker:
        raise errors.delete_marker_method(version_id)
    return meta


def versioning_of(ctx: RequestContext, bucket: Bucket) -> str | None:
    """The bucket's versioning status: ``Enabled``, ``Suspended`` or None (never versioned)."""
    return versioning_status(ctx, bucket)


def version_header(meta: ObjectMeta, versioning: str | None) -> dict[str, str]:
    """``x-amz-version-id`` as S3 sends it: for every object of a bucket that is or was versioned."""
    if meta.version_id != "null" or versioning is not None:
        return {"VersionId": meta.version_id}
    return {}


def owner(account: str) -> dict[str, Any]:
    """The account's canonical user id (acls.canonical_id: 64 hex digits, as in AWS) and display name."""
    return {"ID": canonical_id(account), "DisplayName": f"flotilla-{account}"}


def quoted(etag: str) -> str:
    return f'"{etag}"'


# -- bodies and checksums ----------------------------------------------------------------


async def body_chunks(value: Any) -> AsyncIterator[bytes]:
    """The payload as chunks, whether the app streamed it, a store read gave bytes, or (in tests)
    a handler was handed bytes."""
    if value is None:
        return
    if isinstance(value, bytes | bytearray):
        yield bytes(value)
        return
    async for chunk in value:
        yield chunk


def algorithms_of(ctx: RequestContext, req: dict[str, Any]) -> tuple[str, ...]:
    """The flexible checksums the client sends (by header, by trailer, or names)."""
    trailer = ctx.request.headers.get("x-amz-trailer", "") if ctx.request is not None else ""
    sent = [alg for alg, member in MEMBERS.items() if req.get(member)]
    if not sent and not trailer and not req.get("ChecksumAlgorithm"):
        return ()  # most writes: CRC32 only, which is always computed
    names = {str(req.get("ChecksumAlgorithm") or "").upper(), *sent}
    names.update(
        t.strip().lower().removeprefix("x-amz-checksum-").upper() for t in (trailer or "").split(",")
    )
    return tuple(sorted(n for n in names if n in MEMBERS))


def verifier(
    ctx: RequestContext, req: dict[str, Any], algorithms: tuple[str, ...]
) -> Callable[[Digests], dict[str, str]]:
    """Checks Content-MD5 and the flexible checksums (headers or trailers) once the body is on disk;
    checksum headers that cannot be right are refused now, before the body is read."""
    check_checksum_headers(ctx, req)

    def verify(digests: Digests) -> dict[str, str]:
        if req.get("ContentMD5") is not None:
            check_md5(req["ContentMD5"], digests)
        trailers = ctx.extra.get("trailers", {})
        stored: dict[str, str] = {}
        for alg in algorithms:
            sent, where = req.get(MEMBERS[alg]), "header"
            if not sent:
                sent, where = trailers.get(f"x-amz-checksum-{alg.lower()}"), "trailing header"
            if sent and not well_formed(alg, sent):
                raise errors.invalid_request(f"Value for x-amz-checksum-{alg.lower()} {where} is invalid.")
            computed = digests.checksum(alg)
            if sent and computed and sent != computed:
                raise errors.bad_digest(alg)
            if computed or sent:
                stored[MEMBERS[alg]] = computed or sent
        return stored

    return verify


def check_checksum_headers(ctx: RequestContext, req: dict[str, Any]) -> None:
    """S3's checks on ``x-amz-checksum-*`` headers: one algorithm at most (a trailer counts), each
    value base64 of the algorithm's digest width."""
    sent = [alg for alg, member in MEMBERS.items() if req.get(member)]
    trailer = ctx.request.headers.get("x-amz-trailer") if ctx.request is not None else None
    if len(sent) > 1 or (sent and trailer):
        more = "" if trailer else ". Multiple checksum Types are not allowed."
        raise errors.invalid_request(f"Expecting a single x-amz-checksum- header{more}")
    for alg in sent:
        if not well_formed(alg, req[MEMBERS[alg]]):
            raise errors.invalid_request(f"Value for x-amz-checksum-{alg.lower()} header is invalid.")


def check_md5(sent: str, digests: Digests) -> None:
    try:
        valid = len(base64.b64decode(sent, validate=True)) == 16
    except (binascii.Error, ValueError):
        valid = False
    if not valid:
        raise errors.invalid_digest("Content-MD5")
    if sent != digests.md5_b64:
        raise errors.bad_digest("Content-MD5")


# -- limits ---------------------------------------------------------------------------------

MAX_METADATA = 2048  # bytes of user metadata: names (without x-amz-meta-) and values, UTF-8
MAX_OBJECT_BODY = 5 * 1024**3  # one PutObject or UploadPart body


def check_metadata(metadata: dict[str, str] | None) -> dict[str, str]:
    """User metadata within S3's 2 KB (raises MetadataTooLarge)."""
    metadata = dict(metadata or {})
    if sum(len(k.encode()) + len(v.encode()) for k, v in metadata.items()) > MAX_METADATA:
        raise errors.metadata_too_large(MAX_METADATA)
    return metadata


def check_body_size(ctx: RequestContext) -> None:
    """A body over 5 GiB is refused before it streams, from the length the client announces
    (``x-amz-decoded-content-length`` for aws-chunked bodies, else Content-Length)."""
    if ctx.request is None:
        return
    headers = ctx.request.headers
    announced = headers.get("x-amz-decoded-content-length") or headers.get("content-length")
    if announced and announced.strip().isdigit() and int(announced) > MAX_OBJECT_BODY:
        raise errors.entity_too_large(int(announced), MAX_OBJECT_BODY)


# -- storage classes -----------------------------------------------------------------------

STORAGE_CLASSES = frozenset(
    {
        "STANDARD",
        "REDUCED_REDUNDANCY",
        "STANDARD_IA",
        "ONEZONE_IA",
        "INTELLIGENT_TIERING",
        "GLACIER",
        "DEEP_ARCHIVE",
        "OUTPOSTS",
        "GLACIER_IR",
        "SNOW",
        "EXPRESS_ONEZONE",
        "FSX_OPENZFS",
        "FSX_ONTAP",
    }
)
ARCHIVED = frozenset({"GLACIER", "DEEP_ARCHIVE"})  # read only after a RestoreObject


def storage_class(req: dict[str, Any]) -> str:
    """The request's StorageClass (STANDARD when absent); raises InvalidStorageClass."""
    value = req.get("StorageClass") or "STANDARD"
    if value not in STORAGE_CLASSES:
        raise errors.invalid_storage_class(value)
    return value


# -- tags -----------------------------------------------------------------------------------

MAX_TAGS = 10


def tags_from_header(value: str | None) -> dict[str, str]:
    """``x-amz-tagging: k1=v1&k2=v2`` (URL-encoded), validated like a TagSet."""
    if not value:
        return {}
    return check_tags([{"Key": k, "Value": v} for k, v in parse_qsl(value, keep_blank_values=True)])


def check_tags(tag_set: list[dict[str, str]]) -> dict[str, str]:
    """S3's object tag rules: at most 10, unique keys of 1-128 characters, values up to 256."""
    if len(tag_set) > MAX_TAGS:
        raise errors.too_many_tags()
    tags: dict[str, str] = {}
    for tag in tag_set:
        key, value = tag.get("Key") or "", tag.get("Value") or ""
        if not 1 <= len(key) <= 128:
            raise errors.invalid_tag("The TagKey you have provided is too long, max 128")
        if len(value) > 256:
            raise errors.invalid_tag("The TagValue you have provided is too long, max 256")
        if key.startswith("aws:"):
            raise errors.invalid_tag("Your TagKey cannot be prefixed with aws:")
        if key in tags:
            raise errors.invalid_tag("Cannot provide multiple Tags with the same key")
        tags[key] = value
    return tags


def tag_set(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


# -- ACLs -----------------------------------------------------------------------------------

GROUPS = "http://acs.amazonaws.com/groups/"
ALL_USERS = GROUPS + "global/AllUsers"
AUTHENTICATED_USERS = GROUPS + "global/AuthenticatedUsers"
LOG_DELIVERY = GROUPS + "s3/LogDelivery"
PERMISSIONS = ("FULL_CONTROL", "WRITE", "WRITE_ACP", "READ", "READ_ACP")
_GRANT_HEADERS = {
    "GrantFullControl": "FULL_CONTROL",
    "GrantRead": "READ",
    "GrantReadACP": "READ_ACP",
    "GrantWrite": "WRITE",
    "GrantWriteACP": "WRITE_ACP",
}
_CANNED: dict[str, list[tuple[str, str]]] = {  # canned ACL -> (group URI, permission) beyond the owner's
    "private": [],
    "public-read": [(ALL_USERS, "READ")],
    "public-read-write": [(ALL_USERS, "READ"), (ALL_USERS, "WRITE")],
    "authenticated-read": [(AUTHENTICATED_USERS, "READ")],
    "aws-exec-read": [],
    "bucket-owner-read": [],  # and READ for the bucket owner (_BUCKET_OWNER_GRANT)
    "bucket-owner-full-control": [],  # and FULL_CONTROL for the bucket owner
    "log-delivery-write": [(LOG_DELIVERY, "WRITE"), (LOG_DELIVERY, "READ_ACP")],
}
_ACL_MEMBERS = ("ACL", "AccessControlPolicy", *_GRANT_HEADERS)
OBJECT_ACLS = frozenset(_CANNED) - {"log-delivery-write"}
BUCKET_ACLS = frozenset(
    {"private", "public-read", "public-read-write", "authenticated-read", "log-delivery-write"}
)


def _user(account_owner: dict[str, Any]) -> dict[str, Any]:
    return {"Type": "CanonicalUser", **account_owner}


def default_acl(account: str) -> dict[str, Any]:
    """What a resource nobody set an ACL on answers: the owner has full control."""
    own = owner(account)
    return {"Owner": own, "Grants": [{"Grantee": _user(own), "Permission": "FULL_CONTROL"}]}


_BUCKET_OWNER_GRANT = {"bucket-owner-read": "READ", "bucket-owner-full-control": "FULL_CONTROL"}


def canned_acl(
    name: str, account: str, allowed: frozenset[str], bucket_owner: str | None = None
) -> dict[str, Any]:
    """A canned ACL owned by ``account``; the bucket-owner-* ones also grant to ``bucket_owner``
    (when it is another account: the owner's own full control covers it otherwise)."""
    if name not in allowed:
        raise errors.invalid_argument("", "x-amz-acl", name)
    acl = default_acl(account)
    acl["Grants"] += [{"Grantee": {"Type": "Group", "URI": uri}, "Permission": p} for uri, p in _CANNED[name]]
    if name in _BUCKET_OWNER_GRANT and bucket_owner is not None and bucket_owner != account:
        acl["Grants"].append({"Grantee": _user(owner(bucket_owner)), "Permission": _BUCKET_OWNER_GRANT[name]})
    return acl


def _grantee(text: str) -> dict[str, Any]:
    """One ``id="..."``, ``uri="..."`` or ``emailAddress="..."`` item of an x-amz-grant-* header."""
    kind, _, value = text.strip().partition("=")
    value = value.strip().strip('"')
    kind = kind.strip().lower()
    if kind == "id" and value:
        return {"Type": "CanonicalUser", "ID": value}
    if kind == "uri" and value.startswith(GROUPS):
        return {"Type": "Group", "URI": value}
    if kind == "emailaddress" and value:
        return {"Type": "AmazonCustomerByEmail", "EmailAddress": value}
    raise errors.invalid_argument("Invalid id", kind or "grant", value)


def _check_grant(grant: dict[str, Any]) -> dict[str, Any]:
    grantee, permission = grant.get("Grantee") or {}, grant.get("Permission")
    needs = {"CanonicalUser": "ID", "Group": "URI", "AmazonCustomerByEmail": "EmailAddress"}
    field = needs.get(grantee.get("Type", ""))
    if permission not in PERMISSIONS or field is None or not grantee.get(field):
        raise errors.malformed_acl()
    return {"Grantee": grantee, "Permission": permission}


def acl_from_request(
    req: dict[str, Any],
    account: str,
    allowed: frozenset[str],
    required: bool = False,
    bucket_owner: str | None = None,
) -> dict[str, Any] | None:
    """The ACL a request sets, owned by ``account``: a canned ``x-amz-acl``, ``x-amz-grant-*``
    headers, or (Put*Acl) an AccessControlPolicy body; None when it sets none (and need not).
    ``bucket_owner``: the account the bucket-owner-* canned ACLs grant to (objects)."""
    if not required and not any(req.get(m) for m in _ACL_MEMBERS):
        return None  # most writes: no ACL named
    grants = [
        {"Grantee": _grantee(item), "Permission": permission}
        for member, permission in _GRANT_HEADERS.items()
        for item in (req.get(member) or "").split(",")
        if item.strip()
    ]
    policy = req.get("AccessControlPolicy")
    given = sum(bool(x) for x in (req.get("ACL"), grants, policy))
    if given > 1:
        raise errors.invalid_request("Specifying both Canned ACLs and Header Grants is not allowed")
    if req.get("ACL"):
        return canned_acl(req["ACL"], account, allowed, bucket_owner)
    if grants:
        return {"Owner": owner(account), "Grants": grants}
    if policy:
        if not policy.get("Owner"):
            raise errors.malformed_acl()
        return {"Owner": owner(account), "Grants": [_check_grant(g) for g in policy.get("Grants") or []]}
    if required:
        raise errors.missing_security_header("x-amz-acl")
    return None


def object_acl(
    ctx: RequestContext, req: dict[str, Any], bucket: Bucket, writer: str, required: bool = False
) -> dict[str, Any] | None:
    """The ACL an object write (PutObject, CopyObject, CreateMultipartUpload; PutObjectAcl, whose
    ``writer`` is the object's owner) stores, owned as S3's ownership rules say: by the bucket owner
    when ObjectOwnership is BucketOwnerEnforced, or BucketOwnerPreferred and the request names
    bucket-owner-full-control; else by ``writer`` (ObjectWriter), whose object keeps an explicit
    ACL even when none was named (the default one names the bucket owner)."""
    ownership = object_ownership(ctx, bucket)
    preferred = ownership == PREFERRED and req.get("ACL") == "bucket-owner-full-control"
    if ownership == ENFORCED or preferred:
        writer = bucket.account
    acl = acl_from_request(req, writer, OBJECT_ACLS, required, bucket_owner=bucket.account)
    if acl is None and writer != bucket.account:
        acl = default_acl(writer)
    return acl


def owner_account(ctx: RequestContext, meta: ObjectMeta, bucket: Bucket) -> str:
    """The account owning an object (its ACL's owner; the bucket's account when it has none)."""
    owner_id = ((meta.acl or {}).get("Owner") or {}).get("ID")
    if owner_id is None:
        return bucket.account
    known = configs(ctx).accounts() | {ctx.account_id, bucket.account}
    return next((a for a in sorted(known) if canonical_id(a) == owner_id), bucket.account)


# -- copy sources --------------------------------------------------------------------------


def copy_source(value: str) -> tuple[str, str, str | None]:
    """``x-amz-copy-source`` (``[/]bucket/key[?versionId=...]``, URL-encoded): bucket, key, version."""
    path, _, query = value.partition("?")
    version = dict(parse_qsl(query)).get("versionId") if query else None
    bucket, _, key = unquote(path).lstrip("/").partition("/")
    if not bucket or not key:
        raise errors.invalid_argument(
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
            "x-amz-copy-source",
            value,
        )
    return bucket, key, version


def _seconds(value: datetime) -> int:
    return int(value.timestamp())


def check_copy_source(req: dict[str, Any], meta: ObjectMeta) -> None:
    """The ``x-amz-copy-source-if-*`` conditions; any that fails is 412 PreconditionFailed.

    As for reads, a matching If-Match overrides If-Unmodified-Since and a non-matching
    If-None-Match overrides If-Modified-Since.
    """
    if_match, if_none_match = req.get("CopySourceIfMatch"), req.get("CopySourceIfNoneMatch")
    modified = _seconds(meta.last_modified)
    if if_match is not None and not conditions.etag_matches(if_match, meta.etag):
        raise errors.precondition_failed("x-amz-copy-source-If-Match")
    since = req.get("CopySourceIfUnmodifiedSince")
    if if_match is None and since is not None and modified > _seconds(since):
        raise errors.precondition_failed("x-amz-copy-source-If-Unmodified-Since")
    if if_none_match is not None and conditions.etag_matches(if_none_match, meta.etag):
        raise errors.precondition_failed("x-amz-copy-source-If-None-Match")
    since = req.get("CopySourceIfModifiedSince")
    if if_none_match is None and since is not None and modified <= _seconds(since):
        raise errors.precondition_failed("x-amz-copy-source-If-Modified-Since")
