"""The Runtime API server (spoken to with http.client, as awslambdaric's fallback does) and the
environment pool (real ``awslambdaric`` processes through the local executor)."""

from __future__ import annotations

import asyncio
import http.client
import importlib
import io
import json
import os
import zipfile
from pathlib import Path

import pytest

runtime_api = importlib.import_module("services.lambda.runtime_api")
invoke = importlib.import_module("services.lambda.invoke")
executors = importlib.import_module("services.lambda.executors")


class FakeHost:
    """An environment with one queued invocation."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue = asyncio.Queue()
        self.current = None
        self.init_error: tuple[bytes, str] | None = None

    async def next_invocation(self):
        self.current = await self.queue.get()
        return self.current

    def invocation(self, request_id):
        return self.current if self.current and self.current.request_id == request_id else None

    def init_failed(self, body, error_type):
        self.init_error = (body, error_type)


def request(address: str, method: str, path: str, body: bytes | None = None, headers=None):
    host, port = address.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


async def in_thread(*args, **kwargs):
    return await asyncio.to_thread(request, *args, **kwargs)


def test_next_response_and_error_round_trip():
    async def scenario():
        host = FakeHost()
        server = runtime_api.RuntimeApiServer(host)
        await server.start()
        try:
            inv = runtime_api.Invocation(
                b'{"a": 1}', "arn:aws:lambda:us-east-1:000000000000:function:f", 3.0, client_context='{"c":1}'
            )
            inv.deadline_ms = 1234
            poll = asyncio.create_task(
                in_thread(server.address, "GET", "/2018-06-01/runtime/invocation/next")
            )
            await asyncio.sleep(0.05)
            assert not poll.done()  # long-polls until something is assigned
            host.queue.put_nowait(inv)
            status, headers, body = await poll
            assert (status, body) == (200, b'{"a": 1}')
            assert headers["Content-Type"] == "application/json"
            assert headers["Lambda-Runtime-Aws-Request-Id"] == inv.request_id
            assert headers["Lambda-Runtime-Deadline-Ms"] == "1234"
            assert headers["Lambda-Runtime-Invoked-Function-Arn"].endswith(":function:f")
            assert headers["Lambda-Runtime-Client-Context"] == '{"c":1}'
            assert "Lambda-Runtime-Trace-Id" in headers

            bad = await in_thread(
                server.address, "POST", "/2018-06-01/runtime/invocation/nope/response", b"1"
            )
            assert bad[0] == 400 and json.loads(bad[2])["errorType"] == "InvalidRequestID"

            err = b'{"errorMessage": "x", "errorType": "E", "stackTrace": []}'
            path = f"/2018-06-01/runtime/invocation/{inv.request_id}/error"
            hdrs = {"Lambda-Runtime-Function-Error-Type": "E", "Expect": "100-continue"}
            assert (await in_thread(server.address, "POST", path, err, hdrs))[0] == 202
            assert inv.outcome.result() == (err, "Unhandled")
            again = await in_thread(server.address, "POST", path.replace("/error", "/response"), b"1")
            assert again[0] == 400  # an outcome is final

            status, _, _ = await in_thread(server.address, "POST", "/2018-06-01/runtime/init/error", b"{}",
                                           {"Lambda-Runtime-Function-Error-Type": "Runtime.X"})  # fmt: skip
            assert status == 202 and host.init_error == (b"{}", "Runtime.X")
            assert (await in_thread(server.address, "GET", "/elsewhere"))[0] == 404
        finally:
            await server.close()

    asyncio.run(scenario())


def test_chunked_response_body():
    async def scenario():
        host = FakeHost()
        server = runtime_api.RuntimeApiServer(host)
        await server.start()
        try:
            inv = runtime_api.Invocation(b"{}", "arn", 3.0)
            host.current = inv
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(
                f"POST /2018-06-01/runtime/invocation/{inv.request_id}/response HTTP/1.1\r\n"
                'Host: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n"ab\r\n1\r\n"\r\n0\r\n\r\n'.encode()
            )
            await writer.drain()
            status_line = await reader.readline()
            writer.close()
            assert b"202" in status_line
            assert inv.outcome.result() == (b'"ab"', None)
        finally:
            await server.close()

    asyncio.run(scenario())


SLOW = """
import time
def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return {"pid": __import__("os").getpid()}
"""


def make_target(tmp_path: Path, source: str = SLOW, timeout: int = 5) -> object:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("app.py", source)
    zip_path = tmp_path / "abc123.zip"
    zip_path.write_bytes(buf.getvalue())
    config = {
        "FunctionName": "f",
        "FunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:f",
        "RevisionId": "r1",
        "Runtime": "python3.11",
        "Handler": "app.handler",
        "Timeout": timeout,
        "MemorySize": 128,
        "Version": "$LATEST",
    }
    return invoke.Target("000000000000", "us-east-1", config, zip_path)


async def eventually(condition, within: float) -> bool:
    """Whether ``condition()`` holds within ``within`` seconds (polled)."""
    for _ in range(int(within / 0.05)):
        if condition():
            return True
        await asyncio.sleep(0.05)
    return condition()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_pool_reuses_scales_out_reaps_and_stops(tmp_path):
    async def scenario():
        invoker = invoke.Invoker(tmp_path / "svc", executors.LocalExecutor(), idle_seconds=0.5)
        await invoker.start()
        target = make_target(tmp_path)
        try:
            first = json.loads((await invoker.invoke(target, b"{}")).payload)["pid"]
            second = json.loads((await invoker.invoke(target, b"{}")).payload)["pid"]
            assert first == second  # warm reuse
            both = await asyncio.gather(
                invoker.invoke(target, b'{"sleep": 0.3}'), invoker.invoke(target, b'{"sleep": 0.3}')
            )
            pids = {json.loads(o.payload)["pid"] for o in both}
            assert len(pids) == 2 and first in pids  # a second environment while the first is busy
            assert await eventually(lambda: not invoker.pools, within=5)  # idle environments dropped
            assert await eventually(lambda: not any(alive(pid) for pid in pids), within=5)  # and killed
            third = json.loads((await invoker.invoke(target, b"{}")).payload)["pid"]
        finally:
            await invoker.close()
        assert not alive(third)  # killed when the service stops

    asyncio.run(scenario())


def test_runtime_exit_is_reported(tmp_path):
    source = "import os\ndef handler(event, context):\n    os._exit(3)\n"

    async def scenario():
        invoker = invoke.Invoker(tmp_path / "svc", executors.LocalExecutor())
        try:
            outcome = await invoker.invoke(make_target(tmp_path, source), b"{}")
        finally:
            await invoker.close()
        assert outcome.function_error == "Unhandled"
        body = json.loads(outcome.payload)
        assert body["errorType"] == "Runtime.ExitError"
        assert "exit status 3" in body["errorMessage"]

    asyncio.run(scenario())


def test_local_executor_refuses_other_runtimes():
    with pytest.raises(executors.UnsupportedRuntime):
        executors.LocalExecutor().check("nodejs20.x")


def spec_for(tmp_path: Path, runtime: str, opt_dir: Path | None = None) -> object:
    return executors.LaunchSpec(
        environment_id="e1", runtime=runtime, handler="h", task_root=tmp_path / "task", env={},
        memory_mb=128, log_path=tmp_path / "log", opt_dir=opt_dir,
    )  # fmt: skip


def test_os_only_runtimes_run_the_code_bootstrap_then_the_layers(tmp_path: Path) -> None:
    local = executors.LocalExecutor()
    local.check("provided.al2023")
    (tmp_path / "task").mkdir()
    (tmp_path / "opt").mkdir()
    (tmp_path / "opt" / "bootstrap").write_text("#!/bin/sh\n")
    spec = spec_for(tmp_path, "provided.al2", tmp_path / "opt")
    assert local.command(spec) == [str(tmp_path / "opt" / "bootstrap")]
    (tmp_path / "task" / "bootstrap").write_text("#!/bin/sh\n")
    assert local.command(spec) == [str(tmp_path / "task" / "bootstrap")]


def test_layers_bin_and_lib_for_local_processes(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.delenv("LD_LIBRARY_PATH", raising=False)
    pool = invoke.Invoker(tmp_path, executors.LocalExecutor())
    opt, task = tmp_path / "opt", tmp_path / "task"
    assert pool._layer_paths(task, opt) == {
        "PATH": f"{opt}/bin:/usr/bin:/bin",
        "LD_LIBRARY_PATH": f"{task}/lib:{opt}/lib",
        "FLOTILLA_LAMBDA_OPT": str(opt),
    }
    assert pool._layer_paths(task, None) == {"PATH": "/usr/bin:/bin"}  # no layers: the host's PATH only


def test_s3_destination_key_is_awss() -> None:
    async_events = importlib.import_module("services.lambda.async_events")
    from datetime import UTC, datetime

    when = datetime(2026, 11, 23, 9, 5, 7, tzinfo=UTC)
    assert (
        async_events.s3_record_key("fn", when, "u-1")
        == "aws/lambda/async/fn/2026/11/23/2026-11-23T09.05.07-u-1"
    )
