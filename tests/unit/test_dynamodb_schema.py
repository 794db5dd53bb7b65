"""CreateTable's validation rules and messages, the stored description, and projections."""

from __future__ import annotations

import pytest

from services.dynamodb import schema
from services.dynamodb.handlers.common import item_key, lookup_key
from services.dynamodb.paths import parse_projection, project
from shared.aws.errors import AwsError
from shared.context import RequestContext


def request(**over):
    req = {
        "TableName": "things",
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    req.update(over)
    return {k: v for k, v in req.items() if v is not None}


def message_of(req) -> str:
    with pytest.raises(AwsError) as err:
        schema.check_create(req)
    assert err.value.code == "ValidationException"
    return err.value.message


def test_valid_requests_pass():
    schema.check_create(request())
    schema.check_create(
        request(BillingMode=None, ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
    )


@pytest.mark.parametrize(
    "over, expected",
    [
        (
            {"AttributeDefinitions": [{"AttributeName": "other", "AttributeType": "S"}]},
            "One or more parameter values were invalid: Some index key attributes are not defined in "
            "AttributeDefinitions. Keys: [id], AttributeDefinitions: [other]",
        ),
        (
            {
                "AttributeDefinitions": [
                    {"AttributeName": "id", "AttributeType": "S"},
                    {"AttributeName": "extra", "AttributeType": "N"},
                ]
            },
            "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match "
            "number of attributes defined in AttributeDefinitions",
        ),
        (
            {"KeySchema": [{"AttributeName": "id", "KeyType": "RANGE"}]},
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ),
        (
            {
                "KeySchema": [
                    {"AttributeName": "id", "KeyType": "HASH"},
                    {"AttributeName": "id", "KeyType": "RANGE"},
                ]
            },
            "Both the Hash Key and the Range Key element in the KeySchema have the same name",
        ),
        (
            {"BillingMode": None},
            "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be "
            "specified when BillingMode is PROVISIONED",
        ),
        (
            {"ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}},
            "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be "
            "specified when BillingMode is PAY_PER_REQUEST",
        ),
        (
            {"TableName": "ab"},
            "1 validation error detected: Value 'ab' at 'tableName' failed to satisfy constraint: "
            "Member must have length greater than or equal to 3",
        ),
        (
            {"AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "BOOL"}]},
            "1 validation error detected: Value 'BOOL' at 'attributeDefinitions.1.member.attributeType' failed to "
            "satisfy constraint: Member must satisfy enum value set: [B, N, S]",
        ),
        (
            {"GlobalSecondaryIndexes": [{"IndexName": "i"}]},
            "Flotilla does not support the parameter GlobalSecondaryIndexes of CreateTable yet.",
        ),
    ],
)
def test_invalid_requests(over, expected):
    assert message_of(request(**over)) == expected


def test_two_constraint_violations_are_reported_together():
    assert message_of(request(TableName="a!")).startswith("2 validation errors detected: ")


def test_description_and_keys():
    ctx = RequestContext(service="dynamodb", operation="CreateTable", request_id="r", region="eu-west-1")
    req = request(
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "n", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "n", "AttributeType": "N"},
        ],
    )
    desc = schema.new_description(ctx, req, 1_700_000_000.0)
    assert desc["TableArn"] == "arn:aws:dynamodb:eu-west-1:000000000000:table/things"
    out = schema.describe(desc, "ACTIVE", 2, 10)
    assert out["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert out["ProvisionedThroughput"] == {
        "NumberOfDecreasesToday": 0,
        "ReadCapacityUnits": 0,
        "WriteCapacityUnits": 0,
    }
    assert out["CreationDateTime"].timestamp() == 1_700_000_000.0
    with pytest.raises(AwsError, match="Missing the key n in the item"):
        item_key(desc, {"pk": {"S": "a"}})
    with pytest.raises(AwsError, match="Type mismatch for key n expected: N actual: S"):
        item_key(desc, {"pk": {"S": "a"}, "n": {"S": "1"}})
    with pytest.raises(AwsError, match="cannot contain an empty string value. Key: pk"):
        item_key(desc, {"pk": {"S": ""}, "n": {"N": "1"}})
    with pytest.raises(AwsError, match="The provided key element does not match the schema"):
        lookup_key(desc, {"pk": {"S": "a"}})
    with pytest.raises(AwsError, match="The provided key element does not match the schema"):
        lookup_key(desc, {"pk": {"S": "a"}, "n": {"N": "1"}, "x": {"S": "y"}})
    assert lookup_key(desc, {"pk": {"S": "a"}, "n": {"N": "1"}}) == item_key(
        desc, {"pk": {"S": "a"}, "n": {"N": "1"}}
    )


def test_projection_paths_and_errors():
    item = {
        "a": {"M": {"b": {"S": "x"}, "c": {"N": "1"}}},
        "l": {"L": [{"S": "0"}, {"S": "1"}, {"M": {"z": {"S": "q"}, "y": {"S": "r"}}}]},
        "top": {"S": "t"},
    }
    paths, used = parse_projection("a.b, l[2].z, #t, l[0], missing.x", {"#t": "top"})
    assert used == {"#t"}
    assert project(item, paths) == {
        "a": {"M": {"b": {"S": "x"}}},
        "l": {"L": [{"S": "0"}, {"M": {"z": {"S": "q"}}}]},
        "top": {"S": "t"},
    }
    for bad, fragment in [
        ("a,", "Syntax error"),
        ("#x", "attribute name: #x"),
        ("a, a.b", "Two document paths overlap"),
    ]:
        with pytest.raises(AwsError, match=fragment):
            parse_projection(bad, {})
