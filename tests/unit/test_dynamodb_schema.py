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
            {"TableClass": "COLD"},
            "Invalid table-class parameter provided. Please try again with a valid table-class value: "
            "[STANDARD, STANDARD_INFREQUENT_ACCESS].",
        ),
        (
            {"StreamSpecification": {"StreamEnabled": True}},
            "One or more parameter values were invalid: Table is being created with a stream enabled, "
            "UpdateViewType is required",
        ),
        (
            {"Tags": [{"Key": "aws:x", "Value": "v"}]},
            "Tag Key cannot be prefixed with aws:, Key: aws:x",
        ),
        (
            {"ResourcePolicy": "not json"},
            "One or more parameter values were invalid: Invalid policy document: This policy contains invalid Json",
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


SORTED = {
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}, {"AttributeName": "n", "KeyType": "RANGE"}],
    "AttributeDefinitions": [
        {"AttributeName": "id", "AttributeType": "S"},
        {"AttributeName": "n", "AttributeType": "N"},
        {"AttributeName": "g", "AttributeType": "S"},
    ],
}


def gsi(name="by-g", keys=("g",), projection=None, **extra):
    schema_ = [{"AttributeName": keys[0], "KeyType": "HASH"}]
    if len(keys) > 1:
        schema_.append({"AttributeName": keys[1], "KeyType": "RANGE"})
    return {
        "IndexName": name,
        "KeySchema": schema_,
        "Projection": projection or {"ProjectionType": "ALL"},
        **extra,
    }


def lsi(name="by-g", keys=("id", "g"), projection=None):
    return gsi(name, keys, projection)


@pytest.mark.parametrize(
    "over, expected",
    [
        (
            {"GlobalSecondaryIndexes": []},
            "One or more parameter values were invalid: List of GlobalSecondaryIndexes is empty",
        ),
        (
            {"GlobalSecondaryIndexes": [gsi(keys=("x",))]},
            "One or more parameter values were invalid: Some index key attributes are not defined in "
            "AttributeDefinitions. Keys: [x], AttributeDefinitions: [id, n, g]",
        ),
        (
            {"GlobalSecondaryIndexes": [gsi(projection={"ProjectionType": "INCLUDE"})]},
            "One or more parameter values were invalid: ProjectionType is INCLUDE, but NonKeyAttributes is not "
            "specified",
        ),
        (
            {
                "GlobalSecondaryIndexes": [
                    gsi(projection={"ProjectionType": "ALL", "NonKeyAttributes": ["a"]})
                ]
            },
            "One or more parameter values were invalid: ProjectionType is ALL, but NonKeyAttributes is specified",
        ),
        (
            {"GlobalSecondaryIndexes": [gsi(), gsi()]},
            "One or more parameter values were invalid: Duplicate index name: by-g",
        ),
        (
            {"GlobalSecondaryIndexes": [gsi(name=f"i{i:02}") for i in range(21)]},
            "One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the per-table limit of 20",
        ),
        (
            {
                "GlobalSecondaryIndexes": [
                    gsi(ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
                ]
            },
            "One or more parameter values were invalid: ProvisionedThroughput should not be specified for index: "
            "by-g when BillingMode is PAY_PER_REQUEST",
        ),
        (
            {"LocalSecondaryIndexes": [lsi(keys=("g", "n"))]},
            "One or more parameter values were invalid: Index KeySchema does not have the same leading hash key "
            "as table KeySchema for index: by-g. index hash key: g, table hash key: id",
        ),
        (
            {"LocalSecondaryIndexes": [lsi(keys=("id",))]},
            "One or more parameter values were invalid: Index KeySchema does not have a range key for index: by-g",
        ),
        (
            {"LocalSecondaryIndexes": [lsi(name=f"l{i:02}") for i in range(6)]},
            "One or more parameter values were invalid: Number of LocalSecondaryIndexes exceeds per-table limit "
            "of 5",
        ),
        (
            {"GlobalSecondaryIndexes": [gsi(keys=("n",))]},
            "One or more parameter values were invalid: Some AttributeDefinitions are not used. "
            "AttributeDefinitions: [id, n, g], keys used: [id, n]",
        ),
        (
            {"GlobalSecondaryIndexes": [gsi(name="i")]},
            "1 validation error detected: Value 'i' at 'globalSecondaryIndexes.1.member.indexName' failed to "
            "satisfy constraint: Member must have length greater than or equal to 3",
        ),
    ],
)
def test_index_rules(over, expected):
    assert message_of(request(**SORTED, **over)) == expected


def test_lsi_needs_a_table_range_key():
    assert message_of(
        request(
            AttributeDefinitions=[
                {"AttributeName": "id", "AttributeType": "S"},
                {"AttributeName": "g", "AttributeType": "S"},
            ],
            LocalSecondaryIndexes=[lsi()],
        )
    ) == (
        "One or more parameter values were invalid: Table KeySchema does not have a range key, which is "
        "required when specifying a LocalSecondaryIndex"
    )


def test_missing_key_definition_without_indexes():
    assert (
        message_of(request(KeySchema=SORTED["KeySchema"]))
        == "Invalid KeySchema: Some index key attribute have no definition"
    )


def test_description_with_indexes_stream_and_private_settings():
    ctx = RequestContext(service="dynamodb", operation="CreateTable", request_id="r")
    req = request(
        **SORTED,
        GlobalSecondaryIndexes=[gsi()],
        LocalSecondaryIndexes=[lsi(name="local", projection={"ProjectionType": "KEYS_ONLY"})],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        SSESpecification={"Enabled": True},
        Tags=[{"Key": "k", "Value": "v"}],
    )
    schema.check_create(req)
    desc = schema.new_description(ctx, req, 1_700_000_000.5)
    arn = "arn:aws:dynamodb:us-east-1:000000000000:table/things"
    assert desc["LatestStreamLabel"] == "2023-11-14T22:13:20.500"
    assert desc["LatestStreamArn"] == f"{arn}/stream/2023-11-14T22:13:20.500"
    assert desc["SSEDescription"]["KMSMasterKeyArn"].startswith("arn:aws:kms:us-east-1:000000000000:key/")
    out = schema.describe(desc, "ACTIVE", 0, 0, {"by-g": (3, 30)})
    assert "_Tags" not in out and desc["_Tags"] == [{"Key": "k", "Value": "v"}]
    (index,) = out["GlobalSecondaryIndexes"]
    assert index["IndexArn"] == f"{arn}/index/by-g"
    assert (index["IndexStatus"], index["ItemCount"], index["IndexSizeBytes"]) == ("ACTIVE", 3, 30)
    assert out["LocalSecondaryIndexes"][0]["ItemCount"] == 0
    assert schema.ttl_attribute(desc) is None
    assert (
        schema.ttl_attribute({"_TimeToLive": {"TimeToLiveStatus": "ENABLED", "AttributeName": "exp"}})
        == "exp"
    )


def test_table_name_may_be_an_arn():
    ctx = RequestContext(service="dynamodb", operation="DescribeTable", request_id="r", region="eu-west-1")
    assert schema.table_name(ctx, "things") == "things"
    assert schema.table_name(ctx, "arn:aws:dynamodb:eu-west-1:000000000000:table/things") == "things"
    with pytest.raises(AwsError, match="Invalid TableArn"):
        schema.table_name(ctx, "arn:aws:dynamodb:us-east-1:000000000000:table/things")
