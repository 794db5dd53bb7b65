"""Server-side encryption as S3 shows it: SSE-S3/SSE-KMS settings echoed, SSE-C keys checked.

Flotilla does not encrypt object bytes (they stay plain on disk, under the service's data
directory). What it keeps is what S3 answers about an object's encryption, in the object's
``extra["sse"]``: the output members (``ServerSideEncryption``, ``SSEKMSKeyId``,
``BucketKeyEnabled``, or ``SSECustomerAlgorithm`` and ``SSECustomerKeyMD5``). An object written
with a customer key (SSE-C) can only be read with the same key: the MD5 of the key is stored and
compared, so a read without a key, or with another one, is refused as S3 refuses it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from shared.aws.errors import AwsError

from . import errors

AES256 = "AES256"
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
ALGORITHMS = (AES256, *KMS_ALGORITHMS)
DEFAULT = {"ServerSideEncryption": AES256}  # every object S3 stores since January 2023
STORED_WITH_SSE_C = (
    "The object was stored using a form of Server Side Encryption. The correct parameters must be "
    "provided to retrieve the object."
)


def _customer(req: dict[str, Any], prefix: str) -> dict[str, str] | None:
    """The ``<prefix>SSECustomer*`` members of a request, checked: algorithm AES256, a 256-bit
    key, and the key's MD5 as sent. None when the request names no customer key."""
    algorithm, key, md5 = (req.get(f"{prefix}SSECustomer{m}") for m in ("Algorithm", "Key", "KeyMD5"))
    if not (algorithm or key or md5):
        return None
    header = (
        "x-amz-copy-source-server-side-encryption-customer"
        if prefix
        else "x-amz-server-side-encryption-customer"
    )
    if not algorithm:
        raise errors.invalid_argument(
            "Requests specifying Server Side Encryption with Customer provided keys must provide a valid "
            "encryption algorithm.",
            f"{header}-algorithm",
            "null",
        )
    if algorithm != AES256:
        raise errors.invalid_argument(
            "The encryption method specified is not supported", f"{header}-algorithm", algorithm
        )
    raw = _decode(key)
    if raw is None or len(raw) != 32:
        raise errors.invalid_argument(
            "The secret key was invalid for the specified algorithm.", f"{header}-key", "null"
        )
    computed = base64.b64encode(hashlib.md5(raw).digest()).decode()
    if not md5:
        raise errors.invalid_argument(
            "Requests specifying Server Side Encryption with Customer provided keys must provide the "
            "client calculated MD5 of the secret key.",
            f"{header}-key-MD5",
            "null",
        )
    if md5 != computed:
        raise errors.invalid_argument(
            "The calculated MD5 hash of the key did not match the hash that was provided.",
            f"{header}-key-MD5",
            md5,
        )
    return {"SSECustomerAlgorithm": algorithm, "SSECustomerKeyMD5": computed}


def _decode(text: str | bytes | None) -> bytes | None:
    if text is None:
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def for_write(
    req: dict[str, Any], bucket_default: dict[str, Any] | None, region: str, account: str
) -> dict[str, Any]:
    """The encryption a write gives the object (stored as ``extra["sse"]``): a customer key, the
    request's SSE-S3/KMS headers, or the bucket's default encryption rule, else AES256."""
    customer = _customer(req, "")
    if customer is not None:
        if req.get("ServerSideEncryption"):
            raise errors.invalid_argument(
                "Server Side Encryption with Customer provided key is incompatible with the encryption "
                "method specified",
                "x-amz-server-side-encryption",
                req["ServerSideEncryption"],
            )
        return customer
    algorithm = req.get("ServerSideEncryption")
    key_id, bucket_key = req.get("SSEKMSKeyId"), req.get("BucketKeyEnabled")
    if algorithm is None and bucket_default:
        rule = ((bucket_default.get("Rules") or [{}])[0]) or {}
        default = rule.get("ApplyServerSideEncryptionByDefault") or {}
        algorithm, key_id = default.get("SSEAlgorithm"), key_id or default.get("KMSMasterKeyID")
        bucket_key = rule.get("BucketKeyEnabled") if bucket_key is None else bucket_key
    algorithm = algorithm or AES256
    if algorithm not in ALGORITHMS:
        raise errors.invalid_argument(
            "The encryption method specified is not supported", "x-amz-server-side-encryption", algorithm
        )
    if algorithm == AES256:
        if req.get("SSEKMSKeyId"):
            raise errors.invalid_argument(
                "Server Side Encryption with AWS KMS managed key requires HTTP header "
                "x-amz-server-side-encryption : aws:kms",
                "x-amz-server-side-encryption-aws-kms-key-id",
                req["SSEKMSKeyId"],
            )
        return {"ServerSideEncryption": AES256, **({"BucketKeyEnabled": True} if bucket_key else {})}
    out: dict[str, Any] = {
        "ServerSideEncryption": algorithm,
        "SSEKMSKeyId": _key_arn(key_id, region, account),
    }
    if bucket_key:
        out["BucketKeyEnabled"] = True
    return out


def _key_arn(key_id: str | None, region: str, account: str) -> str:
    """S3 answers a KMS key as an ARN; without one it uses the account's ``aws/s3`` key."""
    if key_id and key_id.startswith("arn:"):
        return key_id
    return f"arn:aws:kms:{region}:{account}:{key_id if key_id and key_id.startswith('alias/') else 'key/' + (key_id or 'aws-s3')}"


def for_read(stored: dict[str, Any] | None, req: dict[str, Any], prefix: str = "") -> None:
    """Check the customer key a read (or a copy's source, ``prefix`` ``CopySource``) brings
    against the one the object was written with."""
    given = _customer(req, prefix)
    expected = (stored or {}).get("SSECustomerKeyMD5")
    if expected is None:
        if given is not None:
            raise errors.invalid_request("The encryption parameters are not applicable to this object.")
        return
    if given is None:
        raise errors.invalid_request(STORED_WITH_SSE_C)
    if given["SSECustomerKeyMD5"] != expected:
        raise AwsError("AccessDenied", "Access Denied", 403)


def same_key(stored: dict[str, Any] | None, req: dict[str, Any]) -> None:
    """UploadPart and CompleteMultipartUpload of an SSE-C upload must bring the upload's key."""
    expected = (stored or {}).get("SSECustomerKeyMD5")
    given = _customer(req, "")
    if expected is None and given is None:
        return
    if expected is None or given is None or given["SSECustomerKeyMD5"] != expected:
        raise errors.invalid_request(
            "The provided encryption parameters did not match the ones used originally."
        )


def headers(stored: dict[str, Any] | None) -> dict[str, Any]:
    """The response members describing an object's encryption (AES256 when nothing was said)."""
    return dict(stored) if stored else dict(DEFAULT)
