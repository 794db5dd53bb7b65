"""The resource registry against a real redis-server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from shared.registry import Registry, parse_arn
from tests.redis_server import RedisServer, available

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not available(), reason="redis-server is not on PATH"),
]

QUEUE = "arn:aws:sqs:us-east-1:000000000000:orders"
QUEUE_EU = "arn:aws:sqs:eu-west-1:111111111111:orders"
FUNC = "arn:aws:lambda:us-east-1:000000000000:function:handler"
FUNC_V = "arn:aws:lambda:us-east-1:000000000000:function:handler:7"
LAYER = "arn:aws:lambda:us-east-1:000000000000:layer:deps:1"
VPC = "arn:aws:ec2:us-east-1:000000000000:vpc/vpc-0123"
BUCKET = "arn:aws:s3:::my-bucket"


@pytest.fixture
async def registry(server: RedisServer) -> AsyncIterator[Registry]:
    reg = Registry(server.url, namespace=f"t{uuid.uuid4().hex[:8]}")
    for arn in (QUEUE, QUEUE_EU, FUNC, FUNC_V, LAYER, VPC, BUCKET):
        await reg.put(arn, {"arn": arn})
    yield reg
    await reg.close()


def test_parse_arn() -> None:
    assert parse_arn(FUNC_V) == ("aws", "lambda", "us-east-1", "000000000000", "function:handler:7")
    assert parse_arn(BUCKET).resource == "my-bucket"
    with pytest.raises(ValueError):
        parse_arn("not:an:arn")


async def test_put_get_replace_delete(registry: Registry) -> None:
    await registry.put(QUEUE, {"url": "http://localhost/000000000000/orders"})
    assert await registry.get(QUEUE) == {"url": "http://localhost/000000000000/orders"}
    await registry.delete(QUEUE)
    assert await registry.get(QUEUE) is None
    assert [arn for arn, _ in await registry.find(service="sqs")] == [QUEUE_EU]
    await registry.delete(QUEUE)  # idempotent


async def test_find_by_service_account_region(registry: Registry) -> None:
    assert await registry.find(service="sqs") == [(QUEUE_EU, {"arn": QUEUE_EU}), (QUEUE, {"arn": QUEUE})]
    assert [a for a, _ in await registry.find(service="sqs", region="eu-west-1")] == [QUEUE_EU]
    assert [a for a, _ in await registry.find(account="000000000000", region="us-east-1")] == sorted(
        [QUEUE, FUNC, FUNC_V, LAYER, VPC]
    )
    assert await registry.find(service="dynamodb") == []


async def test_find_by_resource_prefix(registry: Registry) -> None:
    functions = await registry.find(service="lambda", resource_prefix="function:")
    assert [a for a, _ in functions] == [FUNC, FUNC_V]
    assert [a for a, _ in await registry.find(service="lambda", resource_prefix="layer:")] == [LAYER]
    assert [a for a, _ in await registry.find(service="ec2", resource_prefix="vpc/")] == [VPC]
    assert [a for a, _ in await registry.find(resource_prefix="my-")] == [BUCKET]


async def test_rejects_what_is_not_an_arn(registry: Registry) -> None:
    with pytest.raises(ValueError):
        await registry.put("queue-url", {})
