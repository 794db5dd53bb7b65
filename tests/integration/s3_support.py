"""What the S3 integration tests share: unique names and a bucket that is removed with all it holds."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def unique(prefix: str = "b") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def remove_bucket(s3: Any, name: str) -> None:
    """Abort the bucket's multipart uploads, delete every version and delete marker (an
    unversioned object is version ``null``), then the bucket."""
    for upload in s3.list_multipart_uploads(Bucket=name).get("Uploads", []):
        s3.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
    listed = s3.list_object_versions(Bucket=name)
    doomed = [
        {"Key": v["Key"], "VersionId": v["VersionId"]}
        for v in listed.get("Versions", []) + listed.get("DeleteMarkers", [])
    ]
    if doomed:
        s3.delete_objects(Bucket=name, Delete={"Objects": doomed, "Quiet": True})
    s3.delete_bucket(Bucket=name)


@contextmanager
def fresh_bucket(s3: Any, prefix: str = "b") -> Iterator[str]:
    """A new bucket for the block, removed afterwards with everything in it."""
    name = unique(prefix)
    s3.create_bucket(Bucket=name)
    try:
        yield name
    finally:
        remove_bucket(s3, name)
