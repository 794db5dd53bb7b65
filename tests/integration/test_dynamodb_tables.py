"""DynamoDB's control plane through the gateway with boto3: tables, indexes, streams settings, tags, TTL,
continuous backups, resource policies, limits and endpoints, with DynamoDB's error codes and messages."""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError

HASH = [{"AttributeName": "id", "KeyType": "HASH"}]
SORTED = HASH + [{"AttributeName": "n", "KeyType": "RANGE"}]
DEFS = [{"AttributeName": "id", "AttributeType": "S"}, {"AttributeName": "n", "AttributeType": "N"}]
WAIT = {"Delay": 1, "MaxAttempts": 10}


def unique(prefix: str = "tt") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def ddb(aws):
    return aws("dynamodb")


@pytest.fixture
def made(ddb):
    """Create tables through ``made(**params)``; all are deleted (protection lifted) afterwards."""
    names: list[str] = []

    def create(**params) -> dict:
        params.setdefault("TableName", unique())
        params.setdefault("KeySchema", HASH)
        params.setdefault("AttributeDefinitions", DEFS[:1])
        if "ProvisionedThroughput" not in params:
            params.setdefault("BillingMode", "PAY_PER_REQUEST")
        names.append(params["TableName"])
        return ddb.create_table(**params)["TableDescription"]

    yield create
    for name in names:
        try:
            ddb.update_table(TableName=name, DeletionProtectionEnabled=False)
            ddb.delete_table(TableName=name)
        except ClientError:
            pass


def error(call, **kwargs) -> tuple[str, str]:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return err.value.response["Error"]["Code"], err.value.response["Error"]["Message"]


def gsi(name: str, key: str, **extra) -> dict:
    return {
        "IndexName": name,
        "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"},
        **extra,
    }


def test_create_with_everything_and_waiters(ddb, made):
    name = unique()
    created = made(
        TableName=name,
        KeySchema=SORTED,
        AttributeDefinitions=DEFS + [{"AttributeName": "g", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[gsi("by-g", "g")],
        LocalSecondaryIndexes=[
            {
                "IndexName": "by-n",
                "KeySchema": [
                    {"AttributeName": "id", "KeyType": "HASH"},
                    {"AttributeName": "g", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["x"]},
            }
        ],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        SSESpecification={"Enabled": True, "SSEType": "KMS"},
        TableClass="STANDARD_INFREQUENT_ACCESS",
        DeletionProtectionEnabled=True,
        Tags=[{"Key": "team", "Value": "core"}],
    )
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig=WAIT)
    table = ddb.describe_table(TableName=name)["Table"]
    arn = f"arn:aws:dynamodb:us-east-1:000000000000:table/{name}"
    assert table["TableArn"] == arn and table["TableId"] == created["TableId"]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["LatestStreamArn"] == f"{arn}/stream/{table['LatestStreamLabel']}"
    assert table["SSEDescription"]["Status"] == "ENABLED" and table["SSEDescription"]["SSEType"] == "KMS"
    assert table["TableClassSummary"]["TableClass"] == "STANDARD_INFREQUENT_ACCESS"
    assert table["DeletionProtectionEnabled"] is True
    (index,) = table["GlobalSecondaryIndexes"]
    assert index["IndexStatus"] == "ACTIVE" and index["IndexArn"] == f"{arn}/index/by-g"
    assert index["ItemCount"] == 0 and index["ProvisionedThroughput"]["ReadCapacityUnits"] == 0
    assert table["LocalSecondaryIndexes"][0]["Projection"]["NonKeyAttributes"] == ["x"]
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "core"}]
    assert error(ddb.delete_table, TableName=name) == (
        "ValidationException",
        "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection "
        "first.",
    )
    assert ddb.describe_table(TableName=arn)["Table"]["TableName"] == name
    ddb.update_table(TableName=name, DeletionProtectionEnabled=False)
    ddb.delete_table(TableName=name)
    ddb.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig=WAIT)


@pytest.mark.parametrize(
    "params, message",
    [
        (
            {"GlobalSecondaryIndexes": [gsi("by-x", "x")]},
            "One or more parameter values were invalid: Some index key attributes are not defined in "
            "AttributeDefinitions. Keys: [x], AttributeDefinitions: [id]",
        ),
        (
            {"AttributeDefinitions": DEFS, "GlobalSecondaryIndexes": [gsi("by-id", "id")]},
            "One or more parameter values were invalid: Some AttributeDefinitions are not used. "
            "AttributeDefinitions: [id, n], keys used: [id]",
        ),
        (
            {"KeySchema": SORTED},
            "Invalid KeySchema: Some index key attribute have no definition",
        ),
        (
            {"StreamSpecification": {"StreamEnabled": False, "StreamViewType": "KEYS_ONLY"}},
            "One or more parameter values were invalid: Table is being created with a stream disabled, "
            "UpdateViewType should not be specified",
        ),
    ],
)
def test_create_validation(ddb, made, params, message):
    assert error(made, **params) == ("ValidationException", message)


def test_update_throughput_and_billing(ddb, made):
    name = made(ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})["TableName"]
    out = ddb.update_table(
        TableName=name, ProvisionedThroughput={"ReadCapacityUnits": 2, "WriteCapacityUnits": 6}
    )
    assert out["TableDescription"]["TableStatus"] == "UPDATING"
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig=WAIT)
    throughput = ddb.describe_table(TableName=name)["Table"]["ProvisionedThroughput"]
    assert (throughput["ReadCapacityUnits"], throughput["WriteCapacityUnits"]) == (2, 6)
    assert throughput["NumberOfDecreasesToday"] == 1
    assert "LastDecreaseDateTime" in throughput and "LastIncreaseDateTime" in throughput
    code, message = error(
        ddb.update_table,
        TableName=name,
        ProvisionedThroughput={"ReadCapacityUnits": 2, "WriteCapacityUnits": 6},
    )
    assert code == "ValidationException"
    assert message.startswith("The provisioned throughput for the table will not change.")
    ddb.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")
    table = ddb.describe_table(TableName=name)["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert "LastUpdateToPayPerRequestDateTime" in table["BillingModeSummary"]
    assert error(ddb.update_table, TableName=name, BillingMode="PROVISIONED") == (
        "ValidationException",
        "One or more parameter values were invalid: ProvisionedThroughput must be specified when BillingMode is "
        "PROVISIONED",
    )
    assert error(ddb.update_table, TableName=name)[1].startswith("At least one of ProvisionedThroughput")
    assert error(ddb.update_table, TableName=unique("missing"), DeletionProtectionEnabled=True)[0] == (
        "ResourceNotFoundException"
    )


def test_update_stream_and_exclusive_changes(ddb, made):
    name = made()["TableName"]
    assert error(ddb.update_table, TableName=name, StreamSpecification={"StreamEnabled": False}) == (
        "ValidationException",
        f"Table has no stream to disable: TableName: {name}",
    )
    spec = {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    label = ddb.update_table(TableName=name, StreamSpecification=spec)["TableDescription"][
        "LatestStreamLabel"
    ]
    assert error(ddb.update_table, TableName=name, StreamSpecification=spec) == (
        "ValidationException",
        f"Table already has an enabled stream: TableName: {name}",
    )
    ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    table = ddb.describe_table(TableName=name)["Table"]
    assert "StreamSpecification" not in table and table["LatestStreamLabel"] == label
    assert error(ddb.update_table, TableName=name, TableClass="STANDARD", DeletionProtectionEnabled=True) == (
        "ValidationException",
        "One or more parameter values were invalid: TableClass modification must be the only operation in the "
        "request",
    )


def test_gsi_create_backfills_then_delete(ddb, made):
    name = made()["TableName"]
    for i in range(5):
        item = {"id": {"S": f"i{i}"}} | ({"g": {"S": "x"}} if i % 2 == 0 else {})
        ddb.put_item(TableName=name, Item=item)
    assert error(
        ddb.update_table, TableName=name, GlobalSecondaryIndexUpdates=[{"Create": gsi("by-g", "g")}]
    ) == (
        "ValidationException",
        "One or more parameter values were invalid: AttributeDefinitions is not specified for index: by-g",
    )
    out = ddb.update_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[{"Create": gsi("by-g", "g")}],
    )["TableDescription"]
    assert out["TableStatus"] == "UPDATING"
    assert out["GlobalSecondaryIndexes"][0]["IndexStatus"] == "CREATING"
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig=WAIT)
    table = ddb.describe_table(TableName=name)["Table"]
    (index,) = table["GlobalSecondaryIndexes"]
    assert index["IndexStatus"] == "ACTIVE" and index["ItemCount"] == 3  # sparse: items with g only
    assert {d["AttributeName"] for d in table["AttributeDefinitions"]} == {"id", "g"}
    assert error(
        ddb.update_table,
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[{"Create": gsi("by-g", "g")}],
    ) == ("ValidationException", "Attempting to create an index which already exists")
    assert error(
        ddb.update_table, TableName=name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "nope"}}]
    ) == (
        "ResourceNotFoundException",
        f"Requested resource not found: Index nope for table {name}",
    )
    out = ddb.update_table(TableName=name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by-g"}}])
    assert out["TableDescription"]["GlobalSecondaryIndexes"][0]["IndexStatus"] == "DELETING"
    table = ddb.describe_table(TableName=name)["Table"]
    assert "GlobalSecondaryIndexes" not in table
    assert table["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}]


def test_tags(ddb, made):
    arn = made()["TableArn"]
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "a", "Value": "3"}])
    ddb.untag_resource(ResourceArn=arn, TagKeys=["b"])
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [{"Key": "a", "Value": "3"}]
    missing = arn.rsplit("/", 1)[0] + "/" + unique("missing")
    assert error(ddb.list_tags_of_resource, ResourceArn=missing) == (
        "ResourceNotFoundException",
        f"Requested resource not found: ResourcArn: {missing} not found",
    )
    assert error(ddb.tag_resource, ResourceArn="nope", Tags=[{"Key": "a", "Value": "1"}]) == (
        "ValidationException",
        "One or more parameter values were invalid: ARNs must start with 'arn:': nope",
    )
    code, message = error(
        ddb.tag_resource, ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": ""} for i in range(50)]
    )
    assert message == "Number of Tags exceed the current limit for the provided ResourceArn"


def test_time_to_live(ddb, made):
    name = made()["TableName"]
    assert ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "DISABLED"
    }
    assert error(
        ddb.update_time_to_live,
        TableName=name,
        TimeToLiveSpecification={"Enabled": False, "AttributeName": "exp"},
    ) == ("ValidationException", "TimeToLive is already disabled")
    out = ddb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"}
    )
    assert out["TimeToLiveSpecification"] == {"Enabled": True, "AttributeName": "exp"}
    assert ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "exp",
    }
    assert error(
        ddb.update_time_to_live,
        TableName=name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"},
    ) == ("ValidationException", "TimeToLive is already enabled")
    assert error(
        ddb.update_time_to_live,
        TableName=name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "other"},
    ) == (
        "ValidationException",
        "TimeToLive is active on a different AttributeName: current AttributeName is exp",
    )
    ddb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": False, "AttributeName": "exp"}
    )
    assert ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "DISABLED"
    }
    assert error(ddb.describe_time_to_live, TableName=unique("missing"))[0] == "ResourceNotFoundException"


def test_continuous_backups(ddb, made):
    name = made()["TableName"]
    described = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    assert described["PointInTimeRecoveryDescription"] == {"PointInTimeRecoveryStatus": "DISABLED"}
    out = ddb.update_continuous_backups(
        TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert out["PointInTimeRecoveryStatus"] == "ENABLED" and out["RecoveryPeriodInDays"] == 35
    assert out["EarliestRestorableDateTime"] <= out["LatestRestorableDateTime"]
    assert error(
        ddb.update_continuous_backups,
        TableName=name,
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False, "RecoveryPeriodInDays": 7},
    ) == (
        "ValidationException",
        "Invalid Request: Cannot specify RecoveryPeriodInDays when disabling point-in-time recovery.",
    )
    missing = unique("missing")
    assert error(ddb.describe_continuous_backups, TableName=missing) == (
        "TableNotFoundException",
        f"Table not found: {missing}",
    )


def test_resource_policies(ddb, made):
    arn = made()["TableArn"]
    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "dynamodb:GetItem", "Resource": arn}
            ],
        }
    )
    code, message = error(ddb.get_resource_policy, ResourceArn=arn)
    assert (code, message) == (
        "PolicyNotFoundException",
        f"Resource-based policy not found for the provided ResourceArn: {arn}",
    )
    revision = ddb.put_resource_policy(ResourceArn=arn, Policy=policy)["RevisionId"]
    assert ddb.put_resource_policy(ResourceArn=arn, Policy=policy)["RevisionId"] == revision
    got = ddb.get_resource_policy(ResourceArn=arn)
    assert (got["Policy"], got["RevisionId"]) == (policy, revision)
    assert error(ddb.put_resource_policy, ResourceArn=arn, Policy=policy, ExpectedRevisionId="1")[0] == (
        "PolicyNotFoundException"
    )
    assert ddb.delete_resource_policy(ResourceArn=arn, ExpectedRevisionId=revision)["RevisionId"] == revision
    assert error(ddb.get_resource_policy, ResourceArn=arn)[0] == "PolicyNotFoundException"
    assert error(ddb.put_resource_policy, ResourceArn=arn, Policy="{")[1] == (
        "One or more parameter values were invalid: Invalid policy document: This policy contains invalid Json"
    )


def test_limits_and_endpoints(ddb, endpoint):
    limits = ddb.describe_limits()
    assert limits["TableMaxReadCapacityUnits"] == 40000 and limits["AccountMaxWriteCapacityUnits"] == 80000
    (found,) = ddb.describe_endpoints()["Endpoints"]
    assert "amazonaws.com" not in found["Address"] and found["CachePeriodInMinutes"] == 1440


def test_leaving_on_demand_needs_index_throughput(ddb, made):
    name = made(
        AttributeDefinitions=[DEFS[0], {"AttributeName": "g", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[gsi("by-g", "g")],
    )["TableName"]
    capacity = {"ReadCapacityUnits": 3, "WriteCapacityUnits": 4}
    assert error(
        ddb.update_table, TableName=name, BillingMode="PROVISIONED", ProvisionedThroughput=capacity
    ) == (
        "ValidationException",
        "One or more parameter values were invalid: ProvisionedThroughput must be specified for index: by-g",
    )
    ddb.update_table(
        TableName=name,
        BillingMode="PROVISIONED",
        ProvisionedThroughput=capacity,
        GlobalSecondaryIndexUpdates=[{"Update": {"IndexName": "by-g", "ProvisionedThroughput": capacity}}],
    )
    table = ddb.describe_table(TableName=name)["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    assert table["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"]["WriteCapacityUnits"] == 4
    assert table["GlobalSecondaryIndexes"][0]["IndexStatus"] == "ACTIVE"
