"""EC2's storage: control-plane records (VPCs ...) in SQLite via shared.records.

Every account and region has a default VPC (172.31.0.0/16), created the first time anything
looks at that account's VPCs in that region. Deleting it is allowed, as in AWS, and it does
not come back: a ``meta`` record remembers that it was made.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from shared.records import RecordStore
from shared.settings import Settings

from .vpcs import DEFAULT_VPC_CIDR, new_vpc

VPC = "vpc"
META = "meta"


class Ec2Store:
    def __init__(self, path: Path | str) -> None:
        self.records = RecordStore(path)

    def close(self) -> None:
        self.records.close()

    def _ensure_default_vpc(self, account: str, region: str) -> None:
        if self.records.get(account, region, META, "default-vpc") is not None:
            return
        vpc = new_vpc(account, region, DEFAULT_VPC_CIDR, is_default=True)
        if self.records.insert(account, region, META, "default-vpc", {"VpcId": vpc["VpcId"]}):
            self.records.put(account, region, VPC, vpc["VpcId"], vpc)

    def put_vpc(self, account: str, region: str, vpc: dict[str, Any]) -> None:
        self._ensure_default_vpc(account, region)
        self.records.put(account, region, VPC, vpc["VpcId"], vpc)

    def vpc(self, account: str, region: str, vpc_id: str) -> dict[str, Any] | None:
        self._ensure_default_vpc(account, region)
        return self.records.get(account, region, VPC, vpc_id)

    def vpcs(self, account: str, region: str) -> list[dict[str, Any]]:
        """Every VPC of the account in the region, in creation order (the default VPC first)."""
        self._ensure_default_vpc(account, region)
        return [doc for _, doc in self.records.list(account, region, VPC)]

    def delete_vpc(self, account: str, region: str, vpc_id: str) -> bool:
        self._ensure_default_vpc(account, region)
        return self.records.delete(account, region, VPC, vpc_id)


@asynccontextmanager
async def open_state(settings: Settings) -> AsyncIterator[Ec2Store]:
    store = Ec2Store(settings.service_dir / "records.db")
    try:
        yield store
    finally:
        store.close()
