"""RDS DB parameter groups through the gateway with boto3: create, describe, page, delete, errors."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError


def unique(prefix: str = "pg") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def error_of(call, **kwargs) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    e = err.value.response
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"], e["Error"]["Message"]


@pytest.fixture
def rds(aws):
    return aws("rds")


def test_create_describe_delete(rds):
    name = unique()
    group = rds.create_db_parameter_group(
        DBParameterGroupName=name, DBParameterGroupFamily="postgres16", Description="app settings",
        Tags=[{"Key": "team", "Value": "core"}],
    )["DBParameterGroup"]  # fmt: skip
    assert group == {
        "DBParameterGroupName": name,
        "DBParameterGroupFamily": "postgres16",
        "Description": "app settings",
        "DBParameterGroupArn": f"arn:aws:rds:us-east-1:000000000000:pg:{name}",
    }
    assert rds.describe_db_parameter_groups(DBParameterGroupName=name)["DBParameterGroups"] == [group]
    assert error_of(
        rds.create_db_parameter_group,
        DBParameterGroupName=name, DBParameterGroupFamily="postgres16", Description="again",
    ) == ("DBParameterGroupAlreadyExists", 400, f"Parameter group {name} already exists")  # fmt: skip
    rds.delete_db_parameter_group(DBParameterGroupName=name)
    assert error_of(rds.describe_db_parameter_groups, DBParameterGroupName=name) == (
        "DBParameterGroupNotFound", 404, f"DBParameterGroup not found: {name}",
    )  # fmt: skip
    assert error_of(rds.delete_db_parameter_group, DBParameterGroupName=name)[:2] == (
        "DBParameterGroupNotFound",
        404,
    )


def test_default_groups_exist_and_cannot_be_deleted(rds):
    found = rds.describe_db_parameter_groups(DBParameterGroupName="default.postgres16")["DBParameterGroups"]
    assert found[0]["DBParameterGroupFamily"] == "postgres16"
    assert error_of(rds.delete_db_parameter_group, DBParameterGroupName="default.postgres16")[:2] == (
        "InvalidDBParameterGroupState", 400,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("name", "family", "message"),
    [
        ("bad--name", "mysql8.0", "The parameter DBParameterGroupName is not a valid identifier."),
        ("good-name", "postgres99", "ParameterGroupFamily postgres99 is not a valid parameter group family"),
    ],
)
def test_create_refuses_bad_names_and_families(rds, name, family, message):
    code, status, text = error_of(
        rds.create_db_parameter_group,
        DBParameterGroupName=name,
        DBParameterGroupFamily=family,
        Description="x",
    )
    assert (code, status) == ("InvalidParameterValue", 400)
    assert text.startswith(message)


def test_describe_pages_with_marker(aws):
    rds = aws("rds", region="ca-central-1")  # a region of its own: the listing is exactly ours + defaults
    names = sorted(unique() for _ in range(25))
    for name in names:
        rds.create_db_parameter_group(
            DBParameterGroupName=name, DBParameterGroupFamily="mysql8.0", Description="x"
        )
    seen, marker = [], None
    while True:
        page = rds.describe_db_parameter_groups(MaxRecords=20, **({"Marker": marker} if marker else {}))
        assert len(page["DBParameterGroups"]) <= 20
        seen += [g["DBParameterGroupName"] for g in page["DBParameterGroups"]]
        marker = page.get("Marker")
        if not marker:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen))
    assert set(names) <= set(seen) and "default.mysql8.0" in seen
    assert error_of(rds.describe_db_parameter_groups, MaxRecords=5) == (
        "InvalidParameterValue", 400, "Invalid value 5 for MaxRecords. Must be between 20 and 100",
    )  # fmt: skip
    for name in names:
        rds.delete_db_parameter_group(DBParameterGroupName=name)
