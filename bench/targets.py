"""What the bench runs against: Flotilla (through the gateway, and direct to each service) and moto.

A target is a name plus one endpoint per service. The gateway and moto serve every service on
one port; "direct" skips the gateway and talks to each service's own uvicorn.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from flotilla.fleet import Fleet, free_port


@dataclass(frozen=True)
class Target:
    name: str
    endpoints: dict[str, str]  # service -> base URL
    pids: dict[str, int]  # process name -> pid, for the memory probe
    logs: dict[str, Path] = field(default_factory=dict)  # process name -> its log file

    def url(self, service: str) -> str:
        return self.endpoints[service]


@contextmanager
def flotilla(services: Sequence[str], workdir: Path) -> Iterator[tuple[Target, Target]]:
    """Start the fleet once; yield (via gateway, direct) targets that share it."""
    fleet = Fleet(
        port=free_port(), services=tuple(services), data_dir=workdir / "data", log_dir=workdir / "logs"
    )
    fleet.start()
    try:
        pids = {p.name: p.popen.pid for p in fleet.processes}
        logs = {p.name: p.log_path for p in fleet.processes if p.log_path}
        gateway = Target("gateway", {s: fleet.url for s in services}, pids, logs)
        direct = Target("direct", {s: fleet.service_url(s) for s in services}, pids, logs)
        yield gateway, direct
    finally:
        fleet.stop()


LAMBDA_IMAGE = "public.ecr.aws/lambda/python:3.11"


def docker_missing(image: str = LAMBDA_IMAGE) -> str | None:
    """None when a Docker engine answers and has ``image``; else why the docker executor cannot run."""
    if shutil.which("docker") is None:
        return "no engine: the docker command is not on PATH"
    info = subprocess.run(
        ["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True
    )
    if info.returncode != 0:
        return f"no engine: {info.stderr.strip()[:200]}"
    if subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode != 0:
        return f"no engine: {image} is not on the engine"
    return None


@contextmanager
def docker_lambda(workdir: Path) -> Iterator[Target]:
    """A second fleet, Lambda only, with ``FLOTILLA_LAMBDA_EXECUTOR=docker``, on the Docker bridge's
    gateway address (the function containers reach the Runtime API there). Its containers carry a
    label of this run and are removed on exit, whatever the service left."""
    bridge = subprocess.run(
        ["docker", "network", "inspect", "bridge", "--format", "{{(index .IPAM.Config 0).Gateway}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    label = f"flotilla.fleet=bench-{uuid.uuid4().hex[:8]}"
    port = free_port(bridge)
    fleet = Fleet(
        port=port,
        host=bridge,
        services=("lambda",),
        data_dir=workdir / "data",
        log_dir=workdir / "logs",
        env={
            "FLOTILLA_EXTERNAL_URL": f"http://{bridge}:{port}",
            "FLOTILLA_LAMBDA_EXECUTOR": "docker",
            "FLOTILLA_DOCKER_LABELS": f"{label},flotilla.test=bench",
        },
    )
    try:
        fleet.start()
        logs = {p.name: p.log_path for p in fleet.processes if p.log_path}
        yield Target("gateway", {"lambda": fleet.url}, {p.name: p.popen.pid for p in fleet.processes}, logs)
    finally:
        fleet.stop()
        ids = subprocess.run(
            ["docker", "ps", "-aq", "--filter", f"label={label}"], capture_output=True, text=True
        ).stdout.split()
        if ids:
            subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)


@contextmanager
def moto(services: Sequence[str], workdir: Path, timeout: float = 30.0) -> Iterator[Target]:
    """``python -m moto.server`` on a free port, stopped (and waited for) on exit."""
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    with open(workdir / "moto.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_http(url + "/moto-api/", proc, timeout)
        yield Target("moto", {s: url for s in services}, {"moto": proc.pid})
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_http(url: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=1.0) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"moto server exited with {proc.returncode}")
            try:
                client.get(url)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
    raise RuntimeError(f"moto server did not answer within {timeout:.0f} s")
