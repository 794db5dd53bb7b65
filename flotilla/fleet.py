"""The fleet as local processes: redis-server, one uvicorn per service, and the gateway.

The same apps as in the containers, started with the same settings, for developers without
Docker (``flotilla dev``) and for the test suite (one fleet per pytest session).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

SERVICES: dict[str, str] = {
    "s3": "services.s3.app:create_app",
    "sqs": "services.sqs.app:create_app",
    "dynamodb": "services.dynamodb.app:create_app",
    "lambda": "services.lambda.app:create_app",
    "ec2": "services.ec2.app:create_app",
    "rds": "services.rds.app:create_app",
}
GATEWAY = "gateway.app:app_from_env"

ROOT = Path(__file__).resolve().parent.parent


class FleetError(RuntimeError):
    pass


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def uvicorn_command(target: str, host: str, port: int) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", "--factory", target,
        "--host", host, "--port", str(port),
        "--loop", "uvloop", "--http", "httptools",
        "--no-access-log", "--log-level", "warning",
        "--timeout-graceful-shutdown", "5",
    ]  # fmt: skip


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    url: str
    log_path: Path | None = None
    cmd: list[str] = field(default_factory=list)  # how it was started: restart() starts it the same way
    env: dict[str, str] = field(default_factory=dict)

    def tail(self, lines: int = 30) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Fleet:
    """Start with ``start()``, stop with ``stop()`` (or use it as a context manager)."""

    port: int = 4566
    host: str = "127.0.0.1"
    services: Sequence[str] = tuple(SERVICES)
    data_dir: Path = Path(".data")
    persistence: bool = False
    redis_url: str | None = None  # None: start our own redis-server
    log_dir: Path | None = None  # None: children write to this process's stderr
    env: Mapping[str, str] = field(default_factory=dict)
    processes: list[Process] = field(default_factory=list)
    redis_in_use: str | None = None  # the Redis the fleet runs on (ours or ``redis_url``), once started

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def service_url(self, name: str) -> str:
        return next(p.url for p in self.processes if p.name == name)

    def __enter__(self) -> Fleet:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, timeout: float = 60.0) -> None:
        unknown = set(self.services) - set(SERVICES)
        if unknown:
            raise FleetError(f"unknown services: {', '.join(sorted(unknown))}")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            redis_url = self.redis_in_use = self.redis_url or self._start_redis()
            base = {
                **os.environ,
                "FLOTILLA_DATA_DIR": str(self.data_dir.resolve()),
                "FLOTILLA_REDIS_URL": redis_url,
                "PERSISTENCE": "1" if self.persistence else "0",
                "FLOTILLA_EXTERNAL_URL": f"http://localhost:{self.port}",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
                **self.env,
            }
            upstreams = {}
            for name in self.services:
                port = free_port(self.host)
                proc = self._spawn(name, uvicorn_command(SERVICES[name], self.host, port), base, port)
                upstreams[f"FLOTILLA_UPSTREAM_{name.upper()}"] = proc.url
            gw_env = {**base, **upstreams}
            self._spawn("gateway", uvicorn_command(GATEWAY, self.host, self.port), gw_env, self.port)
            self._wait_healthy(timeout)
        except BaseException:
            self.stop()
            raise

    def _start_redis(self) -> str:
        exe = shutil.which("redis-server")
        if exe is None:
            raise FleetError(
                "redis-server was not found on PATH. Install it (Debian/Ubuntu: apt-get install redis-server; "
                "macOS: brew install redis) or point FLOTILLA_REDIS_URL at a running Redis."
            )
        port = free_port(self.host)
        redis_dir = self.data_dir / "redis"
        redis_dir.mkdir(parents=True, exist_ok=True)
        persist = ["--appendonly", "yes"] if self.persistence else ["--appendonly", "no"]
        cmd = [exe, "--port", str(port), "--bind", self.host, "--save", "", "--dir", str(redis_dir.resolve()),
               "--protected-mode", "no", *persist]  # fmt: skip
        proc = self._spawn("redis", cmd, dict(os.environ), port, health=None)
        url = f"redis://{self.host}:{port}/0"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if proc.popen.poll() is not None:
                raise FleetError(f"redis-server exited with {proc.popen.returncode}:\n{proc.tail()}")
            try:
                with socket.create_connection((self.host, port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return url
            except OSError:
                time.sleep(0.05)
        raise FleetError("redis-server did not answer PING within 10 s")

    def _spawn(
        self, name: str, cmd: list[str], env: Mapping[str, str], port: int, health: str | None = ""
    ) -> Process:
        out: IO | None = None
        log_path = None
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            log_path = self.log_dir / f"{name}.log"
            out = open(log_path, "ab")  # noqa: SIM115 - owned by the child for its lifetime
        popen = subprocess.Popen(
            cmd,
            env=dict(env),
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT if out else None,
            start_new_session=True,
        )
        if out is not None:
            out.close()
        proc = Process(name, popen, f"http://{self.host}:{port}", log_path, list(cmd), dict(env))
        self.processes.append(proc)
        return proc

    def _process(self, name: str) -> Process:
        for proc in self.processes:
            if proc.name == name:
                return proc
        raise FleetError(f"{name} is not running in this fleet")

    def stop_service(self, name: str, timeout: float = 10.0) -> None:
        """Stop one service's process (SIGTERM, then SIGKILL); the rest of the fleet keeps running.

        ``start_service`` starts it again; until then the gateway answers its requests with a 503.
        """
        proc = self._process(name)
        _terminate(proc, timeout)

    def start_service(self, name: str, timeout: float = 60.0) -> None:
        """Start a stopped service again on the same port, with the same command and environment."""
        old = self._process(name)
        if old.popen.poll() is None:
            raise FleetError(f"{name} is still running: stop it first (or call restart)")
        port = int(old.url.rsplit(":", 1)[1])
        index = self.processes.index(old)
        self.processes.remove(old)
        new = self._spawn(name, old.cmd, old.env, port)
        self.processes.remove(new)
        self.processes.insert(index, new)  # stop() keeps its order: gateway first, redis last
        self._wait_healthy(timeout, [new])

    def restart(self, name: str, timeout: float = 60.0) -> None:
        """Stop one service and start it again on the same port with the same environment."""
        self.stop_service(name)
        self.start_service(name, timeout)

    def _wait_healthy(self, timeout: float, processes: Sequence[Process] | None = None) -> None:
        deadline = time.monotonic() + timeout
        waiting = [p for p in (self.processes if processes is None else processes) if p.name != "redis"]
        with httpx.Client(timeout=1.0) as client:
            while waiting:
                for proc in list(waiting):
                    if proc.popen.poll() is not None:
                        raise FleetError(f"{proc.name} exited with {proc.popen.returncode}:\n{proc.tail()}")
                    path = "/_flotilla/ping" if proc.name == "gateway" else "/_flotilla/health"
                    try:
                        if client.get(proc.url + path).status_code == 200:
                            waiting.remove(proc)
                    except httpx.HTTPError:
                        pass
                if waiting and time.monotonic() > deadline:
                    names = ", ".join(p.name for p in waiting)
                    raise FleetError(f"not healthy after {timeout:.0f} s: {names}\n" + waiting[0].tail())
                if waiting:
                    time.sleep(0.05)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM everything (gateway first, redis last), then SIGKILL what lingers."""
        for proc in reversed(self.processes):
            if proc.popen.poll() is None:
                try:
                    os.killpg(proc.popen.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + timeout
        for proc in reversed(self.processes):
            try:
                proc.popen.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.popen.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.popen.wait()
        self.processes.clear()


def _terminate(proc: Process, timeout: float) -> None:
    """SIGTERM the process group, SIGKILL it when it lingers past ``timeout``."""
    if proc.popen.poll() is None:
        try:
            os.killpg(proc.popen.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    try:
        proc.popen.wait(timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.popen.wait()
