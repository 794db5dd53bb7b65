"""Lambda's docker executor: functions run in sibling containers of AWS's runtime image.

(a) a fleet of local processes (Lambda and SQS) with ``FLOTILLA_LAMBDA_EXECUTOR=docker``: the code
runs in a container of ``public.ecr.aws/lambda/python:3.11`` that reaches the Runtime API and the
gateway through the Docker bridge; (b) the compose fleet (``--profile lambda``), end to end.

Needs a Docker engine: skipped without one, failed when ``CI`` is set (as the rest of tests/compose).
"""

from __future__ import annotations

import base64
import io
import json
import os
import tarfile
import time
import urllib.request
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from flotilla.fleet import Fleet, free_port

from .conftest import start, stop
from .project import Project, docker_ready, wait_for

pytestmark = [pytest.mark.compose, pytest.mark.timeout(600)]

IMAGE = "public.ecr.aws/lambda/python:3.11"
ROLE = "arn:aws:iam::000000000000:role/lambda-role"
MISSING_IMAGE = "flotilla-test/no-such-lambda-image:1"
IDLE_SECONDS = 6
HANDLER = """
import os, socket, time
import boto3

def handler(event, context):
    print("hello from", socket.gethostname())
    time.sleep(event.get("sleep", 0))
    if event.get("queue"):
        sqs = boto3.client("sqs")
        url = sqs.get_queue_url(QueueName=event["queue"])["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="sent from the container")
    return {
        "hostname": socket.gethostname(),
        "task_root": os.environ["LAMBDA_TASK_ROOT"],
        "file": __file__,
        "endpoint": os.environ.get("AWS_ENDPOINT_URL"),
        "mine": os.environ.get("MY_VARIABLE"),
        "pythonpath": os.environ.get("PYTHONPATH"),
    }
"""


def code_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", HANDLER)
    return buf.getvalue()


@pytest.fixture(scope="module")
def engine():
    """The Docker SDK's client; the runtime image must exist (built by ../shared/dockerenv in CI)."""
    reason = docker_ready()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Lambda docker executor tests, but {reason}", pytrace=False)
        pytest.skip(f"the docker executor needs Docker: {reason}")
    import docker

    client = docker.from_env()
    try:
        client.images.get(IMAGE)
    except docker.errors.ImageNotFound:
        pytest.fail(f"{IMAGE} is not on the engine (run ../shared/dockerenv/setup.sh)", pytrace=False)
    yield client
    client.close()


def bridge_gateway(engine) -> str:
    return engine.networks.get("bridge").attrs["IPAM"]["Config"][0]["Gateway"]


class Lambdas:
    """The fleet's containers of one test fleet, found by its ``flotilla.fleet`` label."""

    def __init__(self, engine, fleet_label: str) -> None:
        self.engine = engine
        self.label = f"flotilla.fleet={fleet_label}"

    def of(self, function: str) -> list:
        labels = [self.label, f"flotilla.lambda.function={function}"]
        return self.engine.containers.list(all=True, filters={"label": labels})

    def all(self) -> list:
        return self.engine.containers.list(all=True, filters={"label": [self.label]})


@pytest.fixture(scope="module")
def local_fleet(engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Fleet, Lambdas]]:
    """Lambda and SQS as local processes listening on the bridge's gateway address (so that the
    containers reach the gateway), with a stale container of an earlier run waiting to be removed."""
    root: Path = tmp_path_factory.mktemp("docker-fleet")
    name = f"flotest-lambda-{uuid.uuid4().hex[:8]}"
    host = bridge_gateway(engine)
    stale = engine.containers.create(
        IMAGE,
        labels={
            "flotilla.fleet": name,
            "flotilla.test": "lambda-docker",
            "flotilla.service": "lambda",
            "flotilla.lambda.root": str((root / "data" / "lambda").resolve()),
        },
    )
    port = free_port(host)
    fleet = Fleet(
        port=port,
        host=host,
        services=("lambda", "sqs"),
        data_dir=root / "data",
        log_dir=root / "logs",
        env={
            "FLOTILLA_EXTERNAL_URL": f"http://{host}:{port}",  # served there, not on localhost
            "FLOTILLA_LAMBDA_EXECUTOR": "docker",
            "FLOTILLA_LAMBDA_IDLE_SECONDS": str(IDLE_SECONDS),
            "FLOTILLA_LAMBDA_IMAGES": f"python3.12={MISSING_IMAGE}",
            "FLOTILLA_DOCKER_LABELS": f"flotilla.fleet={name},flotilla.test=lambda-docker",
        },
    )
    lambdas = Lambdas(engine, name)
    try:
        fleet.start()
        yield fleet, lambdas
    finally:
        fleet.stop()
        for container in [*lambdas.all(), stale]:  # whatever a failed test left
            try:
                container.remove(force=True)
            except Exception:  # noqa: BLE001 - removed already (the expected case)
                pass
        if os.environ.get("FLOTILLA_SHOW_LOGS"):
            print((root / "logs" / "lambda.log").read_text(errors="replace")[-6000:])


@pytest.fixture(scope="module")
def client(local_fleet) -> Callable[[str], object]:
    fleet, _ = local_fleet
    config = Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=60)

    def make(service: str) -> object:
        return boto3.client(
            service,
            endpoint_url=fleet.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=config,
        )

    return make


def create(lam, name: str, runtime: str = "python3.11", **extra) -> None:
    lam.create_function(
        FunctionName=name,
        Runtime=runtime,
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": code_zip()},
        **extra,
    )


def invoke(lam, name: str, event: dict | None = None, **extra) -> tuple[dict, dict]:
    out = lam.invoke(FunctionName=name, Payload=json.dumps(event or {}).encode(), **extra)
    return out, json.loads(out["Payload"].read())


def test_stale_containers_are_removed_at_start(local_fleet, engine) -> None:
    _, lambdas = local_fleet
    assert lambdas.all() == []


def test_function_runs_in_a_container(local_fleet, client) -> None:
    _, lambdas = local_fleet
    lam = client("lambda")
    create(lam, "in-docker", MemorySize=256, Environment={"Variables": {"MY_VARIABLE": "mine"}})
    out, result = invoke(lam, "in-docker", LogType="Tail")
    assert "FunctionError" not in out, result
    [container] = lambdas.of("in-docker")
    assert result["hostname"] == container.id[:12]
    assert result["task_root"] == "/var/task" and result["file"] == "/var/task/app.py"
    assert result["mine"] == "mine"
    assert result["pythonpath"] == "/var/runtime"  # the image's own, not the service's host path
    assert container.attrs["HostConfig"]["Memory"] == 256 * 2**20
    assert container.labels["flotilla.service"] == "lambda"
    assert container.labels["flotilla.test"] == "lambda-docker"
    log = base64.b64decode(out["LogResult"]).decode()
    assert f"hello from {container.id[:12]}" in log
    assert log.index("START RequestId") < log.index("hello from") < log.index("END RequestId")

    _, again = invoke(lam, "in-docker")  # warm: the same container
    assert again["hostname"] == result["hostname"]
    assert len(lambdas.of("in-docker")) == 1


def test_function_calls_sqs_through_the_gateway(local_fleet, client) -> None:
    fleet, _ = local_fleet
    sqs, lam = client("sqs"), client("lambda")
    url = sqs.create_queue(QueueName="from-lambda")["QueueUrl"]
    create(lam, "calls-sqs")
    out, result = invoke(lam, "calls-sqs", {"queue": "from-lambda"})
    assert "FunctionError" not in out, result
    assert result["endpoint"] == f"{fleet.url}"  # the bridge gateway with the gateway's port
    messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    assert [m["Body"] for m in messages] == ["sent from the container"]


def test_timeout_kills_the_container(local_fleet, client) -> None:
    _, lambdas = local_fleet
    lam = client("lambda")
    create(lam, "too-slow", Timeout=1)
    out, result = invoke(lam, "too-slow", {"sleep": 30})
    assert out["FunctionError"] == "Unhandled"
    assert "Task timed out after 1.00 seconds" in result["errorMessage"]
    wait_for("the timed-out container removed", lambda: lambdas.of("too-slow") == [], timeout=15)


def test_missing_image_fails_the_invocation_naming_it(local_fleet, client) -> None:
    lam = client("lambda")
    create(lam, "no-image", runtime="python3.12")
    started = time.monotonic()
    out, result = invoke(lam, "no-image", LogType="Tail")
    assert time.monotonic() - started < 30
    assert out["FunctionError"] == "Unhandled"
    assert result["errorType"] == "Flotilla.ImageNotFound"
    assert MISSING_IMAGE in result["errorMessage"]
    fleet, _ = local_fleet
    assert MISSING_IMAGE in (fleet.log_dir / "lambda.log").read_text()


def build_function_image(engine, tag: str) -> None:
    """A user's image: AWS's base image with the code baked in and the handler as its CMD."""
    dockerfile = f'FROM {IMAGE}\nCOPY app.py /var/task/\nCMD ["app.handler"]\n'
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, text in (("Dockerfile", dockerfile), ("app.py", HANDLER)):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    buf.seek(0)
    engine.images.build(fileobj=buf, custom_context=True, tag=tag, rm=True)


def test_image_function_runs_the_users_image(local_fleet, client, engine) -> None:
    _, lambdas = local_fleet
    tag = f"flotilla-test/image-function:{uuid.uuid4().hex[:8]}"
    build_function_image(engine, tag)
    lam = client("lambda")
    try:
        lam.create_function(
            FunctionName="from-image",
            PackageType="Image",
            Role=ROLE,
            Code={"ImageUri": tag},
            Environment={"Variables": {"MY_VARIABLE": "image"}},
        )
        out, result = invoke(lam, "from-image")
        assert "FunctionError" not in out, result
        [container] = lambdas.of("from-image")
        assert container.image.tags == [tag]
        assert result["file"] == "/var/task/app.py" and result["mine"] == "image"

        lam.update_function_configuration(  # ImageConfig overrides the image's CMD
            FunctionName="from-image", ImageConfig={"Command": ["app.missing"]}
        )
        out, result = invoke(lam, "from-image")
        assert out["FunctionError"] == "Unhandled"
        assert result["errorType"] == "Runtime.AttributeError" or "missing" in result["errorMessage"]
    finally:
        lam.delete_function(FunctionName="from-image")
        wait_for(
            "the image function's containers removed", lambda: lambdas.of("from-image") == [], timeout=30
        )
        engine.images.remove(tag, force=True)


LAYER_READER = """
import os, subprocess


def handler(event, context):
    return {"data": open("/opt/data.txt").read(),
            "tool": subprocess.run(["/opt/bin/layer-tool"], capture_output=True, text=True).stdout,
            "opt_env": os.environ.get("FLOTILLA_LAMBDA_OPT")}
"""


def layer_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("data.txt", "from the layer")
        tool = zipfile.ZipInfo("bin/layer-tool")
        tool.external_attr = (0o100755) << 16
        zf.writestr(tool, "#!/bin/sh\necho tool ran\n")
    return buf.getvalue()


def test_layers_are_at_opt_and_delete_removes_the_container_at_once(local_fleet, client) -> None:
    _, lambdas = local_fleet
    lam = client("lambda")
    layer = lam.publish_layer_version(LayerName="docker-layer", Content={"ZipFile": layer_zip()})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", LAYER_READER)
    lam.create_function(
        FunctionName="reads-opt", Runtime="python3.11", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": buf.getvalue()}, Layers=[layer["LayerVersionArn"]],
    )  # fmt: skip
    out, result = invoke(lam, "reads-opt")
    assert "FunctionError" not in out, result
    assert result == {"data": "from the layer", "tool": "tool ran\n", "opt_env": None}
    assert len(lambdas.of("reads-opt")) == 1
    lam.delete_function(FunctionName="reads-opt")  # well before the idle time (IDLE_SECONDS)
    wait_for("the deleted function's container removed", lambda: lambdas.of("reads-opt") == [], timeout=3)


def test_warm_invoke_without_tail_logs_later(local_fleet, client) -> None:
    """Without LogType=Tail the answer does not wait for the container's log stream: the output and
    Lambda's END/REPORT lines reach the logs endpoint a moment later."""
    fleet, _ = local_fleet
    lam = client("lambda")
    create(lam, "logs-later")
    invoke(lam, "logs-later")  # cold
    out, result = invoke(lam, "logs-later")
    assert "FunctionError" not in out and "LogResult" not in out

    def logged() -> bool:
        text = urllib.request.urlopen(f"{fleet.url}/_flotilla/lambda/logs/logs-later").read().decode()
        return text.count(f"hello from {result['hostname']}") == 2 and text.count("REPORT RequestId") == 2

    wait_for("both invocations' output in the log", logged, timeout=10)


def test_idle_environment_is_removed(local_fleet, client) -> None:
    _, lambdas = local_fleet
    lam = client("lambda")
    create(lam, "goes-idle")
    invoke(lam, "goes-idle")
    assert len(lambdas.of("goes-idle")) == 1
    wait_for("the idle container removed", lambda: lambdas.of("goes-idle") == [], timeout=IDLE_SECONDS + 15)


def test_stopping_the_service_removes_its_containers(local_fleet, client) -> None:
    """Last in this module: it stops the fleet."""
    fleet, lambdas = local_fleet
    lam = client("lambda")
    create(lam, "until-stop")
    invoke(lam, "until-stop")
    assert len(lambdas.of("until-stop")) == 1
    fleet.stop()
    assert lambdas.all() == []


# ---- (b) the compose fleet ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lambda_project(compose_cmd: list[str], images: None) -> Iterator[Project]:
    project = Project(port=free_port(), command=compose_cmd)
    try:
        start(project, ("lambda",))
        project.wait_services({"lambda": "running"})
        yield project
    finally:
        stop(project, ("lambda",))  # also asserts that no sibling container is left


def test_compose_fleet_runs_functions_in_sibling_containers(
    lambda_project: Project, client_for, engine
) -> None:
    lam = client_for(lambda_project, "lambda")
    create(lam, "compose-fn")
    out, result = invoke(lam, "compose-fn", LogType="Tail")
    assert "FunctionError" not in out, result
    [container] = engine.containers.list(
        filters={"label": [f"flotilla.fleet={lambda_project.name}", "flotilla.lambda.function=compose-fn"]}
    )
    assert result["hostname"] == container.id[:12]
    assert result["endpoint"] == "http://gateway:4566"
    assert lambda_project.name in container.attrs["NetworkSettings"]["Networks"]
