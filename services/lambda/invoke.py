"""Running functions: execution environments, their pool, and one invocation from start to outcome.

An *environment* is one runtime process (started by an executor) with its own Runtime API server
and log file. It runs one invocation at a time. The ``Invoker`` keeps environments per function
revision: an idle one is reused (warm), another starts when all are busy (cold), and one idle for
``idle_seconds`` is torn down. A function's new revision (``RevisionId``) never reuses an old
environment.

Timeouts are enforced by killing the environment: the caller gets AWS's timeout error. A runtime
that dies mid-invocation yields ``Runtime.ExitError``; one that reports ``/init/error`` yields that
error for the invocation that was waiting on it.

Logs: the runtime's stdout/stderr are appended to ``<env dir>/log`` together with the
``START``/``END``/``REPORT`` lines Lambda writes. An invocation's log is the file from where it
started to where it ended: the runtime writes its output before it posts the outcome, so reading the
file when the outcome arrives sees all of it. ``<env dir>/meta.json`` names the function the
environment ran (account, region, name, start time), so ``logs.py`` can gather a function's logs.

Concurrency: an invocation counts from admission to outcome (cold start included). A function with
reserved concurrency runs at most that many at once (0: none); all others share the account limit
(``concurrency_limit``, per account and region). Past a limit ``invoke`` raises ``Throttled`` before
anything starts. Simplification: reserved concurrency does not shrink the shared pool.

Layers: the layer zips of a target are extracted once per set (in order, later ones overwriting
earlier files, as Lambda does) into ``<root>/opt/<hash>/``, the environment's ``/opt``. Code and
layers are unzipped by ``unzip.extract``: Unix modes kept (a ``bootstrap`` stays executable), and
entries that would land outside the directory skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import shutil
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import unzip
from .executors import IMAGE_RUNTIME, Executor, LaunchSpec, Runner
from .runtime_api import Invocation, RuntimeApiServer

log = logging.getLogger("flotilla.lambda")

INIT_TIMEOUT = 10.0  # AWS's init phase limit
TAIL_BYTES = 4096
UNHANDLED = "Unhandled"


@dataclass(frozen=True)
class Target:
    """Everything needed to run one function revision."""

    account: str
    region: str
    config: dict[str, Any]  # the FunctionConfiguration (of the version that runs)
    zip_path: Path
    layers: tuple[Path, ...] = ()  # layer zips in the function's order, extracted into /opt
    reserved: int | None = None  # the function's reserved concurrency (None: shares the account pool)
    image: str | None = None  # PackageType Image: the image to run (no zip, no Runtime, no Handler)

    @property
    def runtime(self) -> str:
        """What the executor is asked to run: the Runtime, or IMAGE_RUNTIME for an image function."""
        return IMAGE_RUNTIME if self.image else self.config["Runtime"]

    @property
    def image_config(self) -> dict[str, Any]:
        """An image function's ImageConfig overrides (EntryPoint, Command, WorkingDirectory)."""
        return (self.config.get("ImageConfigResponse") or {}).get("ImageConfig") or {}

    @property
    def key(self) -> str:
        return f"{self.config['FunctionArn']}#{self.config['RevisionId']}"

    @property
    def name(self) -> str:
        return self.config["FunctionName"]

    @property
    def function_key(self) -> tuple[str, str, str]:
        """What reserved concurrency counts per: the function, whatever its version."""
        return self.account, self.region, self.name


class Throttled(Exception):
    """An invocation refused because a concurrency limit is reached; ``reason`` is Lambda's ``Reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


RESERVED_LIMIT = "ReservedFunctionConcurrentInvocationLimitExceeded"
ACCOUNT_LIMIT = "ConcurrentInvocationLimitExceeded"


@dataclass
class Outcome:
    payload: bytes
    function_error: str | None  # "Unhandled" when the function failed
    log: str  # this invocation's log, START to REPORT
    version: str = "$LATEST"  # the version that ran (an alias's routing picks it)


@dataclass
class Environment:
    """One execution environment: a runtime process, its Runtime API server and its log file."""

    id: str
    target: Target
    directory: Path
    queue: asyncio.Queue[Invocation] = field(default_factory=asyncio.Queue)
    api: RuntimeApiServer | None = None
    runner: Runner | None = None
    current: Invocation | None = None
    busy: bool = True
    dead: bool = False
    last_used: float = field(default_factory=time.monotonic)
    watcher: asyncio.Task | None = None

    @property
    def log_path(self) -> Path:
        return self.directory / "log"

    # -- RuntimeHost: what the Runtime API server asks ---------------------------------------

    async def next_invocation(self) -> Invocation:
        self.current = None
        inv = await self.queue.get()
        self.current = inv
        inv.deadline_ms = int((time.time() + inv.timeout) * 1000)
        if not inv.picked.done():
            inv.picked.set_result(None)
        return inv

    def invocation(self, request_id: str) -> Invocation | None:
        inv = self.current
        return inv if inv is not None and inv.request_id == request_id else None

    def init_failed(self, body: bytes, error_type: str) -> None:
        """The runtime could not load the function: the waiting invocation fails with its error."""
        log.info("init error", extra={"function": self.target.name, "env": self.id, "type": error_type})
        self.dead = True
        self._fail_waiting(body)

    def _fail_waiting(self, body: bytes) -> None:
        waiting = [self.current] if self.current is not None else []
        while not self.queue.empty():
            waiting.append(self.queue.get_nowait())
        for inv in waiting:
            inv.settle(body, UNHANDLED)

    # -- logs ------------------------------------------------------------------------------

    def write_log(self, text: str) -> None:
        with self.log_path.open("ab") as f:
            f.write(text.encode())

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except FileNotFoundError:
            return 0

    def read_log(self, start: int) -> str:
        with self.log_path.open("rb") as f:
            f.seek(start)
            return f.read().decode(errors="replace")


class Invoker:
    """The pool of execution environments of one Lambda service process."""

    def __init__(
        self,
        root: Path,
        executor: Executor,
        *,
        idle_seconds: float = 300.0,
        endpoint_url: str = "http://localhost:4566",
        bind: str = "127.0.0.1",
        concurrency_limit: int = 1000,
    ) -> None:
        self.root = root
        self.concurrency_limit = concurrency_limit
        self.running_per_function: dict[tuple[str, str, str], int] = {}
        self.running_per_account: dict[tuple[str, str], int] = {}
        self.executor = executor
        self.idle_seconds = idle_seconds
        self.endpoint_url = endpoint_url
        self.bind = bind
        self.pools: dict[str, list[Environment]] = {}
        self._background: set[asyncio.Task] = set()
        self._reaper: asyncio.Task | None = None

    async def start(self) -> None:
        await self.executor.prepare()
        self._reaper = asyncio.create_task(self._reap_forever())

    async def close(self) -> None:
        """Stop everything: pending background invocations, the reaper, every environment."""
        for task in [*self._background, *([self._reaper] if self._reaper else [])]:
            task.cancel()
        envs = [env for pool in self.pools.values() for env in pool]
        self.pools.clear()
        await asyncio.gather(*(self._teardown(env, "service stopping") for env in envs))
        await self.executor.close()

    # -- invoking ------------------------------------------------------------------------------

    async def invoke(
        self,
        target: Target,
        payload: bytes,
        *,
        client_context: str | None = None,
        request_id: str | None = None,
        wait_for_log: bool = False,
    ) -> Outcome:
        """Run one invocation to its outcome (the function's result, its error, or a timeout).

        ``wait_for_log``: the caller reads ``Outcome.log`` now (``LogType=Tail``), so a container's
        output, which reaches the log file a little late, is waited for; otherwise the outcome is
        answered at once and ``Outcome.log`` may miss the last lines of the runtime's output.
        Raises ``Throttled`` at once when a concurrency limit is reached.
        """
        self.executor.check(target.runtime)
        with self._admitted(target):
            return await self._invoke(target, payload, client_context, request_id, wait_for_log)

    @contextlib.contextmanager
    def _admitted(self, target: Target) -> Any:
        """Count the invocation against its function's reserved concurrency or the account's pool."""
        if target.reserved is not None:
            counts: dict[Any, int] = self.running_per_function
            key: Any = target.function_key
            limit, reason = target.reserved, RESERVED_LIMIT
        else:
            counts, key = self.running_per_account, (target.account, target.region)
            limit, reason = self.concurrency_limit, ACCOUNT_LIMIT
        if counts.get(key, 0) >= limit:
            log.info("throttled", extra={"function": target.name, "reason": reason})
            raise Throttled(reason)
        counts[key] = counts.get(key, 0) + 1
        try:
            yield
        finally:
            counts[key] -= 1
            if not counts[key]:
                del counts[key]

    async def _invoke(
        self,
        target: Target,
        payload: bytes,
        client_context: str | None,
        request_id: str | None,
        wait_for_log: bool,
    ) -> Outcome:
        env = await self._acquire(target)
        inv = Invocation(
            payload=payload,
            function_arn=target.config["FunctionArn"],
            timeout=float(target.config.get("Timeout", 3)),
            request_id=request_id or str(uuid.uuid4()),
            trace_id=f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0",
            client_context=client_context,
        )
        start = env.log_size()
        version = target.config.get("Version", "$LATEST")
        env.write_log(f"START RequestId: {inv.request_id} Version: {version}\n")
        began = time.monotonic()
        try:
            payload, function_error = await self._run(env, inv)
            ended = time.monotonic()
            if wait_for_log and env.runner is not None:  # a container's output comes a little late
                await env.runner.flush_logs()
        finally:
            self._release(env)
        elapsed_ms = (ended - began) * 1000
        env.write_log(
            f"END RequestId: {inv.request_id}\nREPORT RequestId: {inv.request_id}\t"
            f"Duration: {elapsed_ms:.2f} ms\tBilled Duration: {max(1, int(elapsed_ms + 0.999))} ms\t"
            f"Memory Size: {target.config.get('MemorySize', 128)} MB\n"
        )
        return Outcome(payload, function_error, env.read_log(start), version)

    async def _run(self, env: Environment, inv: Invocation) -> tuple[bytes, str | None]:
        env.queue.put_nowait(inv)
        await asyncio.wait({inv.picked, inv.outcome}, timeout=INIT_TIMEOUT, return_when="FIRST_COMPLETED")
        if not inv.picked.done() and not inv.outcome.done():
            await self._kill(env, "init timed out")
            return _error_payload(f"Init phase timed out after {INIT_TIMEOUT:.2f} seconds", "Runtime.Unknown")
        if inv.outcome.done():  # the runtime failed to initialise
            return inv.outcome.result()
        remaining = inv.deadline_ms / 1000 - time.time() if inv.deadline_ms else 0
        with contextlib.suppress(TimeoutError):
            return await asyncio.wait_for(asyncio.shield(inv.outcome), max(remaining, 0))
        await self._kill(env, "timed out")
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        message = f"{stamp} {inv.request_id} Task timed out after {inv.timeout:.2f} seconds"
        env.write_log(message + "\n")
        return json.dumps({"errorMessage": message}).encode(), UNHANDLED

    # -- the pool ------------------------------------------------------------------------------

    async def _acquire(self, target: Target) -> Environment:
        pool = self.pools.setdefault(target.key, [])
        for env in pool:
            if not env.busy and not env.dead:
                env.busy = True
                log.info("warm start", extra={"function": target.name, "env": env.id})
                return env
        env_id = uuid.uuid4().hex[:12]
        env = Environment(id=env_id, target=target, directory=self.root / "envs" / env_id)
        pool.append(env)
        try:
            await self._launch(env)
        except BaseException:
            pool.remove(env)
            await self._teardown(env, "launch failed")
            raise
        return env

    def _release(self, env: Environment) -> None:
        env.busy = False
        env.last_used = time.monotonic()
        if env.dead:  # failed init or exited runtime: free its process and port too
            self._forget(env)
            self._spawn(self._teardown(env, "dead"))

    async def discard(self, account: str, region: str, name: str, version: str | None = None) -> None:
        """The function (or one version of it) was deleted: tear its environments down now.

        Idle environments are killed at once; busy ones finish their invocation and are torn down
        when they are released (they are marked dead, so nothing reuses them).
        """
        doomed = [
            env
            for pool in self.pools.values()
            for env in pool
            if env.target.function_key == (account, region, name)
            and (version is None or env.target.config.get("Version") == version)
        ]
        idle = [env for env in doomed if not env.busy]
        for env in doomed:
            env.dead = True
        for env in idle:
            self._forget(env)
        await asyncio.gather(*(self._teardown(env, "function deleted") for env in idle))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _forget(self, env: Environment) -> None:
        pool = self.pools.get(env.target.key, [])
        if env in pool:
            pool.remove(env)
        if not pool:
            self.pools.pop(env.target.key, None)

    async def _launch(self, env: Environment) -> None:
        started = time.monotonic()
        env.directory.mkdir(parents=True, exist_ok=True)
        task_root = await asyncio.to_thread(self._extract, env.target)  # an image: an empty directory
        opt_dir = await asyncio.to_thread(self._extract_layers, env.target.layers)
        await asyncio.to_thread(self._write_meta, env)
        env.api = RuntimeApiServer(env, self.bind)
        await env.api.start()
        image = env.target.image_config
        spec = LaunchSpec(
            environment_id=env.id,
            runtime=env.target.runtime,
            handler=env.target.config.get("Handler", ""),
            task_root=task_root,
            env=self._environment_variables(env, task_root, opt_dir),
            memory_mb=int(env.target.config.get("MemorySize", 128)),
            log_path=env.log_path,
            opt_dir=opt_dir,
            architecture=(env.target.config.get("Architectures") or ["x86_64"])[0],
            image=env.target.image,
            entry_point=tuple(image["EntryPoint"]) if image.get("EntryPoint") else None,
            command=tuple(image["Command"]) if image.get("Command") else None,
            working_directory=image.get("WorkingDirectory"),
        )
        env.runner = await self.executor.start(spec)
        env.watcher = asyncio.create_task(self._watch(env))
        log.info(
            "cold start",
            extra={
                "function": env.target.name,
                "env": env.id,
                "executor": self.executor.name,
                "pid": env.runner.pid,
                "runtime_api": env.api.address,
                "ms": round((time.monotonic() - started) * 1000, 1),
            },
        )

    async def _watch(self, env: Environment) -> None:
        """When the runtime exits by itself, fail what it was running and drop the environment."""
        assert env.runner is not None
        status = await env.runner.wait()
        if env.dead:
            return
        env.dead = True
        log.info("runtime exited", extra={"function": env.target.name, "env": env.id, "status": status})
        env.write_log(f"RequestId: {env.current.request_id if env.current else ''} Error: Runtime exited\n")
        env._fail_waiting(
            _error_payload(f"Runtime exited with error: exit status {status}", "Runtime.ExitError")[0]
        )
        if not env.busy:
            self._forget(env)
        if env.api is not None:
            await env.api.close()

    async def _kill(self, env: Environment, why: str) -> None:
        env.dead = True
        await self._teardown(env, why)

    async def _teardown(self, env: Environment, why: str) -> None:
        env.dead = True
        if env.watcher is not None and env.watcher is not asyncio.current_task():
            env.watcher.cancel()
        if env.runner is not None:
            await env.runner.kill()
        if env.api is not None:
            await env.api.close()
        log.info("environment stopped", extra={"function": env.target.name, "env": env.id, "why": why})

    async def _reap_forever(self) -> None:
        interval = max(0.05, min(self.idle_seconds / 4, 5.0))
        while True:
            await asyncio.sleep(interval)
            await self.reap()

    async def reap(self) -> None:
        """Tear down environments idle for longer than ``idle_seconds``."""
        now = time.monotonic()
        idle = [
            env
            for pool in self.pools.values()
            for env in pool
            if not env.busy and now - env.last_used >= self.idle_seconds
        ]
        for env in idle:
            self._forget(env)
            await self._teardown(env, "idle")

    # -- code and environment ------------------------------------------------------------------

    def _extract(self, target: Target) -> Path:
        """The function's code, unzipped once per code hash (``<root>/tasks/...``)."""
        if target.image:  # the code is in the image
            empty = self.root / "tasks" / "image"
            empty.mkdir(parents=True, exist_ok=True)
            return empty
        code_hex = target.zip_path.stem
        task_root = self.root / "tasks" / target.account / target.region / target.name / code_hex
        if task_root.is_dir():
            return task_root
        tmp = task_root.with_name(f"{code_hex}.tmp{uuid.uuid4().hex[:6]}")
        with zipfile.ZipFile(target.zip_path) as archive:
            unzip.extract(archive, tmp)  # modes kept, nothing written outside tmp
        try:
            tmp.rename(task_root)
        except OSError:  # extracted concurrently by another cold start
            shutil.rmtree(tmp, ignore_errors=True)
        return task_root

    def _extract_layers(self, layers: tuple[Path, ...]) -> Path | None:
        """The layers' union (``/opt``), extracted once per ordered set of layer zips."""
        if not layers:
            return None
        digest = hashlib.sha256("\n".join(str(p) for p in layers).encode()).hexdigest()[:32]
        opt_dir = self.root / "opt" / digest
        if opt_dir.is_dir():
            return opt_dir
        tmp = opt_dir.with_name(f"{digest}.tmp{uuid.uuid4().hex[:6]}")
        tmp.mkdir(parents=True)
        for layer in layers:  # in order: a later layer's file replaces an earlier one's
            with zipfile.ZipFile(layer) as archive:
                unzip.extract(archive, tmp)
        try:
            tmp.rename(opt_dir)
        except OSError:  # extracted concurrently by another cold start
            shutil.rmtree(tmp, ignore_errors=True)
        return opt_dir

    def _write_meta(self, env: Environment) -> None:
        """Which function this environment runs: what ``logs.py`` reads to find a function's logs."""
        meta = {
            "account": env.target.account,
            "region": env.target.region,
            "function": env.target.name,
            "version": env.target.config.get("Version", "$LATEST"),
            "started": time.time(),
        }
        (env.directory / "meta.json").write_text(json.dumps(meta))

    def _python_path(self, runtime: str, task_root: Path, opt_dir: Path | None) -> str:
        """Lambda's search path for Python: the code, then the layers' site-packages and python/."""
        paths = [task_root]
        if opt_dir is not None and self.executor.name == "local":
            paths += [opt_dir / "python" / "lib" / runtime / "site-packages", opt_dir / "python"]
        return os.pathsep.join(str(p) for p in paths)

    def _layer_paths(self, task_root: Path, opt_dir: Path | None) -> dict[str, str]:
        """``PATH`` (and, with layers and the local executor, ``LD_LIBRARY_PATH`` and the layer root).

        Lambda has ``/opt/bin`` on ``PATH`` and ``/var/task/lib:/opt/lib`` on ``LD_LIBRARY_PATH``; a
        local process cannot see the layers at ``/opt`` (binding them there needs privileges), so it
        gets the extracted directory's ``bin`` first on ``PATH`` (first, so that the host's own tools
        do not shadow a layer's), its ``lib`` on ``LD_LIBRARY_PATH``, and its root as
        ``FLOTILLA_LAMBDA_OPT``. The docker executor copies layers to ``/opt`` and drops these.
        """
        host_path = os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin")
        if opt_dir is None or self.executor.name != "local":
            return {"PATH": host_path}
        libraries = [str(task_root / "lib"), str(opt_dir / "lib")]
        if os.environ.get("LD_LIBRARY_PATH"):
            libraries.append(os.environ["LD_LIBRARY_PATH"])
        return {
            "PATH": os.pathsep.join([str(opt_dir / "bin"), host_path]),
            "LD_LIBRARY_PATH": os.pathsep.join(libraries),
            "FLOTILLA_LAMBDA_OPT": str(opt_dir),
        }

    def _environment_variables(
        self, env: Environment, task_root: Path, opt_dir: Path | None = None
    ) -> dict[str, str]:
        """Lambda's reserved variables, the function's own, and credentials for the fleet."""
        config = env.target.config
        name = config["FunctionName"]
        account = env.target.account
        defaults = {
            **self._layer_paths(task_root, opt_dir),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": "test" if account == "000000000000" else account,
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_SESSION_TOKEN": "test",
        }
        reserved = {
            "AWS_REGION": env.target.region,
            "AWS_DEFAULT_REGION": env.target.region,
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_VERSION": config.get("Version", "$LATEST"),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.get("MemorySize", 128)),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{env.id}",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_RUNTIME_API": env.api.address if env.api else "",
            "LAMBDA_TASK_ROOT": str(task_root),
            "LAMBDA_RUNTIME_DIR": str(task_root),
            "PYTHONUNBUFFERED": "1",
        }
        if env.target.image is None:  # an image sets these itself
            if not config["Runtime"].startswith("provided"):  # OS-only runtimes have none on AWS
                reserved["AWS_EXECUTION_ENV"] = f"AWS_Lambda_{config['Runtime']}"
            reserved["_HANDLER"] = config["Handler"]
            reserved["PYTHONPATH"] = self._python_path(config["Runtime"], task_root, opt_dir)
        user = (config.get("Environment") or {}).get("Variables") or {}
        return {**defaults, **user, **reserved}


def _error_payload(message: str, error_type: str) -> tuple[bytes, str]:
    return json.dumps({"errorMessage": message, "errorType": error_type}).encode(), UNHANDLED


def tail(text: str, limit: int = TAIL_BYTES) -> bytes:
    """The last ``limit`` bytes of a log, as ``LogType=Tail`` returns it (before base64)."""
    return text.encode()[-limit:]
