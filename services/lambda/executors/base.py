"""The one interface every executor implements.

An executor turns a ``LaunchSpec`` (runtime, handler, code directory, environment variables, the
Runtime API address) into a running runtime client, and hands back a ``Runner`` to wait on or
kill. Everything else (the Runtime API, warm reuse, timeouts, logs) is the executor-independent
pool in ``invoke.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


class UnsupportedRuntime(Exception):
    """The executor cannot run this runtime (e.g. Node.js with the local executor and no ``node``)."""


@dataclass(frozen=True)
class LaunchSpec:
    environment_id: str
    runtime: str
    handler: str
    task_root: Path  # the extracted code
    env: dict[str, str]  # complete environment of the runtime process
    memory_mb: int
    log_path: Path  # stdout and stderr of the runtime go here (appended)
    opt_dir: Path | None = None  # the function's layers, extracted: what the runtime sees as /opt
    image: str | None = None  # PackageType Image: the user's image (docker executor only)


class Runner(Protocol):
    """A started runtime client process (or container)."""

    @property
    def pid(self) -> int | None: ...

    async def wait(self) -> int:
        """Until the runtime exits; its exit status."""
        ...

    async def kill(self) -> None:
        """Stop it now (timeouts, idle teardown, shutdown); returns once it is gone."""
        ...


class Executor(Protocol):
    name: str

    def check(self, runtime: str) -> None:
        """Raise ``UnsupportedRuntime`` when this executor cannot run ``runtime``."""
        ...

    async def start(self, spec: LaunchSpec) -> Runner: ...
