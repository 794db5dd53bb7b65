"""The SQLite store: tables scoped by account and region, items in key order, replace and delete."""

from services.dynamodb.storage import DynamoStore
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
