"""Conditional writes under concurrency: If-None-Match / If-Match are checked again when the write
commits, so of two racing writers only one wins and the other gets 412 PreconditionFailed."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import partial
from threading import Barrier
from typing import Any

from botocore.exceptions import ClientError

ROUNDS = 15


def _race(s3: Any, calls: list) -> list[str]:
    """Run ``calls`` at once (released together by a barrier); each one's outcome: OK or its error code."""
    gate = Barrier(len(calls))

    def run(call) -> str:
        gate.wait(timeout=10)
        try:
            call()
        except ClientError as err:
            return err.response["Error"]["Code"]
        return "OK"

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_racing_if_none_match_puts_one_wins(s3, bucket):
    body = b"x" * 200_000  # written to a file: the commit comes well after the early check
    for n in range(ROUNDS):
        key = f"race-{n}"
        calls = [
            partial(s3.put_object, Bucket=bucket, Key=key, Body=body + bytes([i]), IfNoneMatch="*")
            for i in range(2)
        ]
        outcomes = _race(s3, calls)
        assert sorted(outcomes) == ["OK", "PreconditionFailed"], (n, outcomes)
        winner = outcomes.index("OK")
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read()[-1] == winner


def test_racing_if_match_puts_one_wins(s3, bucket):
    for n in range(ROUNDS):
        key = f"match-{n}"
        etag = s3.put_object(Bucket=bucket, Key=key, Body=b"v0")["ETag"]
        body = b"y" * 100_000
        calls = [
            partial(s3.put_object, Bucket=bucket, Key=key, Body=body + bytes([i]), IfMatch=etag)
            for i in range(2)
        ]
        assert sorted(_race(s3, calls)) == ["OK", "PreconditionFailed"], n


def _upload(s3: Any, bucket: str, key: str) -> dict:
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=1, Body=b"p" * 1000)["ETag"]
    return {
        "Bucket": bucket,
        "Key": key,
        "UploadId": upload,
        "MultipartUpload": {"Parts": [{"PartNumber": 1, "ETag": etag}]},
    }


def test_racing_conditional_completes_one_wins(s3, bucket):
    for n in range(5):
        key = f"mpu-{n}"
        requests = [_upload(s3, bucket, key) for _ in range(2)]
        calls = [partial(s3.complete_multipart_upload, **r, IfNoneMatch="*") for r in requests]
        assert sorted(_race(s3, calls)) == ["OK", "PreconditionFailed"], n
        # the loser's upload was not consumed: it can still be completed unconditionally
        loser = [r for r in requests if r["UploadId"] in _open_uploads(s3, bucket)]
        assert len(loser) == 1
        s3.complete_multipart_upload(**loser[0])


def _open_uploads(s3: Any, bucket: str) -> set[str]:
    return {u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])}
