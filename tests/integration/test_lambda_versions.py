"""Lambda updates, versions and aliases through the gateway with boto3 (waiters, preconditions, routing)."""

from __future__ import annotations

import asyncio
import json

import pytest

from shared.registry import Registry
from tests.integration.lambda_support import ROLE, create_function, error_of, unique, zip_of

RETURNS = "def handler(event, context):\n    return {!r}\n"


@pytest.fixture
def lam(aws):
    return aws("lambda")


def returning(value: str) -> str:
    return RETURNS.format(value)


def invoke(lam, name: str, **kw) -> tuple[object, dict]:
    out = lam.invoke(FunctionName=name, Payload=b"{}", **kw)
    return json.loads(out["Payload"].read()), out


def test_updates_answer_in_progress_and_waiters_see_them_done(lam):
    name = unique()
    created = create_function(lam, name)
    assert created["State"] == "Pending" and created["StateReasonCode"] == "Creating"
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    stale = error_of(lam.update_function_configuration, FunctionName=name, RevisionId="0" * 36, Timeout=10)
    assert stale[:2] == ("PreconditionFailedException", 412)
    updated = lam.update_function_configuration(
        FunctionName=name,
        RevisionId=created["RevisionId"],
        Timeout=10,
        MemorySize=512,
        Description="new",
        Handler="handler.other",
        Environment={"Variables": {"MODE": "x"}},
        TracingConfig={"Mode": "Active"},
        EphemeralStorage={"Size": 1024},
        LoggingConfig={"LogFormat": "JSON", "ApplicationLogLevel": "DEBUG"},
    )
    assert (updated["LastUpdateStatus"], updated["LastUpdateStatusReasonCode"]) == ("InProgress", "Creating")
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    config = lam.get_function_configuration(FunctionName=name)
    assert config["LastUpdateStatus"] == "Successful"
    assert (config["Timeout"], config["MemorySize"], config["Description"]) == (10, 512, "new")
    assert config["Handler"] == "handler.other" and config["Environment"] == {"Variables": {"MODE": "x"}}
    assert config["TracingConfig"] == {"Mode": "Active"} and config["EphemeralStorage"] == {"Size": 1024}
    assert config["LoggingConfig"]["ApplicationLogLevel"] == "DEBUG"
    data = zip_of({"handler.py": returning("v2")})
    code = lam.update_function_code(FunctionName=name, ZipFile=data, RevisionId=config["RevisionId"])
    assert code["LastUpdateStatus"] == "InProgress" and code["CodeSize"] == len(data)
    dry = lam.update_function_code(FunctionName=name, ZipFile=zip_of({"handler.py": "x"}), DryRun=True)
    assert dry["CodeSha256"] != code["CodeSha256"]
    assert lam.get_function(FunctionName=name)["Configuration"]["CodeSha256"] == code["CodeSha256"]
    lam.delete_function(FunctionName=name)


def test_environment_limit_is_lambdas(lam):
    code, status, message = error_of(
        create_function, lam, unique(), Environment={"Variables": {"BIG": "x" * 4096}}
    )
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert message.startswith(
        "Lambda was unable to configure your environment variables because the environment variables you "
        "have provided exceeded the 4KB limit. String measured: {"
    )


def test_versions_and_aliases_run_their_own_code(lam):
    name = unique()
    create_function(lam, name, returning("one"))
    v1 = lam.publish_version(FunctionName=name, Description="first")
    assert v1["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert (v1["Version"], v1["Description"]) == ("1", "first")
    assert v1["FunctionArn"].endswith(f":function:{name}:1")
    assert lam.publish_version(FunctionName=name)["Version"] == "1"  # nothing changed: the same version
    lam.update_function_code(FunctionName=name, ZipFile=zip_of({"handler.py": returning("two")}))
    v2 = lam.publish_version(FunctionName=name, CodeSha256=lam.get_function(FunctionName=name)["Configuration"]["CodeSha256"])  # fmt: skip
    assert v2["Version"] == "2"
    alias = lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    assert alias["AliasArn"].endswith(f":function:{name}:live")
    assert invoke(lam, name, Qualifier="1")[0] == "one"
    assert invoke(lam, f"{name}:2")[0] == "two"
    result, out = invoke(lam, name, Qualifier="live")
    assert (result, out["ExecutedVersion"]) == ("one", "1")
    assert lam.get_function(FunctionName=name, Qualifier="live")["Configuration"]["Version"] == "1"
    lam.update_alias(FunctionName=name, Name="live", RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    executed = {invoke(lam, name, Qualifier="live")[1]["ExecutedVersion"] for _ in range(30)}
    assert executed == {"1", "2"}
    assert error_of(lam.delete_function, FunctionName=name, Qualifier="2") == (
        "ResourceConflictException", 409,
        "Unable to delete version because the following aliases reference it: [live]",
    )  # fmt: skip
    lam.delete_alias(FunctionName=name, Name="live")
    lam.delete_function(FunctionName=name, Qualifier="2")
    assert error_of(lam.get_function, FunctionName=name, Qualifier="2")[:2] == (
        "ResourceNotFoundException",
        404,
    )
    assert lam.publish_version(FunctionName=name)["Version"] == "3"  # numbers are never reused
    lam.delete_function(FunctionName=name)


def test_list_versions_and_all_functions_page(aws):
    lam = aws("lambda", region="ap-south-1")
    name = unique()
    create_function(lam, name)
    for timeout in (4, 5, 6):
        lam.update_function_configuration(FunctionName=name, Timeout=timeout)
        lam.publish_version(FunctionName=name)
    pages = list(lam.get_paginator("list_versions_by_function").paginate(FunctionName=name, PaginationConfig={"PageSize": 2}))  # fmt: skip
    assert len(pages) == 2
    versions = [v["Version"] for p in pages for v in p["Versions"]]
    assert versions == ["$LATEST", "1", "2", "3"]
    assert pages[0]["Versions"][0]["FunctionArn"].endswith(":$LATEST")
    everything = lam.list_functions(FunctionVersion="ALL")["Functions"]
    assert [f["Version"] for f in everything] == ["$LATEST", "1", "2", "3"]
    assert [f["FunctionArn"] for f in lam.list_functions()["Functions"]] == [everything[0]["FunctionArn"][: -len(":$LATEST")]]  # fmt: skip
    lam.delete_function(FunctionName=name)


def test_alias_validation_and_errors(lam):
    name = unique()
    create_function(lam, name)
    lam.publish_version(FunctionName=name)
    assert error_of(lam.create_alias, FunctionName=name, Name="a", FunctionVersion="7") == (
        "ResourceNotFoundException", 404, f"Function not found: arn:aws:lambda:us-east-1:000000000000:function:{name}:7",
    )  # fmt: skip
    routing = {"AdditionalVersionWeights": {"1": 0.2}}
    assert error_of(lam.create_alias, FunctionName=name, Name="a", FunctionVersion="1", RoutingConfig=routing) == (
        "InvalidParameterValueException", 400,
        "Invalid function version 1. Function version 1 is already included in routing configuration.",
    )  # fmt: skip
    assert error_of(
        lam.create_alias, FunctionName=name, Name="a", FunctionVersion="$LATEST", RoutingConfig=routing
    )[2] == (  # noqa: E501
        "$LATEST is not supported for an alias pointing to more than 1 version"
    )
    assert (
        error_of(lam.create_alias, FunctionName=name, Name="123", FunctionVersion="1")[0]
        == "ValidationException"
    )
    created = lam.create_alias(FunctionName=name, Name="a", FunctionVersion="$LATEST", Description="d")
    assert error_of(lam.create_alias, FunctionName=name, Name="a", FunctionVersion="1")[:2] == ("ResourceConflictException", 409)  # fmt: skip
    assert error_of(lam.update_alias, FunctionName=name, Name="a", RevisionId="stale")[:2] == ("PreconditionFailedException", 412)  # fmt: skip
    updated = lam.update_alias(
        FunctionName=name, Name="a", FunctionVersion="1", RevisionId=created["RevisionId"]
    )
    assert updated["FunctionVersion"] == "1" and updated["Description"] == "d"
    lam.create_alias(FunctionName=name, Name="b", FunctionVersion="1")
    assert [a["Name"] for a in lam.list_aliases(FunctionName=name, FunctionVersion="1")["Aliases"]] == [
        "a",
        "b",
    ]
    assert error_of(lam.get_alias, FunctionName=name, Name="zzz") == (
        "ResourceNotFoundException", 404, f"Cannot find alias arn: arn:aws:lambda:us-east-1:000000000000:function:{name}:zzz",
    )  # fmt: skip
    lam.delete_function(FunctionName=name)


def test_code_from_s3_and_its_errors(aws):
    lam, s3 = aws("lambda"), aws("s3")
    bucket = unique("code")
    s3.create_bucket(Bucket=bucket)
    data = zip_of({"handler.py": returning("from s3")})
    s3.put_object(Bucket=bucket, Key="fn.zip", Body=data)
    name = unique()
    created = create_function(lam, name, Code={"S3Bucket": bucket, "S3Key": "fn.zip"})
    assert created["CodeSize"] == len(data)
    assert invoke(lam, name)[0] == "from s3"
    assert error_of(create_function, lam, unique(), Code={"S3Bucket": bucket, "S3Key": "missing.zip"}) == (
        "InvalidParameterValueException", 400,
        "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist.",
    )  # fmt: skip
    s3.put_object(Bucket=bucket, Key="v2.zip", Body=zip_of({"handler.py": returning("updated")}))
    lam.update_function_code(FunctionName=name, S3Bucket=bucket, S3Key="v2.zip")
    assert invoke(lam, name)[0] == "updated"
    lam.delete_function(FunctionName=name)


def test_image_functions_are_stored(lam):
    name = unique()
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:latest"
    created = lam.create_function(
        FunctionName=name,
        Role=ROLE,
        PackageType="Image",
        Code={"ImageUri": image},
        ImageConfig={"Command": ["app.handler"], "WorkingDirectory": "/var/task"},
    )
    assert created["PackageType"] == "Image" and "Runtime" not in created and "Handler" not in created
    got = lam.get_function(FunctionName=name)
    assert got["Code"] == {"RepositoryType": "ECR", "ImageUri": image, "ResolvedImageUri": image}
    assert got["Configuration"]["ImageConfigResponse"] == {
        "ImageConfig": {"Command": ["app.handler"], "WorkingDirectory": "/var/task"}
    }
    lam.delete_function(FunctionName=name)


def test_function_arns_are_in_the_registry(lam, redis_url):
    name = unique()
    arn = create_function(lam, name)["FunctionArn"]

    async def lookup() -> dict | None:
        registry = Registry(redis_url)
        try:
            return await registry.get(arn)
        finally:
            await registry.close()

    assert asyncio.run(lookup()) == {"name": name, "account": "000000000000", "region": "us-east-1"}
    lam.delete_function(FunctionName=name)
    assert asyncio.run(lookup()) is None
