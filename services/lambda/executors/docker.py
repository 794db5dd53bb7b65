"""The ``docker`` executor: each execution environment is a sibling container of AWS's runtime image.

Zip functions run in ``public.ecr.aws/lambda/<family>:<version>`` (``python3.12`` ->
``python:3.12``, ``nodejs20.x`` -> ``nodejs:20``, ``provided.al2023`` -> ``provided:al2023``), whose
entry point starts the runtime client with the handler as its command, as in AWS. Image functions
(``LaunchSpec.image``) run the user's image with its own entry point, command and working directory,
or the ``ImageConfig`` overrides. ``FLOTILLA_LAMBDA_IMAGES`` maps runtimes to other images.

Decisions, and why:

- Code and layers are *copied* into the created container (``put_archive`` of a tar: the code at
  ``/var/task``, layers at ``/opt``) before it starts, never bind-mounted: when the Lambda service
  itself runs in a container (compose), its paths are not the engine's paths, and a copy works the
  same from a process on the host and from a container.
- The environment built for a local process is rewritten for the container: ``LAMBDA_TASK_ROOT``
  and ``LAMBDA_RUNTIME_DIR`` name the container's directories, values pointing into the host's code
  or layer directories (``PYTHONPATH``) or repeating the service's own ``PATH`` are dropped (the
  image's own apply), and two addresses are translated to ones the container can reach:
  ``AWS_LAMBDA_RUNTIME_API`` (the per-environment Runtime API server in this process) and
  ``AWS_ENDPOINT_URL`` (the fleet's gateway). "This machine", as a container sees it, is this
  service's own address on the network when it runs in a container there (compose), else the
  network's gateway (the host, for a fleet of local processes): loopback hosts become that.
- Blocking Docker SDK calls run in threads: short ones with ``asyncio.to_thread``; the two that
  last as long as the container (``wait`` and the followed log stream) each get a thread of their
  own, so that many environments cannot exhaust the event loop's default thread pool.
- The container's stdout/stderr is appended to ``LaunchSpec.log_path`` by the log thread. That
  stream lags the runtime's HTTP calls a little, so ``flush_logs`` waits (bounded) until it has
  been quiet; the invoker calls it only when the caller wants the log at once (``LogType=Tail``),
  so other invocations do not pay the 50 ms of silence it needs.
- A container that cannot be started (image missing and not pullable, engine unreachable) does
  not fail the service: the runner reports the error through the Runtime API as a runtime whose
  init failed would, so the invocation fails with an error payload naming the image.
- Every container carries ``FLOTILLA_DOCKER_LABELS`` plus ``flotilla.service=lambda``,
  ``flotilla.lambda.environment=<id>`` and ``flotilla.lambda.root=<data dir>``: at start the
  service removes the containers of an earlier run of itself (same fleet labels and data dir).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import re
import socket
import tarfile
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import docker
from docker.errors import DockerException, ImageNotFound, NotFound

from shared.settings import Settings

from .base import IMAGE_RUNTIME, LaunchSpec, UnsupportedRuntime
from .failed import FailedRunner, StartFailed

log = logging.getLogger("flotilla.lambda")

REPOSITORY = "public.ecr.aws/lambda"  # AWS's base images
TASK_ROOT = "/var/task"
RUNTIME_DIR = "/var/runtime"
SERVICE_LABEL = "flotilla.service"
ENVIRONMENT_LABEL = "flotilla.lambda.environment"
ROOT_LABEL = "flotilla.lambda.root"
FUNCTION_LABEL = "flotilla.lambda.function"
LOG_QUIET = 0.05  # flush_logs: the log stream has been silent this long...
LOG_WAIT_MAX = 0.5  # ...or this much time has passed
_TAGS = {"provided": "provided:alami", "dotnetcore3.1": "dotnet:core3.1"}  # the irregular names
_RUNTIME = re.compile(r"(?P<family>[a-z]+)\.?(?P<version>[0-9a-z][0-9a-z.]*)")
_WILDCARD = {"0.0.0.0", "::", ""}
_OFF = {"0", "false", "no", "off"}


def parse_pairs(text: str) -> dict[str, str]:
    """``a=1,b=2`` as a dict (the form of ``FLOTILLA_LAMBDA_IMAGES`` and ``FLOTILLA_DOCKER_LABELS``)."""
    pairs = (item.split("=", 1) for item in text.split(",") if "=" in item)
    return {key.strip(): value.strip() for key, value in pairs if key.strip()}


def runtime_image(runtime: str, images: Mapping[str, str]) -> str:
    """The image a zip function of ``runtime`` runs in.

    ``images`` maps a runtime to an image; its ``*`` entry replaces AWS's repository
    (``*=mirror.example.com/lambda`` -> ``mirror.example.com/lambda/python:3.12``).
    """
    if runtime in images:
        return images[runtime]
    tag = _TAGS.get(runtime)
    if tag is None:
        match = _RUNTIME.fullmatch(runtime)
        if match is None:
            raise UnsupportedRuntime(f"runtime {runtime} with the docker executor (no image known for it)")
        tag = f"{match['family']}:{match['version'].removesuffix('.x')}"
    return f"{images.get('*', REPOSITORY).rstrip('/')}/{tag}"


def _is_local(host: str) -> bool:
    """A wildcard or loopback host: means "this machine", which a container cannot reach by that name."""
    if host in _WILDCARD or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _with_host(url: str, host: str) -> str:
    """``url`` with a loopback host replaced by ``host`` (the port kept)."""
    parts = urlsplit(url)
    if parts.hostname is None or not _is_local(parts.hostname):
        return url
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


@dataclass(frozen=True)
class DockerOptions:
    """The executor's configuration (see ``from_settings`` for the variables)."""

    images: Mapping[str, str] = field(default_factory=dict)
    network: str = ""  # "" = the engine's default bridge
    labels: Mapping[str, str] = field(default_factory=dict)
    root: str = ""  # the service's data directory: tells this service's containers from another's
    runtime_api_address: str = ""  # host containers reach the Runtime API at; "" = discovered
    endpoint_url: str = ""  # AWS_ENDPOINT_URL of functions; "" = the fleet's URL, made reachable
    fleet_url: str = "http://localhost:4566"  # where the fleet's gateway is, from this service
    fleet_endpoints: frozenset[str] = frozenset()  # AWS_ENDPOINT_URL values that mean "the fleet"
    inject_endpoint: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> DockerOptions:
        """``FLOTILLA_LAMBDA_IMAGES``, ``_RUNTIME_API_ADDRESS``, ``_ENDPOINT_URL``, ``_INJECT_ENDPOINT``,
        ``FLOTILLA_DOCKER_NETWORK`` and ``FLOTILLA_DOCKER_LABELS``."""
        extra = settings.extra
        return cls(
            images=parse_pairs(extra.get("images", "")),
            network=settings.docker_network,
            labels=dict(settings.docker_labels),
            root=str(settings.service_dir.resolve()),
            runtime_api_address=extra.get("runtime_api_address", ""),
            endpoint_url=extra.get("endpoint_url", ""),
            fleet_url=settings.gateway_url,
            fleet_endpoints=frozenset({settings.external_url, settings.gateway_url}),
            inject_endpoint=extra.get("inject_endpoint", "1").strip().lower() not in _OFF,
        )

    @property
    def owner_labels(self) -> dict[str, str]:
        """The labels that say "a Lambda environment of this service" (stale cleanup filters on them)."""
        return {**self.labels, SERVICE_LABEL: "lambda", ROOT_LABEL: self.root}


class DockerExecutor:
    name = "docker"

    def __init__(self, options: DockerOptions) -> None:
        self.options = options
        self._client: docker.DockerClient | None = None
        self._here: str | None = None  # this machine's address as the containers see it
        self._engine_arch = ""  # the engine's architecture (``docker info``), e.g. x86_64 or aarch64
        self._lock = asyncio.Lock()

    # -- lifecycle ---------------------------------------------------------------------------

    async def prepare(self) -> None:
        """At service start: connect, remove stale containers, learn the network's addresses.

        An engine that does not answer is not fatal: the control plane works without it, and each
        cold start tries again (its invocation fails with the reason when it still cannot).
        """
        try:
            await self._connect()
        except (DockerException, StartFailed) as err:
            log.warning("docker engine not usable yet", extra={"error": str(err)})

    async def close(self) -> None:
        """At service stop (after every environment was killed): remove what is left, disconnect."""
        client, self._client = self._client, None
        if client is not None:
            try:
                await asyncio.to_thread(self._remove_owned, client)
            except DockerException as err:
                log.warning("could not remove lambda containers", extra={"error": str(err)})
            await asyncio.to_thread(client.close)

    async def _connect(self) -> docker.DockerClient:
        async with self._lock:
            if self._client is None:
                self._client = await asyncio.to_thread(self._connect_now)
            return self._client

    def _connect_now(self) -> docker.DockerClient:
        client = docker.from_env(max_pool_size=64)
        try:
            client.ping()
            removed = self._remove_owned(client)
            if removed:
                log.info("removed stale lambda containers", extra={"count": removed})
            self._here = self._discover_here(client)
            self._engine_arch = str(client.info().get("Architecture") or "")
        except BaseException:
            client.close()
            raise
        return client

    def _remove_owned(self, client: docker.DockerClient) -> int:
        filters = {"label": [f"{k}={v}" for k, v in self.options.owner_labels.items()]}
        containers = client.containers.list(all=True, filters=filters)
        for container in containers:
            with contextlib.suppress(NotFound):
                container.remove(force=True)
        return len(containers)

    def _discover_here(self, client: docker.DockerClient) -> str:
        """This service's address on the network when it runs in a container attached to it, else
        the network's gateway (this machine, from a container on a bridge network)."""
        name = self.options.network or "bridge"
        with contextlib.suppress(DockerException):  # not a container of this engine
            me = client.containers.get(socket.gethostname())
            address = ((me.attrs["NetworkSettings"].get("Networks") or {}).get(name) or {}).get("IPAddress")
            if address:
                return address
        network = client.networks.get(name)
        for config in (network.attrs.get("IPAM") or {}).get("Config") or []:
            if config.get("Gateway"):
                return config["Gateway"]
            if config.get("Subnet"):  # engines that leave Gateway out use the subnet's first address
                return str(next(ipaddress.ip_network(config["Subnet"], strict=False).hosts()))
        raise StartFailed(f"Docker network {name} has no gateway address", "Flotilla.DockerError")

    # -- the Executor interface ----------------------------------------------------------------

    def check(self, runtime: str) -> None:
        if runtime != IMAGE_RUNTIME:  # an image function runs its own image
            runtime_image(runtime, self.options.images)

    def image_for(self, spec: LaunchSpec) -> str:
        return spec.image or runtime_image(spec.runtime, self.options.images)

    async def start(self, spec: LaunchSpec) -> DockerRunner | FailedRunner:
        image = self.image_for(spec)
        try:
            client = await self._connect()
            container = await asyncio.to_thread(self._run, client, spec, image)
        except (DockerException, StartFailed) as err:
            failure = err if isinstance(err, StartFailed) else _failure(err, image)
            log.error(
                "lambda container failed to start",
                extra={"env": spec.environment_id, "image": image, "error": str(failure)},
            )
            return FailedRunner(spec, failure)
        return DockerRunner(container, spec)

    # -- in a thread ---------------------------------------------------------------------------

    def _run(self, client: docker.DockerClient, spec: LaunchSpec, image: str) -> Any:
        """Create the container, copy the code in, start it (removed again if any step fails)."""
        self._ensure_image(client, image)
        function = spec.env.get("AWS_LAMBDA_FUNCTION_NAME", "function")
        container = client.containers.create(
            image,
            command=list(spec.command) if spec.command else (None if spec.image else [spec.handler]),
            entrypoint=list(spec.entry_point) if spec.entry_point else None,
            working_dir=spec.working_directory or None,
            environment=self.container_env(spec),
            labels={
                **self.options.owner_labels,
                ENVIRONMENT_LABEL: spec.environment_id,
                FUNCTION_LABEL: function,
            },
            name=f"flotilla-lambda-{function}-{spec.environment_id}",
            mem_limit=f"{spec.memory_mb}m",
            network=self.options.network or None,
            platform=platform_for(spec.architecture, self._engine_arch),
        )
        try:
            if spec.image is None:
                with _archive(spec) as tar:
                    container.put_archive("/", tar)
            container.start()
            container.reload()
        except BaseException:
            with contextlib.suppress(DockerException):
                container.remove(force=True)
            raise
        return container

    def _ensure_image(self, client: docker.DockerClient, image: str) -> None:
        """The image is on the engine, or is pulled; else a ``StartFailed`` naming it."""
        try:
            client.images.get(image)
            return
        except ImageNotFound:
            pass
        log.info("pulling lambda image", extra={"image": image})
        try:
            client.images.pull(image)
        except DockerException as err:
            reason = getattr(err, "explanation", None) or str(err)
            raise StartFailed(
                f"Image {image} is not on the Docker engine and could not be pulled: {reason}",
                "Flotilla.ImageNotFound",
            ) from None

    # -- the container's environment -----------------------------------------------------------

    def container_env(self, spec: LaunchSpec) -> dict[str, str]:
        """``spec.env`` (built for a local process) as the container needs it."""
        env = {key: value for key, value in spec.env.items() if not _host_value(value, spec)}
        env["LAMBDA_TASK_ROOT"] = TASK_ROOT
        env["LAMBDA_RUNTIME_DIR"] = RUNTIME_DIR
        if "AWS_LAMBDA_RUNTIME_API" in env:
            env["AWS_LAMBDA_RUNTIME_API"] = self.runtime_api_address(env["AWS_LAMBDA_RUNTIME_API"])
        if env.get("AWS_ENDPOINT_URL") in self.options.fleet_endpoints:
            if self.options.inject_endpoint:
                env["AWS_ENDPOINT_URL"] = self.endpoint_url()
            else:
                del env["AWS_ENDPOINT_URL"]
        return env

    def runtime_api_address(self, local: str) -> str:
        """``host:port`` of the Runtime API as the container reaches it (``local`` is where it listens)."""
        host, _, port = local.rpartition(":")
        if self.options.runtime_api_address:
            host = self.options.runtime_api_address
        elif _is_local(host.strip("[]")):
            host = self._reachable_here()
        return f"{host}:{port}"

    def endpoint_url(self) -> str:
        return self.options.endpoint_url or _with_host(self.options.fleet_url, self._reachable_here())

    def _reachable_here(self) -> str:
        if self._here is None:  # only after a failed connect, and then no container starts
            raise StartFailed("the Docker engine's network was not inspected", "Flotilla.DockerError")
        return self._here


def platform_for(architecture: str, engine_arch: str) -> str | None:
    """``linux/arm64`` for an ``arm64`` function when the engine runs arm64 natively; else None (the
    engine's own platform). An x86_64 engine would need emulation and an arm64 variant of the image
    (pulling it would replace the x86_64 image's tag): not done, so arm64 functions run as x86_64 there."""
    if architecture == "arm64" and engine_arch in ("aarch64", "arm64"):
        return "linux/arm64"
    return None


def _host_value(value: str, spec: LaunchSpec) -> bool:
    """A value that only makes sense for a process on this machine (dropped for the container)."""
    if value == os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"):
        return True
    paths = [str(spec.task_root)] + ([str(spec.opt_dir)] if spec.opt_dir else [])
    return any(path in value for path in paths)


@contextlib.contextmanager
def _archive(spec: LaunchSpec):
    """A tar (in a temporary file: code can be 250 MB) of the code at var/task and layers at opt."""
    with tempfile.TemporaryFile() as out:
        with tarfile.open(fileobj=out, mode="w") as tar:
            tar.add(spec.task_root, arcname=TASK_ROOT.lstrip("/"), filter=_root_owned)
            if spec.opt_dir is not None and spec.opt_dir.is_dir():
                tar.add(spec.opt_dir, arcname="opt", filter=_root_owned)
        out.seek(0)
        yield out


def _root_owned(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """Owned by root and readable by everyone, as Lambda's /var/task is."""
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    info.mode |= 0o555 if info.isdir() else 0o444
    return info


def _failure(err: DockerException, image: str) -> StartFailed:
    reason = getattr(err, "explanation", None) or str(err)
    return StartFailed(f"Could not start a container of image {image}: {reason}", "Flotilla.DockerError")


class DockerRunner:
    """A started container; its exit and its output are followed by two threads of its own."""

    def __init__(self, container: Any, spec: LaunchSpec) -> None:
        self.container = container
        self._loop = asyncio.get_running_loop()
        self._exit: asyncio.Future[int] = self._loop.create_future()
        self._last_output = 0.0
        self._log_thread = threading.Thread(
            target=self._follow_logs, args=(spec,), name=f"lambda-logs-{spec.environment_id}", daemon=True
        )
        self._wait_thread = threading.Thread(
            target=self._wait_exit, name=f"lambda-wait-{spec.environment_id}", daemon=True
        )
        self._log_thread.start()
        self._wait_thread.start()

    @property
    def pid(self) -> int | None:
        """The container's main process as the engine's host sees it."""
        return (self.container.attrs.get("State") or {}).get("Pid") or None

    @property
    def id(self) -> str:
        return self.container.id

    async def wait(self) -> int:
        return await asyncio.shield(self._exit)

    async def kill(self) -> None:
        """Remove the container (killing it), then let both threads end."""
        try:
            await asyncio.to_thread(self.container.remove, force=True)
        except NotFound:
            pass
        except DockerException as err:
            log.warning("could not remove lambda container", extra={"id": self.id[:12], "error": str(err)})
        await asyncio.to_thread(self._log_thread.join, 5.0)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._exit), 5.0)

    async def flush_logs(self) -> None:
        """Until what the container wrote so far is in the log file (the stream has gone quiet)."""
        began = time.monotonic()
        deadline = began + LOG_WAIT_MAX
        while self._log_thread.is_alive():
            now = time.monotonic()
            if now >= deadline or now - max(self._last_output, began) >= LOG_QUIET:
                return
            await asyncio.sleep(0.005)

    # -- threads -------------------------------------------------------------------------------

    def _follow_logs(self, spec: LaunchSpec) -> None:
        try:
            stream = self.container.logs(stream=True, follow=True, stdout=True, stderr=True)
            with spec.log_path.open("ab") as out:
                for chunk in stream:
                    out.write(chunk)
                    out.flush()
                    self._last_output = time.monotonic()
        except Exception as err:  # the container is gone or the engine went away: nothing more to log
            log.debug("lambda log stream ended", extra={"env": spec.environment_id, "error": str(err)})

    def _wait_exit(self) -> None:
        try:
            status = int(self.container.wait().get("StatusCode", -1))
        except Exception:  # removed before it exited, or the engine went away
            status = -1
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            self._loop.call_soon_threadsafe(_set_once, self._exit, status)


def _set_once(future: asyncio.Future[int], value: int) -> None:
    if not future.done():
        future.set_result(value)
