"""FlotillaFleet: the compose fleet (redis + gateway + one container per chosen service) for tests.

testcontainers' own ``DockerCompose`` only drives Compose v2 (``docker compose``, ``ps --format json``);
Compose v1.29 (``docker-compose``) is still what many CI machines have. So this drives whichever
compose command exists through subprocess, using only what both versions share: ``-p``, ``-f``,
``--profile``, ``up -d [--build]``, ``logs``, ``down -v --remove-orphans``.
"""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import socket
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ._clients import make_client
from ._health import FlotillaError, FlotillaStartupError, checked_services, wait_healthy

COMPOSE_FILES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
UP_TIMEOUT = 900.0  # `up --build` on a machine with no cached layers installs every image's packages
DOWN_TIMEOUT = 180.0


def compose_command() -> list[str]:
    """``docker compose`` (v2) when the plugin exists, else ``docker-compose`` (v1); ``FLOTILLA_COMPOSE`` overrides."""
    override = os.environ.get("FLOTILLA_COMPOSE")
    if override:
        return shlex.split(override)
    if shutil.which("docker") and _succeeds(["docker", "compose", "version"]):
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    raise FlotillaError("no compose command: install Compose v2 (`docker compose`) or `docker-compose`")


class FlotillaFleet:
    """The compose fleet of ``compose_dir`` with a profile per chosen service, as a context manager.

    ``project`` names the compose project (default: a fresh ``flotillatc<hex>``, so parallel runs never
    collide); ``port`` is the host port of the gateway (``FLOTILLA_PORT``; default: a free one). ``env``
    adds variables for compose's interpolation, as a ``.env`` file would (e.g. ``{"PERSISTENCE": "1"}``);
    ``build=True`` rebuilds images from the checkout before starting. On exit: ``down -v``.
    """

    def __init__(
        self,
        compose_dir: str | os.PathLike[str],
        services: Iterable[str] = ("s3",),
        project: str | None = None,
        port: int | None = None,
        *,
        env: Mapping[str, str] | None = None,
        build: bool = False,
        startup_timeout: float = 180.0,
        compose: list[str] | None = None,
    ) -> None:
        self.compose_dir = Path(compose_dir).resolve()
        self.compose_file = _compose_file(self.compose_dir)
        self.services = checked_services(services)
        self.project = project or f"flotillatc{secrets.token_hex(4)}"
        self.port = port or _free_port()
        self.env = dict(env or {})
        self.build = build
        self.startup_timeout = startup_timeout
        self._compose_cmd = compose
        self._up = False

    def __enter__(self) -> FlotillaFleet:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> FlotillaFleet:
        """``up -d`` then wait until every chosen service is running; on failure, tear down and raise."""
        try:
            self._up = True
            self._run_up()
            wait_healthy(self.get_url(), self.services, self.startup_timeout, self.logs)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """``down -v --remove-orphans``: containers, networks and volumes of the project go away."""
        if not self._up:
            return
        self._up = False
        args = ["down", "-v", "--remove-orphans", "--timeout", "10"]
        done = self._compose(*args, timeout=DOWN_TIMEOUT)
        if done.returncode != 0:
            raise FlotillaError(
                f"`{shlex.join(self._base() + args)}` failed with exit code {done.returncode}:\n"
                f"{done.stdout}{done.stderr}"
            )

    def get_url(self) -> str:
        """The gateway's base URL, e.g. ``http://127.0.0.1:49321``."""
        return f"http://127.0.0.1:{self.port}"

    def client(self, service: str, region: str = "us-east-1", **kwargs: Any) -> Any:
        """A boto3 client for ``service`` against the fleet's gateway, with test credentials."""
        return make_client(self.get_url(), service, region, **kwargs)

    def logs(self) -> str:
        """The last lines of every container's log (what a failed start shows)."""
        done = self._compose("logs", "--no-color", "--tail", "200", timeout=60.0)
        return done.stdout + done.stderr

    def fleet_env(self) -> dict[str, str]:
        """What isolates this fleet from any other on the engine: its network and sibling-container label
        (``FLOTILLA_FLEET``) are named after the project, and the URLs it hands out name the right port."""
        return {"FLOTILLA_FLEET": self.project, "FLOTILLA_EXTERNAL_URL": self.get_url()}

    def _run_up(self) -> None:
        args = ["up", "-d", *(["--build"] if self.build else [])]
        done = self._compose(*args, timeout=UP_TIMEOUT)
        if done.returncode != 0:
            raise FlotillaStartupError(
                f"`{shlex.join(self._base() + args)}` failed with exit code {done.returncode}:\n"
                f"{done.stdout}{done.stderr}\n---- logs ----\n{self.logs()}"
            )

    def _compose(self, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, **self.fleet_env(), **self.env, "FLOTILLA_PORT": str(self.port)}
        return subprocess.run(
            [*self._base(), *args],
            cwd=self.compose_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def _base(self) -> list[str]:
        if self._compose_cmd is None:
            self._compose_cmd = compose_command()
        profiles = [item for name in self.services for item in ("--profile", name)]
        return [*self._compose_cmd, "-p", self.project, "-f", str(self.compose_file), *profiles]


def _compose_file(directory: Path) -> Path:
    for name in COMPOSE_FILES:
        if (directory / name).is_file():
            return directory / name
    raise FileNotFoundError(f"no compose file ({', '.join(COMPOSE_FILES)}) in {directory}")


def _free_port() -> int:
    """A port free on 127.0.0.1 right now (the gateway publishes there)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _succeeds(cmd: list[str]) -> bool:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False
