"""Access control lists as pure functions: who a grant names, what it allows, what a request
asks to set, and the rules S3 applies to that (ownership controls, the public access block).

Accounts and canonical users: the fleet's canonical user id of an account is
``sha256("flotilla:<account>")`` in hex (64 digits, as AWS's), its display name
``flotilla-<account>``; an ``emailAddress`` grantee ``<account>@<any domain>`` names that account.
(handlers/common.py's ``owner`` computes the same id.)

What an ACL permission allows, by IAM action (S3's "Mapping of ACL permissions and access policy
permissions"): READ on a bucket lists it, WRITE on a bucket writes and deletes objects in it,
READ on an object reads it, READ_ACP/WRITE_ACP read and write the ACL itself, FULL_CONTROL all of
these. The owner of a resource always has READ_ACP and WRITE_ACP on it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

GROUPS = "http://acs.amazonaws.com/groups/"
ALL_USERS = GROUPS + "global/AllUsers"
AUTHENTICATED_USERS = GROUPS + "global/AuthenticatedUsers"
PUBLIC_GROUPS = frozenset({ALL_USERS, AUTHENTICATED_USERS})
BUCKET, OBJECT = "bucket", "object"

# IAM action -> (the resource whose ACL decides, the permission it needs)
PERMISSION_OF: dict[str, tuple[str, str]] = {
    "s3:ListBucket": (BUCKET, "READ"),
    "s3:ListBucketVersions": (BUCKET, "READ"),
    "s3:ListBucketMultipartUploads": (BUCKET, "READ"),
    "s3:PutObject": (BUCKET, "WRITE"),
    "s3:DeleteObject": (BUCKET, "WRITE"),
    "s3:AbortMultipartUpload": (BUCKET, "WRITE"),
    "s3:ListMultipartUploadParts": (BUCKET, "WRITE"),
    "s3:GetBucketAcl": (BUCKET, "READ_ACP"),
    "s3:PutBucketAcl": (BUCKET, "WRITE_ACP"),
    "s3:GetObject": (OBJECT, "READ"),
    "s3:GetObjectVersion": (OBJECT, "READ"),
    "s3:GetObjectAcl": (OBJECT, "READ_ACP"),
    "s3:GetObjectVersionAcl": (OBJECT, "READ_ACP"),
    "s3:PutObjectAcl": (OBJECT, "WRITE_ACP"),
    "s3:PutObjectVersionAcl": (OBJECT, "WRITE_ACP"),
}
# canned ACLs that grant something to everyone (or every signed caller)
PUBLIC_CANNED = frozenset({"public-read", "public-read-write", "authenticated-read"})
# canned ACLs a bucket with ACLs disabled (BucketOwnerEnforced) still accepts
OWNER_ONLY_CANNED = frozenset({"private", "bucket-owner-full-control"})
_GRANT_HEADERS = {
    "GrantFullControl": "FULL_CONTROL",
    "GrantRead": "READ",
    "GrantReadACP": "READ_ACP",
    "GrantWrite": "WRITE",
    "GrantWriteACP": "WRITE_ACP",
}
ACL_MEMBERS = ("ACL", "AccessControlPolicy", *_GRANT_HEADERS)
_EMAIL_ACCOUNT = re.compile(r"(\d{12})@.+")


@lru_cache(maxsize=1024)
def canonical_id(account: str) -> str:
    return hashlib.sha256(f"flotilla:{account}".encode()).hexdigest()


def email_account(email: str) -> str | None:
    """The account an ``emailAddress`` grantee names (``<12 digits>@...``), or None."""
    found = _EMAIL_ACCOUNT.fullmatch(email.strip())
    return found.group(1) if found else None


@dataclass(frozen=True)
class Caller:
    """Who asks: an account (None: anonymous)."""

    account: str | None

    @property
    def id(self) -> str | None:
        return canonical_id(self.account) if self.account is not None else None


def grantee_matches(grantee: dict[str, Any], caller: Caller, *, ignore_public: bool = False) -> bool:
    kind = grantee.get("Type")
    if kind == "Group":
        uri = grantee.get("URI")
        if ignore_public and uri in PUBLIC_GROUPS:
            return False
        return uri == ALL_USERS or (uri == AUTHENTICATED_USERS and caller.account is not None)
    if caller.account is None:
        return False
    if kind == "CanonicalUser":
        return grantee.get("ID") == caller.id
    if kind == "AmazonCustomerByEmail":
        return email_account(grantee.get("EmailAddress") or "") == caller.account
    return False


def allows(
    acl: dict[str, Any] | None, owner: str, caller: Caller, permission: str, *, ignore_public: bool = False
) -> bool:
    """Whether ``acl`` (None: the default, the owner's full control) of a resource ``owner`` owns
    gives ``caller`` ``permission``."""
    owner_id = ((acl or {}).get("Owner") or {}).get("ID") or canonical_id(owner)
    if caller.id == owner_id and permission in ("READ_ACP", "WRITE_ACP"):
        return True
    if acl is None:
        return caller.id == owner_id
    return any(
        grant.get("Permission") in (permission, "FULL_CONTROL")
        and grantee_matches(grant.get("Grantee") or {}, caller, ignore_public=ignore_public)
        for grant in acl.get("Grants") or []
    )


def owner_of(acl: dict[str, Any] | None, default: str) -> str:
    """The canonical id owning a resource with this ACL (None: its default owner's)."""
    return ((acl or {}).get("Owner") or {}).get("ID") or canonical_id(default)


# -- what a request asks to set ------------------------------------------------------------------


@dataclass(frozen=True)
class Requested:
    """An ACL a request sets: a canned name, or grants ((grantee, permission) pairs)."""

    canned: str | None
    grants: tuple[tuple[dict[str, Any], str], ...]

    def is_public(self) -> bool:
        if self.canned is not None:
            return self.canned in PUBLIC_CANNED
        return any(g.get("Type") == "Group" and g.get("URI") in PUBLIC_GROUPS for g, _ in self.grants)

    def owner_only(self, owner_id: str) -> bool:
        """Nothing beyond the bucket owner's full control (what BucketOwnerEnforced accepts)."""
        if self.canned is not None:
            return self.canned in OWNER_ONLY_CANNED
        return all(g.get("Type") == "CanonicalUser" and g.get("ID") == owner_id for g, _ in self.grants)


def requested(params: dict[str, Any]) -> Requested | None:
    """The ACL the request's members set (canned, ``x-amz-grant-*`` headers or an
    AccessControlPolicy body), or None; malformed input is left to the handler to refuse."""
    if not any(params.get(m) for m in ACL_MEMBERS):
        return None
    if params.get("ACL"):
        return Requested(str(params["ACL"]), ())
    grants = [
        (grantee, permission)
        for member, permission in _GRANT_HEADERS.items()
        for item in (params.get(member) or "").split(",")
        if item.strip() and (grantee := _grantee(item)) is not None
    ]
    for grant in (params.get("AccessControlPolicy") or {}).get("Grants") or []:
        if isinstance(grant, dict) and isinstance(grant.get("Grantee"), dict):
            grants.append((grant["Grantee"], str(grant.get("Permission"))))
    return Requested(None, tuple(grants))


def _grantee(text: str) -> dict[str, Any] | None:
    """One ``id="..."``, ``uri="..."`` or ``emailAddress="..."`` item of an x-amz-grant-* header."""
    kind, _, value = text.strip().partition("=")
    value = value.strip().strip('"')
    field = {
        "id": ("CanonicalUser", "ID"),
        "uri": ("Group", "URI"),
        "emailaddress": ("AmazonCustomerByEmail",),
    }
    found = field.get(kind.strip().lower())
    if found is None:
        return None
    if len(found) == 1:
        return {"Type": found[0], "EmailAddress": value}
    return {"Type": found[0], found[1]: value}
