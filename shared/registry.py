"""The resource registry: resources other services must see, keyed by ARN, in Redis.

Layout (``ns`` is the namespace):
- ``<ns>:registry`` a hash, field ARN -> attributes as JSON;
- ``<ns>:registry:svc:<service>`` one sorted set per service, every score 0, members
  ``<resource>\\0<arn>``: equal scores sort by bytes, so ``ZRANGEBYLEX`` lists a service's
  resources of one kind (a resource prefix such as ``function:`` or ``vpc/``) without a scan.

Both are written in one MULTI/EXEC so readers never see one without the other.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

import redis.asyncio as aioredis

from shared.bus import connect

SEP = "\0"


class Arn(NamedTuple):
    partition: str
    service: str
    region: str
    account: str
    resource: str


def parse_arn(arn: str) -> Arn:
    """``arn:partition:service:region:account:resource`` (the resource may hold ``:`` and ``/``)."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or not parts[2]:
        raise ValueError(f"not an ARN: {arn!r}")
    return Arn(*parts[1:])


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class Registry:
    """Put, get, delete and find shared resources by ARN."""

    def __init__(self, redis_url_or_client: str | aioredis.Redis, namespace: str = "flotilla") -> None:
        self.redis, self._owns_client = connect(redis_url_or_client)
        self.hash = f"{namespace}:registry"
        self._index_prefix = f"{namespace}:registry:svc:"

    def _index(self, service: str) -> str:
        return self._index_prefix + service

    async def put(self, arn: str, attrs: dict[str, Any]) -> None:
        """Create or replace the resource's attributes."""
        parsed = parse_arn(arn)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.hash, arn, json.dumps(attrs, separators=(",", ":"), default=str))
            pipe.zadd(self._index(parsed.service), {parsed.resource + SEP + arn: 0})
            await pipe.execute()

    async def get(self, arn: str) -> dict[str, Any] | None:
        raw = await self.redis.hget(self.hash, arn)
        return None if raw is None else json.loads(raw)

    async def delete(self, arn: str) -> None:
        """Forget the resource; deleting an unknown ARN is not an error."""
        parsed = parse_arn(arn)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hdel(self.hash, arn)
            pipe.zrem(self._index(parsed.service), parsed.resource + SEP + arn)
            await pipe.execute()

    async def find(
        self,
        service: str | None = None,
        account: str | None = None,
        region: str | None = None,
        resource_prefix: str | None = None,
    ) -> list[tuple[str, dict[str, Any]]]:
        """Resources matching every filter given, sorted by ARN.

        With ``service`` this reads one index range; without it, the whole hash (rare: tools).
        """
        arns = await (self._arns_of(service, resource_prefix) if service else self._all_arns())
        wanted = [arn for arn in arns if _matches(parse_arn(arn), service, account, region, resource_prefix)]
        if not wanted:
            return []
        values = await self.redis.hmget(self.hash, wanted)
        found = [(arn, json.loads(raw)) for arn, raw in zip(wanted, values, strict=True) if raw is not None]
        return sorted(found, key=lambda pair: pair[0])

    async def _arns_of(self, service: str, resource_prefix: str | None) -> list[str]:
        low = (resource_prefix or "").encode()
        members = await self.redis.zrangebylex(self._index(service), b"[" + low, b"[" + low + b"\xff")
        return [_text(m).split(SEP, 1)[1] for m in members]

    async def _all_arns(self) -> list[str]:
        return [_text(arn) for arn in await self.redis.hkeys(self.hash)]

    async def close(self) -> None:
        if self._owns_client:
            await self.redis.aclose()


def _matches(
    arn: Arn, service: str | None, account: str | None, region: str | None, prefix: str | None
) -> bool:
    return (
        (service is None or arn.service == service)
        and (account is None or arn.account == account)
        and (region is None or arn.region == region)
        and (prefix is None or arn.resource.startswith(prefix))
    )
