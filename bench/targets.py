"""What the bench runs against: Flotilla (through the gateway, and direct to each service) and moto.

A target is a name plus one endpoint per service. The gateway and moto serve every service on
one port; "direct" skips the gateway and talks to each service's own uvicorn.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from flotilla.fleet import Fleet, free_port


@dataclass(frozen=True)
class Target:
    name: str
    endpoints: dict[str, str]  # service -> base URL
    pids: dict[str, int]  # process name -> pid, for the memory probe

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
        gateway = Target("gateway", {s: fleet.url for s in services}, pids)
        direct = Target("direct", {s: fleet.service_url(s) for s in services}, pids)
        yield gateway, direct
    finally:
        fleet.stop()


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
