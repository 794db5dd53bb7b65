"""The SQLite store: tables scoped by account and region, items in key order, replace and delete."""

import pytest

from services.dynamodb import indexes
from services.dynamodb.storage import TABLE, Bound, DynamoStore, RowKey
from services.dynamodb.values import key_bytes


def desc(name: str, table_id: str) -> dict:
    return {"TableName": name, "TableId": table_id}


def test_tables_are_scoped_and_unique(tmp_path):
    store = DynamoStore(tmp_path / "d.db")
    assert store.create_table("000000000000", "us-east-1", desc("t1", "id1"))
    assert not store.create_table("000000000000", "us-east-1", desc("t1", "id2"))
    assert store.create_table("111111111111", "us-east-1", desc("t1", "id3"))
    assert store.create_table("000000000000", "eu-west-1", desc("t1", "id4"))
    assert store.create_table("000000000000", "us-east-1", desc("t0", "id5"))
    assert store.table_names("000000000000", "us-east-1") == ["t0", "t1"]
    assert store.table_names("000000000000", "us-east-1", after="t0") == ["t1"]
    assert store.table("111111111111", "us-east-1", "t1")["TableId"] == "id3"
    store.close()


def test_items_put_replace_order_and_delete_with_table(tmp_path):
    store = DynamoStore(tmp_path / "d.db")
    store.create_table("a", "r", desc("t", "tid"))
    for n in ("10", "-1", "2"):
        item = {"pk": {"S": "p"}, "n": {"N": n}, "b": {"B": b"\x00"}}
        assert store.put_item("tid", b"p", key_bytes({"N": n}), item, 10) is None
    old = store.put_item("tid", b"p", key_bytes({"N": "2"}), {"pk": {"S": "p"}, "n": {"N": "2"}}, 5)
    assert old["b"] == {"B": b"\x00"}
    assert [i["n"]["N"] for i in store.items("tid")] == ["-1", "2", "10"]
    assert store.table_stats("tid") == (3, 25)
    assert store.get_item("tid", b"p", key_bytes({"N": "10"}))["b"] == {"B": b"\x00"}
    assert store.delete_table("a", "r", "t")["TableId"] == "tid"
    assert store.table_stats("tid") == (0, 0)
    assert store.table("a", "r", "t") is None
    store.close()


def _row_values(rows) -> list[str]:
    return [row.item()["n"]["N"] for row in rows]


def test_query_is_a_bounded_range_scan_both_ways(tmp_path):
    store = DynamoStore(tmp_path / "d.db")
    for n in ("-5", "-1", "0", "1", "2", "10"):
        store.put("tid", RowKey(b"p", key_bytes({"N": n})), {"n": {"N": n}}, 1)
    store.put("tid", RowKey(b"q", key_bytes({"N": "3"})), {"n": {"N": "3"}}, 1)
    low, high = Bound(key_bytes({"N": "-1"}), True), Bound(key_bytes({"N": "2"}), False)
    assert _row_values(store.query("tid", TABLE, b"p", low, high)) == ["-1", "0", "1"]
    assert _row_values(store.query("tid", TABLE, b"p", low, None, forward=False)) == [
        "10",
        "2",
        "1",
        "0",
        "-1",
    ]
    after = RowKey(b"p", key_bytes({"N": "0"}))
    assert _row_values(store.query("tid", TABLE, b"p", after=after)) == ["1", "2", "10"]
    assert _row_values(store.query("tid", TABLE, b"p", forward=False, after=after)) == ["-1", "-5"]
    assert _row_values(store.scan("tid", after=RowKey(b"p", key_bytes({"N": "10"})))) == ["3"]
    store.close()


def test_transactions_nest_and_roll_back_as_one(tmp_path):
    store = DynamoStore(tmp_path / "d.db")
    with pytest.raises(RuntimeError), store.transaction():
        store.put("tid", RowKey(b"a", b""), {"n": {"N": "1"}}, 1)
        with store.transaction():
            store.put("tid", RowKey(b"b", b""), {"n": {"N": "2"}}, 1)
        raise RuntimeError("cancel")
    assert store.table_stats("tid") == (0, 0)
    store.close()


def test_index_rows_follow_item_writes(tmp_path):
    store = DynamoStore(tmp_path / "d.db")
    desc = {
        "TableId": "tid",
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [
            {"AttributeName": "id", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "gi",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    }
    key = RowKey(b"a", b"")
    item = {"id": {"S": "a"}, "g": {"S": "x"}, "v": {"S": "big"}}
    units = indexes.write_item(store, desc, key, None, item)
    assert units == {"": 1.0, "gi": 1.0}
    assert [r.item() for r in store.query("tid", "gi", b"x")] == [{"id": {"S": "a"}, "g": {"S": "x"}}]
    moved = {**item, "g": {"S": "y"}}
    assert indexes.write_item(store, desc, key, item, moved)["gi"] == 2.0
    assert list(store.query("tid", "gi", b"x")) == [] and len(list(store.query("tid", "gi", b"y"))) == 1
    indexes.write_item(store, desc, key, moved, {"id": {"S": "a"}})  # sparse: no g, no index row
    assert store.table_stats("tid", "gi") == (0, 0)
    store.put("tid", RowKey(b"b", b""), {"id": {"S": "b"}, "g": {"S": "z"}}, 5)
    indexes.backfill(store, desc, "gi")
    assert store.table_stats("tid", "gi")[0] == 1
    store.close()


def test_tokens_are_remembered(tmp_path):
    store = DynamoStore(tmp_path / "d.db")
    assert store.token("a", "r", "tok") is None
    store.remember_token("a", "r", "tok", "digest", "{}")
    assert store.token("a", "r", "tok") == ("digest", "{}")
    assert store.token("b", "r", "tok") is None
    store.close()
