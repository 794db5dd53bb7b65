"""The lifecycle sweep through boto3: an S3 app served on its own port (uvicorn in a thread) whose
sweep runs every 0.2 s on a clock ten days ahead (``lifecycle_clock_offset``), so rules measured in
days act at once and a rule of 30 days not yet. Every wait polls with a deadline.

The shared fleet sweeps every 60 s on the real clock; this app is the same code with two settings."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
import uvicorn
from botocore.config import Config

from flotilla.fleet import free_port
from services.s3.app import create_app
from shared.settings import Settings

from .s3_support import fresh_bucket

DAY = 86400
DEADLINE = 10.0


@pytest.fixture(scope="module")
def s3_ahead(tmp_path_factory) -> Iterator[Any]:
    """A boto3 client of an S3 app whose lifecycle clock runs ten days ahead."""
    settings = Settings(
        service="s3",
        data_dir=tmp_path_factory.mktemp("lifecycle"),
        log_level="WARNING",
        extra={"lifecycle_interval": "0.2", "lifecycle_clock_offset": str(10 * DAY)},
    )
    port = free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", loop="asyncio"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, "the server to start")
    yield boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )
    server.should_exit = True
    thread.join(DEADLINE)


def wait_for(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def rule(rule_id: str, prefix: str, **actions: Any) -> dict[str, Any]:
    return {"ID": rule_id, "Status": "Enabled", "Filter": {"Prefix": prefix}, **actions}


def versions(s3: Any, bucket: str, prefix: str) -> list[tuple[str, bool]]:
    """(version id, is a delete marker): the latest first, then the versions newest first, then
    the other markers."""
    listed = s3.list_object_versions(Bucket=bucket, Prefix=prefix)
    found = [(v, False) for v in listed.get("Versions", [])] + [
        (m, True) for m in listed.get("DeleteMarkers", [])
    ]
    found.sort(key=lambda item: not item[0]["IsLatest"])  # stable: S3's order otherwise
    return [(entry["VersionId"], marker) for entry, marker in found]


def keys(s3: Any, bucket: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_expiration_in_a_versioned_bucket_adds_a_delete_marker(s3_ahead):
    s3 = s3_ahead
    with fresh_bucket(s3) as bucket:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        old = s3.put_object(Bucket=bucket, Key="old/k", Body=b"data")["VersionId"]
        s3.put_object(Bucket=bucket, Key="young/k", Body=b"data")
        s3.put_bucket_lifecycle_configuration(
            Bucket=bucket,
            LifecycleConfiguration={
                "Rules": [
                    rule("five", "old/", Expiration={"Days": 5}),
                    rule("thirty", "young/", Expiration={"Days": 30}),
                ]
            },
        )
        wait_for(lambda: versions(s3, bucket, "old/")[0][1], "a delete marker on old/k")
        assert versions(s3, bucket, "old/")[1] == (old, False)  # the data stays, noncurrent
        assert s3.get_object(Bucket=bucket, Key="old/k", VersionId=old)["Body"].read() == b"data"
        assert keys(s3, bucket) == ["young/k"]


def test_expiration_in_a_suspended_bucket_adds_a_null_marker(s3_ahead):
    s3 = s3_ahead
    with fresh_bucket(s3) as bucket:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        first = s3.put_object(Bucket=bucket, Key="k", Body=b"1")["VersionId"]
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
        s3.put_object(Bucket=bucket, Key="k", Body=b"null version")
        s3.put_bucket_lifecycle_configuration(
            Bucket=bucket, LifecycleConfiguration={"Rules": [rule("e", "", Expiration={"Days": 1})]}
        )
        wait_for(lambda: versions(s3, bucket, "k")[0] == ("null", True), "a null delete marker")
        assert versions(s3, bucket, "k") == [("null", True), (first, False)]  # the null version is gone


def test_noncurrent_versions_and_expired_delete_markers(s3_ahead):
    s3 = s3_ahead
    with fresh_bucket(s3) as bucket:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        ids = [s3.put_object(Bucket=bucket, Key="nc/k", Body=str(n).encode())["VersionId"] for n in range(4)]
        lone = s3.put_object(Bucket=bucket, Key="dm/k", Body=b"x")["VersionId"]
        s3.delete_object(Bucket=bucket, Key="dm/k")
        s3.delete_object(Bucket=bucket, Key="dm/k", VersionId=lone)  # the marker is all that is left
        s3.put_bucket_lifecycle_configuration(
            Bucket=bucket,
            LifecycleConfiguration={
                "Rules": [
                    rule(
                        "noncurrent",
                        "nc/",
                        NoncurrentVersionExpiration={"NoncurrentDays": 1, "NewerNoncurrentVersions": 1},
                    ),
                    rule("markers", "dm/", Expiration={"ExpiredObjectDeleteMarker": True}),
                ]
            },
        )
        wait_for(lambda: len(versions(s3, bucket, "nc/")) == 2, "old noncurrent versions to go")
        assert versions(s3, bucket, "nc/") == [(ids[3], False), (ids[2], False)]  # one noncurrent kept
        wait_for(lambda: versions(s3, bucket, "dm/") == [], "the expired delete marker to go")


def test_filters_and_aborted_uploads(s3_ahead):
    s3 = s3_ahead
    with fresh_bucket(s3) as bucket:
        s3.put_object(Bucket=bucket, Key="big", Body=b"x" * 100)
        s3.put_object(Bucket=bucket, Key="small", Body=b"x")
        s3.put_object(Bucket=bucket, Key="tagged", Body=b"x", Tagging="tier=tmp")
        s3.put_object(Bucket=bucket, Key="other-tag", Body=b"x", Tagging="tier=keep")
        stale = s3.create_multipart_upload(Bucket=bucket, Key="up/x")["UploadId"]
        kept = s3.create_multipart_upload(Bucket=bucket, Key="keep/x")["UploadId"]
        s3.put_bucket_lifecycle_configuration(
            Bucket=bucket,
            LifecycleConfiguration={
                "Rules": [
                    {
                        "ID": "big",
                        "Status": "Enabled",
                        "Filter": {"ObjectSizeGreaterThan": 50},
                        "Expiration": {"Days": 1},
                    },
                    {
                        "ID": "tag",
                        "Status": "Enabled",
                        "Filter": {"Tag": {"Key": "tier", "Value": "tmp"}},
                        "Expiration": {"Days": 1},
                    },
                    rule("abort", "up/", AbortIncompleteMultipartUpload={"DaysAfterInitiation": 1}),
                ]
            },
        )
        wait_for(lambda: keys(s3, bucket) == ["other-tag", "small"], "the filtered objects to expire")
        uploads = lambda: [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]  # noqa: E731
        wait_for(lambda: uploads() == [kept], "the stale upload to be aborted")
        assert stale not in uploads()
