"""FlotillaContainer: the single-container image (Redis + every service + gateway) as a testcontainer."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from testcontainers.core.container import DockerContainer

from ._clients import make_client
from ._health import FlotillaStartupError, checked_services, wait_healthy

GATEWAY_PORT = 4566
DEFAULT_IMAGE = "flotilla/all-in-one:dev"
BUILD_HINT = "docker build --target all-in-one -t flotilla/all-in-one:dev ."


class FlotillaContainer(DockerContainer):
    """Flotilla in one container, gateway port 4566 mapped to a free host port.

    ``services`` picks a subset (``("s3", "sqs")``, passed as ``FLOTILLA_SERVICES``); None starts all
    six. Other keyword arguments become the container's environment (``PERSISTENCE="1"``,
    ``FLOTILLA_LOG_LEVEL="DEBUG"``, ...). ``start()`` returns only once every requested service reports
    ``running`` on ``/_flotilla/health``, or raises FlotillaStartupError with the container's logs
    (and removes the container). Use it as a context manager so the container goes away on exit.
    """

    def __init__(
        self,
        image: str = DEFAULT_IMAGE,
        services: Iterable[str] | None = None,
        *,
        startup_timeout: float = 120.0,
        pull: bool = False,
        **env: str,
    ) -> None:
        super().__init__(image)
        self.services = checked_services(services)
        self.startup_timeout = startup_timeout
        self.pull = pull
        self.with_exposed_ports(GATEWAY_PORT)
        if services is not None:
            self.with_env("FLOTILLA_SERVICES", ",".join(self.services))
        for key, value in env.items():
            self.with_env(key, str(value))

    def with_docker_socket(self, path: str = "/var/run/docker.sock") -> FlotillaContainer:
        """Mount the engine's socket so Lambda, EC2 and RDS can start their sibling containers."""
        self.with_volume_mapping(path, "/var/run/docker.sock", "rw")
        return self

    def start(self) -> FlotillaContainer:
        self._ensure_image()
        super().start()
        try:
            wait_healthy(self.get_url(), self.services, self.startup_timeout, self._logs)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, force: bool = True, delete_volume: bool = True) -> None:
        """Remove the container (and its anonymous volumes); safe to call twice."""
        if getattr(self, "_container", None) is None:
            return
        super().stop(force=force, delete_volume=delete_volume)
        self._container = None

    def get_url(self) -> str:
        """The gateway's base URL on the host, e.g. ``http://localhost:49154``."""
        return f"http://{self.get_container_host_ip()}:{self.get_exposed_port(GATEWAY_PORT)}"

    def client(self, service: str, region: str = "us-east-1", **kwargs: Any) -> Any:
        """A boto3 client for ``service`` against this container, with test credentials."""
        return make_client(self.get_url(), service, region, **kwargs)

    def _ensure_image(self) -> None:
        """Fail fast and clearly on a missing image instead of a long, doomed pull."""
        import docker.errors

        images = self.get_docker_client().client.images
        try:
            images.get(self.image)
            return
        except docker.errors.ImageNotFound:
            if not self.pull:
                raise FlotillaStartupError(
                    f"Docker image {self.image!r} is not on this machine. Build it from a Flotilla "
                    f"checkout with `{BUILD_HINT}`, or pass pull=True to pull it from a registry."
                ) from None
        images.pull(self.image)

    def _logs(self) -> str:
        stdout, stderr = self.get_logs()
        return (stdout + stderr).decode(errors="replace")
