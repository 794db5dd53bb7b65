"""`--profile s3 --profile sqs` starts only those two (plus Redis, the gateway and the init runner);
the gateway reports the others as "disabled" and names the profile that enables them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from flotilla.fleet import free_port

from .conftest import start, stop
from .project import SERVICES, Project

pytestmark = [pytest.mark.compose, pytest.mark.timeout(900)]
PROFILES = ("s3", "sqs")


@pytest.fixture(scope="module")
def subset(compose_cmd: list[str], images: None) -> Iterator[Project]:
    project = Project(port=free_port(), command=compose_cmd)
    try:
        start(project, PROFILES)
        project.wait_services({"s3": "running", "sqs": "running"})
        project.wait_healthy("init")
        yield project
    finally:
        stop(project, PROFILES)


def test_only_the_chosen_services_run(subset: Project) -> None:
    assert subset.services_running() == {"redis", "gateway", "init", *PROFILES}
    health = subset.health()
    assert {name: health[name] for name in SERVICES} == {
        name: "running" if name in PROFILES else "disabled" for name in SERVICES
    }
    assert health["dynamodbstreams"] == "disabled"


@pytest.mark.parametrize("service", ["dynamodb", "ec2"])
def test_disabled_service_answers_503_naming_its_profile(subset: Project, client_for, service: str) -> None:
    client = client_for(subset, service)
    call = client.list_tables if service == "dynamodb" else client.describe_regions
    with pytest.raises(ClientError) as err:
        call()
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert f"--profile {service}" in err.value.response["Error"]["Message"]


def test_enabled_services_answer(subset: Project, client_for) -> None:
    client_for(subset, "s3").create_bucket(Bucket="subset-bucket")
    assert client_for(subset, "sqs").create_queue(QueueName="subset")["QueueUrl"].endswith("/subset")
