"""The ``local`` executor: the runtime client as a process on this machine.

Python runtimes run AWS's own runtime interface client, ``awslambdaric``, with the Python that
runs the service (``FLOTILLA_LAMBDA_PYTHON`` overrides it): ``python -m awslambdaric module.function``
in the extracted code directory. So the function sees the same ``boto3`` the service's Python
has, not the version of the real runtime. Each process is its own process group, killed as a
whole (a handler's child processes die with it).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys

from .base import LaunchSpec, UnsupportedRuntime


class LocalRunner:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @property
    def pid(self) -> int | None:
        return self.process.pid

    async def wait(self) -> int:
        return await self.process.wait()

    async def kill(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        await self.process.wait()


class LocalExecutor:
    name = "local"

    def __init__(self, python: str | None = None) -> None:
        self.python = python or sys.executable

    def check(self, runtime: str) -> None:
        if not runtime.startswith("python"):
            raise UnsupportedRuntime(f"runtime {runtime} with the local executor (Python runtimes only)")

    def command(self, spec: LaunchSpec) -> list[str]:
        self.check(spec.runtime)
        return [self.python, "-m", "awslambdaric", spec.handler]

    async def start(self, spec: LaunchSpec) -> LocalRunner:
        command = self.command(spec)
        with spec.log_path.open("ab") as log:
            process = await asyncio.create_subprocess_exec(
                *command,
                cwd=spec.task_root,
                env=spec.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        return LocalRunner(process)
