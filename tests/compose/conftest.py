"""The compose suite: the fleet as containers, built from this checkout, on a live Docker engine.

Without a Docker engine the suite is skipped, except in CI (``CI`` set), where that is a failure:
CI must prove that `docker compose up` works. Images are built once per session (layered: warm
builds take seconds); each fleet uses a unique compose project and is removed with ``down -v``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from flotilla.fleet import free_port

from .project import SERVICES, DockerMissing, Project, compose_command, docker_ready

FIGURES: dict[str, str] = {}
HOOK = """#!/bin/sh
# An init hook as a user writes one: the AWS CLI, no endpoint flags (AWS_ENDPOINT_URL is preset).
set -e
aws s3 mb s3://init-hook-bucket
awslocal sqs create-queue --queue-name init-hook-queue
echo "hook finished in region $AWS_DEFAULT_REGION"
"""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "compose: needs a Docker engine and Compose (tests/compose)")


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001 - pytest's own type is private
    if FIGURES:
        terminalreporter.write_sep("-", "compose fleet figures")
        for key, value in FIGURES.items():
            terminalreporter.write_line(f"{key}: {value}")


@pytest.fixture(scope="session")
def compose_cmd() -> list[str]:
    reason = docker_ready()
    try:
        command = compose_command() if reason is None else None
    except DockerMissing as err:
        reason, command = str(err), None
    if command is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the compose suite, but {reason}", pytrace=False)
        pytest.skip(f"compose suite needs Docker: {reason}")
    return command


@pytest.fixture(scope="session")
def images(compose_cmd: list[str]) -> None:
    """Build every image once per session (cache hits unless the code or pyproject.toml changed)."""
    Project(port=0, command=compose_cmd).run("build", profiles=("all",), timeout=1800)


@pytest.fixture(scope="session")
def hook_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ready.d")
    hook = folder / "10-create.sh"
    hook.write_text(HOOK)
    hook.chmod(0o755)
    (folder / "README.md").write_text("not executable: the runner skips it\n")
    return folder


def start(project: Project, profiles: tuple[str, ...]) -> Project:
    project.run("up", "-d", profiles=profiles)
    return project


def stop(project: Project, profiles: tuple[str, ...]) -> None:
    project.run("down", "-v", "--remove-orphans", "-t", "5", profiles=profiles)
    leftovers = project.leftovers()
    assert not any(leftovers.values()), f"compose down -v left {leftovers}"


@pytest.fixture(scope="module")
def fleet(compose_cmd: list[str], images: None, hook_dir: Path) -> Iterator[Project]:
    """`--profile all` with PERSISTENCE=1 (so that the persistence test can `down` and `up` it)."""
    env = {"PERSISTENCE": "1", "FLOTILLA_INIT_DIR": str(hook_dir)}
    project = Project(port=free_port(), env=env, command=compose_cmd)
    try:
        started = time.monotonic()
        start(project, ("all",))
        project.wait_services(dict.fromkeys(SERVICES, "running"))
        project.wait_healthy("init")
        FIGURES["up -d to all healthy (images built), s"] = f"{time.monotonic() - started:.1f}"
        yield project
    finally:
        stop(project, ("all",))


@pytest.fixture(scope="session")
def client_for() -> Callable[[Project, str], object]:
    import boto3
    from botocore.config import Config

    config = Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=30)

    def make(project: Project, service: str) -> object:
        return boto3.client(
            service,
            endpoint_url=project.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=config,
        )

    return make
