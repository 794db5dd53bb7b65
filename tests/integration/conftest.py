"""Fixtures shared by the integration tests (the fleet itself is in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .s3_support import fresh_bucket


@pytest.fixture
def s3(aws: Any) -> Any:
    return aws("s3")


@pytest.fixture
def bucket(s3: Any) -> Iterator[str]:
    """A fresh bucket, removed afterwards with every object, version and upload in it."""
    with fresh_bucket(s3) as name:
        yield name
