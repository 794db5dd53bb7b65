"""Drive one compose project from tests: the compose command, health waits, what Docker holds for it.

Works with Compose v2 (`docker compose`) and v1.29 (`docker-compose`); never depends on container
names (v1 and v2 spell them differently): containers are found by the project/service labels.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("s3", "sqs", "dynamodb", "lambda", "ec2", "rds")
SERVICE_LABEL = '{{index .Config.Labels "com.docker.compose.service"}}'


class DockerMissing(RuntimeError):
    pass


def docker_ready() -> str | None:
    """None if a Docker engine answers, else why not."""
    if shutil.which("docker") is None:
        return "the docker command is not on PATH"
    done = subprocess.run(
        ["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True
    )
    return None if done.returncode == 0 else f"no Docker engine answers: {done.stderr.strip()[:300]}"


def compose_command() -> list[str]:
    """`docker compose` (v2) when the plugin exists, else `docker-compose` (v1.29)."""
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    raise DockerMissing("neither `docker compose` nor `docker-compose` is installed")


def docker(*args: str, check: bool = True) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True)
    if check and done.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def wait_for(what: str, check: Callable[[], object], timeout: float, interval: float = 0.25) -> object:
    """Poll ``check`` until it returns something truthy; fail with ``what`` and the last value."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            last = check()
        except (httpx.HTTPError, OSError, ValueError) as err:
            last = err
        else:
            if last:
                return last
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s (last: {last!r})")
        time.sleep(interval)


@dataclass
class Project:
    """One compose project, unique per test session (so runs never collide, and teardown is exact)."""

    port: int
    env: Mapping[str, str] = field(default_factory=dict)
    name: str = field(default_factory=lambda: f"flotest{uuid.uuid4().hex[:8]}")
    command: Sequence[str] = field(default_factory=compose_command)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "FLOTILLA_FLEET": self.name,
            "FLOTILLA_PORT": str(self.port),
            "FLOTILLA_EXTERNAL_URL": f"http://localhost:{self.port}",
            # a developer's .env must not change what the suite tests (the environment wins over .env)
            "PERSISTENCE": "0",
            "FLOTILLA_INIT_DIR": str(ROOT / "init" / "ready.d"),
            "FLOTILLA_RESTART": "unless-stopped",
            "FLOTILLA_IMAGE_PREFIX": "flotilla",
            "FLOTILLA_TAG": "dev",
            **self.env,
        }

    def run(self, *args: str, profiles: Sequence[str] = ("all",), timeout: float = 900) -> str:
        flags = [flag for p in profiles for flag in ("--profile", p)]
        cmd = [*self.command, "-p", self.name, *flags, *args]
        done = subprocess.run(
            cmd, cwd=ROOT, env=self.environment(), capture_output=True, text=True, timeout=timeout
        )
        if done.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done.stdout

    # ---- what Docker holds for this project -------------------------------------------------------

    def containers(self, service: str | None = None, all_states: bool = True) -> list[str]:
        labels = [f"label=com.docker.compose.project={self.name}"]
        if service:
            labels.append(f"label=com.docker.compose.service={service}")
        args = ["ps", "-q", *(a for label in labels for a in ("--filter", label))]
        return docker(*args, *(["-a"] if all_states else [])).split()

    def services_running(self) -> set[str]:
        ids = self.containers(all_states=False)
        if not ids:
            return set()
        return set(docker("inspect", "--format", SERVICE_LABEL, *ids).split())

    def leftovers(self) -> dict[str, list[str]]:
        """Containers, networks and volumes still labelled with this project (all empty after `down -v`)."""
        label = f"label=com.docker.compose.project={self.name}"
        return {
            "containers": self.containers(),
            "networks": docker("network", "ls", "-q", "--filter", label).split(),
            "volumes": docker("volume", "ls", "-q", "--filter", label).split(),
            "siblings": docker("ps", "-aq", "--filter", f"label=flotilla.fleet={self.name}").split(),
        }

    def health_status(self, service: str) -> str:
        ids = self.containers(service)
        if not ids:
            return "absent"
        return docker("inspect", "--format", "{{.State.Status}}/{{.State.Health.Status}}", ids[0]).strip()

    def logs(self, service: str) -> str:
        ids = self.containers(service)
        if not ids:
            return ""
        done = subprocess.run(["docker", "logs", ids[0]], capture_output=True, text=True)
        return done.stdout + done.stderr

    # ---- the fleet through its gateway ------------------------------------------------------------

    def health(self) -> dict[str, str]:
        return httpx.get(f"{self.url}/_flotilla/health", timeout=3).json()["services"]

    def wait_services(self, expect: Mapping[str, str], timeout: float = 90) -> dict[str, str]:
        """Wait until the gateway's health shows each named service in the given state."""

        def matches() -> dict[str, str] | None:
            services = self.health()
            return services if all(services.get(k) == v for k, v in expect.items()) else None

        try:
            return wait_for(f"gateway health {dict(expect)}", matches, timeout)  # type: ignore[return-value]
        except AssertionError as err:
            raise AssertionError(f"{err}\n{self.diagnose(expect)}") from None

    def diagnose(self, services: Sequence[str]) -> str:
        """The state and last log lines of each named container: why a wait failed."""
        parts = []
        for name in services:
            tail = "\n".join(self.logs(name).splitlines()[-15:])
            parts.append(f"---- {name}: {self.health_status(name)}\n{tail}")
        return "\n".join(parts)

    def wait_healthy(self, service: str, timeout: float = 90) -> None:
        try:
            wait_for(f"{service} healthy", lambda: self.health_status(service) == "running/healthy", timeout)
        except AssertionError as err:
            raise AssertionError(f"{err}\n{self.diagnose([service])}") from None

    def idle_rss(self) -> dict[str, float]:
        """MiB of memory per running service container (`docker stats --no-stream`)."""
        ids = self.containers(all_states=False)
        out = docker("stats", "--no-stream", "--format", "{{json .}}", *ids)
        services = docker("inspect", "--format", SERVICE_LABEL, *ids)
        names = dict(zip(ids, services.split(), strict=True))
        stats = (json.loads(line) for line in out.splitlines())
        return {names[s["Container"]]: _mib(s["MemUsage"].split("/")[0].strip()) for s in stats}


def _mib(text: str) -> float:
    units = {"B": 1 / 2**20, "KiB": 1 / 1024, "MiB": 1.0, "GiB": 1024.0, "kB": 1e3 / 2**20, "MB": 1e6 / 2**20}
    for unit in sorted(units, key=len, reverse=True):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * units[unit]
    return float(text) / 2**20
