"""S3 with persistence: objects (inline-sized and streamed, > 64 KiB) and versions survive a restart
of the S3 process byte-exact, with the same ETags and version ids."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from flotilla.fleet import Fleet, free_port

SIZES = (0, 1, 1000, 64 * 1024 - 1, 64 * 1024 + 1, 3 * 1024 * 1024 + 17)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    root: Path = tmp_path_factory.mktemp("s3-persist")
    with Fleet(
        port=free_port(), services=("s3",), persistence=True, data_dir=root / "data", log_dir=root / "logs"
    ) as fleet:
        yield fleet


def _client(fleet: Fleet):
    return boto3.client(
        "s3",
        endpoint_url=fleet.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def _body(size: int) -> bytes:
    return (hashlib.sha256(str(size).encode()).digest() * (size // 32 + 1))[:size] if size else b""


def test_objects_and_versions_survive_a_restart(fleet: Fleet) -> None:
    s3 = _client(fleet)
    s3.create_bucket(Bucket="persist-plain")
    etags = {}
    for size in SIZES:
        etags[size] = s3.put_object(Bucket="persist-plain", Key=f"obj-{size}", Body=_body(size))["ETag"]
    s3.create_bucket(Bucket="persist-versioned")
    s3.put_bucket_versioning(Bucket="persist-versioned", VersioningConfiguration={"Status": "Enabled"})
    versions = []
    for i, size in enumerate((10, 200 * 1024, 7)):
        put = s3.put_object(Bucket="persist-versioned", Key="doc", Body=_body(size + i))
        versions.append((put["VersionId"], put["ETag"], size + i))
    marker = s3.delete_object(Bucket="persist-versioned", Key="gone")  # a delete marker for a missing key
    listing = s3.list_object_versions(Bucket="persist-versioned")

    fleet.restart("s3")
    s3 = _client(fleet)

    for size in SIZES:
        got = s3.get_object(Bucket="persist-plain", Key=f"obj-{size}")
        assert got["Body"].read() == _body(size)
        assert got["ETag"] == etags[size]
    for version_id, etag, size in versions:
        got = s3.get_object(Bucket="persist-versioned", Key="doc", VersionId=version_id)
        assert (got["VersionId"], got["ETag"]) == (version_id, etag)
        assert got["Body"].read() == _body(size)
    latest = s3.get_object(Bucket="persist-versioned", Key="doc")
    assert latest["VersionId"] == versions[-1][0]
    assert s3.get_bucket_versioning(Bucket="persist-versioned")["Status"] == "Enabled"
    after = s3.list_object_versions(Bucket="persist-versioned")
    assert after["Versions"] == listing["Versions"]
    assert [m["VersionId"] for m in after["DeleteMarkers"]] == [marker["VersionId"]]
    assert sorted(b["Name"] for b in s3.list_buckets()["Buckets"]) == ["persist-plain", "persist-versioned"]
    assert os.path.isdir(fleet.data_dir)
