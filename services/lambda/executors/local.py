"""The ``local`` executor: the runtime client as a process on this machine.

Python runtimes run AWS's own runtime interface client, ``awslambdaric``, with the Python that
runs the service (``FLOTILLA_LAMBDA_PYTHON`` overrides it): ``python -m awslambdaric module.function``
in the extracted code directory. So the function sees the same ``boto3`` the service's Python
has, not the version of the real runtime.

Node.js runtimes run AWS's own Node.js runtime interface client, the npm package ``aws-lambda-ric``
(built by ``make node-ric`` into a user cache; ``FLOTILLA_LAMBDA_NODE_RIC`` points elsewhere), with
the machine's ``node`` (``FLOTILLA_LAMBDA_NODE``): ``node <ric>/bin/index.mjs file.export`` in the
code directory, as a custom image's ``aws-lambda-ric`` entry point does. Every ``nodejs*`` runtime
runs on that one ``node``, whatever version the runtime names. ``NODE_PATH`` is the one AWS's images
set (layers' ``nodejs/nodeNN/node_modules`` and ``nodejs/node_modules``, then the code), unless the
function sets its own.

OS-only runtimes (``provided``, ``provided.al2``, ``provided.al2023``) run the function's own
``bootstrap`` (``<code>/bootstrap``, else ``<layers>/bootstrap``, the order Lambda looks in), which
talks to ``AWS_LAMBDA_RUNTIME_API`` itself; without one the invocation fails with Lambda's
``Runtime.InvalidEntrypoint``. It runs on this machine's OS, not Amazon Linux.

Each process is its own process group, killed as a whole (a handler's child processes die with it).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

from .base import IMAGE_RUNTIME, LaunchSpec, UnsupportedRuntime
from .failed import FailedRunner, StartFailed

NODE_RIC_ENTRY = Path("bin") / "index.mjs"  # the package's ``aws-lambda-ric`` bin
PYTHON_ONLY_VARIABLES = ("PYTHONPATH", "PYTHONUNBUFFERED")  # meaningless to a Node.js function


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

    async def flush_logs(self) -> None:
        """Nothing to do: the process writes straight into the log file."""


def default_node_ric(environ: Mapping[str, str] = os.environ) -> Path:
    """Where ``make node-ric`` installs ``aws-lambda-ric``: ``$XDG_CACHE_HOME/flotilla/node-ric`` (``~/.cache``)."""
    cache = environ.get("XDG_CACHE_HOME") or str(Path(environ.get("HOME") or Path.home()) / ".cache")
    return Path(cache) / "flotilla" / "node-ric" / "node_modules" / "aws-lambda-ric"


def node_options(options: Mapping[str, str]) -> dict[str, str | None]:
    """``node`` and the runtime client's directory from the service's options, with their defaults:
    ``node`` on ``PATH`` and ``default_node_ric()``. None where there is none (Node.js is then refused)."""
    node = shutil.which(options.get("node") or "node")
    ric = options.get("node_ric") or str(default_node_ric())
    return {"node": node, "node_ric": ric}


class LocalExecutor:
    name = "local"

    def __init__(
        self, python: str | None = None, node: str | None = None, node_ric: str | Path | None = None
    ) -> None:
        self.python = python or sys.executable
        self.node = node  # the ``node`` binary; None: Node.js runtimes are refused
        self.node_ric = Path(node_ric) if node_ric else None  # the ``aws-lambda-ric`` package directory

    def check(self, runtime: str) -> None:
        if runtime == IMAGE_RUNTIME:
            raise UnsupportedRuntime(
                "PackageType Image with the local executor (image functions need FLOTILLA_LAMBDA_EXECUTOR=docker)"
            )
        if runtime.startswith(("python", "provided")):
            return
        if not runtime.startswith("nodejs"):
            raise UnsupportedRuntime(
                f"runtime {runtime} with the local executor (Python, Node.js and OS-only runtimes only)"
            )
        if not self.node:
            raise UnsupportedRuntime(
                f"runtime {runtime} with the local executor: no `node` found (set FLOTILLA_LAMBDA_NODE)"
            )
        if self.node_ric is None or not (self.node_ric / NODE_RIC_ENTRY).is_file():
            raise UnsupportedRuntime(
                f"runtime {runtime} with the local executor: AWS's Node.js runtime interface client "
                f"(aws-lambda-ric) is not installed at {self.node_ric} (run `make node-ric`, "
                "or set FLOTILLA_LAMBDA_NODE_RIC to its package directory)"
            )

    async def prepare(self) -> None:
        """Nothing to prepare: processes need no engine."""

    async def close(self) -> None:
        """Nothing to release: every process was killed with its environment."""

    def command(self, spec: LaunchSpec) -> list[str]:
        self.check(spec.runtime)
        if spec.runtime.startswith("provided"):
            return [str(bootstrap(spec))]
        if spec.runtime.startswith("nodejs"):
            return [str(self.node), str(self.node_ric / NODE_RIC_ENTRY), spec.handler]
        return [self.python, "-m", "awslambdaric", spec.handler]

    def environment(self, spec: LaunchSpec) -> dict[str, str]:
        """The process's environment: ``spec.env`` as is for Python; for Node.js with ``NODE_PATH``."""
        if not spec.runtime.startswith("nodejs"):
            return spec.env
        env = {k: v for k, v in spec.env.items() if k not in PYTHON_ONLY_VARIABLES}
        env.setdefault("NODE_PATH", os.pathsep.join(str(p) for p in node_path(spec)))
        return env

    async def start(self, spec: LaunchSpec) -> LocalRunner | FailedRunner:
        try:
            command = self.command(spec)
            with spec.log_path.open("ab") as log:
                process = await asyncio.create_subprocess_exec(
                    *command,
                    cwd=spec.task_root,
                    env=self.environment(spec),
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=log,
                    stderr=asyncio.subprocess.STDOUT,
                    start_new_session=True,
                )
        except StartFailed as failure:
            return FailedRunner(spec, failure)
        except OSError as err:  # e.g. a bootstrap that is not executable, or has a bad interpreter line
            return FailedRunner(
                spec, StartFailed(f"Couldn't start the runtime: {err}", "Runtime.InvalidEntrypoint")
            )
        return LocalRunner(process)


def bootstrap(spec: LaunchSpec) -> Path:
    """The OS-only runtime's entry point: the code's ``bootstrap``, else the layers' (as Lambda looks)."""
    candidates = [spec.task_root / "bootstrap"] + ([spec.opt_dir / "bootstrap"] if spec.opt_dir else [])
    for path in candidates:
        if path.is_file():
            return path
    raise StartFailed(
        f"Couldn't find valid bootstrap(s): [{' '.join(str(p) for p in candidates)}]",
        "Runtime.InvalidEntrypoint",
    )


def node_path(spec: LaunchSpec) -> list[Path]:
    """AWS's ``NODE_PATH`` for a Node.js runtime, with the layers' ``/opt`` at ``spec.opt_dir``:
    ``/opt/nodejs/nodeNN/node_modules:/opt/nodejs/node_modules:...:/var/task``."""
    paths: list[Path] = []
    if spec.opt_dir is not None:
        major = re.match(r"nodejs(\d+)", spec.runtime)
        if major:
            paths.append(spec.opt_dir / "nodejs" / f"node{major.group(1)}" / "node_modules")
        paths.append(spec.opt_dir / "nodejs" / "node_modules")
    return [*paths, spec.task_root]
