"""Bucket configurations (policy, CORS, lifecycle, notification ...): stored, checked, read back.

Each configuration is kept as the parsed input of its Put operation (a dict shaped as the
botocore shape, or the policy text), so a Get returns exactly what was put. They live in their
own SQLite file, ``config.db`` next to the object store's ``s3.db``, with their own connection:
the object store is another module's, and configuration writes are rare and small.

A row remembers the creation time of the bucket it belongs to. A bucket that was deleted and
created again has another creation time, so the rows of its predecessor are ignored (and
dropped when next seen) without the object store having to tell this module about deletions.
A row whose value is ``null`` records a configuration that was deleted where S3 would
otherwise answer a default (ownership controls).
"""

from __future__ import annotations

import base64
import json
import sqlite3
import weakref
from datetime import datetime
from pathlib import Path
from typing import Any

from shared.aws.errors import AwsError
from shared.context import RequestContext

from . import errors, policy
from .storage import Bucket, S3Store

_SCHEMA = """
CREATE TABLE IF NOT EXISTS configs (
    bucket  TEXT NOT NULL,
    kind    TEXT NOT NULL,
    created TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (bucket, kind)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS accounts (
    account TEXT PRIMARY KEY
) WITHOUT ROWID;
"""


class _Missing:
    """No row: the bucket never had this configuration (a default may apply)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class BucketConfigs:
    """Per-bucket configuration documents in ``<root>/config.db``."""

    def __init__(self, root: Path) -> None:
        self._db = sqlite3.connect(
            str(Path(root) / "config.db"), isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._accounts: set[str] = set()

    def get(self, bucket: Bucket, kind: str) -> Any:
        """The stored value (``None`` for a deleted default), or MISSING."""
        row = self._db.execute(
            "SELECT created, value FROM configs WHERE bucket = ? AND kind = ?", (bucket.name, kind)
        ).fetchone()
        if row is None:
            return MISSING
        if row[0] != bucket.created.isoformat():
            self._db.execute("DELETE FROM configs WHERE bucket = ? AND created = ?", (bucket.name, row[0]))
            return MISSING
        return loads(row[1])

    def put(self, bucket: Bucket, kind: str, value: Any) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO configs (bucket, kind, created, value) VALUES (?, ?, ?, ?)",
            (bucket.name, kind, bucket.created.isoformat(), dumps(value)),
        )

    def delete(self, bucket: Bucket, kind: str) -> None:
        self._db.execute("DELETE FROM configs WHERE bucket = ? AND kind = ?", (bucket.name, kind))

    def note_account(self, account: str) -> None:
        """Remember an account that made a signed request: ACL grants may name it (by its canonical
        id or e-mail) from then on. Cheap after the first time (a set lookup)."""
        if account not in self._accounts:
            self._db.execute("INSERT OR IGNORE INTO accounts (account) VALUES (?)", (account,))
            self._accounts.add(account)

    def accounts(self) -> set[str]:
        """Every account S3 has seen a signed request from (kept across restarts with persistence)."""
        self._accounts.update(row[0] for row in self._db.execute("SELECT account FROM accounts"))
        return set(self._accounts)

    def close(self) -> None:
        self._db.close()


_by_store: weakref.WeakKeyDictionary[S3Store, BucketConfigs] = weakref.WeakKeyDictionary()


def configs(ctx: RequestContext) -> BucketConfigs:
    """The configuration store next to the request's object store, opened on first use.

    Keyed by the S3Store object rather than its path: an app that starts again on the same
    (wiped) directory gets a fresh store, never a connection to a deleted file.
    """
    store: S3Store = ctx.state
    found = _by_store.get(store)
    if found is None:
        found = _by_store[store] = BucketConfigs(store.root)
        weakref.finalize(store, found.close)
    return found


# -- reads for other modules (object handlers, CORS, versioning) -------------------------------


def bucket_config(ctx: RequestContext, bucket: Bucket, kind: str) -> Any:
    """A bucket's stored configuration of one kind, or None (a deleted default is None too)."""
    value = configs(ctx).get(bucket, kind)
    return None if value is MISSING else value


def versioning_status(ctx: RequestContext, bucket: Bucket) -> str | None:
    """``Enabled``, ``Suspended``, or None for a bucket that was never versioned."""
    return (bucket_config(ctx, bucket, "versioning") or {}).get("Status")


# -- a JSON form that keeps datetimes and bytes -------------------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, bytes):
        return {"$b64": base64.b64encode(value).decode()}
    raise TypeError(f"cannot store {type(value).__name__}")


def _decode(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        if "$dt" in obj:
            return datetime.fromisoformat(obj["$dt"])
        if "$b64" in obj:
            return base64.b64decode(obj["$b64"])
    return obj


def dumps(value: Any) -> str:
    return json.dumps(value, default=_encode, separators=(",", ":"))


def loads(text: str) -> Any:
    return json.loads(text, object_hook=_decode)


# -- errors -------------------------------------------------------------------------------------


def not_found(code: str, message: str, bucket: str) -> AwsError:
    return AwsError(code, message, 404, fields={"BucketName": bucket})


def malformed_xml() -> AwsError:
    return AwsError(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
        400,
    )


def invalid_request(message: str) -> AwsError:
    return AwsError("InvalidRequest", message, 400)


def access_denied() -> AwsError:
    return AwsError("AccessDenied", "Access Denied", 403)


def malformed_policy(message: str) -> AwsError:
    return AwsError("MalformedPolicy", message, 400)


def invalid_tag(message: str, key: str) -> AwsError:
    return AwsError("InvalidTag", message, 400, fields={"TagKey": key})


# -- rules: what S3 rejects on Put (each raises the AwsError S3 answers) ------------------------

SSE_ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")
CORS_METHODS = ("GET", "PUT", "POST", "DELETE", "HEAD")
MAX_TAGS = 50
MAX_RULE_ID = 255


def _one_of(value: Any, allowed: tuple[str, ...] | list[str], optional: bool = False) -> None:
    """S3 answers MalformedXML for a value outside an enum (its XML schema rejects it)."""
    if value is None and optional:
        return
    if value not in allowed:
        raise malformed_xml()


def check_policy(text: str, bucket: str | None = None) -> None:
    """S3's checks at PutBucketPolicy (policy.check); without a bucket, resources are not checked."""
    policy.check(text, bucket)


def policy_is_public(text: str) -> bool:
    """S3's rule of thumb: an unconditioned Allow to every principal makes the bucket public."""
    return policy.is_public(text)


def check_tags(tags: list[dict[str, str]]) -> None:
    if len(tags) > MAX_TAGS:
        raise AwsError("InvalidTag", f"Bucket tag count cannot be greater than {MAX_TAGS}", 400)
    seen: set[str] = set()
    for tag in tags:
        key, value = tag["Key"], tag["Value"]
        if key in seen:
            raise invalid_tag("Cannot provide multiple Tags with the same key", key)
        seen.add(key)
        if not key or len(key) > 128:
            raise invalid_tag("The TagKey you have provided is invalid", key)
        if len(value) > 256:
            raise invalid_tag("The TagValue you have provided is invalid", key)
        if key.lower().startswith("aws:"):
            raise invalid_tag("System tags cannot be added/updated by requester", key)


def check_cors(rules: list[dict[str, Any]]) -> None:
    if not rules or len(rules) > 100:
        raise malformed_xml()
    for rule in rules:
        if len(rule.get("ID") or "") > MAX_RULE_ID:
            raise invalid_request("ID length should not exceed allowed limit of 255")
        for method in rule["AllowedMethods"]:
            if method not in CORS_METHODS:
                raise invalid_request(
                    f"Found unsupported HTTP method in CORS config. Unsupported method is {method}"
                )
        for origin in rule["AllowedOrigins"]:
            if origin.count("*") > 1:
                raise invalid_request(f'AllowedOrigin "{origin}" can not have more than one wildcard.')


_LIFECYCLE_ACTIONS = (
    "Expiration",
    "Transitions",
    "NoncurrentVersionExpiration",
    "NoncurrentVersionTransitions",
    "AbortIncompleteMultipartUpload",
)


def check_lifecycle(rules: list[dict[str, Any]]) -> None:
    if not rules or len(rules) > 1000:
        raise malformed_xml()
    ids = [rule["ID"] for rule in rules if rule.get("ID")]
    if len(ids) != len(set(ids)):
        raise errors.invalid_argument(
            "Rule ID must be unique. Found same ID for more than one rule", "ID", ids[0]
        )
    for rule in rules:
        _check_lifecycle_rule(rule)


def _check_lifecycle_rule(rule: dict[str, Any]) -> None:
    _one_of(rule.get("Status"), ("Enabled", "Disabled"))
    if len(rule.get("ID") or "") > MAX_RULE_ID:
        raise errors.invalid_argument("ID length should not exceed allowed limit of 255", "ID", rule["ID"])
    if "Filter" in rule and "Prefix" in rule:
        raise malformed_xml()
    if not any(action in rule for action in _LIFECYCLE_ACTIONS):
        raise invalid_request("At least one action needs to be specified in a rule")
    expiration = rule.get("Expiration") or {}
    if sum(k in expiration for k in ("Days", "Date", "ExpiredObjectDeleteMarker")) > 1:
        raise malformed_xml()
    if "Days" in expiration and expiration["Days"] <= 0:
        raise errors.invalid_argument(
            "'Days' for Expiration action must be a positive integer", "Days", str(expiration["Days"])
        )
    date = expiration.get("Date")
    if date is not None and (date.hour, date.minute, date.second, date.microsecond) != (0, 0, 0, 0):
        raise errors.invalid_argument("'Date' must be at midnight GMT", "Date", date.isoformat())


def check_encryption(conf: dict[str, Any]) -> None:
    rules = conf.get("Rules") or []
    if len(rules) != 1:
        raise malformed_xml()
    default = rules[0].get("ApplyServerSideEncryptionByDefault")
    if default is None:
        return
    _one_of(default.get("SSEAlgorithm"), SSE_ALGORITHMS)
    if default.get("KMSMasterKeyID") and default["SSEAlgorithm"] == "AES256":
        raise errors.invalid_argument(
            "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse",
            "ApplyServerSideEncryptionByDefault",
            "null",
        )


def check_website(conf: dict[str, Any]) -> None:
    if "RedirectAllRequestsTo" in conf:
        if len(conf) > 1:
            raise errors.invalid_argument(
                "RedirectAllRequestsTo cannot be provided in conjunction with other Routing/Redirect "
                "configurations.",
                "RedirectAllRequestsTo",
                "not null",
            )
        return
    suffix = (conf.get("IndexDocument") or {}).get("Suffix")
    if suffix is None:
        raise errors.invalid_argument(
            "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty",
            "IndexDocument",
            "null",
        )
    if not suffix or "/" in suffix:
        raise errors.invalid_argument(
            "The IndexDocument Suffix is not well formed", "IndexDocument", suffix or "null"
        )


def check_ownership(conf: dict[str, Any]) -> None:
    rules = conf.get("Rules") or []
    if len(rules) != 1:
        raise malformed_xml()
    _one_of(rules[0].get("ObjectOwnership"), ("BucketOwnerPreferred", "ObjectWriter", "BucketOwnerEnforced"))


def check_request_payment(conf: dict[str, Any]) -> None:
    _one_of(conf.get("Payer"), ("Requester", "BucketOwner"))


def check_accelerate(bucket: Bucket, conf: dict[str, Any]) -> None:
    _one_of(conf.get("Status"), ("Enabled", "Suspended"))
    if "." in bucket.name:
        raise invalid_request(
            "S3 Transfer Acceleration is not supported for buckets with periods (.) in their names"
        )


def check_versioning(conf: dict[str, Any]) -> None:
    _one_of(conf.get("Status"), ("Enabled", "Suspended"), optional=True)
    _one_of(conf.get("MFADelete"), ("Enabled", "Disabled"), optional=True)


def invalid_target_bucket(target: str, exists: bool) -> AwsError:
    message = (
        "The owner for the bucket to be logged and the target bucket must be the same."
        if exists
        else "The target bucket for logging does not exist"
    )
    return AwsError("InvalidTargetBucketForLogging", message, 400, fields={"TargetBucket": target})


ENFORCED = "BucketOwnerEnforced"
PREFERRED = "BucketOwnerPreferred"


def object_ownership(ctx: RequestContext, bucket: Bucket) -> str:
    """The bucket's ObjectOwnership: ``BucketOwnerEnforced`` unless set otherwise (AWS's default
    since April 2023); a bucket whose ownership controls were deleted is ``ObjectWriter`` (ACLs on,
    as before ownership controls existed)."""
    value = configs(ctx).get(bucket, "ownership")
    if value is MISSING:
        return ENFORCED
    if value is None:
        return "ObjectWriter"
    return value["Rules"][0]["ObjectOwnership"]
