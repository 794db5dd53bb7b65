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

# What ``Executor.check`` is asked for a ``PackageType: Image`` function (it has no Runtime).
IMAGE_RUNTIME = "image"


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
    architecture: str = "x86_64"  # the function's Architectures[0] (x86_64 or arm64)
    image: str | None = None  # PackageType Image: the user's image (docker executor only)
    # ImageConfig overrides of an Image function (None: the image's own ENTRYPOINT / CMD / WORKDIR)
    entry_point: tuple[str, ...] | None = None
    command: tuple[str, ...] | None = None
    working_directory: str | None = None


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

    async def flush_logs(self) -> None:
        """Until what the runtime has written so far is in ``LaunchSpec.log_path`` (the invoker calls
        this before reading an invocation's log: a container's output reaches the file a little late)."""
        ...


class Executor(Protocol):
    name: str

    def check(self, runtime: str) -> None:
        """Raise ``UnsupportedRuntime`` when this executor cannot run ``runtime``."""
        ...

    async def start(self, spec: LaunchSpec) -> Runner: ...

    async def prepare(self) -> None:
        """Once, when the service starts (the docker executor removes stale containers here)."""
        ...

    async def close(self) -> None:
        """Once, when the service stops, after every environment was killed."""
        ...
