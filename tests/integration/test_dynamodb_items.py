"""DynamoDB items through boto3: conditions, ReturnValues, capacity, limits, the resource API."""

from __future__ import annotations

from decimal import Decimal

import boto3
import pytest
from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError

from tests.integration.test_dynamodb import error, index, new_table


@pytest.fixture
def ddb(aws):
    return aws("dynamodb")


@pytest.fixture
def table(ddb):
    name = new_table(ddb)
    yield name
    ddb.delete_table(TableName=name)


@pytest.fixture
def resource(endpoint):
    return boto3.resource(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


INVALID = "One or more parameter values were invalid: "


def key(value: str) -> dict:
    return {"id": {"S": value}}


def test_every_attribute_type_round_trips(ddb, table):
    item = {
        "id": {"S": "all"},
        "s": {"S": "héllo"},
        "n": {"N": "-12345678901234567890123456789012345678"},
        "small": {"N": "1E-130"},
        "b": {"B": b"\x00\xff"},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2.5"]},
        "bs": {"BS": [b"\x01", b"\x02"]},
        "m": {"M": {"inner": {"M": {"deep": {"L": [{"NULL": True}, {"BOOL": False}]}}}}},
        "l": {"L": [{"S": "x"}, {"N": "1"}, {"B": b"z"}]},
        "empty": {"S": ""},
    }
    ddb.put_item(TableName=table, Item=item)
    got = ddb.get_item(TableName=table, Key=key("all"))["Item"]
    assert got == {**item, "small": {"N": "0." + "0" * 129 + "1"}}


def test_conditional_put_and_failure_returns_old_item(ddb, table):
    ddb.put_item(
        TableName=table, Item={**key("c"), "v": {"N": "1"}}, ConditionExpression="attribute_not_exists(id)"
    )
    with pytest.raises(ClientError) as err:
        ddb.put_item(
            TableName=table,
            Item={**key("c"), "v": {"N": "2"}},
            ConditionExpression="attribute_not_exists(id)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert err.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert err.value.response["Error"]["Message"] == "The conditional request failed"
    assert err.value.response["Item"] == {**key("c"), "v": {"N": "1"}}
    ddb.put_item(
        TableName=table,
        Item={**key("c"), "v": {"N": "3"}},
        ConditionExpression="#v = :one",
        ExpressionAttributeNames={"#v": "v"},
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    assert ddb.get_item(TableName=table, Key=key("c"))["Item"]["v"] == {"N": "3"}


def test_update_item_return_values(ddb, table):
    ddb.put_item(
        TableName=table, Item={**key("u"), "a": {"N": "1"}, "m": {"M": {"x": {"S": "old"}, "y": {"S": "y"}}}}
    )
    common = {"TableName": table, "Key": key("u")}
    out = ddb.update_item(
        **common,
        UpdateExpression="SET a = a + :one, m.x = :new",
        ExpressionAttributeValues={":one": {"N": "1"}, ":new": {"S": "new"}},
        ReturnValues="UPDATED_NEW",
    )
    assert out["Attributes"] == {"a": {"N": "2"}, "m": {"M": {"x": {"S": "new"}}}}
    out = ddb.update_item(
        **common,
        UpdateExpression="ADD a :one",
        ExpressionAttributeValues={":one": {"N": "5"}},
        ReturnValues="UPDATED_OLD",
    )
    assert out["Attributes"] == {"a": {"N": "2"}}
    out = ddb.update_item(**common, UpdateExpression="REMOVE m", ReturnValues="ALL_OLD")
    assert out["Attributes"]["a"] == {"N": "7"} and "m" in out["Attributes"]
    out = ddb.update_item(
        **common,
        UpdateExpression="SET z = :z",
        ExpressionAttributeValues={":z": {"SS": ["q"]}},
        ReturnValues="ALL_NEW",
    )
    assert out["Attributes"] == {**key("u"), "a": {"N": "7"}, "z": {"SS": ["q"]}}
    assert "Attributes" not in ddb.update_item(
        **common, UpdateExpression="REMOVE nothing", ReturnValues="UPDATED_OLD"
    )


def test_update_creates_missing_item_and_guards_keys(ddb, table):
    ddb.update_item(
        TableName=table,
        Key=key("new"),
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"S": "x"}},
    )
    assert ddb.get_item(TableName=table, Key=key("new"))["Item"] == {**key("new"), "v": {"S": "x"}}
    code, message = error(
        ddb.update_item,
        TableName=table,
        Key=key("new"),
        UpdateExpression="SET id = :v",
        ExpressionAttributeValues={":v": {"S": "other"}},
    )
    assert code == "ValidationException" and "This attribute is part of the key" in message
    code, _ = error(
        ddb.update_item,
        TableName=table,
        Key=key("absent"),
        UpdateExpression="SET v = :v",
        ConditionExpression="attribute_exists(id)",
        ExpressionAttributeValues={":v": {"S": "x"}},
    )
    assert code == "ConditionalCheckFailedException"
    assert "Item" not in ddb.get_item(TableName=table, Key=key("absent"))


def test_delete_item(ddb, table):
    ddb.put_item(TableName=table, Item={**key("d"), "v": {"N": "1"}})
    assert error(ddb.delete_item, TableName=table, Key=key("d"), ReturnValues="ALL_NEW") == (
        "ValidationException",
        "ReturnValues can only be ALL_OLD or NONE",
    )
    code, _ = error(
        ddb.delete_item,
        TableName=table,
        Key=key("d"),
        ConditionExpression="v > :v",
        ExpressionAttributeValues={":v": {"N": "1"}},
    )
    assert code == "ConditionalCheckFailedException"
    out = ddb.delete_item(TableName=table, Key=key("d"), ReturnValues="ALL_OLD")
    assert out["Attributes"] == {**key("d"), "v": {"N": "1"}}
    assert "Attributes" not in ddb.delete_item(TableName=table, Key=key("d"), ReturnValues="ALL_OLD")
    assert "Item" not in ddb.get_item(TableName=table, Key=key("d"))


def test_item_size_limit(ddb, table):
    big = "x" * (400 * 1024 - 20)
    ddb.put_item(TableName=table, Item={**key("big"), "v": {"S": big}})
    assert error(ddb.put_item, TableName=table, Item={**key("big"), "v": {"S": big + "x" * 100}}) == (
        "ValidationException",
        "Item size has exceeded the maximum allowed size",
    )
    assert error(
        ddb.update_item,
        TableName=table,
        Key=key("big"),
        UpdateExpression="SET w = :w",
        ExpressionAttributeValues={":w": {"S": "y" * 100}},
    ) == ("ValidationException", "Item size to update has exceeded the maximum allowed size")


def test_expression_attribute_errors(ddb, table):
    code, message = error(
        ddb.put_item, TableName=table, Item=key("e"), ExpressionAttributeValues={":v": {"S": "x"}}
    )
    assert message == "ExpressionAttributeValues can only be specified when using expressions"
    code, message = error(
        ddb.put_item,
        TableName=table,
        Item=key("e"),
        ConditionExpression="attribute_not_exists(id)",
        ExpressionAttributeValues={":v": {"S": "x"}},
    )
    assert message == "Value provided in ExpressionAttributeValues unused in expressions: keys: {:v}"


def test_consumed_capacity_follows_item_size(ddb):
    name = new_table(ddb, gsis=[index("by-g", "g", projection="KEYS_ONLY")], extra_attributes={"g": "S"})
    try:
        item = {**key("cap"), "g": {"S": "g"}, "v": {"S": "x" * 3000}}
        out = ddb.put_item(TableName=name, Item=item, ReturnConsumedCapacity="INDEXES")
        assert out["ConsumedCapacity"] == {
            "TableName": name,
            "CapacityUnits": 4.0,
            "Table": {"CapacityUnits": 3.0},
            "GlobalSecondaryIndexes": {"by-g": {"CapacityUnits": 1.0}},
        }
        out = ddb.put_item(TableName=name, Item={**item, "v": {"S": "y"}}, ReturnConsumedCapacity="TOTAL")
        assert out["ConsumedCapacity"] == {"TableName": name, "CapacityUnits": 3.0}
        ddb.put_item(TableName=name, Item={**item, "v": {"S": "z" * 5000}})
        strong = ddb.get_item(
            TableName=name, Key=key("cap"), ConsistentRead=True, ReturnConsumedCapacity="TOTAL"
        )
        weak = ddb.get_item(TableName=name, Key=key("cap"), ReturnConsumedCapacity="TOTAL")
        assert strong["ConsumedCapacity"]["CapacityUnits"] == 2.0
        assert weak["ConsumedCapacity"]["CapacityUnits"] == 1.0
    finally:
        ddb.delete_table(TableName=name)


def test_item_collection_metrics_on_tables_with_local_indexes(ddb):
    name = new_table(ddb, range_key=("n", "N"), lsis=[index("by-l", "id", "l")], extra_attributes={"l": "S"})
    try:
        out = ddb.put_item(
            TableName=name,
            Item={**key("k"), "n": {"N": "1"}, "l": {"S": "x"}},
            ReturnItemCollectionMetrics="SIZE",
        )
        assert out["ItemCollectionMetrics"] == {
            "ItemCollectionKey": key("k"),
            "SizeEstimateRangeGB": [0.0, 1.0],
        }
    finally:
        ddb.delete_table(TableName=name)


def test_index_key_type_is_checked_on_write(ddb):
    name = new_table(ddb, gsis=[index("by-g", "g")], extra_attributes={"g": "S"})
    try:
        assert error(ddb.put_item, TableName=name, Item={**key("a"), "g": {"N": "1"}}) == (
            "ValidationException",
            "One or more parameter values were invalid: Type mismatch for Index Key g Expected: S Actual: N "
            "IndexName: by-g",
        )
    finally:
        ddb.delete_table(TableName=name)


def test_resource_api(resource, ddb, table):
    t = resource.Table(table)
    t.put_item(Item={"id": "r", "n": Decimal("1.5"), "tags": {"a", "b"}, "doc": {"list": [1, "two", None]}})
    got = t.get_item(Key={"id": "r"})["Item"]
    assert got == {
        "id": "r",
        "n": Decimal("1.5"),
        "tags": {"a", "b"},
        "doc": {"list": [Decimal(1), "two", None]},
    }
    out = t.update_item(
        Key={"id": "r"},
        UpdateExpression="ADD n :d DELETE tags :t",
        ExpressionAttributeValues={":d": Decimal("2"), ":t": {"a"}},
        ReturnValues="ALL_NEW",
    )
    assert out["Attributes"]["n"] == Decimal("3.5") and out["Attributes"]["tags"] == {"b"}
    with pytest.raises(ClientError) as err:
        t.delete_item(Key={"id": "r"}, ConditionExpression=Attr("n").lt(1))
    assert err.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    t.delete_item(Key={"id": "r"}, ConditionExpression=Attr("n").gt(1))
    assert "Item" not in t.get_item(Key={"id": "r"})


def test_legacy_parameters(ddb, table):
    ddb.put_item(TableName=table, Item={**key("old"), "v": {"N": "1"}}, Expected={"id": {"Exists": False}})
    code, _ = error(ddb.put_item, TableName=table, Item=key("old"), Expected={"id": {"Exists": False}})
    assert code == "ConditionalCheckFailedException"
    out = ddb.update_item(
        TableName=table,
        Key=key("old"),
        AttributeUpdates={
            "v": {"Action": "ADD", "Value": {"N": "2"}},
            "s": {"Action": "PUT", "Value": {"SS": ["a"]}},
        },
        Expected={
            "v": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "1"}]},
            "s": {"Exists": False},
        },
        ConditionalOperator="AND",
        ReturnValues="ALL_NEW",
    )
    assert out["Attributes"] == {**key("old"), "v": {"N": "3"}, "s": {"SS": ["a"]}}
    ddb.update_item(TableName=table, Key=key("old"), AttributeUpdates={"s": {"Action": "DELETE"}})
    assert "s" not in ddb.get_item(TableName=table, Key=key("old"))["Item"]
    code, message = error(
        ddb.delete_item,
        TableName=table,
        Key=key("old"),
        Expected={"v": {"Value": {"N": "3"}}},
        ConditionExpression="attribute_exists(id)",
    )
    assert message == (
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}"
    )
    ddb.delete_item(
        TableName=table,
        Key=key("old"),
        Expected={"v": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "2"}]}},
    )
    assert "Item" not in ddb.get_item(TableName=table, Key=key("old"))


def test_key_attributes_are_refused_in_updates_before_conditions(ddb, table):
    ddb.put_item(TableName=table, Item={**key("k"), "v": {"S": "x"}})
    refused = (
        "ValidationException",
        INVALID + "Cannot update attribute id. This attribute is part of the key",
    )
    # the same value, and a condition that would fail: the key is refused first all the same
    assert (
        error(
            ddb.update_item,
            TableName=table,
            Key=key("k"),
            UpdateExpression="SET id = :same",
            ConditionExpression="attribute_not_exists(id)",
            ExpressionAttributeValues={":same": {"S": "k"}},
        )
        == refused
    )
    assert error(ddb.update_item, TableName=table, Key=key("k"), UpdateExpression="REMOVE v, id") == refused
    assert (
        error(
            ddb.update_item,
            TableName=table,
            Key=key("k"),
            AttributeUpdates={"id": {"Action": "PUT", "Value": {"S": "k"}}},
            Expected={"v": {"Value": {"S": "other"}}},
        )
        == refused
    )
    assert ddb.get_item(TableName=table, Key=key("k"))["Item"] == {**key("k"), "v": {"S": "x"}}


def test_expression_size_and_operator_limits(ddb, table):
    long_name = "a" + "z" * 4096
    expression = f"attribute_not_exists({long_name})"
    assert error(ddb.put_item, TableName=table, Item=key("k"), ConditionExpression=expression) == (
        "ValidationException",
        "Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; "
        f"expression size: {len(expression)}",
    )
    assert error(
        ddb.update_item,
        TableName=table,
        Key=key("k"),
        UpdateExpression=f"SET {long_name} = :v",
        ExpressionAttributeValues={":v": {"S": "x"}},
    ) == (
        "ValidationException",
        "Invalid UpdateExpression: Expression size has exceeded the maximum allowed size;",
    )
    values = {":v": {"N": "1"}}
    terms = " OR ".join(["v = :v"] * 149 + ["attribute_exists(id)"])
    ddb.put_item(TableName=table, Item=key("k"))
    # 149 comparisons, a function, 149 ORs and a NOT: 300 operators, the most DynamoDB allows
    ddb.put_item(
        TableName=table, Item=key("k"), ConditionExpression=f"NOT {terms}", ExpressionAttributeValues=values
    )
    assert error(
        ddb.put_item,
        TableName=table,
        Item=key("k"),
        ConditionExpression=f"NOT NOT {terms}",
        ExpressionAttributeValues=values,
    ) == (
        "ValidationException",
        "Invalid ConditionExpression: The expression contains too many operators; operator count: 301",
    )
    sums = "SET " + ",".join(f"a{i}=:v+:v" for i in range(301))  # under 4 KB: the count is what fails
    assert error(
        ddb.update_item,
        TableName=table,
        Key=key("k"),
        UpdateExpression=sums,
        ExpressionAttributeValues=values,
    ) == (
        "ValidationException",
        "Invalid UpdateExpression: The expression contains too many operators; operator count: 301",
    )


def test_legacy_parameters_are_not_held_to_expression_limits(ddb, table):
    updates = {
        f"attribute_with_a_long_name_{i:04}": {"Action": "PUT", "Value": {"N": "1"}} for i in range(350)
    }
    ddb.update_item(TableName=table, Key=key("legacy"), AttributeUpdates=updates)
    assert len(ddb.get_item(TableName=table, Key=key("legacy"))["Item"]) == 351


def test_empty_attribute_names_are_refused(ddb, table):
    refused = ("ValidationException", INVALID + "Empty attribute name")
    assert error(ddb.put_item, TableName=table, Item={**key("k"), "": {"S": "x"}}) == refused
    assert error(ddb.get_item, TableName=table, Key={**key("k"), "": {"S": "x"}}) == refused
    assert error(ddb.delete_item, TableName=table, Key={"": {"S": "k"}}) == refused
