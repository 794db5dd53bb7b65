"""TransactWriteItems, TransactGetItems, BatchGetItem and BatchWriteItem through boto3."""

from __future__ import annotations

import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.integration.test_dynamodb import error, new_table


@pytest.fixture
def ddb(aws):
    return aws("dynamodb")


@pytest.fixture(scope="module")
def tables(aws):
    ddb = aws("dynamodb")
    names = [new_table(ddb), new_table(ddb)]
    yield names
    for name in names:
        ddb.delete_table(TableName=name)


def key(value: str) -> dict:
    return {"id": {"S": value}}


def get(ddb, table: str, value: str) -> dict | None:
    return ddb.get_item(TableName=table, Key=key(value), ConsistentRead=True).get("Item")


def test_transact_write_all_actions(ddb, tables):
    one, two = tables
    ddb.put_item(TableName=one, Item={**key("upd"), "n": {"N": "1"}})
    ddb.put_item(TableName=two, Item={**key("del")})
    ddb.put_item(TableName=two, Item={**key("chk"), "ok": {"BOOL": True}})
    out = ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": one, "Item": {**key("put"), "v": {"S": "x"}}}},
            {
                "Update": {
                    "TableName": one,
                    "Key": key("upd"),
                    "UpdateExpression": "ADD n :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
            {"Delete": {"TableName": two, "Key": key("del"), "ConditionExpression": "attribute_exists(id)"}},
            {
                "ConditionCheck": {
                    "TableName": two,
                    "Key": key("chk"),
                    "ConditionExpression": "ok = :t",
                    "ExpressionAttributeValues": {":t": {"BOOL": True}},
                }
            },
        ],
        ReturnConsumedCapacity="TOTAL",
    )
    assert sorted(c["TableName"] for c in out["ConsumedCapacity"]) == sorted([one, two])
    assert {c["TableName"]: c["CapacityUnits"] for c in out["ConsumedCapacity"]} == {one: 4.0, two: 4.0}
    assert get(ddb, one, "put") == {**key("put"), "v": {"S": "x"}}
    assert get(ddb, one, "upd")["n"] == {"N": "2"}
    assert get(ddb, two, "del") is None


def test_cancellation_reasons_in_order_and_nothing_written(ddb, tables):
    one, _ = tables
    ddb.put_item(TableName=one, Item={**key("held"), "v": {"N": "1"}})
    with pytest.raises(ClientError) as err:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": one, "Item": key("never")}},
                {
                    "Put": {
                        "TableName": one,
                        "Item": key("held"),
                        "ConditionExpression": "attribute_not_exists(id)",
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
                {"Delete": {"TableName": one, "Key": key("other")}},
            ]
        )
    response = err.value.response
    assert response["Error"]["Code"] == "TransactionCanceledException"
    assert response["Error"]["Message"] == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed, None]"
    )
    assert response["CancellationReasons"] == [
        {"Code": "None"},
        {
            "Code": "ConditionalCheckFailed",
            "Message": "The conditional request failed",
            "Item": {**key("held"), "v": {"N": "1"}},
        },
        {"Code": "None"},
    ]
    assert get(ddb, one, "never") is None


def test_transaction_validation(ddb, tables):
    one, _ = tables
    assert error(
        ddb.transact_write_items,
        TransactItems=[
            {"Put": {"TableName": one, "Item": key("twice")}},
            {"Delete": {"TableName": one, "Key": key("twice")}},
        ],
    ) == ("ValidationException", "Transaction request cannot include multiple operations on one item")
    code, message = error(
        ddb.transact_write_items,
        TransactItems=[{"Put": {"TableName": one, "Item": key(f"k{i}")}} for i in range(101)],
    )
    assert code == "ValidationException" and "Member must have length less than or equal to 100" in message
    assert error(
        ddb.transact_write_items, TransactItems=[{"Put": {"TableName": "missing-table", "Item": key("x")}}]
    ) == ("ResourceNotFoundException", "Requested resource not found")


def test_client_request_token_is_idempotent(ddb, tables):
    one, _ = tables
    token = uuid.uuid4().hex
    items = [
        {
            "Update": {
                "TableName": one,
                "Key": key("counter"),
                "UpdateExpression": "ADD n :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        }
    ]
    for _ in range(2):
        ddb.transact_write_items(TransactItems=items, ClientRequestToken=token)
    assert get(ddb, one, "counter")["n"] == {"N": "1"}
    items[0]["Update"]["ExpressionAttributeValues"][":one"] = {"N": "2"}
    code, _ = error(ddb.transact_write_items, TransactItems=items, ClientRequestToken=token)
    assert code == "IdempotentParameterMismatchException"


def test_transact_get_items(ddb, tables):
    one, two = tables
    ddb.put_item(TableName=one, Item={**key("g1"), "a": {"S": "x"}, "b": {"S": "y"}})
    out = ddb.transact_get_items(
        TransactItems=[
            {"Get": {"TableName": one, "Key": key("g1"), "ProjectionExpression": "a"}},
            {"Get": {"TableName": two, "Key": key("absent")}},
        ],
        ReturnConsumedCapacity="TOTAL",
    )
    assert out["Responses"] == [{"Item": {"a": {"S": "x"}}}, {}]
    assert len(out["ConsumedCapacity"]) == 2


def test_batch_write_and_get(ddb, tables):
    one, two = tables
    ddb.put_item(TableName=two, Item=key("gone"))
    out = ddb.batch_write_item(
        RequestItems={
            one: [{"PutRequest": {"Item": {**key(f"b{i}"), "i": {"N": str(i)}}}} for i in range(20)],
            two: [{"DeleteRequest": {"Key": key("gone")}}],
        },
        ReturnConsumedCapacity="TOTAL",
    )
    assert out["UnprocessedItems"] == {}
    assert {c["TableName"]: c["CapacityUnits"] for c in out["ConsumedCapacity"]} == {one: 20.0, two: 1.0}
    got = ddb.batch_get_item(
        RequestItems={
            one: {"Keys": [key("b1"), key("b2"), key("nope")], "ProjectionExpression": "i"},
            two: {"Keys": [key("gone")], "ConsistentRead": True},
        }
    )
    assert sorted(i["i"]["N"] for i in got["Responses"][one]) == ["1", "2"]
    assert got["Responses"][two] == [] and got["UnprocessedKeys"] == {}


def test_batch_limits(ddb, tables):
    one, _ = tables
    assert error(ddb.batch_write_item, RequestItems={one: [{"PutRequest": {"Item": key("dup")}}] * 2}) == (
        "ValidationException",
        "Provided list of item keys contains duplicates",
    )
    assert error(ddb.batch_get_item, RequestItems={one: {"Keys": [key("dup")] * 2}}) == (
        "ValidationException",
        "Provided list of item keys contains duplicates",
    )
    code, _ = error(
        ddb.batch_write_item, RequestItems={one: [{"PutRequest": {"Item": key(f"w{i}")}} for i in range(26)]}
    )
    assert code == "ValidationException"
    assert error(ddb.batch_get_item, RequestItems={one: {"Keys": [key(f"g{i}") for i in range(101)]}}) == (
        "ValidationException",
        "Too many items requested for the BatchGetItem call",
    )


def test_resource_batch_writer(endpoint, tables):
    one, _ = tables
    resource = boto3.resource(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="t",
        aws_secret_access_key="t",
    )
    table = resource.Table(one)
    with table.batch_writer() as batch:
        for i in range(30):
            batch.put_item(Item={"id": f"bw{i}", "i": i})
    got = resource.batch_get_item(RequestItems={one: {"Keys": [{"id": f"bw{i}"} for i in range(30)]}})
    assert sorted(int(i["i"]) for i in got["Responses"][one]) == list(range(30))


def test_transaction_items_are_limited_to_4_mb_in_all(ddb, tables):
    one, _ = tables
    blob = {"B": b"x" * 390_000}
    puts = [{"Put": {"TableName": one, "Item": {**key(f"big{i}"), "blob": blob}}} for i in range(11)]
    assert error(ddb.transact_write_items, TransactItems=puts) == (
        "ValidationException",
        "The aggregate size of the items in the transaction has exceeded the maximum allowed size of 4 MB",
    )
    assert get(ddb, one, "big0") is None
    ddb.transact_write_items(TransactItems=puts[:10])
    assert get(ddb, one, "big9")["blob"] == {"B": b"x" * 390_000}
