"""Who may do what: bucket policies, ACLs, ownership controls and the public access block,
applied as S3 applies them.

``authorize`` is the S3 app's ``ServiceSpec.authorize`` hook (see shared/app.py): it runs after
parsing and before every modelled S3 operation, and raises ``AwsError`` to refuse. It decides

- **always**: a signed request of an account that does not own the bucket (**cross-account**)
  needs an Allow: from the bucket policy (a matching Allow statement for its account or everyone,
  and no matching Deny) or from an ACL grant (bucket READ lists, bucket WRITE writes and deletes
  objects, object READ reads, READ_ACP/WRITE_ACP the ACLs; grants to its canonical id, its
  e-mail, AuthenticatedUsers or AllUsers); bucket policy operations are the owner's only;
  ``x-amz-expected-bucket-owner`` (and ``...-source-...``) must name the bucket's account; ACLs a
  request sets are checked (unknown grantees, ``BucketOwnerEnforced``, ``BlockPublicAcls``);
- **when enforcing** (``FLOTILLA_S3_ENFORCE_ACCESS=1`` or ``FLOTILLA_ENFORCE_SIGV4=1``):
  **anonymous** requests need an Allow for everyone from the policy (not set aside by
  ``RestrictPublicBuckets``) or an AllUsers grant; the **owner's account** is refused only by a
  matching Deny, and may always read, change and delete the policy itself;
- without enforcement, anonymous and same-account requests are served as they always were.

ACLs count only when the bucket's ObjectOwnership is not ``BucketOwnerEnforced``; public grants
(AllUsers, AuthenticatedUsers) not when the public access block has ``IgnorePublicAcls``. The
pure parts live in policy.py (statements, conditions) and acls.py (grants); this module gathers
the facts a decision needs (the bucket, its configurations, the object's ACL) and applies them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from shared.aws.errors import AwsError
from shared.context import RequestContext
from shared.settings import Settings

from . import acls
from . import bucket_config as bc
from .policy import ALLOW, ANONYMOUS, ARN, DENY, Request, evaluate, is_public
from .storage import Bucket, ObjectMeta, is_version_id

# operation -> IAM action where the action is not "s3:" + the operation's name
ACTIONS = {
    "HeadObject": "s3:GetObject",
    "GetObjectAttributes": "s3:GetObject",
    "HeadBucket": "s3:ListBucket",
    "ListObjects": "s3:ListBucket",
    "ListObjectsV2": "s3:ListBucket",
    "ListObjectVersions": "s3:ListBucketVersions",
    "ListMultipartUploads": "s3:ListBucketMultipartUploads",
    "ListParts": "s3:ListMultipartUploadParts",
    "ListBuckets": "s3:ListAllMyBuckets",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "UploadPartCopy": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "CopyObject": "s3:PutObject",
    "DeleteObjects": "s3:DeleteObject",
    "RestoreObject": "s3:RestoreObject",
    "GetBucketCors": "s3:GetBucketCORS",
    "PutBucketCors": "s3:PutBucketCORS",
    "DeleteBucketCors": "s3:PutBucketCORS",
    "GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "s3:PutLifecycleConfiguration",
    "DeleteBucketLifecycle": "s3:PutLifecycleConfiguration",
    "GetBucketEncryption": "s3:GetEncryptionConfiguration",
    "PutBucketEncryption": "s3:PutEncryptionConfiguration",
    "DeleteBucketEncryption": "s3:PutEncryptionConfiguration",
    "GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "GetBucketNotificationConfiguration": "s3:GetBucketNotification",
    "PutBucketNotificationConfiguration": "s3:PutBucketNotification",
    "DeleteBucketTagging": "s3:PutBucketTagging",
    "DeleteBucketWebsite": "s3:DeleteBucketWebsite",
    "GetBucketReplication": "s3:GetReplicationConfiguration",
    "PutBucketReplication": "s3:PutReplicationConfiguration",
    "DeleteBucketReplication": "s3:PutReplicationConfiguration",
    "GetBucketAccelerateConfiguration": "s3:GetAccelerateConfiguration",
    "PutBucketAccelerateConfiguration": "s3:PutAccelerateConfiguration",
    "GetObjectLockConfiguration": "s3:GetBucketObjectLockConfiguration",
    "PutObjectLockConfiguration": "s3:PutBucketObjectLockConfiguration",
    "DeleteBucketOwnershipControls": "s3:PutBucketOwnershipControls",
    "GetBucketRequestPayment": "s3:GetBucketRequestPayment",
    "GetBucketLogging": "s3:GetBucketLogging",
    "PutBucketLogging": "s3:PutBucketLogging",
}
# version-specific forms of object actions (a request naming a versionId)
VERSIONED = {
    "s3:GetObject": "s3:GetObjectVersion",
    "s3:DeleteObject": "s3:DeleteObjectVersion",
    "s3:GetObjectTagging": "s3:GetObjectVersionTagging",
    "s3:PutObjectTagging": "s3:PutObjectVersionTagging",
    "s3:DeleteObjectTagging": "s3:DeleteObjectVersionTagging",
    "s3:GetObjectAcl": "s3:GetObjectVersionAcl",
    "s3:PutObjectAcl": "s3:PutObjectVersionAcl",
}
POLICY_OPERATIONS = frozenset(
    {"GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy", "GetBucketPolicyStatus"}
)
# operations that judge the bucket's owner themselves (CreateBucket: BucketAlreadyExists)
UNJUDGED = frozenset({"CreateBucket", "ListBuckets"})
# operations that may set an ACL, and so are checked against ownership controls and the block
ACL_WRITES = frozenset({"PutObject", "CopyObject", "CreateMultipartUpload", "PutObjectAcl", "PutBucketAcl"})
OBJECT_WRITES = frozenset({"PutObject", "CopyObject", "CreateMultipartUpload"})
GRANTED = "cross_account_granted"  # ctx.extra: another account's request was allowed (by policy or ACL)
DENIED_DELETES = "denied_deletes"  # ctx.extra: the (key, version id) pairs a DeleteObjects may not delete


def access_denied() -> AwsError:
    return AwsError("AccessDenied", "Access Denied", 403)


def enforcing(settings: Settings) -> bool:
    """Whether policies restrict anonymous and same-account requests (see the module's doc)."""
    flag = (settings.extra.get("enforce_access") or "").strip().lower()
    return settings.enforce_sigv4 or flag in {"1", "true", "yes", "on"}


@dataclass
class Target:
    """One thing a request needs allowed: an action on a bucket or one of its objects."""

    bucket: str | None
    key: str | None
    version: str | None
    action: str


_BUCKETS = "access_buckets"  # ctx.extra: the buckets this request's checks looked up, by name


def bucket_named(ctx: RequestContext, name: str | None) -> Bucket | None:
    """The bucket ``name`` (None: none), looked up once per request however many checks ask."""
    if not name:
        return None
    seen: dict[str, Bucket | None] = ctx.extra.setdefault(_BUCKETS, {})
    if name not in seen:
        seen[name] = ctx.state.bucket(name)
    return seen[name]


# -- the hook ------------------------------------------------------------------------------------


def authorize(ctx: RequestContext, operation: str, params: dict[str, Any], settings: Settings) -> None:
    """Raise AccessDenied (or the ACL errors S3 answers) unless the request may go on."""
    account = ANONYMOUS if ctx.access_key is None else ctx.account_id
    if account is not ANONYMOUS:
        bc.configs(ctx).note_account(account)
    _check_expected_owners(ctx, params)
    if operation == "PutBucketPolicy":
        _check_block_public_policy(ctx, params)
    enforce = enforcing(settings)
    if operation == "DeleteObjects":
        _authorize_deletes(ctx, params, account, enforce)
    elif operation in UNJUDGED:
        if account is ANONYMOUS and enforce:
            raise access_denied()  # no bucket, no policy: nothing is public
    else:
        for target in targets_of(operation, params):
            _judge(ctx, operation, params, target, account, enforce)
    _check_acl_request(ctx, operation, params)


def _judge(
    ctx: RequestContext,
    operation: str,
    params: dict[str, Any],
    target: Target,
    account: str | None,
    enforce: bool,
) -> None:
    bucket = bucket_named(ctx, target.bucket)
    if bucket is None:  # no bucket to hold a policy: the handler answers NoSuchBucket or acts
        if account is ANONYMOUS and enforce:
            raise access_denied()
        return
    own = account is not ANONYMOUS and account == bucket.account
    if (own or account is ANONYMOUS) and not enforce:
        return  # served as always (see the module's doc)
    if operation in POLICY_OPERATIONS:
        if own:
            return  # the owner can always repair its policy
        raise access_denied()  # S3: only the bucket owner's account may use these
    if not permitted(ctx, params, bucket, target, account):
        raise access_denied()
    if not own:
        ctx.extra[GRANTED] = True


def permitted(
    ctx: RequestContext, params: dict[str, Any], bucket: Bucket, target: Target, account: str | None
) -> bool:
    """Gathers what ``decide`` needs: the policy, the block, the request's condition keys, and
    (only when asked) what the ACLs grant."""
    policy = bc.bucket_config(ctx, bucket, "policy")
    block = bc.bucket_config(ctx, bucket, "public-access-block") or {}
    request = Request(account, target.action, resource_arn(target.bucket, target.key))
    if policy:
        request.keys = _context(ctx, params, account, bucket, target, policy)
    return decide(
        request, bucket.account, policy, block, lambda: acl_permits(ctx, bucket, target, account, block)
    )


def decide(
    request: Request, owner: str, policy: str | None, block: dict[str, Any], acl_grants: Callable[[], bool]
) -> bool:
    """IAM's order for a resource policy: an explicit Deny wins; the owner's account needs nothing
    more; anyone else needs an Allow from the policy (not from a public policy the bucket's
    ``RestrictPublicBuckets`` sets aside) or from an ACL (``acl_grants``, asked last)."""
    verdict = evaluate(policy, request)
    if verdict == DENY:
        return False
    if request.account is not ANONYMOUS and request.account == owner:
        return True
    restricted = bool(block.get("RestrictPublicBuckets") and policy and is_public(policy))
    if verdict == ALLOW and not restricted:
        return True
    return acl_grants()


def acl_permits(
    ctx: RequestContext, bucket: Bucket, target: Target, account: str | None, block: dict[str, Any]
) -> bool:
    """Whether the bucket's or the object's ACL grants the action (never when ACLs are disabled)."""
    needs = acls.PERMISSION_OF.get(target.action)
    if needs is None or bc.object_ownership(ctx, bucket) == bc.ENFORCED:
        return False
    resource, permission = needs
    caller = acls.Caller(account)
    ignore = bool(block.get("IgnorePublicAcls"))
    if resource == acls.BUCKET:
        return acls.allows(bucket.acl, bucket.account, caller, permission, ignore_public=ignore)
    meta = _object(ctx, bucket, target)
    if meta is None:  # nothing to read: who may list the bucket learns it is missing (404)
        return acls.allows(bucket.acl, bucket.account, caller, "READ", ignore_public=ignore)
    return acls.allows(meta.acl, bucket.account, caller, permission, ignore_public=ignore)


def _object(ctx: RequestContext, bucket: Bucket, target: Target) -> ObjectMeta | None:
    if target.key is None:
        return None
    if target.version is None:
        return ctx.state.object(bucket.name, target.key)
    if not is_version_id(target.version):
        return None
    return ctx.state.version(bucket.name, target.key, target.version)


def _authorize_deletes(
    ctx: RequestContext, params: dict[str, Any], account: str | None, enforce: bool
) -> None:
    """DeleteObjects is judged key by key, as S3 does: a denied key is an ``AccessDenied`` entry of
    the result (the handler reads ``ctx.extra[DENIED_DELETES]``), the others are deleted."""
    bucket = bucket_named(ctx, params.get("Bucket"))
    if bucket is None:
        if account is ANONYMOUS and enforce:
            raise access_denied()
        return
    own = account is not ANONYMOUS and account == bucket.account
    if (own or account is ANONYMOUS) and not enforce:
        return
    objects = (params.get("Delete") or {}).get("Objects", [])
    targets = targets_of("DeleteObjects", params)
    ctx.extra[DENIED_DELETES] = {
        (obj.get("Key"), obj.get("VersionId"))
        for obj, target in zip(objects, targets, strict=True)
        if not permitted(ctx, params, bucket, target, account)
    }


def targets_of(operation: str, params: dict[str, Any]) -> Iterator[Target]:
    """What an operation needs allowed: one target, or one per key of a DeleteObjects, plus
    reading the source of a copy."""
    action = action_of(operation, params)
    bucket = params.get("Bucket")
    if operation == "DeleteObjects":
        for obj in (params.get("Delete") or {}).get("Objects", []):
            version = obj.get("VersionId")
            yield Target(bucket, obj.get("Key"), version, VERSIONED[action] if version else action)
        return
    yield Target(bucket, params.get("Key"), params.get("VersionId"), action)
    if operation in ("CopyObject", "UploadPartCopy") and params.get("CopySource"):
        source_bucket, source_key, version = copy_source(params["CopySource"])
        yield Target(source_bucket, source_key, version, "s3:GetObjectVersion" if version else "s3:GetObject")


def action_of(operation: str, params: dict[str, Any]) -> str:
    action = ACTIONS.get(operation, f"s3:{operation}")
    if params.get("VersionId"):
        return VERSIONED.get(action, action)
    return action


def resource_arn(bucket: str | None, key: str | None) -> str:
    if bucket is None:
        return "*"
    return f"{ARN}{bucket}" if key is None else f"{ARN}{bucket}/{key}"


def copy_source(source: str) -> tuple[str, str, str | None]:
    path, _, query = source.partition("?")
    bucket, _, key = unquote(path).lstrip("/").partition("/")
    version = dict(parse_qsl(query)).get("versionId") if query else None
    return bucket, key, version


# -- rules on the request itself -----------------------------------------------------------------


def _check_expected_owners(ctx: RequestContext, params: dict[str, Any]) -> None:
    """``x-amz-expected-bucket-owner`` / ``x-amz-source-expected-bucket-owner``: 403 when the
    bucket exists and another account owns it (a missing bucket is the handler's NoSuchBucket)."""
    checks = [(params.get("Bucket"), params.get("ExpectedBucketOwner"))]
    if params.get("ExpectedSourceBucketOwner") and params.get("CopySource"):
        checks.append((copy_source(params["CopySource"])[0], params["ExpectedSourceBucketOwner"]))
    for name, expected in checks:
        if not expected or not name:
            continue
        bucket = bucket_named(ctx, name)
        if bucket is not None and bucket.account != str(expected):
            raise access_denied()


def _check_block_public_policy(ctx: RequestContext, params: dict[str, Any]) -> None:
    bucket = bucket_named(ctx, params.get("Bucket"))
    if bucket is None or bucket.account != ctx.account_id:
        return  # the handler answers NoSuchBucket / AccessDenied
    try:
        bc.check_policy(params["Policy"], bucket.name)
    except AwsError:
        return  # the handler answers MalformedPolicy
    block = bc.bucket_config(ctx, bucket, "public-access-block") or {}
    if block.get("BlockPublicPolicy") and is_public(params["Policy"]):
        raise access_denied()


def acl_not_supported() -> AwsError:
    return AwsError("AccessControlListNotSupported", "The bucket does not allow ACLs", 400)


def invalid_bucket_acl() -> AwsError:
    return AwsError(
        "InvalidBucketAclWithObjectOwnership",
        "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
        400,
    )


def _check_acl_request(ctx: RequestContext, operation: str, params: dict[str, Any]) -> None:
    """An ACL a request sets: every grantee must be an account S3 knows; a bucket with ACLs
    disabled takes only the owner's full control; ``BlockPublicAcls`` refuses public grants."""
    if operation not in ACL_WRITES and operation != "CreateBucket":
        return
    wanted = acls.requested(params)
    if wanted is None:
        return
    _check_grantees(ctx, wanted)
    if operation == "CreateBucket":
        if (params.get("ObjectOwnership") or bc.ENFORCED) == bc.ENFORCED and not wanted.owner_only(
            acls.canonical_id(ctx.account_id)
        ):
            raise invalid_bucket_acl()
        return
    bucket = bucket_named(ctx, params.get("Bucket"))
    if bucket is None:
        return
    if bc.object_ownership(ctx, bucket) == bc.ENFORCED and not wanted.owner_only(
        acls.canonical_id(bucket.account)
    ):
        raise acl_not_supported()
    block = bc.bucket_config(ctx, bucket, "public-access-block") or {}
    if block.get("BlockPublicAcls") and wanted.is_public():
        raise access_denied()


def _check_grantees(ctx: RequestContext, wanted: acls.Requested) -> None:
    known: set[str] | None = None
    for grantee, _ in wanted.grants:
        kind = grantee.get("Type")
        if kind == "CanonicalUser":
            if known is None:
                known = {acls.canonical_id(a) for a in bc.configs(ctx).accounts() | {ctx.account_id}}
            if grantee.get("ID") not in known:
                raise AwsError(
                    "InvalidArgument",
                    "Invalid id",
                    400,
                    fields={"ArgumentName": "CanonicalUser/ID", "ArgumentValue": str(grantee.get("ID"))},
                )
        elif (
            kind == "AmazonCustomerByEmail" and acls.email_account(grantee.get("EmailAddress") or "") is None
        ):
            raise AwsError(
                "UnresolvableGrantByEmailAddress",
                "The e-mail address you provided does not match any account on record.",
                400,
                fields={"EmailAddress": str(grantee.get("EmailAddress"))},
            )


# -- condition keys ------------------------------------------------------------------------------


def _context(
    ctx: RequestContext,
    params: dict[str, Any],
    account: str | None,
    bucket: Bucket,
    target: Target,
    policy: str,
) -> dict[str, list[str]]:
    """The condition keys a request carries (IAM's global keys we know, and S3's own)."""
    headers = ctx.request.headers if ctx.request is not None else None
    forwarded = (headers.get("x-forwarded-for") or "") if headers is not None else ""
    proto = (headers.get("x-forwarded-proto") or "http") if headers is not None else "http"
    now = datetime.now(UTC)
    keys: dict[str, list[str]] = {
        "aws:securetransport": [str(proto == "https").lower()],
        "aws:sourceip": [forwarded.split(",")[0].strip() or "127.0.0.1"],
        "aws:principaltype": ["Anonymous" if account is ANONYMOUS else "Account"],
        "aws:currenttime": [now.strftime("%Y-%m-%dT%H:%M:%SZ")],
        "aws:epochtime": [str(int(now.timestamp()))],
        "s3:resourceaccount": [bucket.account],
    }
    if account is not ANONYMOUS:
        keys["aws:principalaccount"] = [account]
        keys["aws:username"] = [ctx.access_key or ""]
    for header in ("referer", "user-agent"):
        value = headers.get(header) if headers is not None else None
        if value:
            keys[f"aws:{header.replace('-', '')}"] = [value]
    for member, key in (
        ("Prefix", "s3:prefix"),
        ("Delimiter", "s3:delimiter"),
        ("MaxKeys", "s3:max-keys"),
        ("ACL", "s3:x-amz-acl"),
        ("ServerSideEncryption", "s3:x-amz-server-side-encryption"),
        ("SSEKMSKeyId", "s3:x-amz-server-side-encryption-aws-kms-key-id"),
        ("StorageClass", "s3:x-amz-storage-class"),
        ("MetadataDirective", "s3:x-amz-metadata-directive"),
        ("CopySource", "s3:x-amz-copy-source"),
        ("ObjectLockMode", "s3:object-lock-mode"),
    ):
        if params.get(member) is not None:
            keys[key] = [str(params[member])]
    if target.version:
        keys["s3:versionid"] = [target.version]
    keys.update(_request_tags(params))
    if "existingobjecttag" in policy.lower():
        meta = _object(ctx, bucket, target)
        for name, value in (meta.tags if meta is not None else {}).items():
            keys[f"s3:existingobjecttag/{name.lower()}"] = [value]
    return keys


def _request_tags(params: dict[str, Any]) -> dict[str, list[str]]:
    """``s3:RequestObjectTag/<key>`` and ``s3:RequestObjectTagKeys``: the tags a write sets (the
    ``x-amz-tagging`` header, or PutObjectTagging's TagSet)."""
    tagging = params.get("Tagging")
    if isinstance(tagging, str):
        pairs = parse_qsl(tagging, keep_blank_values=True)
    elif isinstance(tagging, dict):
        pairs = [(t.get("Key", ""), t.get("Value", "")) for t in tagging.get("TagSet") or []]
    else:
        return {}
    keys = {f"s3:requestobjecttag/{k.lower()}": [v] for k, v in pairs}
    if pairs:
        keys["s3:requestobjecttagkeys"] = [k for k, _ in pairs]
    return keys
