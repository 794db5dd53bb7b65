"""The single-container image: Redis and every service as processes (`flotilla dev`) behind one port."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from flotilla.fleet import free_port

from .project import ROOT, SERVICES, Project, docker, wait_for

pytestmark = [pytest.mark.compose, pytest.mark.timeout(900)]
IMAGE = "flotilla/all-in-one:dev"


@pytest.fixture(scope="module")
def single(compose_cmd: list[str]) -> Iterator[Project]:
    build = ["docker", "build", "-q", "--target", "all-in-one", "-t", IMAGE, "."]
    subprocess.run(build, cwd=ROOT, check=True, capture_output=True, timeout=1800)
    port = free_port()
    cid = docker("run", "-d", "-p", f"127.0.0.1:{port}:4566", IMAGE).strip()
    try:
        status = "{{.State.Status}}/{{.State.Health.Status}}"
        try:
            wait_for(
                "all-in-one healthy",
                lambda: docker("inspect", "-f", status, cid).strip() == "running/healthy",
                90,
            )
        except AssertionError as err:
            logs = subprocess.run(["docker", "logs", "--tail", "30", cid], capture_output=True, text=True)
            raise AssertionError(f"{err}\n{logs.stdout}{logs.stderr}") from None
        yield Project(port=port, command=compose_cmd, name=cid)
    finally:
        docker("rm", "-f", cid, check=False)


def test_every_service_runs_in_one_container(single: Project, client_for) -> None:
    assert {name: single.health()[name] for name in SERVICES} == dict.fromkeys(SERVICES, "running")
    s3, sqs = client_for(single, "s3"), client_for(single, "sqs")
    s3.create_bucket(Bucket="one")
    s3.put_object(Bucket="one", Key="k", Body=b"v")
    assert s3.get_object(Bucket="one", Key="k")["Body"].read() == b"v"
    url = sqs.create_queue(QueueName="one")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="m")
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "m"
