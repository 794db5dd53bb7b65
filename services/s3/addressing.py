"""Virtual-host addressing: ``bucket.s3.<domain>`` requests become path style before parsing.

S3 clients address a bucket either in the path (``http://s3.host/bucket/key``) or in the host
name (``http://bucket.s3.host/key``). The rest-xml parser knows only the path form (the model's
``/{Bucket}/{Key+}``), so the service moves the bucket from the Host header into the path first.
"""

from __future__ import annotations

import dataclasses
import re

from shared.aws.http import HttpRequest
from shared.settings import Settings

_REGION = r"[a-z]{2}(?:-[a-z]+)+-\d+"
_VIRTUAL_HOSTS = [
    # bucket.s3.amazonaws.com, bucket.s3.us-east-1.amazonaws.com, bucket.s3-us-west-2.amazonaws.com,
    # bucket.s3.dualstack.us-east-1.amazonaws.com
    re.compile(
        rf"^(?P<bucket>.+?)\.s3(?:[.-]external-1)?(?:\.dualstack)?(?:[.-]{_REGION})?\.amazonaws\.com(?:\.cn)?$"
    ),
    # bucket.s3.localhost.localstack.cloud, bucket.s3.us-east-1.localhost.localstack.cloud
    re.compile(rf"^(?P<bucket>.+?)\.s3(?:\.{_REGION})?\.localhost\.localstack\.cloud$"),
    # bucket.localhost (but not s3.localhost)
    re.compile(r"^(?!s3(?:\.[a-z0-9-]+)?\.localhost$)(?P<bucket>.+?)\.localhost$"),
]


def bucket_from_host(host: str) -> str | None:
    """The bucket a virtual-hosted-style Host header names, or None for a path-style host."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.lower().rstrip(".")
    for pattern in _VIRTUAL_HOSTS:
        match = pattern.match(name)
        if match:
            return match["bucket"]
    return None


def rewrite_virtual_host(req: HttpRequest, settings: Settings | None = None) -> HttpRequest:
    """``Host: bucket.s3.<domain>`` + ``/key`` -> ``/bucket/key`` (a new request; others unchanged)."""
    bucket = bucket_from_host(req.host or req.headers.get("host", "") or "")
    if bucket is None:
        return req
    path = f"/{bucket}" if req.path in ("", "/") else f"/{bucket}{req.path}"
    return dataclasses.replace(req, path=path)
