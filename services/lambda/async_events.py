"""Asynchronous invocations (``Event``): a durable queue on the bus, retries, dead-letter queues, destinations.

Placeholder: being written (issue 7).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .storage import LambdaStore


@asynccontextmanager
async def running(store: LambdaStore) -> AsyncIterator[None]:
    yield
