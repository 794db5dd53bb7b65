"""Fixtures shared by the integration tests (the fleet itself is in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.redis_server import RedisServer, redis_server

from .s3_support import fresh_bucket


@pytest.fixture
def s3(aws: Any) -> Any:
    return aws("s3")


@pytest.fixture
def bucket(s3: Any) -> Iterator[str]:
    """A fresh bucket, removed afterwards with every object, version and upload in it."""
    with fresh_bucket(s3) as name:
        yield name


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def server() -> Iterator[RedisServer]:
    """A throwaway redis-server per test module (the bus and registry tests restart it)."""
    with redis_server() as srv:
        yield srv
