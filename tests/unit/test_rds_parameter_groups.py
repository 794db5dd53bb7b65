"""RDS parameter groups: names, families, defaults, and the handlers on a real store."""

from __future__ import annotations

import asyncio

import pytest

from services.rds import parameter_groups as groups
from services.rds.handlers import handles
from services.rds.storage import RdsStore
from shared.aws.errors import AwsError
from shared.context import RequestContext


@pytest.mark.parametrize(("name", "kept"), [("My-Group1", "my-group1"), ("a", "a"), ("x" * 255, "x" * 255)])
def test_check_name_accepts_identifiers_and_lowercases(name, kept):
    assert groups.check_name(name) == kept


@pytest.mark.parametrize("name", ["", "1abc", "a--b", "a-", "a.b", "a_b", "x" * 256])
def test_check_name_refuses_invalid_identifiers(name):
    with pytest.raises(AwsError) as err:
        groups.check_name(name)
    assert err.value.code == "InvalidParameterValue"
    assert err.value.message.startswith("The parameter DBParameterGroupName is not a valid identifier.")


def test_check_family():
    assert groups.check_family("postgres16") == "postgres16"
    with pytest.raises(AwsError) as err:
        groups.check_family("postgres99")
    assert err.value.message == "ParameterGroupFamily postgres99 is not a valid parameter group family"


@pytest.fixture
def ctx(tmp_path):
    store = RdsStore(tmp_path / "rds.db")
    yield RequestContext("rds", "", "req", account_id="000000000000", region="us-east-1", state=store)
    store.close()


def call(ctx, op: str, req: dict) -> dict:
    return asyncio.run(handles.get(op)(ctx, req))


def test_create_describe_delete(ctx):
    req = {"DBParameterGroupName": "App-PG", "DBParameterGroupFamily": "postgres16", "Description": "d"}
    group = call(ctx, "CreateDBParameterGroup", req)["DBParameterGroup"]
    assert group == {
        "DBParameterGroupName": "app-pg",
        "DBParameterGroupFamily": "postgres16",
        "Description": "d",
        "DBParameterGroupArn": "arn:aws:rds:us-east-1:000000000000:pg:app-pg",
    }
    with pytest.raises(AwsError) as err:
        call(ctx, "CreateDBParameterGroup", req)
    assert (err.value.code, err.value.message) == (
        "DBParameterGroupAlreadyExists",
        "Parameter group app-pg already exists",
    )
    assert call(ctx, "DescribeDBParameterGroups", {"DBParameterGroupName": "APP-PG"})[
        "DBParameterGroups"
    ] == [group]
    default = call(ctx, "DescribeDBParameterGroups", {"DBParameterGroupName": "default.mysql8.0"})
    assert default["DBParameterGroups"][0]["DBParameterGroupFamily"] == "mysql8.0"
    with pytest.raises(AwsError) as err:
        call(ctx, "DeleteDBParameterGroup", {"DBParameterGroupName": "default.mysql8.0"})
    assert err.value.code == "InvalidDBParameterGroupState"
    assert call(ctx, "DeleteDBParameterGroup", {"DBParameterGroupName": "app-pg"}) == {}
    for op in ("DescribeDBParameterGroups", "DeleteDBParameterGroup"):
        with pytest.raises(AwsError) as err:
            call(ctx, op, {"DBParameterGroupName": "app-pg"})
        assert (err.value.code, err.value.status) == ("DBParameterGroupNotFound", 404)
        assert err.value.message == "DBParameterGroup not found: app-pg"


def test_describe_pages_by_marker(ctx):
    for i in range(30):
        call(ctx, "CreateDBParameterGroup", {
            "DBParameterGroupName": f"pg-{i:02d}", "DBParameterGroupFamily": "mysql8.0", "Description": "x",
        })  # fmt: skip
    seen, marker = [], None
    while True:
        page = call(
            ctx, "DescribeDBParameterGroups", {"MaxRecords": 20, **({"Marker": marker} if marker else {})}
        )
        assert len(page["DBParameterGroups"]) <= 20
        seen += [g["DBParameterGroupName"] for g in page["DBParameterGroups"]]
        marker = page.get("Marker")
        if not marker:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 30 + len(groups.FAMILIES)
    with pytest.raises(AwsError) as err:
        call(ctx, "DescribeDBParameterGroups", {"MaxRecords": 5})
    assert err.value.message == "Invalid value 5 for MaxRecords. Must be between 20 and 100"
