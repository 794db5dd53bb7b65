"""PartiQL through boto3: ExecuteStatement, BatchExecuteStatement and ExecuteTransaction."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.integration.test_dynamodb import new_table


@pytest.fixture(scope="module")
def ddb(aws):
    return aws("dynamodb")


@pytest.fixture(scope="module")
def music(ddb):
    """artist (S) / n (N) table with a GSI on genre, holding a0..a4 x n 0..3."""
    name = new_table(
        ddb,
        ("artist", "S"),
        ("n", "N"),
        gsis=[
            {
                "IndexName": "by_genre",
                "KeySchema": [{"AttributeName": "genre", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        extra_attributes={"genre": "S"},
    )
    for a in range(5):
        for n in range(4):
            item = {"artist": {"S": f"a{a}"}, "n": {"N": str(n)}, "genre": {"S": "rock" if n % 2 else "pop"}}
            ddb.put_item(TableName=name, Item={**item, "tag": {"S": f"t{a}{n}"}})
    yield name
    ddb.delete_table(TableName=name)


@pytest.fixture
def simple(ddb):
    name = new_table(ddb)
    yield name
    ddb.delete_table(TableName=name)


def run(ddb, statement: str, *params, **extra) -> dict:
    args = {"Statement": statement, **extra}
    if params:
        args["Parameters"] = list(params)
    return ddb.execute_statement(**args)


def failure(ddb, statement: str, *params, **extra) -> tuple[str, str]:
    with pytest.raises(ClientError) as err:
        run(ddb, statement, *params, **extra)
    return err.value.response["Error"]["Code"], err.value.response["Error"]["Message"]


def test_select_by_partition_key_is_a_query_in_order(ddb, music):
    out = run(ddb, f'SELECT n, tag FROM "{music}" WHERE artist = ? AND n >= 1 ORDER BY n DESC', {"S": "a2"})
    assert [i["n"]["N"] for i in out["Items"]] == ["3", "2", "1"]
    assert out["Items"][0] == {"n": {"N": "3"}, "tag": {"S": "t23"}}


def test_select_filters_and_scans(ddb, music):
    out = run(ddb, f"SELECT * FROM \"{music}\" WHERE tag IN ['t01', 't42'] OR begins_with(tag, 't3')")
    assert sorted(i["tag"]["S"] for i in out["Items"]) == ["t01", "t30", "t31", "t32", "t33", "t42"]
    out = run(
        ddb, f"SELECT artist FROM \"{music}\" WHERE artist = 'a1' AND n BETWEEN 1 AND 2 AND tag <> 't11'"
    )
    assert out["Items"] == [{"artist": {"S": "a1"}}]
    out = run(
        ddb,
        f"SELECT * FROM \"{music}\" WHERE artist = 'a0' AND nothing IS MISSING AND NOT contains(tag, '3')",
    )
    assert len(out["Items"]) == 3


def test_select_on_an_index(ddb, music):
    out = run(ddb, f'SELECT * FROM "{music}"."by_genre" WHERE genre = \'rock\'')
    assert len(out["Items"]) == 10 and all(i["genre"]["S"] == "rock" for i in out["Items"])


def test_select_pages_with_limit_and_next_token(ddb, music):
    statement = f"SELECT * FROM \"{music}\" WHERE artist = 'a3'"
    seen, token = [], None
    while True:
        out = run(ddb, statement, Limit=3, **({"NextToken": token} if token else {}))
        seen += [i["n"]["N"] for i in out["Items"]]
        token = out.get("NextToken")
        if token is None:
            break
    assert seen == ["0", "1", "2", "3"]
    code, message = failure(
        ddb, f"SELECT * FROM \"{music}\" WHERE artist = 'a4'", NextToken=out_token(ddb, music)
    )
    assert (code, message) == ("ValidationException", "NextToken does not match request")
    assert failure(ddb, statement, NextToken="garbage!") == ("ValidationException", "Invalid NextToken")


def out_token(ddb, music) -> str:
    return run(ddb, f"SELECT * FROM \"{music}\" WHERE artist = 'a3'", Limit=1)["NextToken"]


def test_insert_update_delete_round_trip(ddb, simple):
    run(ddb, f"INSERT INTO \"{simple}\" VALUE {{'id': 'k', 'n': 1, 'l': [1], 's': <<'a'>>, 'gone': TRUE}}")
    got = ddb.get_item(TableName=simple, Key={"id": {"S": "k"}})["Item"]
    assert got == {
        "id": {"S": "k"}, "n": {"N": "1"}, "l": {"L": [{"N": "1"}]}, "s": {"SS": ["a"]}, "gone": {"BOOL": True}
    }  # fmt: skip
    assert failure(ddb, f"INSERT INTO \"{simple}\" VALUE {{'id': 'k'}}") == (
        "DuplicateItemException",
        "Duplicate primary key exists in table",
    )
    out = run(
        ddb,
        f"UPDATE \"{simple}\" SET n = n + ?, l = list_append(l, [2]) SET s = set_add(s, <<'b'>>) REMOVE gone "
        "WHERE id = 'k' RETURNING ALL NEW *",
        {"N": "4"},
    )
    (item,) = out["Items"]
    assert item["n"] == {"N": "5"} and item["l"] == {"L": [{"N": "1"}, {"N": "2"}]} and "gone" not in item
    assert sorted(item["s"]["SS"]) == ["a", "b"]
    out = run(ddb, f"UPDATE \"{simple}\" SET n = 6 WHERE id = 'k' RETURNING MODIFIED OLD *")
    assert out["Items"] == [{"n": {"N": "5"}}]
    assert run(ddb, f"DELETE FROM \"{simple}\" WHERE id = 'k' RETURNING ALL OLD *")["Items"][0]["n"] == {
        "N": "6"
    }
    assert "Item" not in ddb.get_item(TableName=simple, Key={"id": {"S": "k"}})
    assert run(ddb, f"DELETE FROM \"{simple}\" WHERE id = 'k'")["Items"] == []  # a missing item: no error


def test_update_and_delete_conditions(ddb, simple):
    assert failure(ddb, f"UPDATE \"{simple}\" SET a = 1 WHERE id = 'none'") == (
        "ConditionalCheckFailedException",
        "The conditional request failed",
    )
    run(ddb, f"INSERT INTO \"{simple}\" VALUE {{'id': 'c', 'v': 1}}")
    with pytest.raises(ClientError) as err:
        run(
            ddb,
            f"DELETE FROM \"{simple}\" WHERE id = 'c' AND v = 2",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert err.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert err.value.response["Item"] == {"id": {"S": "c"}, "v": {"N": "1"}}
    run(ddb, f"UPDATE \"{simple}\" SET w = 'x' WHERE id = 'c' AND v = 1")
    assert ddb.get_item(TableName=simple, Key={"id": {"S": "c"}})["Item"]["w"] == {"S": "x"}


def test_writes_reach_indexes(ddb, music):
    run(ddb, f"INSERT INTO \"{music}\" VALUE {{'artist': 'new', 'n': 0, 'genre': 'jazz'}}")
    out = ddb.query(
        TableName=music,
        IndexName="by_genre",
        KeyConditionExpression="genre = :g",
        ExpressionAttributeValues={":g": {"S": "jazz"}},
    )
    assert [i["artist"]["S"] for i in out["Items"]] == ["new"]
    run(ddb, f"UPDATE \"{music}\" SET genre = 'blues' WHERE artist = 'new' AND n = 0")
    assert run(ddb, f'SELECT * FROM "{music}"."by_genre" WHERE genre = \'jazz\'')["Items"] == []
    run(ddb, f"DELETE FROM \"{music}\" WHERE artist = 'new' AND n = 0")
    assert run(ddb, f'SELECT * FROM "{music}"."by_genre" WHERE genre = \'blues\'')["Items"] == []


def test_errors(ddb, music, simple):
    assert failure(ddb, 'SELECT * FROM "no-such-table"') == (
        "ResourceNotFoundException",
        "Requested resource not found",
    )
    assert failure(ddb, f'SELECT * FROM "{simple}" WHERE') == (
        "ValidationException",
        "Statement wasn't well formed, can't be processed: Unexpected term",
    )
    assert failure(ddb, f"DELETE FROM \"{music}\" WHERE artist = 'a1'") == (
        "ValidationException",
        "Where clause does not contain a mandatory equality on all key attributes",
    )
    assert failure(ddb, f'SELECT * FROM "{simple}" WHERE id = ?')[1] == (
        "Number of parameters in request and statement don't match."
    )
    assert failure(ddb, f"SELECT * FROM \"{music}\" WHERE tag = 'x' ORDER BY n")[1] == (
        "Must have at least one non-optional hash key condition in WHERE clause when using ORDER BY clause."
    )
    ddb.put_item(TableName=simple, Item={"id": {"S": "a"}})
    assert failure(ddb, f"UPDATE \"{simple}\" SET id = 'z' WHERE id = 'a'") == (
        "ValidationException",
        "One or more parameter values were invalid: Cannot update attribute id. This attribute is part of the key",
    )
    assert failure(ddb, f"EXISTS(SELECT * FROM \"{simple}\" WHERE id = 'a')")[1] == (
        "EXISTS can only be used in ExecuteTransaction write requests."
    )


def test_batch_execute_statement(ddb, simple):
    out = ddb.batch_execute_statement(
        Statements=[
            {"Statement": f"INSERT INTO \"{simple}\" VALUE {{'id': ?}}", "Parameters": [{"S": "b1"}]},
            {"Statement": f"INSERT INTO \"{simple}\" VALUE {{'id': 'b1'}}"},
            {"Statement": f'SELEC * FROM "{simple}"'},
            {"Statement": f"UPDATE \"{simple}\" SET v = 1 WHERE id = 'missing'"},
        ]
    )["Responses"]
    assert out[0] == {"TableName": simple}
    assert out[1]["Error"] == {"Code": "DuplicateItem", "Message": "Duplicate primary key exists in table"}
    assert out[2]["Error"]["Code"] == "ValidationError"
    assert out[3]["Error"]["Code"] == "ConditionalCheckFailed"
    reads = ddb.batch_execute_statement(
        Statements=[
            {"Statement": f"SELECT * FROM \"{simple}\" WHERE id = 'b1'"},
            {"Statement": f"SELECT * FROM \"{simple}\" WHERE id = 'nope'"},
        ]
    )["Responses"]
    assert reads == [{"TableName": simple, "Item": {"id": {"S": "b1"}}}, {"TableName": simple}]


def test_execute_transaction_all_or_nothing(ddb, simple):
    ddb.put_item(TableName=simple, Item={"id": {"S": "t0"}, "v": {"N": "1"}})
    ddb.put_item(TableName=simple, Item={"id": {"S": "t2"}, "v": {"N": "1"}})
    with pytest.raises(ClientError) as err:
        ddb.execute_transaction(
            TransactStatements=[
                {"Statement": f"INSERT INTO \"{simple}\" VALUE {{'id': 't1'}}"},
                {"Statement": f"UPDATE \"{simple}\" SET v = 2 WHERE id = 'missing'"},
            ]
        )
    assert err.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = err.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "ConditionalCheckFailed"]
    assert "Item" not in ddb.get_item(TableName=simple, Key={"id": {"S": "t1"}})
    ddb.execute_transaction(
        TransactStatements=[
            {"Statement": f"INSERT INTO \"{simple}\" VALUE {{'id': 't1'}}"},
            {"Statement": f"UPDATE \"{simple}\" SET v = 2 WHERE id = 't0' AND v = 1"},
            {"Statement": f"EXISTS(SELECT * FROM \"{simple}\" WHERE id = 't2' AND v IS NOT MISSING)"},
        ],
        ClientRequestToken="tok-1",
    )
    reads = ddb.execute_transaction(
        TransactStatements=[
            {"Statement": f"SELECT * FROM \"{simple}\" WHERE id = 't0'"},
            {"Statement": f"SELECT * FROM \"{simple}\" WHERE id = 'nope'"},
        ]
    )["Responses"]
    assert reads == [{"Item": {"id": {"S": "t0"}, "v": {"N": "2"}}}, {}]


def test_execute_transaction_checks(ddb, simple):
    ddb.put_item(TableName=simple, Item={"id": {"S": "x0"}, "v": {"N": "1"}})
    ddb.put_item(TableName=simple, Item={"id": {"S": "x3"}})

    def refused(statements: list[str]) -> tuple[str, str]:
        with pytest.raises(ClientError) as err:
            ddb.execute_transaction(TransactStatements=[{"Statement": s} for s in statements])
        return err.value.response["Error"]["Code"], err.value.response["Error"]["Message"]

    table = f'"{simple}"'
    assert refused([f"SELECT * FROM {table} WHERE id = 'x0'", f"DELETE FROM {table} WHERE id = 'x0'"]) == (
        "ValidationException",
        "ExecuteTransaction API does not support both read and write operations in the same request.",
    )
    assert refused([f"SELECT * FROM {table} WHERE"]) == (
        "ValidationException",
        "Validation failed in TransactStatements[0]: Statement wasn't well formed, can't be processed: Unexpected term",
    )
    code, _ = refused([f"DELETE FROM {table} WHERE id = 'x0'", f"UPDATE {table} SET a = 1 WHERE id = 'x0'"])
    assert code == "ValidationException"
    with pytest.raises(ClientError) as err:
        ddb.execute_transaction(
            TransactStatements=[
                {"Statement": f"EXISTS(SELECT * FROM {table} WHERE id = 'x0' AND v = 5)"},
                {"Statement": f"INSERT INTO {table} VALUE {{'id': 'x3'}}"},
            ]
        )
    reasons = err.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["ConditionalCheckFailed", "ValidationError"]
    assert reasons[1]["Message"] == "Duplicate primary key exists in table"
