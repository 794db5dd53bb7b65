"""Event source mappings at work: pollers for SQS queues and DynamoDB streams.

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
