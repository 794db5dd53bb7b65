"""The docker executor's pure parts: which image a runtime runs in, and the container's environment.

The executor against a real engine is tested in tests/compose/test_lambda_docker.py.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from shared.settings import Settings

executors = importlib.import_module("services.lambda.executors")
docker_executor = importlib.import_module("services.lambda.executors.docker")
DockerExecutor, DockerOptions = docker_executor.DockerExecutor, docker_executor.DockerOptions
runtime_image = docker_executor.runtime_image

HOST_PATH = "/usr/local/bin:/usr/bin:/bin"


@pytest.mark.parametrize(
    ("runtime", "image"),
    [
        ("python3.12", "python:3.12"),
        ("python3.9", "python:3.9"),
        ("nodejs20.x", "nodejs:20"),
        ("java21", "java:21"),
        ("java8.al2", "java:8.al2"),
        ("dotnet8", "dotnet:8"),
        ("dotnetcore3.1", "dotnet:core3.1"),
        ("ruby3.3", "ruby:3.3"),
        ("provided.al2023", "provided:al2023"),
        ("provided.al2", "provided:al2"),
        ("provided", "provided:alami"),
        ("go1.x", "go:1"),
    ],
)
def test_aws_base_image_of_each_runtime(runtime: str, image: str) -> None:
    assert runtime_image(runtime, {}) == f"public.ecr.aws/lambda/{image}"


def test_images_setting_maps_runtimes_and_replaces_the_repository() -> None:
    images = docker_executor.parse_pairs("python3.11=my.mirror/py:3.11, *=mirror.example.com/lambda/")
    assert runtime_image("python3.11", images) == "my.mirror/py:3.11"
    assert runtime_image("nodejs22.x", images) == "mirror.example.com/lambda/nodejs:22"


def test_unknown_runtime_is_refused() -> None:
    executor = DockerExecutor(DockerOptions())
    with pytest.raises(executors.UnsupportedRuntime, match="no image known"):
        executor.check("Not A Runtime")
    executor.check("python3.13")


def spec(tmp_path: Path, **env: str):
    task_root = tmp_path / "tasks" / "abc"
    base = {
        "PATH": HOST_PATH,
        "PYTHONPATH": str(task_root),
        "LAMBDA_TASK_ROOT": str(task_root),
        "LAMBDA_RUNTIME_DIR": str(task_root),
        "AWS_LAMBDA_RUNTIME_API": "0.0.0.0:41234",
        "AWS_ENDPOINT_URL": "http://localhost:4566",
        "AWS_REGION": "us-east-1",
        "MY_VARIABLE": "mine",
    }
    return executors.LaunchSpec(
        environment_id="e1",
        runtime="python3.12",
        handler="app.handler",
        task_root=task_root,
        env={**base, **env},
        memory_mb=128,
        log_path=tmp_path / "log",
    )


def executor(here: str = "172.17.0.1", **options) -> DockerExecutor:
    defaults = {"fleet_url": "http://localhost:4566", "fleet_endpoints": frozenset({"http://localhost:4566"})}
    made = DockerExecutor(DockerOptions(**{**defaults, **options}))
    made._here = here  # what prepare() learns from the engine
    return made


def test_environment_is_rewritten_for_the_container(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", HOST_PATH)
    env = executor().container_env(spec(tmp_path))
    assert env == {
        "LAMBDA_TASK_ROOT": "/var/task",
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "AWS_LAMBDA_RUNTIME_API": "172.17.0.1:41234",  # this machine, as the container sees it
        "AWS_ENDPOINT_URL": "http://172.17.0.1:4566",
        "AWS_REGION": "us-east-1",
        "MY_VARIABLE": "mine",
    }


def test_functions_own_path_and_endpoint_are_kept(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", HOST_PATH)
    env = executor().container_env(
        spec(tmp_path, PATH="/opt/bin:/usr/bin", AWS_ENDPOINT_URL="http://other:1")
    )
    assert env["PATH"] == "/opt/bin:/usr/bin"
    assert env["AWS_ENDPOINT_URL"] == "http://other:1"


def test_compose_addresses(tmp_path: Path) -> None:
    """In compose: the Runtime API by the service's name, the gateway by its name (already reachable)."""
    made = executor(
        here="10.0.0.5",
        runtime_api_address="lambda",
        fleet_url="http://gateway:4566",
        fleet_endpoints=frozenset({"http://localhost:4566", "http://gateway:4566"}),
    )
    env = made.container_env(spec(tmp_path))
    assert env["AWS_LAMBDA_RUNTIME_API"] == "lambda:41234"
    assert env["AWS_ENDPOINT_URL"] == "http://gateway:4566"


def test_endpoint_can_be_set_or_left_out(tmp_path: Path) -> None:
    assert executor(endpoint_url="http://my-host:9999").container_env(spec(tmp_path))["AWS_ENDPOINT_URL"] == (
        "http://my-host:9999"
    )
    assert "AWS_ENDPOINT_URL" not in executor(inject_endpoint=False).container_env(spec(tmp_path))


def test_options_from_settings(tmp_path: Path) -> None:
    settings = Settings.from_env(
        "lambda",
        {
            "FLOTILLA_DATA_DIR": str(tmp_path),
            "FLOTILLA_EXTERNAL_URL": "http://localhost:4566",
            "FLOTILLA_INTERNAL_URL": "http://gateway:4566",
            "FLOTILLA_DOCKER_NETWORK": "fleet",
            "FLOTILLA_DOCKER_LABELS": "flotilla.fleet=fleet, team=a",
            "FLOTILLA_LAMBDA_EXECUTOR": "docker",
            "FLOTILLA_LAMBDA_IMAGES": "python3.12=x/y:1",
            "FLOTILLA_LAMBDA_INJECT_ENDPOINT": "0",
        },
    )
    made = executors.create_executor("docker", dict(settings.extra), settings)
    options = made.options
    assert made.name == "docker"
    assert options.network == "fleet" and options.images == {"python3.12": "x/y:1"}
    assert options.fleet_url == "http://gateway:4566"
    assert options.fleet_endpoints == {"http://localhost:4566", "http://gateway:4566"}
    assert not options.inject_endpoint
    assert options.owner_labels == {
        "flotilla.fleet": "fleet",
        "team": "a",
        "flotilla.service": "lambda",
        "flotilla.lambda.root": str((tmp_path / "lambda").resolve()),
    }


def test_arm64_functions_get_the_arm64_platform_only_on_an_arm64_engine() -> None:
    assert docker_executor.platform_for("arm64", "aarch64") == "linux/arm64"
    assert docker_executor.platform_for("arm64", "arm64") == "linux/arm64"
    assert docker_executor.platform_for("arm64", "x86_64") is None  # no emulation: the engine's own platform
    assert docker_executor.platform_for("x86_64", "aarch64") is None
    assert docker_executor.platform_for("x86_64", "x86_64") is None
