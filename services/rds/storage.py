"""RDS's storage: control-plane records (parameter groups ...) in SQLite via shared.records."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from shared.records import RecordStore
from shared.settings import Settings

PARAMETER_GROUP = "db-parameter-group"


class RdsStore:
    def __init__(self, path: Path | str) -> None:
        self.records = RecordStore(path)

    def close(self) -> None:
        self.records.close()

    def create_parameter_group(self, account: str, region: str, group: dict[str, Any], tags: list) -> bool:
        """False when a group of that name exists."""
        doc = {"Group": group, "Tags": tags}
        return self.records.insert(account, region, PARAMETER_GROUP, group["DBParameterGroupName"], doc)

    def parameter_group(self, account: str, region: str, name: str) -> dict[str, Any] | None:
        doc = self.records.get(account, region, PARAMETER_GROUP, name)
        return doc["Group"] if doc else None

    def parameter_groups(self, account: str, region: str) -> list[dict[str, Any]]:
        return [doc["Group"] for _, doc in self.records.list(account, region, PARAMETER_GROUP)]

    def delete_parameter_group(self, account: str, region: str, name: str) -> bool:
        return self.records.delete(account, region, PARAMETER_GROUP, name)


@asynccontextmanager
async def open_state(settings: Settings) -> AsyncIterator[RdsStore]:
    store = RdsStore(settings.service_dir / "records.db")
    try:
        yield store
    finally:
        store.close()
