"""Flexible checksums CRC32C and CRC64NVME through boto3 (botocore sends them when awscrt is
installed): PutObject, UploadPart, CompleteMultipartUpload (COMPOSITE and FULL_OBJECT), the
aws-chunked trailer form, and the answers of GET/HEAD (ChecksumMode) and GetObjectAttributes."""

from __future__ import annotations

import base64

import httpx
import pytest
from awscrt import checksums as crt
from botocore.exceptions import ClientError

MIB = 1024 * 1024


def b64(value: int, width: int) -> str:
    return base64.b64encode(value.to_bytes(width, "big")).decode()


def crc32c(data: bytes) -> str:
    return b64(crt.crc32c(data), 4)


def crc64(data: bytes) -> str:
    return b64(crt.crc64nvme(data), 8)


EXPECTED = {"CRC32C": crc32c, "CRC64NVME": crc64}


def error_of(call, **kwargs) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    err = caught.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


@pytest.mark.parametrize("algorithm", ["CRC32C", "CRC64NVME"])
def test_put_object_checksum_is_computed_and_returned(s3, bucket, algorithm):
    data = b"hello flexible checksums"
    member = f"Checksum{algorithm}"
    put = s3.put_object(Bucket=bucket, Key="k", Body=data, ChecksumAlgorithm=algorithm)
    assert put[member] == EXPECTED[algorithm](data)
    assert put["ChecksumType"] == "FULL_OBJECT"
    head = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert (head[member], head["ChecksumType"]) == (put[member], "FULL_OBJECT")
    assert member not in s3.head_object(Bucket=bucket, Key="k")  # only when asked for
    got = s3.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")  # botocore validates it
    assert got["Body"].read() == data and got[member] == put[member]
    attrs = s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["Checksum"])
    assert attrs["Checksum"] == {member: put[member], "ChecksumType": "FULL_OBJECT"}


@pytest.mark.parametrize("algorithm", ["CRC32C", "CRC64NVME"])
def test_put_object_with_wrong_or_malformed_checksum(s3, bucket, algorithm):
    member, data = f"Checksum{algorithm}", b"some bytes"
    wrong = EXPECTED[algorithm](b"other bytes")
    assert error_of(s3.put_object, Bucket=bucket, Key="k", Body=data, **{member: wrong}) == (
        "BadDigest",
        f"The {algorithm} you specified did not match the calculated checksum.",
        400,
    )
    assert error_of(s3.put_object, Bucket=bucket, Key="k", Body=data, **{member: "AAAA"}) == (
        "InvalidRequest",
        f"Value for x-amz-checksum-{algorithm.lower()} header is invalid.",
        400,
    )
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)  # nothing was stored
    right = s3.put_object(Bucket=bucket, Key="k", Body=data, **{member: EXPECTED[algorithm](data)})
    assert right[member] == EXPECTED[algorithm](data)


def test_two_checksum_headers_are_refused(s3, bucket):
    data = b"x"
    code, message, _ = error_of(
        s3.put_object, Bucket=bucket, Key="k", Body=data, ChecksumCRC32C=crc32c(data), ChecksumSHA1="A" * 28
    )
    assert (code, message) == (
        "InvalidRequest",
        "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
    )


def test_default_crc32_still_sent_and_checked(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="d", Body=b"hello")  # botocore's default: CRC32
    assert put["ChecksumCRC32"] == "NhCmhg==" and "ChecksumCRC32C" not in put


def _chunked(data: bytes, trailer: str) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\n" + trailer.encode() + b"\r\n\r\n"


@pytest.mark.parametrize("algorithm", ["CRC32C", "CRC64NVME"])
def test_aws_chunked_trailer(s3, bucket, endpoint, algorithm):
    """What botocore sends over HTTPS: an aws-chunked body whose checksum is a trailer."""
    data, name = b"chunked body with a trailer", f"x-amz-checksum-{algorithm.lower()}"
    headers = {
        "Content-Encoding": "aws-chunked",
        "X-Amz-Content-Sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "X-Amz-Trailer": name,
        "X-Amz-Decoded-Content-Length": str(len(data)),
    }
    url = f"{endpoint}/{bucket}/t"
    wrong = httpx.put(url, headers=headers, content=_chunked(data, f"{name}:{EXPECTED[algorithm](b'no')}"))
    assert wrong.status_code == 400 and b"<Code>BadDigest</Code>" in wrong.content
    malformed = httpx.put(url, headers=headers, content=_chunked(data, f"{name}:AAAA"))
    assert malformed.status_code == 400
    assert f"Value for {name} trailing header is invalid.".encode() in malformed.content
    good = httpx.put(url, headers=headers, content=_chunked(data, f"{name}:{EXPECTED[algorithm](data)}"))
    assert good.status_code == 200 and good.headers[name] == EXPECTED[algorithm](data)
    head = s3.head_object(Bucket=bucket, Key="t", ChecksumMode="ENABLED")
    assert head[f"Checksum{algorithm}"] == EXPECTED[algorithm](data) and head["ContentLength"] == len(data)


def _upload_parts(s3, bucket, key, upload_id, algorithm, chunks):
    parts = []
    for number, data in enumerate(chunks, 1):
        out = s3.upload_part(
            Bucket=bucket,
            Key=key,
            UploadId=upload_id,
            PartNumber=number,
            Body=data,
            ChecksumAlgorithm=algorithm,
        )
        assert out[f"Checksum{algorithm}"] == EXPECTED[algorithm](data)
        parts.append(
            {"PartNumber": number, "ETag": out["ETag"], f"Checksum{algorithm}": out[f"Checksum{algorithm}"]}
        )
    return parts


def test_multipart_crc32c_is_composite(s3, bucket):
    created = s3.create_multipart_upload(Bucket=bucket, Key="m", ChecksumAlgorithm="CRC32C")
    assert (created["ChecksumAlgorithm"], created["ChecksumType"]) == ("CRC32C", "COMPOSITE")
    chunks = [b"a" * (5 * MIB), b"tail"]
    parts = _upload_parts(s3, bucket, "m", created["UploadId"], "CRC32C", chunks)
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="m", UploadId=created["UploadId"], MultipartUpload={"Parts": parts}
    )
    joined = b"".join(base64.b64decode(p["ChecksumCRC32C"]) for p in parts)
    expected = f"{crc32c(joined)}-2"
    assert (done["ChecksumCRC32C"], done["ChecksumType"]) == (expected, "COMPOSITE")
    head = s3.head_object(Bucket=bucket, Key="m", ChecksumMode="ENABLED")
    assert (head["ChecksumCRC32C"], head["ChecksumType"]) == (expected, "COMPOSITE")
    attrs = s3.get_object_attributes(Bucket=bucket, Key="m", ObjectAttributes=["Checksum", "ObjectParts"])
    assert attrs["Checksum"] == {"ChecksumCRC32C": expected, "ChecksumType": "COMPOSITE"}
    assert [p["ChecksumCRC32C"] for p in attrs["ObjectParts"]["Parts"]] == [crc32c(c) for c in chunks]


def test_multipart_crc64nvme_is_full_object(s3, bucket):
    created = s3.create_multipart_upload(Bucket=bucket, Key="n", ChecksumAlgorithm="CRC64NVME")
    assert (created["ChecksumAlgorithm"], created["ChecksumType"]) == ("CRC64NVME", "FULL_OBJECT")
    chunks = [b"b" * (5 * MIB), b"end"]
    parts = _upload_parts(s3, bucket, "n", created["UploadId"], "CRC64NVME", chunks)
    whole = crc64(b"".join(chunks))
    common = {
        "Bucket": bucket,
        "Key": "n",
        "UploadId": created["UploadId"],
        "MultipartUpload": {"Parts": parts},
    }
    assert error_of(s3.complete_multipart_upload, **common, ChecksumCRC64NVME=crc64(b"nope"))[:2] == (
        "BadDigest",
        "The CRC64NVME you specified did not match the calculated checksum.",
    )
    done = s3.complete_multipart_upload(**common, ChecksumCRC64NVME=whole)
    assert (done["ChecksumCRC64NVME"], done["ChecksumType"]) == (whole, "FULL_OBJECT")
    got = s3.get_object(Bucket=bucket, Key="n", ChecksumMode="ENABLED")  # botocore validates it
    assert got["ChecksumCRC64NVME"] == whole and len(got["Body"].read()) == 5 * MIB + 3


def test_multipart_crc32c_full_object(s3, bucket):
    created = s3.create_multipart_upload(
        Bucket=bucket, Key="f", ChecksumAlgorithm="CRC32C", ChecksumType="FULL_OBJECT"
    )
    chunks = [b"c" * (5 * MIB), b"last"]
    parts = _upload_parts(s3, bucket, "f", created["UploadId"], "CRC32C", chunks)
    done = s3.complete_multipart_upload(
        Bucket=bucket,
        Key="f",
        UploadId=created["UploadId"],
        MultipartUpload={"Parts": parts},
        ChecksumCRC32C=crc32c(b"".join(chunks)),
        ChecksumType="FULL_OBJECT",
    )
    assert (done["ChecksumCRC32C"], done["ChecksumType"]) == (crc32c(b"".join(chunks)), "FULL_OBJECT")
