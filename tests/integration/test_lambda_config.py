"""Lambda's configuration control plane through the gateway with boto3: resource policies, tags,
concurrency, event invoke configs, function URLs, code signing, account and function settings."""

from __future__ import annotations

import json
import random
import re

import boto3
import pytest
from botocore.config import Config

from tests.integration import lambda_support as support
from tests.integration.lambda_support import create_function, error_of

ACCOUNT = "000000000000"


def unique(prefix: str = "cfg") -> str:
    return support.unique(prefix)


def create(client, name: str | None = None, **extra) -> str:
    name = name or unique()
    create_function(client, name, **extra)
    return name


def arn(name: str, qualifier: str | None = None, account: str = ACCOUNT) -> str:
    suffix = f":{qualifier}" if qualifier else ""
    return f"arn:aws:lambda:us-east-1:{account}:function:{name}{suffix}"


@pytest.fixture
def lam(aws):
    return aws("lambda")


@pytest.fixture
def fresh_account(endpoint):
    """A Lambda client in an account of its own, so account-wide numbers are this test's alone."""
    account = "".join(random.choice("123456789") for _ in range(12))
    session = boto3.session.Session(
        aws_access_key_id=account, aws_secret_access_key="test", region_name="us-east-1"
    )
    client = session.client("lambda", endpoint_url=endpoint, config=Config(retries={"max_attempts": 1}))
    return client, account


def published(lam, name: str) -> str:
    return lam.publish_version(FunctionName=name)["Version"]


# -- resource policies -------------------------------------------------------------------------


def test_add_permission_builds_lambdas_statement_and_policy(lam):
    name = create(lam)
    out = lam.add_permission(
        FunctionName=name,
        StatementId="s3invoke",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::my-bucket",
        SourceAccount="123456789012",
    )
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 201
    statement = {
        "Sid": "s3invoke",
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": arn(name),
        "Condition": {
            "StringEquals": {"AWS:SourceAccount": "123456789012"},
            "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::my-bucket"},
        },
    }
    assert json.loads(out["Statement"]) == statement
    lam.add_permission(
        FunctionName=arn(name), StatementId="xaccount", Action="lambda:*", Principal="111122223333"
    )
    lam.add_permission(
        FunctionName=name,
        StatementId="url",
        Action="lambda:InvokeFunctionUrl",
        Principal="*",
        FunctionUrlAuthType="NONE",
    )
    got = lam.get_policy(FunctionName=name)
    policy = json.loads(got["Policy"])
    assert (policy["Version"], policy["Id"]) == ("2012-10-17", "default")
    assert policy["Statement"][0] == statement
    assert policy["Statement"][1]["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    assert policy["Statement"][2]["Principal"] == "*"
    assert policy["Statement"][2]["Condition"] == {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}
    assert got["RevisionId"] == lam.get_function(FunctionName=name)["Configuration"]["RevisionId"]


def test_permission_errors(lam):
    name = create(lam)
    params = {"FunctionName": name, "Action": "lambda:InvokeFunction", "Principal": "sns.amazonaws.com"}
    assert error_of(lam.get_policy, FunctionName=name) == (
        "ResourceNotFoundException",
        404,
        "The resource you requested does not exist.",
    )
    lam.add_permission(StatementId="one", **params)
    assert error_of(lam.add_permission, StatementId="one", **params) == (
        "ResourceConflictException",
        409,
        "The statement id (one) provided already exists. Please provide a new statement id, "
        "or remove the existing statement.",
    )
    code, status, message = error_of(lam.add_permission, StatementId="two", RevisionId="nope", **params)
    assert (code, status) == ("PreconditionFailedException", 412)
    assert message.startswith("The Revision Id provided does not match the latest Revision Id.")
    assert error_of(lam.add_permission, StatementId="two", Qualifier="$LATEST", **params) == (
        "InvalidParameterValueException",
        400,
        "We currently do not support adding policies for $LATEST.",
    )
    code, _, _ = error_of(lam.add_permission, **{**params, "StatementId": "three", "Principal": "bogus"})
    assert code == "InvalidParameterValueException"
    assert error_of(lam.remove_permission, FunctionName=name, StatementId="zzz") == (
        "ResourceNotFoundException",
        404,
        "Statement zzz is not found in resource policy.",
    )
    code, status, message = error_of(
        lam.add_permission, **{**params, "StatementId": "x", "FunctionName": unique("missing")}
    )
    assert (code, status) == ("ResourceNotFoundException", 404)
    assert message.startswith("Function not found: arn:aws:lambda:us-east-1:000000000000:function:missing-")


def test_remove_permission_with_revision_and_last_statement_drops_policy(lam):
    name = create(lam)
    for sid in ("a", "b"):
        lam.add_permission(
            FunctionName=name,
            StatementId=sid,
            Action="lambda:InvokeFunction",
            Principal="events.amazonaws.com",
        )
    revision = lam.get_policy(FunctionName=name)["RevisionId"]
    assert (
        lam.remove_permission(FunctionName=name, StatementId="a", RevisionId=revision)["ResponseMetadata"][
            "HTTPStatusCode"
        ]
        == 204
    )
    sids = [s["Sid"] for s in json.loads(lam.get_policy(FunctionName=name)["Policy"])["Statement"]]
    assert sids == ["b"]
    assert lam.get_policy(FunctionName=name)["RevisionId"] != revision
    lam.remove_permission(FunctionName=name, StatementId="b")
    assert error_of(lam.get_policy, FunctionName=name)[0] == "ResourceNotFoundException"


def test_policies_are_per_qualifier(lam):
    name = create(lam)
    version = published(lam, name)
    lam.add_permission(
        FunctionName=name, Qualifier=version, StatementId="v", Action="lambda:InvokeFunction", Principal="*"
    )
    policy = json.loads(lam.get_policy(FunctionName=name, Qualifier=version)["Policy"])
    assert policy["Statement"][0]["Resource"] == arn(name, version)
    assert error_of(lam.get_policy, FunctionName=name)[0] == "ResourceNotFoundException"


# -- tags --------------------------------------------------------------------------------------


def test_tag_untag_list(lam):
    name = create(lam, Tags={"a": "1"})
    lam.tag_resource(Resource=arn(name), Tags={"b": "2", "a": "one"})
    assert lam.list_tags(Resource=arn(name))["Tags"] == {"a": "one", "b": "2"}
    assert lam.get_function(FunctionName=name)["Tags"] == {"a": "one", "b": "2"}
    lam.untag_resource(Resource=arn(name), TagKeys=["a", "nope"])
    assert lam.list_tags(Resource=arn(name))["Tags"] == {"b": "2"}


def test_tag_limits_and_errors(lam):
    name = create(lam)
    code, status, message = error_of(lam.tag_resource, Resource=arn(name, "1"), Tags={"a": "b"})
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert "Tags on aliases and versions are not supported" in message
    too_many = {f"k{i}": "v" for i in range(51)}
    assert error_of(lam.tag_resource, Resource=arn(name), Tags=too_many)[:2] == (
        "InvalidParameterValueException",
        400,
    )
    assert error_of(lam.tag_resource, Resource=arn(name), Tags={"aws:x": "y"})[0] == (
        "InvalidParameterValueException"
    )
    code, _, message = error_of(lam.tag_resource, Resource=arn(name), Tags={"k" * 129: "v"})
    assert code == "ValidationException" and "Map keys must satisfy constraint" in message
    assert error_of(lam.list_tags, Resource=arn(unique("missing")))[:2] == ("ResourceNotFoundException", 404)


# -- concurrency -------------------------------------------------------------------------------


def test_reserved_concurrency_and_account_settings(fresh_account):
    client, account = fresh_account
    before = client.get_account_settings()
    assert before["AccountLimit"] == {
        "TotalCodeSize": 80530636800,
        "CodeSizeUnzipped": 262144000,
        "CodeSizeZipped": 52428800,
        "ConcurrentExecutions": 1000,
        "UnreservedConcurrentExecutions": 1000,
    }
    assert before["AccountUsage"] == {"TotalCodeSize": 0, "FunctionCount": 0}
    name = create(client)
    assert client.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions") is None
    assert (
        client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=10)[
            "ReservedConcurrentExecutions"
        ]
        == 10
    )
    assert client.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 10
    assert client.get_function(FunctionName=name)["Concurrency"] == {"ReservedConcurrentExecutions": 10}
    after = client.get_account_settings()
    assert after["AccountLimit"]["UnreservedConcurrentExecutions"] == 990
    assert after["AccountUsage"]["FunctionCount"] == 1
    assert after["AccountUsage"]["TotalCodeSize"] == len(support.zip_of({"handler.py": support.ECHO}))
    other = create(client)
    assert error_of(
        client.put_function_concurrency, FunctionName=other, ReservedConcurrentExecutions=891
    ) == (
        "InvalidParameterValueException",
        400,
        "Specified ReservedConcurrentExecutions for function decreases account's "
        "UnreservedConcurrentExecution below its minimum value of [100].",
    )
    client.put_function_concurrency(FunctionName=other, ReservedConcurrentExecutions=890)
    client.delete_function_concurrency(FunctionName=name)
    assert client.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions") is None
    assert client.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 110
    code, _, message = error_of(
        client.put_function_concurrency, FunctionName=f"{name}:1", ReservedConcurrentExecutions=1
    )
    assert code == "InvalidParameterValueException" and "Aliases and versions" in message


def test_provisioned_concurrency(lam):
    name = create(lam)
    assert error_of(
        lam.put_provisioned_concurrency_config,
        FunctionName=name,
        Qualifier="$LATEST",
        ProvisionedConcurrentExecutions=1,
    ) == (
        "InvalidParameterValueException",
        400,
        "Provisioned Concurrency Configs cannot be applied to unpublished function versions.",
    )
    version = published(lam, name)
    assert error_of(lam.get_provisioned_concurrency_config, FunctionName=name, Qualifier=version) == (
        "ProvisionedConcurrencyConfigNotFoundException",
        404,
        "No Provisioned Concurrency Config found for this function",
    )
    out = lam.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=2
    )
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert (out["Status"], out["RequestedProvisionedConcurrentExecutions"]) == ("READY", 2)
    got = lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier=version)
    assert got["AllocatedProvisionedConcurrentExecutions"] == 2
    listed = lam.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"]
    assert [c["FunctionArn"] for c in listed] == [arn(name, version)]
    lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier=version)
    assert lam.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"] == []


# -- event invoke configs ----------------------------------------------------------------------


def test_event_invoke_config_lifecycle(lam):
    name = create(lam)
    queue = "arn:aws:sqs:us-east-1:000000000000:failures"
    out = lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    assert out["FunctionArn"] == arn(name, "$LATEST")
    assert out["MaximumRetryAttempts"] == 1 and "MaximumEventAgeInSeconds" not in out
    assert out["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {}}
    updated = lam.update_function_event_invoke_config(
        FunctionName=name,
        MaximumEventAgeInSeconds=120,
        DestinationConfig={"OnFailure": {"Destination": queue}},
    )
    assert (updated["MaximumRetryAttempts"], updated["MaximumEventAgeInSeconds"]) == (1, 120)
    assert updated["DestinationConfig"]["OnFailure"] == {"Destination": queue}
    got = lam.get_function_event_invoke_config(FunctionName=name)
    assert got["LastModified"] == updated["LastModified"]
    assert got["DestinationConfig"] == updated["DestinationConfig"]
    put_again = lam.put_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=60)
    assert "MaximumRetryAttempts" not in put_again  # Put replaces, Update merges
    listed = lam.list_function_event_invoke_configs(FunctionName=name)["FunctionEventInvokeConfigs"]
    assert [c["FunctionArn"] for c in listed] == [arn(name, "$LATEST")]
    lam.delete_function_event_invoke_config(FunctionName=name)
    assert error_of(lam.get_function_event_invoke_config, FunctionName=name) == (
        "ResourceNotFoundException",
        404,
        f"The function {arn(name, '$LATEST')} doesn't have an EventInvokeConfig",
    )


def test_event_invoke_config_validation(lam):
    name = create(lam)
    assert error_of(lam.put_function_event_invoke_config, FunctionName=name) == (
        "InvalidParameterValueException",
        400,
        "You must specify at least one of error handling or destination setting.",
    )
    table = "arn:aws:dynamodb:us-east-1:000000000000:table/t"
    assert error_of(
        lam.put_function_event_invoke_config,
        FunctionName=name,
        DestinationConfig={"OnFailure": {"Destination": table}},
    ) == (
        "InvalidParameterValueException",
        400,
        f"The provided destination config DestinationConfig(onSuccess=null, "
        f"onFailure=OnFailure(destination={table})) is invalid.",
    )
    assert error_of(
        lam.put_function_event_invoke_config,
        FunctionName=name,
        DestinationConfig={"OnSuccess": {"Destination": arn(name)}},
    ) == (
        "InvalidParameterValueException",
        400,
        "You can't specify the function as a destination for itself.",
    )
    bucket = "arn:aws:s3:::failures"
    ok = lam.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnFailure": {"Destination": bucket}}
    )
    assert ok["DestinationConfig"]["OnFailure"] == {"Destination": bucket}
    assert error_of(
        lam.update_function_event_invoke_config, FunctionName=create(lam), MaximumRetryAttempts=0
    )[:2] == ("ResourceNotFoundException", 404)
    code, _, message = error_of(
        lam.put_function_event_invoke_config, FunctionName=name, MaximumRetryAttempts=3
    )
    assert code == "ValidationException" and "maximumRetryAttempts" in message


# -- function URLs -----------------------------------------------------------------------------


def test_function_url_lifecycle(lam):
    name = create(lam)
    out = lam.create_function_url_config(FunctionName=name, AuthType="NONE")
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert re.fullmatch(
        r"http://[a-z0-9]{32}\.lambda-url\.us-east-1\.localhost\.localstack\.cloud:\d+/", out["FunctionUrl"]
    )
    assert (out["FunctionArn"], out["AuthType"], out["InvokeMode"]) == (arn(name), "NONE", "BUFFERED")
    assert error_of(lam.create_function_url_config, FunctionName=name, AuthType="NONE") == (
        "ResourceConflictException",
        409,
        f"Failed to create function url config for [functionArn = {arn(name)}]. "
        "Error message:  FunctionUrlConfig exists for this Lambda function",
    )
    cors = {"AllowOrigins": ["https://example.com"], "AllowMethods": ["GET"], "MaxAge": 60}
    updated = lam.update_function_url_config(FunctionName=name, AuthType="AWS_IAM", Cors=cors)
    assert (updated["AuthType"], updated["Cors"]) == ("AWS_IAM", cors)
    got = lam.get_function_url_config(FunctionName=name)
    assert got["FunctionUrl"] == out["FunctionUrl"] and got["LastModifiedTime"] == updated["LastModifiedTime"]
    listed = lam.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"]
    assert [c["FunctionUrl"] for c in listed] == [out["FunctionUrl"]]
    lam.delete_function_url_config(FunctionName=name)
    assert error_of(lam.get_function_url_config, FunctionName=name) == (
        "ResourceNotFoundException",
        404,
        "The resource you requested does not exist.",
    )
    assert lam.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"] == []


def test_function_url_errors(lam):
    code, status, _ = error_of(
        lam.create_function_url_config, FunctionName=unique("missing"), AuthType="NONE"
    )
    assert (code, status) == ("ResourceNotFoundException", 404)
    name = create(lam)
    code, _, _ = error_of(lam.create_function_url_config, FunctionName=name, Qualifier="1", AuthType="NONE")
    assert code == "ValidationException"


# -- code signing ------------------------------------------------------------------------------


def test_code_signing_configs(lam):
    profile = "arn:aws:signer:us-east-1:000000000000:/signing-profiles/p/abcdef"
    created = lam.create_code_signing_config(
        Description="mine", AllowedPublishers={"SigningProfileVersionArns": [profile]}
    )["CodeSigningConfig"]
    csc = created["CodeSigningConfigArn"]
    assert re.fullmatch(r"csc-[a-z0-9]{17}", created["CodeSigningConfigId"])
    assert (
        csc == f"arn:aws:lambda:us-east-1:000000000000:code-signing-config:{created['CodeSigningConfigId']}"
    )
    assert created["CodeSigningPolicies"] == {"UntrustedArtifactOnDeployment": "Warn"}
    assert lam.get_code_signing_config(CodeSigningConfigArn=csc)["CodeSigningConfig"] == created
    updated = lam.update_code_signing_config(
        CodeSigningConfigArn=csc, CodeSigningPolicies={"UntrustedArtifactOnDeployment": "Enforce"}
    )["CodeSigningConfig"]
    assert updated["CodeSigningPolicies"] == {"UntrustedArtifactOnDeployment": "Enforce"}
    assert updated["Description"] == "mine"
    ids = [
        c["CodeSigningConfigArn"] for c in lam.list_code_signing_configs(MaxItems=1000)["CodeSigningConfigs"]
    ]
    assert csc in ids

    name = create(lam)
    put = lam.put_function_code_signing_config(FunctionName=name, CodeSigningConfigArn=csc)
    assert (put["CodeSigningConfigArn"], put["FunctionName"]) == (csc, name)
    got = lam.get_function_code_signing_config(FunctionName=name)
    assert (got["CodeSigningConfigArn"], got["FunctionName"]) == (csc, name)
    assert lam.list_functions_by_code_signing_config(CodeSigningConfigArn=csc)["FunctionArns"] == [arn(name)]
    assert error_of(lam.delete_code_signing_config, CodeSigningConfigArn=csc)[:2] == (
        "ResourceConflictException",
        409,
    )
    lam.delete_function_code_signing_config(FunctionName=name)
    assert lam.list_functions_by_code_signing_config(CodeSigningConfigArn=csc)["FunctionArns"] == []
    lam.delete_code_signing_config(CodeSigningConfigArn=csc)
    assert error_of(lam.get_code_signing_config, CodeSigningConfigArn=csc) == (
        "ResourceNotFoundException",
        404,
        f"The Lambda code signing configuration {csc} can not be found.",
    )
    code, status, message = error_of(
        lam.put_function_code_signing_config, FunctionName=name, CodeSigningConfigArn=csc
    )
    assert (code, status) == ("CodeSigningConfigNotFoundException", 404)
    assert message.startswith("The code signing configuration cannot be found.")


# -- function settings -------------------------------------------------------------------------


def test_recursion_and_runtime_management_configs(lam):
    name = create(lam)
    assert lam.get_function_recursion_config(FunctionName=name)["RecursiveLoop"] == "Terminate"
    assert (
        lam.put_function_recursion_config(FunctionName=name, RecursiveLoop="Allow")["RecursiveLoop"]
        == "Allow"
    )
    assert lam.get_function_recursion_config(FunctionName=name)["RecursiveLoop"] == "Allow"
    got = lam.get_runtime_management_config(FunctionName=name)
    assert (got["UpdateRuntimeOn"], got["FunctionArn"]) == ("Auto", arn(name))
    runtime = "arn:aws:lambda:us-east-1::runtime:0123456789abcdef"
    out = lam.put_runtime_management_config(
        FunctionName=name, UpdateRuntimeOn="Manual", RuntimeVersionArn=runtime
    )
    assert (out["UpdateRuntimeOn"], out["RuntimeVersionArn"]) == ("Manual", runtime)
    assert lam.get_runtime_management_config(FunctionName=name)["RuntimeVersionArn"] == runtime
    assert error_of(lam.get_function_recursion_config, FunctionName=unique("missing"))[:2] == (
        "ResourceNotFoundException",
        404,
    )


def test_alias_configurations(lam):
    name = create(lam)
    version = published(lam, name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    added = lam.add_permission(
        FunctionName=name, Qualifier="live", StatementId="s", Action="lambda:InvokeFunction", Principal="*"
    )
    assert json.loads(added["Statement"])["Resource"] == arn(name, "live")
    alias_revision = lam.get_alias(FunctionName=name, Name="live")["RevisionId"]
    assert lam.get_policy(FunctionName=f"{name}:live")["RevisionId"] == alias_revision
    versioned = lam.add_permission(
        FunctionName=name, Qualifier=version, StatementId="v", Action="lambda:InvokeFunction", Principal="*"
    )
    assert json.loads(versioned["Statement"])["Resource"] == arn(name, version)
    version_revision = lam.get_function(FunctionName=name, Qualifier=version)["Configuration"]["RevisionId"]
    assert lam.get_policy(FunctionName=name, Qualifier=version)["RevisionId"] == version_revision
    url = lam.create_function_url_config(FunctionName=name, Qualifier="live", AuthType="AWS_IAM")
    assert url["FunctionArn"] == arn(name, "live")
    lam.create_function_url_config(FunctionName=name, AuthType="NONE")
    urls = lam.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"]
    assert [u["FunctionArn"] for u in urls] == [arn(name, "live"), arn(name)]
    assert lam.get_function_url_config(FunctionName=f"{name}:live")["FunctionUrl"] == url["FunctionUrl"]
    config = lam.put_function_event_invoke_config(FunctionName=name, Qualifier="live", MaximumRetryAttempts=0)
    assert config["FunctionArn"] == arn(name, "live")
    code, status, message = error_of(
        lam.put_function_event_invoke_config, FunctionName=name, Qualifier="nope", MaximumRetryAttempts=0
    )
    assert (code, status, message) == ("ResourceNotFoundException", 404, "The function doesn't exist.")
    assert error_of(lam.get_policy, FunctionName=name, Qualifier="nope")[:2] == (
        "ResourceNotFoundException",
        404,
    )


def test_code_signing_config_tags_and_unset_function_config(lam):
    name = create(lam)
    assert lam.get_function_code_signing_config(FunctionName=name).get("CodeSigningConfigArn") is None
    profile = "arn:aws:signer:us-east-1:000000000000:/signing-profiles/p/abcdef"
    csc = lam.create_code_signing_config(
        AllowedPublishers={"SigningProfileVersionArns": [profile]}, Tags={"team": "a"}
    )["CodeSigningConfig"]["CodeSigningConfigArn"]
    lam.tag_resource(Resource=csc, Tags={"env": "dev"})
    assert lam.list_tags(Resource=csc)["Tags"] == {"team": "a", "env": "dev"}
    lam.untag_resource(Resource=csc, TagKeys=["team"])
    assert lam.list_tags(Resource=csc)["Tags"] == {"env": "dev"}
    lam.delete_code_signing_config(CodeSigningConfigArn=csc)
    assert error_of(lam.list_tags, Resource=csc)[:2] == ("ResourceNotFoundException", 404)


def test_provisioned_concurrency_on_alias_and_its_version_conflict(lam):
    name = create(lam)
    version = published(lam, name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    lam.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier="live", ProvisionedConcurrentExecutions=1
    )
    assert error_of(
        lam.put_provisioned_concurrency_config,
        FunctionName=name,
        Qualifier=version,
        ProvisionedConcurrentExecutions=1,
    ) == ("ResourceConflictException", 409, "Version is pointed by a Provisioned Concurrency alias")
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    assert error_of(
        lam.put_provisioned_concurrency_config,
        FunctionName=name,
        Qualifier="live",
        ProvisionedConcurrentExecutions=2,
    )[:2] == ("InvalidParameterValueException", 400)
    lam.delete_function_concurrency(FunctionName=name)


def test_a_function_created_again_starts_without_the_old_ones_configuration(lam):
    name = create(lam)
    lam.add_permission(
        FunctionName=name, StatementId="s3", Action="lambda:InvokeFunction", Principal="s3.amazonaws.com"
    )
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    lam.create_function_url_config(FunctionName=name, AuthType="NONE")
    lam.delete_function(FunctionName=name)
    create(lam, name)
    assert error_of(lam.get_policy, FunctionName=name)[:2] == ("ResourceNotFoundException", 404)
    assert error_of(lam.get_function_event_invoke_config, FunctionName=name)[:2] == (
        "ResourceNotFoundException",
        404,
    )
    assert error_of(lam.get_function_url_config, FunctionName=name)[:2] == ("ResourceNotFoundException", 404)
