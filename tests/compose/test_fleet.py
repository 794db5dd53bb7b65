"""The whole fleet as containers (`--profile all`): every service through the gateway on localhost,
a killed service is a fast 503 while the others keep answering, a restart recovers it, an init hook
ran, and with PERSISTENCE=1 the state comes back after `down` and `up`."""

from __future__ import annotations

import io
import uuid
import zipfile

import pytest
from botocore.exceptions import ClientError

from .conftest import FIGURES
from .project import SERVICES, Project

pytestmark = [pytest.mark.compose, pytest.mark.timeout(900)]
ROLE = "arn:aws:iam::000000000000:role/lambda-role"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def lambda_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()


def test_idle_rss_per_container(fleet: Project) -> None:
    rss = fleet.idle_rss()
    assert set(rss) >= {"redis", "gateway", "init", *SERVICES}
    FIGURES["idle RSS per container, MiB"] = ", ".join(f"{k} {v:.1f}" for k, v in sorted(rss.items()))
    FIGURES["idle RSS total, MiB"] = f"{sum(rss.values()):.1f}"
    assert all(rss[name] < 200 for name in SERVICES), rss


def test_s3_put_get(fleet: Project, client_for) -> None:
    s3 = client_for(fleet, "s3")
    bucket = unique("smoke")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="hello.txt", Body=b"hello from a container")
    assert s3.get_object(Bucket=bucket, Key="hello.txt")["Body"].read() == b"hello from a container"


def test_sqs_send_receive(fleet: Project, client_for) -> None:
    sqs = client_for(fleet, "sqs")
    url = sqs.create_queue(QueueName=unique("smoke"))["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="ping")
    messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2)["Messages"]
    assert [m["Body"] for m in messages] == ["ping"]


def test_dynamodb_put_get(fleet: Project, client_for) -> None:
    ddb = client_for(fleet, "dynamodb")
    table = unique("smoke")
    create_table(ddb, table)
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "v": {"N": "7"}})
    assert ddb.get_item(TableName=table, Key={"pk": {"S": "k"}})["Item"] == {
        "pk": {"S": "k"},
        "v": {"N": "7"},
    }


def test_lambda_create_list(fleet: Project, client_for) -> None:
    lam = client_for(fleet, "lambda")
    name = unique("smoke")
    lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="handler.handler",
        Code={"ZipFile": lambda_zip()},
    )  # fmt: skip
    assert name in {f["FunctionName"] for f in lam.list_functions()["Functions"]}


def test_ec2_regions_and_vpc(fleet: Project, client_for) -> None:
    ec2 = client_for(fleet, "ec2")
    assert "eu-west-1" in {r["RegionName"] for r in ec2.describe_regions()["Regions"]}
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]
    found = ec2.describe_vpcs(VpcIds=[vpc["VpcId"]])["Vpcs"]
    assert [v["CidrBlock"] for v in found] == ["10.42.0.0/16"]


def test_rds_parameter_groups(fleet: Project, client_for) -> None:
    rds = client_for(fleet, "rds")
    name = unique("smoke")
    rds.create_db_parameter_group(
        DBParameterGroupName=name, DBParameterGroupFamily="postgres16", Description="smoke"
    )
    groups = rds.describe_db_parameter_groups(DBParameterGroupName=name)["DBParameterGroups"]
    assert [g["DBParameterGroupFamily"] for g in groups] == ["postgres16"]


def test_init_hook_ran(fleet: Project, client_for) -> None:
    logs = fleet.logs("init")
    assert "hook finished in region us-east-1" in logs, logs
    assert "README.md" not in logs  # not executable: skipped
    assert "init-hook-bucket" in {b["Name"] for b in client_for(fleet, "s3").list_buckets()["Buckets"]}
    assert client_for(fleet, "sqs").get_queue_url(QueueName="init-hook-queue")["QueueUrl"]


def test_killed_service_is_a_503_and_a_restart_recovers(fleet: Project, client_for) -> None:
    s3, sqs = client_for(fleet, "s3"), client_for(fleet, "sqs")
    bucket = unique("kill")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"survives")

    fleet.run("kill", "s3")
    health = fleet.wait_services({"s3": "unavailable"}, timeout=20)
    assert all(health[name] == "running" for name in SERVICES if name != "s3"), health
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=bucket, Key="k")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert err.value.response["Error"]["Code"] == "ServiceUnavailable"
    assert "'s3' is unavailable" in err.value.response["Error"]["Message"]
    assert sqs.list_queues()["ResponseMetadata"]["HTTPStatusCode"] == 200  # the others keep answering
    client_for(fleet, "dynamodb").list_tables()

    fleet.run("start", "s3")
    fleet.wait_services({"s3": "running"}, timeout=60)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"survives"


def test_persistence_across_down_and_up(fleet: Project, client_for) -> None:
    s3, sqs, ddb = (client_for(fleet, name) for name in ("s3", "sqs", "dynamodb"))
    bucket, queue, table = unique("keep"), unique("keep"), unique("keep")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="a/b.txt", Body=b"kept")
    url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="kept")
    create_table(ddb, table)
    ddb.put_item(TableName=table, Item={"pk": {"S": "kept"}})

    fleet.run("down", "-t", "5")  # no -v: the named volumes stay
    assert fleet.containers() == []
    fleet.run("up", "-d")
    fleet.wait_services(dict.fromkeys(SERVICES, "running"))

    assert s3.get_object(Bucket=bucket, Key="a/b.txt")["Body"].read() == b"kept"
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2)["Messages"]] == ["kept"]
    assert ddb.get_item(TableName=table, Key={"pk": {"S": "kept"}})["Item"] == {"pk": {"S": "kept"}}


def create_table(ddb, table: str) -> None:
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
