"""Executors: how an execution environment's runtime is started (``local`` process or ``docker`` container)."""

from __future__ import annotations

from collections.abc import Mapping

from shared.settings import Settings

from .base import IMAGE_RUNTIME, Executor, LaunchSpec, Runner, UnsupportedRuntime
from .local import LocalExecutor, node_options

EXECUTORS = ("local", "docker")


def create_executor(name: str, options: Mapping[str, str], settings: Settings | None = None) -> Executor:
    """The executor the service is configured with (``FLOTILLA_LAMBDA_EXECUTOR``).

    ``options`` are the service's ``FLOTILLA_LAMBDA_*`` settings; the docker executor also reads
    the fleet-wide ones (URLs, Docker network and labels) from ``settings``.
    """
    if name == "local":
        return LocalExecutor(python=options.get("python") or None, **node_options(options))
    if name == "docker":
        from .docker import DockerExecutor, DockerOptions  # the Docker SDK is imported only when used

        return DockerExecutor(
            DockerOptions.from_settings(settings or Settings("lambda", extra=dict(options)))
        )
    raise ValueError(f"unknown Lambda executor {name!r} (known: {', '.join(EXECUTORS)})")


__all__ = [
    "IMAGE_RUNTIME",
    "Executor",
    "LaunchSpec",
    "LocalExecutor",
    "Runner",
    "UnsupportedRuntime",
    "create_executor",
]
