"""The local executor's Node.js runtimes: the process it starts, its environment, and when it refuses."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

executors = importlib.import_module("services.lambda.executors")
local = importlib.import_module("services.lambda.executors.local")


@pytest.fixture
def ric(tmp_path: Path) -> Path:
    """A stand-in ``aws-lambda-ric`` package directory (only its entry point matters here)."""
    root = tmp_path / "node_modules" / "aws-lambda-ric"
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "index.mjs").write_text("// stand-in\n")
    return root


def spec(tmp_path: Path, runtime: str = "nodejs20.x", opt_dir: Path | None = None, **env: str):
    return executors.LaunchSpec(
        environment_id="e1",
        runtime=runtime,
        handler="src/app.handler",
        task_root=tmp_path / "task",
        env={"PATH": "/usr/bin", "PYTHONPATH": str(tmp_path / "task"), "PYTHONUNBUFFERED": "1", **env},
        memory_mb=128,
        log_path=tmp_path / "log",
        opt_dir=opt_dir,
    )


def test_node_command_runs_the_ric_entry_point_with_the_handler(tmp_path, ric):
    executor = executors.LocalExecutor(node="/usr/bin/node", node_ric=ric)
    command = executor.command(spec(tmp_path))
    assert command == ["/usr/bin/node", str(ric / "bin" / "index.mjs"), "src/app.handler"]


def test_node_path_is_the_code_without_layers(tmp_path, ric):
    env = executors.LocalExecutor(node="node", node_ric=ric).environment(spec(tmp_path))
    assert env["NODE_PATH"] == str(tmp_path / "task")
    assert "PYTHONPATH" not in env and "PYTHONUNBUFFERED" not in env
    assert env["PATH"] == "/usr/bin"


def test_node_path_puts_layers_first_as_aws_does(tmp_path, ric):
    opt = tmp_path / "opt"
    executor = executors.LocalExecutor(node="node", node_ric=ric)
    env = executor.environment(spec(tmp_path, runtime="nodejs22.x", opt_dir=opt))
    assert env["NODE_PATH"].split(":") == [
        str(opt / "nodejs" / "node22" / "node_modules"),
        str(opt / "nodejs" / "node_modules"),
        str(tmp_path / "task"),
    ]


def test_a_functions_own_node_path_wins(tmp_path, ric):
    env = executors.LocalExecutor(node="node", node_ric=ric).environment(spec(tmp_path, NODE_PATH="/mine"))
    assert env["NODE_PATH"] == "/mine"


def test_python_is_unchanged(tmp_path, ric):
    executor = executors.LocalExecutor(python="/py", node="node", node_ric=ric)
    python = spec(tmp_path, runtime="python3.12")
    assert executor.command(python) == ["/py", "-m", "awslambdaric", "src/app.handler"]
    assert executor.environment(python) == python.env


def test_node_is_refused_without_node(ric):
    with pytest.raises(executors.UnsupportedRuntime, match="no `node` found"):
        executors.LocalExecutor(node=None, node_ric=ric).check("nodejs20.x")


def test_node_is_refused_without_the_runtime_client(tmp_path):
    with pytest.raises(executors.UnsupportedRuntime, match="make node-ric"):
        executors.LocalExecutor(node="/usr/bin/node", node_ric=tmp_path / "missing").check("nodejs20.x")
    with pytest.raises(executors.UnsupportedRuntime, match="aws-lambda-ric"):
        executors.LocalExecutor(node="/usr/bin/node").check("nodejs18.x")


def test_other_runtimes_are_still_refused(ric):
    with pytest.raises(executors.UnsupportedRuntime, match="Python, Node.js and OS-only runtimes only"):
        executors.LocalExecutor(node="node", node_ric=ric).check("java21")


def test_options_name_node_and_the_client(tmp_path, ric):
    executor = executors.create_executor("local", {"node": "/no/such/node", "node_ric": str(ric)})
    assert executor.node is None and executor.node_ric == ric
    with pytest.raises(executors.UnsupportedRuntime, match="no `node` found"):
        executor.check("nodejs20.x")


def test_default_client_location_is_the_user_cache(tmp_path):
    assert local.default_node_ric({"XDG_CACHE_HOME": str(tmp_path)}) == (
        tmp_path / "flotilla" / "node-ric" / "node_modules" / "aws-lambda-ric"
    )
    assert local.default_node_ric({"HOME": "/home/u"}) == Path(
        "/home/u/.cache/flotilla/node-ric/node_modules/aws-lambda-ric"
    )
