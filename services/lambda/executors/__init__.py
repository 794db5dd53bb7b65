"""Executors: how an execution environment's runtime process is started (``local`` now, ``docker`` later)."""

from __future__ import annotations

from .base import Executor, LaunchSpec, Runner, UnsupportedRuntime
from .local import LocalExecutor


def create_executor(name: str, options: dict[str, str]) -> Executor:
    """The executor the service is configured with (``FLOTILLA_LAMBDA_EXECUTOR``)."""
    if name == "local":
        return LocalExecutor(python=options.get("python") or None)
    raise ValueError(f"unknown Lambda executor {name!r} (known: local)")


__all__ = ["Executor", "LaunchSpec", "LocalExecutor", "Runner", "UnsupportedRuntime", "create_executor"]
