"""A runtime that could not be started, standing in for one whose init failed (both executors use it)."""

from __future__ import annotations

import asyncio
import contextlib
import json

import httpx

from .base import LaunchSpec

WILDCARD = {"0.0.0.0", "::", ""}


class StartFailed(Exception):
    """The runtime (container or process) could not be started; ``error_type`` is what the invocation reports."""

    def __init__(self, message: str, error_type: str) -> None:
        super().__init__(message)
        self.error_type = error_type


class FailedRunner:
    """Stands in for a runtime that could not start (a container, a missing ``bootstrap``): like a runtime whose init failed, it takes the
    invocation from the Runtime API and reports the error, then exits, so the caller gets an error
    payload naming the cause instead of a hang or a bare 500."""

    pid = None

    def __init__(self, spec: LaunchSpec, failure: StartFailed) -> None:
        self.failure = failure
        self._task = asyncio.create_task(self._report(spec))

    async def _report(self, spec: LaunchSpec) -> int:
        with spec.log_path.open("ab") as out:
            out.write(f"[ERROR] {self.failure.error_type}: {self.failure}\n".encode())
        host, _, port = spec.env.get("AWS_LAMBDA_RUNTIME_API", "").rpartition(":")
        base = f"http://{'127.0.0.1' if host in WILDCARD else host}:{port}/2018-06-01/runtime"
        body = json.dumps({"errorMessage": str(self.failure), "errorType": self.failure.error_type})
        headers = {"Lambda-Runtime-Function-Error-Type": self.failure.error_type}
        with contextlib.suppress(httpx.HTTPError):
            async with httpx.AsyncClient(timeout=60.0) as client:
                await client.get(f"{base}/invocation/next")
                await client.post(f"{base}/init/error", content=body, headers=headers)
        return 1

    async def wait(self) -> int:
        return await asyncio.shield(self._task)

    async def kill(self) -> None:
        self._task.cancel()
        with contextlib.suppress(BaseException):
            await self._task

    async def flush_logs(self) -> None:
        return None
