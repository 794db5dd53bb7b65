"""Query and Scan through boto3: key order by type, key conditions, paging, Select, filters, indexes."""

from __future__ import annotations

from decimal import Decimal

import boto3
import pytest
from boto3.dynamodb.conditions import Attr, Key

from tests.integration.test_dynamodb import error, index, new_table


@pytest.fixture
def ddb(aws):
    return aws("dynamodb")


def put_all(ddb, table: str, items: list[dict]) -> None:
    for start in range(0, len(items), 25):
        ddb.batch_write_item(
            RequestItems={table: [{"PutRequest": {"Item": i}} for i in items[start : start + 25]]}
        )


def qerror(ddb, table: str, condition: str, values: dict, **extra) -> tuple[str, str]:
    return error(
        ddb.query,
        TableName=table,
        KeyConditionExpression=condition,
        ExpressionAttributeValues=values,
        **extra,
    )


def sort_values(page: dict, name: str, kind: str) -> list:
    return [item[name][kind] for item in page["Items"]]


@pytest.fixture(scope="module")
def numbers(aws):
    """Table (p S, n N) with numbers whose string order differs from their numeric order."""
    ddb = aws("dynamodb")
    name = new_table(ddb, range_key=("n", "N"))
    values = [
        "-1000",
        "-10.5",
        "-10",
        "-1",
        "-0.001",
        "0",
        "0.001",
        "1",
        "2",
        "10",
        "10.5",
        "99",
        "100",
        "1e20",
    ]
    put_all(
        ddb,
        name,
        [{"id": {"S": "p"}, "n": {"N": v}, "odd": {"BOOL": i % 2 == 1}} for i, v in enumerate(values)],
    )
    put_all(ddb, name, [{"id": {"S": "other"}, "n": {"N": "5"}}])
    yield name, [str(Decimal(v)) if "e" not in v else "100000000000000000000" for v in values]
    ddb.delete_table(TableName=name)


def q(ddb, table: str, condition: str, values: dict, **extra) -> dict:
    return ddb.query(
        TableName=table, KeyConditionExpression=condition, ExpressionAttributeValues=values, **extra
    )


def test_numbers_sort_numerically_both_ways(ddb, numbers):
    table, ordered = numbers
    page = q(ddb, table, "id = :p", {":p": {"S": "p"}})
    assert sort_values(page, "n", "N") == ordered
    assert page["Count"] == page["ScannedCount"] == len(ordered)
    back = q(ddb, table, "id = :p", {":p": {"S": "p"}}, ScanIndexForward=False)
    assert sort_values(back, "n", "N") == ordered[::-1]


@pytest.mark.parametrize(
    "condition, values, expected",
    [
        ("n BETWEEN :a AND :b", {":a": "-10", ":b": "1"}, ["-10", "-1", "-0.001", "0", "0.001", "1"]),
        ("n < :a", {":a": "-10"}, ["-1000", "-10.5"]),
        ("n >= :a", {":a": "99"}, ["99", "100", "100000000000000000000"]),
        (":a < n AND n <= :b", {":a": "10", ":b": "99"}, None),  # two conditions on one key: rejected
    ],
)
def test_number_key_conditions(ddb, numbers, condition, values, expected):
    table, _ = numbers
    if expected is None:
        code, _ = error(
            ddb.query,
            TableName=table,
            KeyConditionExpression=f"id = :p AND {condition}",
            ExpressionAttributeValues={":p": {"S": "p"}, **{k: {"N": v} for k, v in values.items()}},
        )
        assert code == "ValidationException"
        return
    page = q(
        ddb, table, f"id = :p AND {condition}", {":p": {"S": "p"}, **{k: {"N": v} for k, v in values.items()}}
    )
    assert sort_values(page, "n", "N") == expected


def test_paging_limit_filter_and_count(ddb, numbers):
    table, ordered = numbers
    seen, start, pages = [], None, 0
    while True:
        extra = {"ExclusiveStartKey": start} if start else {}
        page = q(ddb, table, "id = :p", {":p": {"S": "p"}}, Limit=4, **extra)
        seen += sort_values(page, "n", "N")
        pages += 1
        start = page.get("LastEvaluatedKey")
        if not start:
            break
        assert set(start) == {"id", "n"}
    assert seen == ordered and pages == 4
    filtered = q(
        ddb,
        table,
        "id = :p",
        {":p": {"S": "p"}, ":t": {"BOOL": True}},
        Limit=4,
        FilterExpression="odd = :t",
    )
    assert filtered["ScannedCount"] == 4 and filtered["Count"] == 2
    assert filtered["LastEvaluatedKey"] == {"id": {"S": "p"}, "n": {"N": ordered[3]}}
    count = q(ddb, table, "id = :p", {":p": {"S": "p"}}, Select="COUNT")
    assert count["Count"] == len(ordered) and "Items" not in count


def test_select_and_projection_rules(ddb, numbers):
    table, _ = numbers
    page = q(
        ddb, table, "id = :p AND n = :n", {":p": {"S": "p"}, ":n": {"N": "2"}}, ProjectionExpression="odd"
    )
    assert page["Items"] == [{"odd": {"BOOL": False}}]
    assert qerror(
        ddb, table, "id = :p", {":p": {"S": "p"}}, ProjectionExpression="odd", Select="ALL_ATTRIBUTES"
    ) == (
        "ValidationException",
        "Cannot specify the ProjectionExpression when choosing to get ALL_ATTRIBUTES",
    )
    assert qerror(ddb, table, "id = :p", {":p": {"S": "p"}}, Select="ALL_PROJECTED_ATTRIBUTES") == (
        "ValidationException",
        "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName",
    )
    assert error(ddb.query, TableName=table)[1] == (
        "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request."
    )
    assert qerror(ddb, table, "id = :p", {":p": {"S": "p"}}, ExclusiveStartKey={"id": {"S": "p"}}) == (
        "ValidationException",
        "The provided starting key is invalid: The provided key element does not match the schema",
    )


def test_legacy_key_conditions(ddb, numbers):
    table, _ = numbers
    page = ddb.query(
        TableName=table,
        KeyConditions={
            "id": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]},
            "n": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "99"}]},
        },
    )
    assert sort_values(page, "n", "N") == ["100", "100000000000000000000"]


def test_strings_and_binary_sort_by_bytes(ddb):
    strings = new_table(ddb, range_key=("s", "S"))
    binary = new_table(ddb, range_key=("b", "B"))
    try:
        words = ["a", "B", "Z", "ab", "abc", "b", "é", "\ufffd", "\U0001f600", "~"]
        put_all(ddb, strings, [{"id": {"S": "p"}, "s": {"S": w}} for w in words])
        page = q(ddb, strings, "id = :p", {":p": {"S": "p"}})
        assert sort_values(page, "s", "S") == sorted(words, key=lambda w: w.encode())
        prefix = q(ddb, strings, "id = :p AND begins_with(s, :a)", {":p": {"S": "p"}, ":a": {"S": "a"}})
        assert sort_values(prefix, "s", "S") == ["a", "ab", "abc"]
        blobs = [b"\x00", b"\x00\x00", b"\x01", b"\x7f", b"\x80", b"\xff", b"\xff\xff"]
        put_all(ddb, binary, [{"id": {"S": "p"}, "b": {"B": b}} for b in reversed(blobs)])
        page = q(ddb, binary, "id = :p", {":p": {"S": "p"}})
        assert sort_values(page, "b", "B") == blobs
        high = q(ddb, binary, "id = :p AND begins_with(b, :f)", {":p": {"S": "p"}, ":f": {"B": b"\xff"}})
        assert sort_values(high, "b", "B") == [b"\xff", b"\xff\xff"]
    finally:
        ddb.delete_table(TableName=strings)
        ddb.delete_table(TableName=binary)


def test_one_megabyte_page(ddb):
    table = new_table(ddb, range_key=("n", "N"))
    try:
        blob = "x" * (100 * 1024)
        put_all(ddb, table, [{"id": {"S": "p"}, "n": {"N": str(i)}, "v": {"S": blob}} for i in range(12)])
        page = q(ddb, table, "id = :p", {":p": {"S": "p"}}, Select="COUNT")
        assert page["Count"] == 10 and page["LastEvaluatedKey"]["n"] == {"N": "9"}
        rest = q(ddb, table, "id = :p", {":p": {"S": "p"}}, ExclusiveStartKey=page["LastEvaluatedKey"])
        assert sort_values(rest, "n", "N") == ["10", "11"] and "LastEvaluatedKey" not in rest
        scanned = ddb.scan(TableName=table, Select="COUNT")
        assert scanned["ScannedCount"] == 10 and "LastEvaluatedKey" in scanned
    finally:
        ddb.delete_table(TableName=table)


def test_parallel_scan_segments_partition_the_table(ddb):
    table = new_table(ddb)
    try:
        put_all(ddb, table, [{"id": {"S": f"k{i}"}} for i in range(40)])
        seen = []
        for segment in range(3):
            page = ddb.scan(TableName=table, Segment=segment, TotalSegments=3)
            seen += [item["id"]["S"] for item in page["Items"]]
        assert sorted(seen) == sorted(f"k{i}" for i in range(40))
        code, message = error(ddb.scan, TableName=table, Segment=3, TotalSegments=3)
        assert message == (
            "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
            "Segment: 3 is not less than TotalSegments: 3"
        )
        filtered = ddb.scan(
            TableName=table,
            FilterExpression="id IN (:a, :b)",
            ExpressionAttributeValues={":a": {"S": "k1"}, ":b": {"S": "k2"}},
        )
        assert filtered["Count"] == 2 and filtered["ScannedCount"] == 40
    finally:
        ddb.delete_table(TableName=table)


@pytest.fixture(scope="module")
def indexed(aws):
    """Table (id S, n N) with a KEYS_ONLY GSI on (g S, gn N), an INCLUDE GSI on g, an LSI on (id, l S)."""
    ddb = aws("dynamodb")
    name = new_table(
        ddb,
        range_key=("n", "N"),
        gsis=[
            index("by-g", "g", "gn", projection="KEYS_ONLY"),
            index("by-g-inc", "g", projection="INCLUDE", NonKeyAttributes=["extra"]),
        ],
        lsis=[index("by-l", "id", "l", projection="KEYS_ONLY")],
        extra_attributes={"g": "S", "gn": "N", "l": "S"},
    )
    yield name
    ddb.delete_table(TableName=name)


def test_global_index_query_sparse_and_maintained(ddb, indexed):
    rows = [
        {
            "id": {"S": "a"},
            "n": {"N": "1"},
            "g": {"S": "G"},
            "gn": {"N": "3"},
            "extra": {"S": "e1"},
            "other": {"S": "o"},
        },
        {"id": {"S": "b"}, "n": {"N": "1"}, "g": {"S": "G"}, "gn": {"N": "-1"}, "extra": {"S": "e2"}},
        {"id": {"S": "c"}, "n": {"N": "1"}, "g": {"S": "G"}},  # no gn: only in by-g-inc
        {"id": {"S": "d"}, "n": {"N": "1"}, "other": {"S": "o"}},  # in no GSI
    ]
    put_all(ddb, indexed, rows)
    page = q(ddb, indexed, "g = :g", {":g": {"S": "G"}}, IndexName="by-g")
    assert page["Items"] == [
        {"id": {"S": "b"}, "n": {"N": "1"}, "g": {"S": "G"}, "gn": {"N": "-1"}},
        {"id": {"S": "a"}, "n": {"N": "1"}, "g": {"S": "G"}, "gn": {"N": "3"}},
    ]
    included = q(ddb, indexed, "g = :g", {":g": {"S": "G"}}, IndexName="by-g-inc")
    assert sorted(i["id"]["S"] for i in included["Items"]) == ["a", "b", "c"]
    assert all("other" not in i for i in included["Items"])
    assert {i["id"]["S"]: i.get("extra") for i in included["Items"]}["a"] == {"S": "e1"}
    limited = q(ddb, indexed, "g = :g", {":g": {"S": "G"}}, IndexName="by-g", Limit=1)
    assert set(limited["LastEvaluatedKey"]) == {"id", "n", "g", "gn"}
    after = q(
        ddb,
        indexed,
        "g = :g",
        {":g": {"S": "G"}},
        IndexName="by-g",
        ExclusiveStartKey=limited["LastEvaluatedKey"],
    )
    assert [i["id"]["S"] for i in after["Items"]] == ["a"]
    ddb.update_item(TableName=indexed, Key={"id": {"S": "a"}, "n": {"N": "1"}}, UpdateExpression="REMOVE gn")
    ddb.delete_item(TableName=indexed, Key={"id": {"S": "b"}, "n": {"N": "1"}})
    assert q(ddb, indexed, "g = :g", {":g": {"S": "G"}}, IndexName="by-g")["Count"] == 0
    scanned = ddb.scan(TableName=indexed, IndexName="by-g-inc")
    assert sorted(i["id"]["S"] for i in scanned["Items"]) == ["a", "c"]


def test_index_read_rules(ddb, indexed):
    assert qerror(ddb, indexed, "g = :g", {":g": {"S": "G"}}, IndexName="by-g", ConsistentRead=True) == (
        "ValidationException",
        "Consistent reads are not supported on global secondary indexes",
    )
    assert qerror(ddb, indexed, "g = :g", {":g": {"S": "G"}}, IndexName="nope") == (
        "ValidationException",
        "The table does not have the specified index: nope",
    )
    assert qerror(ddb, indexed, "g = :g", {":g": {"S": "G"}}, IndexName="by-g", Select="ALL_ATTRIBUTES") == (
        "ValidationException",
        "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global "
        "secondary index by-g because its projection type is not ALL",
    )


def test_local_index_fetches_unprojected_attributes(ddb, indexed):
    put_all(
        ddb,
        indexed,
        [
            {"id": {"S": "L"}, "n": {"N": str(i)}, "l": {"S": label}, "v": {"N": str(i)}}
            for i, label in enumerate(["z", "y", "x"])
        ],
    )
    page = q(ddb, indexed, "id = :p AND l > :x", {":p": {"S": "L"}, ":x": {"S": "x"}}, IndexName="by-l")
    assert page["Items"] == [
        {"id": {"S": "L"}, "n": {"N": "1"}, "l": {"S": "y"}},
        {"id": {"S": "L"}, "n": {"N": "0"}, "l": {"S": "z"}},
    ]
    full = q(
        ddb,
        indexed,
        "id = :p",
        {":p": {"S": "L"}},
        IndexName="by-l",
        Select="ALL_ATTRIBUTES",
        ConsistentRead=True,
    )
    assert [i["v"]["N"] for i in full["Items"]] == ["2", "1", "0"]


def test_resource_query_and_paginator(endpoint, ddb, numbers):
    table, ordered = numbers
    resource = boto3.resource(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="t",
        aws_secret_access_key="t",
    )
    t = resource.Table(table)
    page = t.query(KeyConditionExpression=Key("id").eq("p") & Key("n").between(Decimal(-1), Decimal(1)))
    assert [i["n"] for i in page["Items"]] == [Decimal(v) for v in ["-1", "-0.001", "0", "0.001", "1"]]
    filtered = t.scan(FilterExpression=Attr("odd").eq(True) & Attr("n").gt(50))
    assert sorted(i["n"] for i in filtered["Items"]) == [Decimal(99), Decimal("1e20")]
    pages = ddb.get_paginator("query").paginate(
        TableName=table,
        KeyConditionExpression="id = :p",
        ExpressionAttributeValues={":p": {"S": "p"}},
        PaginationConfig={"PageSize": 5},
    )
    assert [i["n"]["N"] for p in pages for i in p["Items"]] == ordered


def test_legacy_filters(ddb, numbers):
    table, _ = numbers
    page = ddb.query(
        TableName=table,
        KeyConditions={"id": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]}},
        QueryFilter={
            "odd": {"ComparisonOperator": "EQ", "AttributeValueList": [{"BOOL": True}]},
            "nothing": {"ComparisonOperator": "NULL"},
        },
        ConditionalOperator="AND",
        AttributesToGet=["n"],
    )
    assert [i["n"]["N"] for i in page["Items"]] == [
        "-10.5",
        "-1",
        "0",
        "1",
        "10",
        "99",
        "100000000000000000000",
    ]
    assert all(set(i) == {"n"} for i in page["Items"])
    scanned = ddb.scan(
        TableName=table,
        ScanFilter={"n": {"ComparisonOperator": "IN", "AttributeValueList": [{"N": "5"}, {"N": "99"}]}},
    )
    assert sorted(i["id"]["S"] for i in scanned["Items"]) == ["other", "p"]


def test_query_filter_must_not_name_a_key(ddb, numbers):
    table, _ = numbers
    assert qerror(ddb, table, "id = :p", {":p": {"S": "p"}, ":n": {"N": "1"}}, FilterExpression="n > :n") == (
        "ValidationException",
        "Filter Expression can only contain non-primary key attributes: Primary key attribute: n",
    )


def test_query_start_key_must_fit_the_key_condition(ddb, numbers):
    table, _ = numbers
    p = {":p": {"S": "p"}}
    assert qerror(ddb, table, "id = :p", p, ExclusiveStartKey={"id": {"S": "other"}, "n": {"N": "5"}}) == (
        "ValidationException",
        "The provided starting key is outside query boundaries based on provided conditions",
    )
    low = {**p, ":lo": {"N": "10"}}
    outside = {"id": {"S": "p"}, "n": {"N": "2"}}
    assert qerror(ddb, table, "id = :p AND n > :lo", low, ExclusiveStartKey=outside) == (
        "ValidationException",
        "The provided starting key does not match the range key predicate",
    )
    at_bound = {"id": {"S": "p"}, "n": {"N": "10"}}
    assert qerror(ddb, table, "id = :p AND n > :lo", low, ExclusiveStartKey=at_bound)[1] == (
        "The provided starting key does not match the range key predicate"
    )
    inside = q(ddb, table, "id = :p AND n >= :lo", low, ExclusiveStartKey=at_bound)
    assert sort_values(inside, "n", "N") == ["10.5", "99", "100", "100000000000000000000"]


def test_parallel_scan_start_key_must_be_of_its_segment(ddb):
    table = new_table(ddb)
    try:
        put_all(ddb, table, [{"id": {"S": f"k{i}"}} for i in range(20)])
        page = ddb.scan(TableName=table, Segment=0, TotalSegments=2, Limit=1)
        start = page["LastEvaluatedKey"]
        assert ddb.scan(TableName=table, Segment=0, TotalSegments=2, ExclusiveStartKey=start)["Count"] >= 0
        assert error(ddb.scan, TableName=table, Segment=1, TotalSegments=2, ExclusiveStartKey=start) == (
            "ValidationException",
            "The provided starting key is invalid: Invalid ExclusiveStartKey. Please use ExclusiveStartKey "
            "with correct Segment. TotalSegments: 2 Segment: 1",
        )
    finally:
        ddb.delete_table(TableName=table)
