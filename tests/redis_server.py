"""A throwaway redis-server for tests: free port, no persistence, restartable on the same port."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flotilla.fleet import free_port

HOST = "127.0.0.1"


class RedisServer:
    """One ``redis-server`` process; ``restart()`` kills it and starts a fresh one on the same port.

    Without persistence a restart loses every key, as a crashed Redis with no volume would.
    """

    def __init__(self, workdir: Path, port: int | None = None, exe: str | None = None) -> None:
        self.exe = exe or shutil.which("redis-server") or "redis-server"
        self.workdir = workdir
        self.port = port or free_port(HOST)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        args = ["--port", str(self.port), "--bind", HOST, "--save", "", "--appendonly", "no", "--dir", str(self.workdir)]  # fmt: skip
        self.proc = subprocess.Popen([self.exe, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._wait_for_ping(timeout)

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.kill()
        self.proc.wait(timeout=10)
        if self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def _wait_for_ping(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                raise RuntimeError(f"redis-server exited with {self.proc.returncode}: {err}")
            if _pings(self.port):
                return
            time.sleep(0.02)  # polling interval, bounded by the deadline above
        self.stop()
        raise RuntimeError(f"redis-server did not answer PING on port {self.port} within {timeout}s")


def _pings(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def available() -> bool:
    return shutil.which("redis-server") is not None


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    """Start a server in a temporary directory, yield it (``.url``, ``.restart()``), kill it."""
    with tempfile.TemporaryDirectory(prefix="flotilla-redis-") as tmp:
        server = RedisServer(Path(tmp))
        server.start()
        try:
            yield server
        finally:
            server.stop()
