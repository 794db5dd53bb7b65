"""DynamoDB through the gateway with boto3: tables, items, and DynamoDB's own error codes and messages."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from botocore.exceptions import ClientError


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def ddb(aws):
    return aws("dynamodb")


def make_table(ddb, name: str | None = None, sort: str | None = None, **extra) -> str:
    name = name or unique()
    keys = [{"AttributeName": "id", "KeyType": "HASH"}]
    definitions = [{"AttributeName": "id", "AttributeType": "S"}]
    if sort:
        keys.append({"AttributeName": sort, "KeyType": "RANGE"})
        definitions.append({"AttributeName": sort, "AttributeType": "N"})
    params = {"BillingMode": "PAY_PER_REQUEST", **extra}
    ddb.create_table(TableName=name, KeySchema=keys, AttributeDefinitions=definitions, **params)
    return name


def new_table(
    ddb,
    hash_key: tuple[str, str] = ("id", "S"),
    range_key: tuple[str, str] | None = None,
    gsis: list[dict] | None = None,
    lsis: list[dict] | None = None,
    extra_attributes: dict[str, str] | None = None,
) -> str:
    """A PAY_PER_REQUEST table; ``gsis``/``lsis`` are index definitions, their key types in ``extra_attributes``."""
    name = unique()
    keys = [{"AttributeName": hash_key[0], "KeyType": "HASH"}]
    types = {hash_key[0]: hash_key[1], **(extra_attributes or {})}
    if range_key:
        keys.append({"AttributeName": range_key[0], "KeyType": "RANGE"})
        types[range_key[0]] = range_key[1]
    params: dict = {"BillingMode": "PAY_PER_REQUEST"}
    if gsis:
        params["GlobalSecondaryIndexes"] = gsis
    if lsis:
        params["LocalSecondaryIndexes"] = lsis
    ddb.create_table(
        TableName=name,
        KeySchema=keys,
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t in types.items()],
        **params,
    )
    return name


def index(name: str, hash_key: str, range_key: str | None = None, projection: str = "ALL", **extra) -> dict:
    keys = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        keys.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return {"IndexName": name, "KeySchema": keys, "Projection": {"ProjectionType": projection, **extra}}


@pytest.fixture
def table(ddb):
    name = make_table(ddb)
    yield name
    try:
        ddb.delete_table(TableName=name)
    except ClientError:
        pass


def error(call, **kwargs) -> tuple[str, str]:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    e = err.value.response["Error"]
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return e["Code"], e["Message"]


def test_create_and_describe(ddb):
    name = unique()
    created = ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 7},
    )["TableDescription"]
    assert created["TableStatus"] == "ACTIVE"
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    table = ddb.describe_table(TableName=name)["Table"]
    assert table["TableName"] == name
    assert table["TableStatus"] == "ACTIVE"
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}]
    assert isinstance(table["CreationDateTime"], datetime)
    assert table["ItemCount"] == 0 and table["TableSizeBytes"] == 0
    assert table["TableArn"] == f"arn:aws:dynamodb:us-east-1:000000000000:table/{name}"
    assert uuid.UUID(table["TableId"]) and table["TableId"] == created["TableId"]
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == 7
    assert table["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    assert name in ddb.list_tables()["TableNames"]
    deleted = ddb.delete_table(TableName=name)["TableDescription"]
    assert deleted["TableStatus"] == "DELETING"
    assert error(ddb.describe_table, TableName=name) == (
        "ResourceNotFoundException",
        f"Requested resource not found: Table: {name} not found",
    )


def test_create_existing_table(ddb, table):
    code, message = error(
        ddb.create_table,
        TableName=table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    assert (code, message) == ("ResourceInUseException", f"Table already exists: {table}")


@pytest.mark.parametrize(
    "keys, definitions, billing, message",
    [
        (
            [{"AttributeName": "id", "KeyType": "HASH"}],
            [{"AttributeName": "other", "AttributeType": "S"}],
            {"BillingMode": "PAY_PER_REQUEST"},
            "One or more parameter values were invalid: Some index key attributes are not defined in "
            "AttributeDefinitions. Keys: [id], AttributeDefinitions: [other]",
        ),
        (
            [{"AttributeName": "id", "KeyType": "HASH"}],
            [{"AttributeName": "id", "AttributeType": "S"}, {"AttributeName": "x", "AttributeType": "S"}],
            {"BillingMode": "PAY_PER_REQUEST"},
            "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match "
            "number of attributes defined in AttributeDefinitions",
        ),
        (
            [{"AttributeName": "id", "KeyType": "HASH"}],
            [{"AttributeName": "id", "AttributeType": "S"}],
            {},
            "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be "
            "specified when BillingMode is PROVISIONED",
        ),
        (
            [{"AttributeName": "id", "KeyType": "RANGE"}],
            [{"AttributeName": "id", "AttributeType": "S"}],
            {"BillingMode": "PAY_PER_REQUEST"},
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ),
    ],
)
def test_create_table_validation(ddb, keys, definitions, billing, message):
    code, got = error(
        ddb.create_table, TableName=unique(), KeySchema=keys, AttributeDefinitions=definitions, **billing
    )
    assert (code, got) == ("ValidationException", message)


def test_put_and_get_item(ddb, table):
    item = {
        "id": {"S": "a"},
        "n": {"N": "1.50"},
        "b": {"B": b"\x00\x01"},
        "m": {"M": {"x": {"L": [{"S": "y"}, {"BOOL": True}, {"NULL": True}]}}},
        "ss": {"SS": ["p", "q"]},
    }
    assert "Attributes" not in ddb.put_item(TableName=table, Item=item)
    got = ddb.get_item(TableName=table, Key={"id": {"S": "a"}})["Item"]
    assert got == {**item, "n": {"N": "1.5"}}
    old = ddb.put_item(TableName=table, Item={"id": {"S": "a"}, "v": {"S": "2"}}, ReturnValues="ALL_OLD")
    assert old["Attributes"]["b"] == {"B": b"\x00\x01"}
    assert ddb.get_item(TableName=table, Key={"id": {"S": "a"}})["Item"] == {
        "id": {"S": "a"},
        "v": {"S": "2"},
    }
    assert "Item" not in ddb.get_item(TableName=table, Key={"id": {"S": "nope"}})
    described = ddb.describe_table(TableName=table)["Table"]
    assert described["ItemCount"] == 1 and described["TableSizeBytes"] > 0


def test_projection_and_consumed_capacity(ddb, table):
    ddb.put_item(
        TableName=table,
        Item={"id": {"S": "p"}, "a": {"M": {"b": {"S": "x"}, "c": {"S": "y"}}}, "z": {"N": "1"}},
    )
    got = ddb.get_item(
        TableName=table,
        Key={"id": {"S": "p"}},
        ProjectionExpression="#a.b, z",
        ExpressionAttributeNames={"#a": "a"},
        ReturnConsumedCapacity="TOTAL",
    )
    assert got["Item"] == {"a": {"M": {"b": {"S": "x"}}}, "z": {"N": "1"}}
    assert got["ConsumedCapacity"] == {"TableName": table, "CapacityUnits": 0.5}
    assert ddb.get_item(TableName=table, Key={"id": {"S": "p"}}, AttributesToGet=["z"])["Item"] == {
        "z": {"N": "1"}
    }
    code, message = error(
        ddb.get_item,
        TableName=table,
        Key={"id": {"S": "p"}},
        ProjectionExpression="z",
        ExpressionAttributeNames={"#a": "a"},
    )
    assert message == "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a}"


def test_item_key_errors(ddb):
    name = make_table(ddb, sort="n")
    try:
        assert error(ddb.put_item, TableName=name, Item={"id": {"S": "a"}}) == (
            "ValidationException",
            "One or more parameter values were invalid: Missing the key n in the item",
        )
        assert error(ddb.put_item, TableName=name, Item={"id": {"N": "1"}, "n": {"N": "1"}}) == (
            "ValidationException",
            "One or more parameter values were invalid: Type mismatch for key id expected: S actual: N",
        )
        assert error(ddb.get_item, TableName=name, Key={"id": {"S": "a"}}) == (
            "ValidationException",
            "The provided key element does not match the schema",
        )
        assert error(
            ddb.put_item, TableName=name, Item={"id": {"S": "a"}, "n": {"N": "1"}}, ReturnValues="ALL_NEW"
        ) == (
            "ValidationException",
            "ReturnValues can only be ALL_OLD or NONE",
        )
        assert error(ddb.put_item, TableName=name, Item={"id": {"S": ""}, "n": {"N": "1"}}) == (
            "ValidationException",
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot "
            "contain an empty string value. Key: id",
        )
        assert error(
            ddb.get_item, TableName=name, Key={"id": {"S": "a"}, "n": {"N": "1"}, "x": {"N": "1"}}
        ) == (
            "ValidationException",
            "The provided key element does not match the schema",
        )
    finally:
        ddb.delete_table(TableName=name)


def test_item_calls_on_missing_table(ddb):
    missing = unique("missing")
    assert error(ddb.put_item, TableName=missing, Item={"id": {"S": "a"}}) == (
        "ResourceNotFoundException",
        "Requested resource not found",
    )
    assert error(ddb.get_item, TableName=missing, Key={"id": {"S": "a"}})[0] == "ResourceNotFoundException"


def test_list_tables_pages_and_regions_are_isolated(aws, ddb):
    prefix = unique("list")
    names = [make_table(ddb, f"{prefix}-{i}") for i in range(3)]
    try:
        seen, start = [], None
        while True:
            page = ddb.list_tables(Limit=2, **({"ExclusiveStartTableName": start} if start else {}))
            seen += page["TableNames"]
            start = page.get("LastEvaluatedTableName")
            if not start:
                break
        assert [n for n in seen if n.startswith(prefix)] == names
        west = aws("dynamodb", region="us-west-2")
        assert not any(n.startswith(prefix) for n in west.list_tables()["TableNames"])
        assert error(west.describe_table, TableName=names[0])[0] == "ResourceNotFoundException"
    finally:
        for name in names:
            ddb.delete_table(TableName=name)
