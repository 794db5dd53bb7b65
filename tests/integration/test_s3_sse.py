"""Server-side encryption through boto3: SSE-C keys required and checked on reads, copies and
multipart uploads; SSE-S3/SSE-KMS settings echoed; AES256 by default."""

from __future__ import annotations

import base64
import hashlib
import os

import pytest
from botocore.exceptions import ClientError

KEY = os.urandom(32)
OTHER = os.urandom(32)
SSE_C = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": KEY}
WRONG = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": OTHER}
SOURCE_SSE_C = {"CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": KEY}


def error_of(call, *args, **kwargs) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as err:
        call(*args, **kwargs)
    response = err.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"].get("Message", ""),
    )


def md5_of(key: bytes) -> str:
    return base64.b64encode(hashlib.md5(key).digest()).decode()


def test_default_aes256(s3, bucket):
    assert s3.put_object(Bucket=bucket, Key="k", Body=b"x")["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=bucket, Key="k")["ServerSideEncryption"] == "AES256"
    assert s3.head_object(Bucket=bucket, Key="k")["ServerSideEncryption"] == "AES256"


def test_kms_headers_echoed(s3, bucket):
    put = s3.put_object(
        Bucket=bucket,
        Key="k",
        Body=b"x",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId="1234abcd",
        BucketKeyEnabled=True,
    )
    assert put["ServerSideEncryption"] == "aws:kms" and put["SSEKMSKeyId"].endswith("key/1234abcd")
    assert put["BucketKeyEnabled"] is True
    head = s3.head_object(Bucket=bucket, Key="k")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"], head["BucketKeyEnabled"]) == (
        "aws:kms",
        put["SSEKMSKeyId"],
        True,
    )
    copied = s3.copy_object(Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "k"})
    assert copied["ServerSideEncryption"] == "AES256"  # a copy takes the request's (default) encryption
    assert error_of(
        s3.put_object, Bucket=bucket, Key="bad", Body=b"x", ServerSideEncryption="AES256", SSEKMSKeyId="k"
    )[:2] == (
        "InvalidArgument",
        400,
    )


def test_bucket_default_kms_applies(s3, bucket):
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "mykey"}}
            ]
        },
    )
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert put["ServerSideEncryption"] == "aws:kms" and put["SSEKMSKeyId"].endswith("key/mykey")


def test_sse_c_required_and_checked(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"secret", **SSE_C)
    assert put["SSECustomerAlgorithm"] == "AES256" and put["SSECustomerKeyMD5"] == md5_of(KEY)
    assert "ServerSideEncryption" not in put
    got = s3.get_object(Bucket=bucket, Key="k", **SSE_C)
    assert got["Body"].read() == b"secret" and got["SSECustomerKeyMD5"] == md5_of(KEY)
    assert s3.head_object(Bucket=bucket, Key="k", **SSE_C)["ContentLength"] == 6

    code, status, message = error_of(s3.get_object, Bucket=bucket, Key="k")
    assert (code, status) == ("InvalidRequest", 400)
    assert message.startswith("The object was stored using a form of Server Side Encryption.")
    assert error_of(s3.get_object, Bucket=bucket, Key="k", **WRONG)[:2] == ("AccessDenied", 403)
    with pytest.raises(ClientError) as err:
        s3.head_object(Bucket=bucket, Key="k")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert (
        error_of(
            s3.get_object,
            Bucket=bucket,
            Key="k",
            SSECustomerAlgorithm="AES256",
            SSECustomerKey=base64.b64encode(KEY).decode(),  # with an MD5 given, botocore sends the key as is
            SSECustomerKeyMD5=md5_of(OTHER),
        )[:2]
        == ("InvalidArgument", 400)
    )
    assert error_of(
        s3.put_object,
        Bucket=bucket,
        Key="short",
        Body=b"x",
        SSECustomerAlgorithm="AES256",
        SSECustomerKey=b"short",
    )[:2] == ("InvalidArgument", 400)
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    assert error_of(s3.get_object, Bucket=bucket, Key="plain", **SSE_C)[:2] == ("InvalidRequest", 400)


def test_sse_c_copy(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"secret", **SSE_C)
    source = {"Bucket": bucket, "Key": "src"}
    assert error_of(s3.copy_object, Bucket=bucket, Key="dst", CopySource=source)[:2] == (
        "InvalidRequest",
        400,
    )
    assert error_of(
        s3.copy_object,
        Bucket=bucket,
        Key="dst",
        CopySource=source,
        CopySourceSSECustomerAlgorithm="AES256",
        CopySourceSSECustomerKey=OTHER,
    )[:2] == ("AccessDenied", 403)
    s3.copy_object(Bucket=bucket, Key="dst", CopySource=source, **SOURCE_SSE_C)  # the copy is not SSE-C
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"secret"
    out = s3.copy_object(Bucket=bucket, Key="dst2", CopySource=source, **SOURCE_SSE_C, **WRONG)
    assert out["SSECustomerKeyMD5"] == md5_of(OTHER)
    assert s3.get_object(Bucket=bucket, Key="dst2", **WRONG)["Body"].read() == b"secret"


def test_sse_c_multipart(s3, bucket):
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp", **SSE_C)
    assert upload["SSECustomerKeyMD5"] == md5_of(KEY)
    uid = upload["UploadId"]
    assert error_of(s3.upload_part, Bucket=bucket, Key="mp", UploadId=uid, PartNumber=1, Body=b"x")[:2] == (
        "InvalidRequest",
        400,
    )
    part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=1, Body=b"data", **SSE_C)
    assert part["SSECustomerKeyMD5"] == md5_of(KEY)
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="mp",
        UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
        **SSE_C,
    )
    assert error_of(s3.get_object, Bucket=bucket, Key="mp")[:2] == ("InvalidRequest", 400)
    assert s3.get_object(Bucket=bucket, Key="mp", **SSE_C)["Body"].read() == b"data"
