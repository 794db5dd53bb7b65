"""Secondary indexes: their definitions, and the index rows kept beside every table row.

Every write of an item goes through ``write_item``, which puts or deletes the table row and,
in the same SQLite transaction, the row of each index the item belongs to. An item belongs to
an index only when it has every key attribute of the index (sparse indexes); the index row
holds the item's projection (KEYS_ONLY, INCLUDE, ALL), keyed by the index key and then by the
table key, so a Query of an index is a range scan just as a Query of the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from . import errors
from .storage import TABLE, DynamoStore, RowKey
from .values import AttributeValue, Item, item_size, key_bytes, kind_of

READ_UNIT, WRITE_UNIT = 4096, 1024


class Index(NamedTuple):
    name: str
    is_global: bool
    hash_key: str
    range_key: str | None
    projection: str
    non_key: tuple[str, ...]

    @property
    def keys(self) -> list[str]:
        return [self.hash_key] + ([self.range_key] if self.range_key else [])


def _index(definition: Mapping[str, Any], is_global: bool) -> Index:
    schema = {element["KeyType"]: element["AttributeName"] for element in definition["KeySchema"]}
    projection = definition.get("Projection") or {}
    return Index(
        definition["IndexName"],
        is_global,
        schema["HASH"],
        schema.get("RANGE"),
        projection.get("ProjectionType", "ALL"),
        tuple(projection.get("NonKeyAttributes") or ()),
    )


def indexes_of(desc: Mapping[str, Any]) -> list[Index]:
    """The table's global then local secondary indexes."""
    return [_index(d, True) for d in desc.get("GlobalSecondaryIndexes") or ()] + [
        _index(d, False) for d in desc.get("LocalSecondaryIndexes") or ()
    ]


def find(desc: Mapping[str, Any], name: str) -> Index:
    for index in indexes_of(desc):
        if index.name == name:
            return index
    raise errors.validation(f"The table does not have the specified index: {name}")


def table_keys(desc: Mapping[str, Any]) -> list[str]:
    return [element["AttributeName"] for element in desc["KeySchema"]]


def attribute_type(desc: Mapping[str, Any], name: str) -> str:
    for definition in desc["AttributeDefinitions"]:
        if definition["AttributeName"] == name:
            return definition["AttributeType"]
    raise KeyError(name)


def row_key(names: list[str], item: Mapping[str, AttributeValue]) -> tuple[bytes, bytes]:
    """(pk, sk) bytes of ``item`` under the key ``names`` ([hash] or [hash, range])."""
    pk = key_bytes(item[names[0]])
    return pk, key_bytes(item[names[1]]) if len(names) == 2 else b""


# -- checks on items being written --------------------------------------------------------------


def check_item(desc: Mapping[str, Any], item: Mapping[str, AttributeValue]) -> None:
    """Index key attributes an item has must be of their declared type and not empty."""
    for index in indexes_of(desc):
        for name in index.keys:
            value = item.get(name)
            if value is None:
                continue
            expected, actual = attribute_type(desc, name), kind_of(value)
            if actual != expected:
                raise errors.invalid_parameters(
                    f"Type mismatch for Index Key {name} Expected: {expected} Actual: {actual} "
                    f"IndexName: {index.name}"
                )
            if actual in ("S", "B") and len(value[actual]) == 0:
                noun = "string" if actual == "S" else "binary"
                raise errors.validation(
                    "One or more parameter values are not valid. A value specified for a secondary index key "
                    "is not supported. The AttributeValue for a key attribute cannot contain an empty "
                    f"{noun} value. IndexName: {index.name}, IndexKey: {name}"
                )


# -- projections and rows -----------------------------------------------------------------------


def projected_names(desc: Mapping[str, Any], index: Index) -> set[str] | None:
    """The attributes an index row holds (None: all of them)."""
    if index.projection == "ALL":
        return None
    names = set(table_keys(desc)) | set(index.keys)
    return names | set(index.non_key) if index.projection == "INCLUDE" else names


def project(desc: Mapping[str, Any], index: Index, item: Item) -> Item:
    names = projected_names(desc, index)
    return dict(item) if names is None else {k: v for k, v in item.items() if k in names}


def index_row(desc: Mapping[str, Any], index: Index, item: Item | None) -> tuple[RowKey, Item] | None:
    """The row ``item`` has in ``index``, or None when it lacks an index key attribute (sparse)."""
    if item is None or any(name not in item for name in index.keys):
        return None
    pk, sk = row_key(index.keys, item)
    tpk, tsk = row_key(table_keys(desc), item)
    return RowKey(pk, sk, tpk, tsk), project(desc, index, item)


# -- writing ------------------------------------------------------------------------------------


def _units(size: int) -> float:
    return float(max(1, -(-size // WRITE_UNIT)))


def _write_index(
    store: DynamoStore, desc: Mapping[str, Any], index: Index, old: Item | None, new: Item | None
) -> float:
    """Bring one index row in line with the item's change; the write units it cost."""
    before, after = index_row(desc, index, old), index_row(desc, index, new)
    if before == after:
        return 0.0
    table_id = desc["TableId"]
    if before is not None and (after is None or after[0] != before[0]):
        store.delete(table_id, before[0], index.name)
    if after is not None:
        store.put(table_id, after[0], after[1], item_size(after[1]), index.name)
    if before is not None and after is not None and before[0] == after[0]:
        return _units(max(item_size(before[1]), item_size(after[1])))
    return sum(_units(item_size(row[1])) for row in (before, after) if row is not None)


def write_item(
    store: DynamoStore, desc: Mapping[str, Any], key: RowKey, old: Item | None, new: Item | None
) -> dict[str, float]:
    """Put (``new``) or delete (``new`` None) a table row and its index rows, in one transaction.

    Returns the write capacity units consumed, by index name ('' for the table).
    """
    table_id = desc["TableId"]
    sizes = [item_size(i) for i in (old, new) if i is not None]
    units = {TABLE: _units(max(sizes, default=0))}
    with store.transaction():
        if new is None:
            store.delete(table_id, key)
        else:
            store.put(table_id, key, new, item_size(new))
        for index in indexes_of(desc):
            spent = _write_index(store, desc, index, old, new)
            if spent:
                units[index.name] = spent
    return units


def backfill(store: DynamoStore, desc: Mapping[str, Any], name: str) -> None:
    """Build the rows of a newly added index from the table's items (UpdateTable's GSI create)."""
    index = find(desc, name)
    with store.transaction():
        store.drop_index(desc["TableId"], name)
        for row in list(store.scan(desc["TableId"])):
            found = index_row(desc, index, row.item())
            if found is not None:
                store.put(desc["TableId"], found[0], found[1], item_size(found[1]), name)
