"""S3 multipart uploads through boto3: parts, part copies, completion rules, checksums, listings,
abort, and a 20 MiB ``upload_file`` that boto3 splits into parts."""

from __future__ import annotations

import base64
import hashlib
import os
import zlib

import httpx
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from .s3_support import unique

MiB = 1024 * 1024


def error_of(call, *args, **kwargs) -> tuple[str, int, dict]:
    with pytest.raises(ClientError) as err:
        call(*args, **kwargs)
    response = err.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]


def md5_etag(*parts: bytes) -> str:
    joined = b"".join(hashlib.md5(p).digest() for p in parts)
    return f'"{hashlib.md5(joined).hexdigest()}-{len(parts)}"'


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def crc32(data: bytes) -> bytes:
    return zlib.crc32(data).to_bytes(4, "big")


def test_upload_parts_complete_and_read_back(s3, bucket):
    one, two = os.urandom(5 * MiB), os.urandom(1234)
    s3.put_bucket_ownership_controls(  # ACLs on (new buckets have them disabled)
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
    )
    created = s3.create_multipart_upload(
        Bucket=bucket,
        Key="big",
        ContentType="video/mp4",
        Metadata={"m": "v"},
        Tagging="t=1",
        StorageClass="STANDARD_IA",
        ACL="public-read",
    )
    upload_id = created["UploadId"]
    assert created["Bucket"] == bucket and created["Key"] == "big"
    e1 = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload_id, PartNumber=1, Body=one)["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload_id, PartNumber=2, Body=two)["ETag"]
    assert e1 == f'"{hashlib.md5(one).hexdigest()}"'
    assert error_of(s3.head_object, Bucket=bucket, Key="big")[1] == 404  # nothing visible before completion
    done = s3.complete_multipart_upload(
        Bucket=bucket,
        Key="big",
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]},
    )
    assert (
        done["ETag"] == md5_etag(one, two)
        and done["Key"] == "big"
        and done["Location"].endswith(f"/{bucket}/big")
    )
    head = s3.head_object(Bucket=bucket, Key="big")
    assert head["ContentLength"] == len(one) + len(two) and head["ETag"] == done["ETag"]
    assert head["ContentType"] == "video/mp4" and head["Metadata"] == {"m": "v"}
    assert head["StorageClass"] == "STANDARD_IA"
    assert len(s3.get_object_acl(Bucket=bucket, Key="big")["Grants"]) == 2
    assert s3.get_object_tagging(Bucket=bucket, Key="big")["TagSet"] == [{"Key": "t", "Value": "1"}]
    body = s3.get_object(Bucket=bucket, Key="big")["Body"].read()
    assert hashlib.sha256(body).digest() == hashlib.sha256(one + two).digest()
    ranged = s3.get_object(Bucket=bucket, Key="big", Range=f"bytes={5 * MiB - 2}-{5 * MiB + 1}")[
        "Body"
    ].read()
    assert ranged == one[-2:] + two[:2]
    part = s3.get_object(Bucket=bucket, Key="big", PartNumber=2)
    assert part["ResponseMetadata"]["HTTPStatusCode"] == 206 and part["PartsCount"] == 2
    assert part["ContentRange"] == f"bytes {len(one)}-{len(one) + len(two) - 1}/{len(one) + len(two)}"
    assert part["Body"].read() == two
    assert s3.head_object(Bucket=bucket, Key="big", PartNumber=1)["ContentLength"] == len(one)
    assert error_of(s3.head_object, Bucket=bucket, Key="big", PartNumber=3)[1] == 416
    assert error_of(s3.get_object, Bucket=bucket, Key="big", PartNumber=3)[:2] == ("InvalidPartNumber", 416)
    attrs = s3.get_object_attributes(Bucket=bucket, Key="big", ObjectAttributes=["ObjectParts", "ETag"])
    assert attrs["ObjectParts"]["TotalPartsCount"] == 2 and attrs["ETag"] == done["ETag"].strip('"')
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads") is None
    code, status, _ = error_of(s3.list_parts, Bucket=bucket, Key="big", UploadId=upload_id)
    assert (code, status) == ("NoSuchUpload", 404)


def test_completion_rules(s3, bucket):
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    small = [
        s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=n, Body=b"x" * 10)["ETag"]
        for n in (1, 2)
    ]
    parts = [{"PartNumber": 1, "ETag": small[0]}, {"PartNumber": 2, "ETag": small[1]}]
    code, status, error = error_of(
        s3.complete_multipart_upload,
        Bucket=bucket,
        Key="k",
        UploadId=upload_id,
        MultipartUpload={"Parts": parts},
    )
    assert (code, status, error["PartNumber"], error["MinSizeAllowed"]) == (
        "EntityTooSmall",
        400,
        "1",
        "5242880",
    )
    reversed_parts = {"Parts": parts[::-1]}
    assert error_of(
        s3.complete_multipart_upload,
        Bucket=bucket,
        Key="k",
        UploadId=upload_id,
        MultipartUpload=reversed_parts,
    )[:2] == ("InvalidPartOrder", 400)
    wrong_etag = {"Parts": [{"PartNumber": 1, "ETag": '"0123456789abcdef0123456789abcdef"'}]}
    assert error_of(
        s3.complete_multipart_upload, Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload=wrong_etag
    )[:2] == ("InvalidPart", 400)
    missing = {"Parts": [{"PartNumber": 3, "ETag": small[0]}]}
    assert error_of(
        s3.complete_multipart_upload, Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload=missing
    )[:2] == ("InvalidPart", 400)
    # a single small part is fine: the last part may be of any size; unlisted parts are dropped
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload={"Parts": [parts[1]]}
    )
    assert done["ETag"] == md5_etag(b"x" * 10)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x" * 10


def test_upload_errors_and_abort(s3, bucket):
    bogus = "does-not-exist"
    assert error_of(s3.upload_part, Bucket=bucket, Key="k", UploadId=bogus, PartNumber=1, Body=b"x")[:2] == (
        "NoSuchUpload",
        404,
    )
    assert error_of(s3.abort_multipart_upload, Bucket=bucket, Key="k", UploadId=bogus)[:2] == (
        "NoSuchUpload",
        404,
    )
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    assert error_of(s3.upload_part, Bucket=bucket, Key="other", UploadId=upload_id, PartNumber=1, Body=b"x")[
        :2
    ] == (
        "NoSuchUpload",
        404,
    )
    assert error_of(s3.upload_part, Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=10001, Body=b"x")[
        :2
    ] == (
        "InvalidArgument",
        400,
    )
    assert error_of(
        s3.upload_part,
        Bucket=bucket,
        Key="k",
        UploadId=upload_id,
        PartNumber=1,
        Body=b"x",
        ContentMD5="AAAAAAAAAAAAAAAAAAAAAA==",
    )[:2] == ("BadDigest", 400)
    s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"x")
    aborted = s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id)
    assert aborted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert error_of(s3.abort_multipart_upload, Bucket=bucket, Key="k", UploadId=upload_id)[:2] == (
        "NoSuchUpload",
        404,
    )
    assert error_of(
        s3.complete_multipart_upload,
        Bucket=bucket,
        Key="k",
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"x"'}]},
    )[:2] == ("NoSuchUpload", 404)
    assert error_of(s3.create_multipart_upload, Bucket=unique("none"), Key="k")[:2] == ("NoSuchBucket", 404)
    assert error_of(s3.create_multipart_upload, Bucket=bucket, Key="k", StorageClass="NOPE")[:2] == (
        "InvalidStorageClass",
        400,
    )


def test_part_replaced_and_list_parts_paging(s3, bucket):
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    for n in range(1, 6):
        s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=n, Body=b"p" * n)
    replaced = s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=3, Body=b"new")["ETag"]
    first = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id, MaxParts=2)
    assert [p["PartNumber"] for p in first["Parts"]] == [1, 2] and first["IsTruncated"]
    assert first["NextPartNumberMarker"] == 2 and first["Owner"]["ID"] and first["StorageClass"] == "STANDARD"
    rest = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id, PartNumberMarker=2)
    assert [(p["PartNumber"], p["Size"]) for p in rest["Parts"]] == [(3, 3), (4, 4), (5, 5)]
    assert rest["Parts"][0]["ETag"] == replaced and not rest["IsTruncated"]
    paginated = s3.get_paginator("list_parts").paginate(
        Bucket=bucket, Key="k", UploadId=upload_id, PaginationConfig={"PageSize": 2}
    )
    assert [p["PartNumber"] for page in paginated for p in page["Parts"]] == [1, 2, 3, 4, 5]


def test_list_multipart_uploads(s3, bucket):
    ids = {}
    for key in ("a/1", "a/2", "b", "b", "c/x/y"):
        ids.setdefault(key, []).append(s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"])
    listed = s3.list_multipart_uploads(Bucket=bucket)
    assert [u["Key"] for u in listed["Uploads"]] == ["a/1", "a/2", "b", "b", "c/x/y"]
    assert [u["UploadId"] for u in listed["Uploads"] if u["Key"] == "b"] == ids["b"]
    assert listed["Uploads"][0]["Initiator"]["ID"] and not listed["IsTruncated"]
    top = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [u["Key"] for u in top["Uploads"]] == ["b", "b"]
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["a/", "c/"]
    assert [u["Key"] for u in s3.list_multipart_uploads(Bucket=bucket, Prefix="a/")["Uploads"]] == [
        "a/1",
        "a/2",
    ]

    page = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=3)
    assert page["IsTruncated"] and page["NextKeyMarker"] == "b" and page["NextUploadIdMarker"] == ids["b"][0]
    rest = s3.list_multipart_uploads(
        Bucket=bucket, KeyMarker=page["NextKeyMarker"], UploadIdMarker=page["NextUploadIdMarker"]
    )
    assert [(u["Key"], u["UploadId"]) for u in rest["Uploads"]] == [
        ("b", ids["b"][1]),
        ("c/x/y", ids["c/x/y"][0]),
    ]
    after_key = s3.list_multipart_uploads(Bucket=bucket, KeyMarker="b")
    assert [u["Key"] for u in after_key["Uploads"]] == ["c/x/y"]
    paginated = s3.get_paginator("list_multipart_uploads").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": 2}
    )
    assert sum(len(p.get("Uploads", [])) for p in paginated) == 5


def test_upload_part_copy_with_ranges(s3, bucket):
    source = os.urandom(6 * MiB)
    s3.put_object(Bucket=bucket, Key="src", Body=source)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    first = s3.upload_part_copy(
        Bucket=bucket,
        Key="dst",
        UploadId=upload_id,
        PartNumber=1,
        CopySource={"Bucket": bucket, "Key": "src"},
        CopySourceRange=f"bytes=0-{5 * MiB - 1}",
    )["CopyPartResult"]
    assert first["ETag"] == f'"{hashlib.md5(source[: 5 * MiB]).hexdigest()}"' and first["LastModified"]
    second = s3.upload_part_copy(
        Bucket=bucket,
        Key="dst",
        UploadId=upload_id,
        PartNumber=2,
        CopySource=f"{bucket}/src",
        CopySourceRange="bytes=100-199",
    )["CopyPartResult"]
    third = s3.upload_part(Bucket=bucket, Key="dst", UploadId=upload_id, PartNumber=3, Body=b"tail")
    code, status, _ = error_of(
        s3.upload_part_copy,
        Bucket=bucket,
        Key="dst",
        UploadId=upload_id,
        PartNumber=4,
        CopySource=f"{bucket}/src",
        CopySourceRange=f"bytes=0-{6 * MiB}",
    )
    assert (code, status) == ("InvalidArgument", 400)
    assert error_of(
        s3.upload_part_copy,
        Bucket=bucket,
        Key="dst",
        UploadId=upload_id,
        PartNumber=4,
        CopySource=f"{bucket}/src",
        CopySourceIfMatch='"nope"',
    )[:2] == ("PreconditionFailed", 412)
    parts = [
        {"PartNumber": 1, "ETag": first["ETag"]},
        {"PartNumber": 2, "ETag": second["ETag"]},
        {"PartNumber": 3, "ETag": third["ETag"]},
    ]
    # part 2 is 100 bytes and not the last: too small
    assert error_of(
        s3.complete_multipart_upload,
        Bucket=bucket,
        Key="dst",
        UploadId=upload_id,
        MultipartUpload={"Parts": parts},
    )[:2] == ("EntityTooSmall", 400)
    s3.complete_multipart_upload(
        Bucket=bucket, Key="dst", UploadId=upload_id, MultipartUpload={"Parts": [parts[0], parts[2]]}
    )
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == source[: 5 * MiB] + b"tail"


def test_composite_and_full_object_checksums(s3, bucket):
    one, two = os.urandom(5 * MiB), b"second part"
    created = s3.create_multipart_upload(Bucket=bucket, Key="sha", ChecksumAlgorithm="SHA256")
    assert (created["ChecksumAlgorithm"], created["ChecksumType"]) == ("SHA256", "COMPOSITE")
    upload_id = created["UploadId"]
    parts = []
    for n, data in ((1, one), (2, two)):
        out = s3.upload_part(
            Bucket=bucket, Key="sha", UploadId=upload_id, PartNumber=n, Body=data, ChecksumAlgorithm="SHA256"
        )
        assert out["ChecksumSHA256"] == b64(hashlib.sha256(data).digest())
        parts.append({"PartNumber": n, "ETag": out["ETag"], "ChecksumSHA256": out["ChecksumSHA256"]})
    no_checksum = {"Parts": [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in parts]}
    assert error_of(
        s3.complete_multipart_upload,
        Bucket=bucket,
        Key="sha",
        UploadId=upload_id,
        MultipartUpload=no_checksum,
    )[:2] == ("InvalidRequest", 400)
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="sha", UploadId=upload_id, MultipartUpload={"Parts": parts}
    )
    expected = (
        b64(hashlib.sha256(hashlib.sha256(one).digest() + hashlib.sha256(two).digest()).digest()) + "-2"
    )
    assert done["ChecksumSHA256"] == expected and done["ChecksumType"] == "COMPOSITE"
    head = s3.head_object(Bucket=bucket, Key="sha", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == expected and head["ChecksumType"] == "COMPOSITE"
    attrs = s3.get_object_attributes(Bucket=bucket, Key="sha", ObjectAttributes=["ObjectParts", "Checksum"])
    assert [p["ChecksumSHA256"] for p in attrs["ObjectParts"]["Parts"]] == [
        p["ChecksumSHA256"] for p in parts
    ]

    full = s3.create_multipart_upload(
        Bucket=bucket, Key="crc", ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT"
    )
    assert full["ChecksumType"] == "FULL_OBJECT"
    crc_parts = []
    for n, data in ((1, one), (2, two)):
        out = s3.upload_part(
            Bucket=bucket,
            Key="crc",
            UploadId=full["UploadId"],
            PartNumber=n,
            Body=data,
            ChecksumAlgorithm="CRC32",
        )
        assert out["ChecksumCRC32"] == b64(crc32(data))
        crc_parts.append({"PartNumber": n, "ETag": out["ETag"], "ChecksumCRC32": out["ChecksumCRC32"]})
    done = s3.complete_multipart_upload(
        Bucket=bucket,
        Key="crc",
        UploadId=full["UploadId"],
        MultipartUpload={"Parts": crc_parts},
        ChecksumCRC32=b64(crc32(one + two)),
        ChecksumType="FULL_OBJECT",
        MpuObjectSize=len(one) + len(two),
    )
    assert done["ChecksumCRC32"] == b64(crc32(one + two)) and done["ChecksumType"] == "FULL_OBJECT"
    got = s3.get_object(Bucket=bucket, Key="crc", ChecksumMode="ENABLED")  # botocore validates the CRC32
    assert got["Body"].read() == one + two
    assert error_of(
        s3.create_multipart_upload,
        Bucket=bucket,
        Key="x",
        ChecksumAlgorithm="SHA256",
        ChecksumType="FULL_OBJECT",
    )[:2] == ("InvalidRequest", 400)


def test_upload_file_20_mib_multipart_byte_exact(s3, bucket, tmp_path):
    data = os.urandom(20 * MiB)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    config = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=4)
    s3.upload_file(str(path), bucket, "uploaded.bin", Config=config)
    head = s3.head_object(Bucket=bucket, Key="uploaded.bin")
    assert head["ContentLength"] == len(data) and head["ETag"].endswith('-4"')
    chunks = [data[i : i + 5 * MiB] for i in range(0, len(data), 5 * MiB)]
    assert head["ETag"] == md5_etag(*chunks)
    target = tmp_path / "down.bin"
    s3.download_file(bucket, "uploaded.bin", str(target), Config=config)
    assert hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(data).digest()
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads") is None


def _aws_chunked(data: bytes, trailer: str) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\n" + trailer.encode() + b"\r\n\r\n"


def test_upload_part_aws_chunked_with_trailing_checksum(s3, bucket, endpoint):
    """What botocore sends over HTTPS: an aws-chunked body whose CRC32 comes in a trailer."""
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm="CRC32")["UploadId"]
    data = b"hello chunked part"
    good = b64(crc32(data))
    headers = {
        "Content-Encoding": "aws-chunked",
        "X-Amz-Content-Sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "X-Amz-Trailer": "x-amz-checksum-crc32",
        "X-Amz-Decoded-Content-Length": str(len(data)),
    }
    url = f"{endpoint}/{bucket}/k?partNumber=1&uploadId={upload_id}"
    bad = httpx.put(url, headers=headers, content=_aws_chunked(data, "x-amz-checksum-crc32:AAAAAA=="))
    assert bad.status_code == 400 and b"<Code>BadDigest</Code>" in bad.content
    response = httpx.put(url, headers=headers, content=_aws_chunked(data, f"x-amz-checksum-crc32:{good}"))
    assert response.status_code == 200, response.content
    assert response.headers["x-amz-checksum-crc32"] == good
    assert response.headers["etag"] == f'"{hashlib.md5(data).hexdigest()}"'
    part = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id)["Parts"][0]
    assert (part["Size"], part["ChecksumCRC32"]) == (len(data), good)
