"""boto3 clients pointed at a Flotilla endpoint, with the test credentials Flotilla accepts."""

from __future__ import annotations

from typing import Any

TEST_ACCESS_KEY_ID = "test"
TEST_SECRET_ACCESS_KEY = "test"


def make_client(endpoint_url: str, service: str, region: str = "us-east-1", **kwargs: Any) -> Any:
    """``boto3.client(service)`` for ``endpoint_url``; ``kwargs`` go to boto3 (e.g. ``config=``).

    The access key id ``test`` maps to account 000000000000; pass ``aws_access_key_id="123456789012"``
    to act as that account instead. boto3 is imported here so that importing this package stays cheap.
    """
    import boto3

    kwargs.setdefault("aws_access_key_id", TEST_ACCESS_KEY_ID)
    kwargs.setdefault("aws_secret_access_key", TEST_SECRET_ACCESS_KEY)
    return boto3.client(service, endpoint_url=endpoint_url, region_name=region, **kwargs)
