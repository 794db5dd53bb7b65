"""ACL evaluation (services/s3/acls.py) as pure functions: grantees, permissions, the owner's
implicit ACP rights, IgnorePublicAcls, and what a request asks to set."""

from __future__ import annotations

from typing import Any

import pytest

from services.s3 import acls
from services.s3.acls import ALL_USERS, AUTHENTICATED_USERS, Caller, canonical_id

OWNER, OTHER, THIRD = "000000000000", "111111111111", "222222222222"


def acl(*grants: tuple[dict[str, Any], str], owner: str = OWNER) -> dict[str, Any]:
    own = {"ID": canonical_id(owner)}
    full = ({"Type": "CanonicalUser", **own}, "FULL_CONTROL")
    return {"Owner": own, "Grants": [{"Grantee": g, "Permission": p} for g, p in (full, *grants)]}


def group(uri: str) -> dict[str, Any]:
    return {"Type": "Group", "URI": uri}


def user(account: str) -> dict[str, Any]:
    return {"Type": "CanonicalUser", "ID": canonical_id(account)}


def test_canonical_ids_match_the_handlers_owner() -> None:
    from services.s3.handlers.common import owner

    assert canonical_id(OTHER) == owner(OTHER)["ID"]
    assert len(canonical_id(OTHER)) == 64


@pytest.mark.parametrize(
    ("grant", "caller", "permission", "allowed"),
    [
        ((group(ALL_USERS), "READ"), None, "READ", True),
        ((group(ALL_USERS), "READ"), OTHER, "READ", True),
        ((group(ALL_USERS), "READ"), OTHER, "WRITE", False),
        ((group(AUTHENTICATED_USERS), "READ"), None, "READ", False),
        ((group(AUTHENTICATED_USERS), "READ"), OTHER, "READ", True),
        ((user(OTHER), "FULL_CONTROL"), OTHER, "WRITE_ACP", True),
        ((user(OTHER), "READ"), THIRD, "READ", False),
        (
            ({"Type": "AmazonCustomerByEmail", "EmailAddress": f"{OTHER}@example.com"}, "READ"),
            OTHER,
            "READ",
            True,
        ),
    ],
)
def test_grants(
    grant: tuple[dict[str, Any], str], caller: str | None, permission: str, allowed: bool
) -> None:
    assert acls.allows(acl(grant), OWNER, Caller(caller), permission) is allowed


def test_default_acl_and_owner_rights() -> None:
    assert acls.allows(None, OWNER, Caller(OWNER), "READ")
    assert not acls.allows(None, OWNER, Caller(OTHER), "READ")
    mine = {"Owner": {"ID": canonical_id(OTHER)}, "Grants": []}  # an owner keeps READ_ACP/WRITE_ACP
    assert acls.allows(mine, OWNER, Caller(OTHER), "WRITE_ACP")
    assert not acls.allows(mine, OWNER, Caller(OTHER), "READ")


def test_ignore_public_acls() -> None:
    public = acl((group(ALL_USERS), "READ"), (user(OTHER), "READ"))
    assert not acls.allows(public, OWNER, Caller(None), "READ", ignore_public=True)
    assert acls.allows(public, OWNER, Caller(OTHER), "READ", ignore_public=True)  # not a public grant


def test_requested_acls() -> None:
    assert acls.requested({"Bucket": "b"}) is None
    canned = acls.requested({"ACL": "public-read"})
    assert canned is not None and canned.is_public() and not canned.owner_only(canonical_id(OWNER))
    private = acls.requested({"ACL": "bucket-owner-full-control"})
    assert private is not None and private.owner_only(canonical_id(OWNER)) and not private.is_public()
    grants = acls.requested({"GrantRead": f'uri="{AUTHENTICATED_USERS}", id="{canonical_id(OTHER)}"'})
    assert grants is not None and grants.is_public() and len(grants.grants) == 2
    body = {
        "AccessControlPolicy": {
            "Owner": {},
            "Grants": [{"Grantee": user(OWNER), "Permission": "FULL_CONTROL"}],
        }
    }
    found = acls.requested(body)
    assert found is not None and found.owner_only(canonical_id(OWNER)) and not found.owner_only("x")


def test_email_accounts() -> None:
    assert acls.email_account("111111111111@example.com") == OTHER
    assert acls.email_account("someone@example.com") is None
