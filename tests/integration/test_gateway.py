"""The gateway as a real process in front of tests/echo_upstream.py: bytes, streaming, errors, health.

Two gateways run for the module: ``gw`` sends every service to the echo upstream; ``partial`` has s3 on
the echo, sqs on a port where nothing listens, and every other service disabled.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from flotilla.fleet import free_port, uvicorn_command
from gateway.config import SERVICES

ROOT = Path(__file__).resolve().parents[2]
MIB = 1 << 20


@dataclass
class Server:
    url: str
    port: int
    popen: subprocess.Popen
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def _start(target: str, env: dict[str, str], log: Path, ready_path: str, timeout: float = 20.0) -> Server:
    """Start uvicorn on a free port (the fleet's own command line) and poll ``ready_path`` with a deadline."""
    port = free_port()
    command = uvicorn_command(target, "127.0.0.1", port)
    if not target.endswith("app_from_env"):
        command.remove("--factory")
    with log.open("wb") as out:
        popen = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", port, popen, log)
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=1.0) as client:
        while True:
            if popen.poll() is not None:
                raise RuntimeError(f"{target} exited with {popen.returncode}:\n{server.log_text()}")
            try:
                if client.get(server.url + ready_path).status_code == 200:
                    return server
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                popen.kill()
                raise RuntimeError(f"{target} not ready after {timeout} s:\n{server.log_text()}")
            time.sleep(0.02)


def _stop(server: Server) -> None:
    server.popen.terminate()
    try:
        server.popen.wait(10)
    except subprocess.TimeoutExpired:
        server.popen.kill()
        server.popen.wait()


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gateway-logs")


@pytest.fixture(scope="module")
def echo(logs: Path) -> Iterator[Server]:
    server = _start("tests.echo_upstream:app", {}, logs / "echo.log", "/_flotilla/health", 20.0)
    yield server
    _stop(server)


def _gateway(
    logs: Path, name: str, upstreams: dict[str, str], extra: dict[str, str] | None = None
) -> Iterator[Server]:
    env = {f"FLOTILLA_UPSTREAM_{svc.upper()}": url for svc, url in upstreams.items()} | (extra or {})
    for svc in SERVICES:
        env.setdefault(f"FLOTILLA_UPSTREAM_{svc.upper()}", "")
    server = _start("gateway.app:app_from_env", env, logs / f"{name}.log", "/_flotilla/ping")
    yield server
    _stop(server)
    assert "Traceback" not in server.log_text(), server.log_text()


@pytest.fixture(scope="module")
def gw(logs: Path, echo: Server) -> Iterator[Server]:
    yield from _gateway(logs, "gateway", dict.fromkeys(SERVICES, echo.url))


UNRESOLVABLE = "http://flotilla-profile-off.invalid:4566"


@pytest.fixture(scope="module")
def partial(logs: Path, echo: Server) -> Iterator[Server]:
    # rds points at a host name that never resolves: in compose, a service whose profile is off
    upstreams = {"s3": echo.url, "sqs": f"http://127.0.0.1:{free_port()}", "rds": UNRESOLVABLE}
    yield from _gateway(logs, "partial", upstreams, {"FLOTILLA_GATEWAY_UPSTREAM_TIMEOUT_S3": "1"})


@pytest.fixture
def client(gw: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gw.url, timeout=30.0) as c:
        yield c


# ---- bytes arrive exactly ------------------------------------------------------------------------


def test_path_query_and_headers_arrive_byte_exact(gw: Server) -> None:
    auth = "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=ab"
    sent = [
        (b"host", b"my-bucket.s3.localhost.localstack.cloud:4566"),
        (b"authorization", auth.encode()),
        (b"x-amz-date", b"20240101T000000Z"),
        (b"x-amz-meta-note", "välue ✓".encode()),
        (b"x-dup", b"1"),
        (b"x-dup", b"2"),
    ]
    raw = (
        b"GET /a%20b/c%2Fd/%E2%9C%93~*'()?x=1&y=%2F&empty=&flag HTTP/1.1\r\n"
        + b"".join(k + b": " + v + b"\r\n" for k, v in sent)
        + b"connection: keep-alive\r\nkeep-alive: timeout=5\r\n\r\n"
    )
    status, headers, body = _raw_exchange(gw.port, raw)
    assert status == 200
    assert headers["x-flotilla-route"] == "s3; sigv4-scope"
    echoed = json.loads(body)
    assert echoed["raw_path"] == "/a%20b/c%2Fd/%E2%9C%93~*'()"
    assert echoed["query_string"] == "x=1&y=%2F&empty=&flag"
    received = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in echoed["headers"]]
    assert received == sent  # order, duplicates, UTF-8 bytes; no hop-by-hop


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_20_mib_streamed_upload_arrives_intact(client: httpx.Client, chunked: bool) -> None:
    block = bytes(range(256)) * 4096  # 1 MiB, not uniform
    digest = hashlib.sha256()
    for i in range(20):
        digest.update(block[i:] + block[:i])

    def pieces() -> Iterator[bytes]:
        for i in range(20):
            yield block[i:] + block[:i]

    content = pieces() if chunked else b"".join(pieces())
    response = client.put("/bucket/big-object", content=content)
    assert response.status_code == 200
    echoed = response.json()
    assert echoed["body_size"] == 20 * MIB
    assert echoed["body_sha256"] == digest.hexdigest()
    names = [k for k, _ in echoed["headers"]]
    assert ("transfer-encoding" in names) == chunked
    assert ("content-length" in names) != chunked


def test_large_chunked_download_streams(client: httpx.Client) -> None:
    size = 64 * MIB + 123
    with client.stream("GET", f"/chunked/{size}") as response:
        assert response.status_code == 200
        assert "content-length" not in response.headers
        total, pieces = 0, 0
        for piece in response.iter_raw():
            assert piece.strip(b"z") == b""
            total += len(piece)
            pieces += 1
    assert total == size
    assert pieces > 1


def test_download_with_content_length(client: httpx.Client) -> None:
    response = client.get(f"/bytes/{3 * MIB + 7}")
    assert response.headers["content-length"] == str(3 * MIB + 7)
    assert response.content == b"z" * (3 * MIB + 7)


def test_head_keeps_content_length_without_a_body(client: httpx.Client) -> None:
    response = client.head("/bytes/1000")
    assert response.status_code == 200
    assert response.headers["content-length"] == "1000"
    assert response.content == b""
    assert client.head("/status/200").headers["content-length"] == "42"
    assert client.get("/small").content == b"x" * 100  # the connection is still in step


@pytest.mark.parametrize("code", [200, 201, 204, 301, 304, 400, 403, 404, 409, 412, 500, 503])
def test_status_codes_pass_through(client: httpx.Client, code: int) -> None:
    response = client.get(f"/status/{code}")
    assert response.status_code == code
    assert response.headers["x-echo-status"] == str(code)
    if code not in (204, 304):
        assert response.json() == {"status": code}


def test_upstream_date_and_server_are_not_duplicated(client: httpx.Client) -> None:
    response = client.get("/small")
    assert len(response.headers.get_list("date")) == 1
    assert len(response.headers.get_list("server")) <= 1


# ---- routing seen from outside -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"headers": {"x-amz-target": "DynamoDB_20120810.ListTables"}, "content": b"{}"}, "dynamodb; target"),
        ({"headers": {"x-amz-target": "DynamoDBStreams_20120810.ListStreams"}}, "dynamodb; target"),
        ({"headers": {"x-amz-target": "AmazonSQS.ListQueues"}}, "sqs; target"),
        ({"headers": {"host": "sqs.us-east-1.localhost.localstack.cloud"}}, "sqs; host"),
        ({"url": "/?Action=DescribeVpcs&Version=2016-11-15"}, "ec2; action"),
        ({"url": "/2015-03-31/functions/f/invocations"}, "lambda; path"),
        ({}, "s3; default"),
    ],
)
def test_route_header(client: httpx.Client, kwargs: dict, expected: str) -> None:
    response = client.post(**{"url": "/", **kwargs})
    assert response.status_code == 200
    assert response.headers["x-flotilla-route"] == expected


@pytest.mark.parametrize("size", [100, 3 * MIB], ids=["small", "beyond-peek-limit"])
def test_urlencoded_body_is_peeked_then_replayed_intact(client: httpx.Client, size: int) -> None:
    form = b"Action=DescribeDBInstances&Version=2014-10-31&Filler=" + b"a" * size
    response = client.post("/", content=form, headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.headers["x-flotilla-route"] == "rds; action"
    assert response.json()["body_size"] == len(form)
    assert response.json()["body_sha256"] == hashlib.sha256(form).hexdigest()


def test_unknown_service_is_an_aws_400(client: httpx.Client) -> None:
    response = client.post("/", data={"Action": "GetCallerIdentity", "Version": "2011-06-15"})
    assert response.status_code == 400
    assert "<Code>UnknownService</Code>" in response.text
    assert response.headers["x-amzn-requestid"]
    response = client.post("/", headers={"x-amz-target": "AWSKMS.ListKeys"})
    assert response.status_code == 400
    assert response.json()["__type"] == "UnknownService"


def test_expect_100_continue_upload(gw: Server) -> None:
    body = b"q" * 200_000
    head = (
        b"PUT /bucket/key HTTP/1.1\r\nhost: localhost\r\nexpect: 100-continue\r\n"
        b"content-length: %d\r\n\r\n" % len(body)
    )
    with socket.create_connection(("127.0.0.1", gw.port), timeout=10) as sock:
        sock.sendall(head)
        interim = _read_head(sock)
        assert interim.startswith(b"HTTP/1.1 100")
        sock.sendall(body)
        status, headers, payload = _read_response(sock)
    assert status == 200
    echoed = json.loads(payload)
    assert echoed["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert ["expect", "100-continue"] in echoed["headers"]  # passed on: the upstream's 100 is relayed


# ---- down and disabled services ------------------------------------------------------------------


def test_disabled_service_names_its_compose_profile(partial: Server) -> None:
    with httpx.Client(base_url=partial.url) as c:
        response = c.get("/2015-03-31/functions/")
        assert response.status_code == 503
        assert response.json()["__type"] == "ServiceUnavailable"
        assert response.json()["message"] == (
            "Service 'lambda' is not enabled in this Flotilla fleet; start it with the compose profile "
            "'lambda' (docker compose --profile lambda up)"
        )
        response = c.get("/?Action=DescribeVpcs&Version=2016-11-15")
        assert response.status_code == 503
        assert "<Type>Receiver</Type><Code>ServiceUnavailable</Code>" in response.text
        assert "docker compose --profile ec2 up" in response.text
        assert response.headers["x-amz-request-id"] in response.text


def test_unresolvable_upstream_is_disabled_not_down(partial: Server) -> None:
    with httpx.Client(base_url=partial.url, timeout=5.0) as c:
        response = c.post("/", data={"Action": "DescribeDBInstances", "Version": "2014-10-31"})
    assert response.status_code == 503
    assert "docker compose --profile rds up" in response.text


@pytest.mark.parametrize("json_protocol", [True, False], ids=["json", "query"])
def test_down_upstream_is_a_fast_503(partial: Server, json_protocol: bool) -> None:
    with httpx.Client(base_url=partial.url, timeout=5.0) as c:
        started = time.monotonic()
        if json_protocol:
            response = c.post("/", headers={"x-amz-target": "AmazonSQS.ListQueues"}, content=b"{}")
        else:
            response = c.get("/?Action=ListQueues&Version=2012-11-05")
        elapsed = time.monotonic() - started
    assert elapsed < 2.0
    assert response.status_code == 503
    assert response.headers["x-amzn-requestid"]
    assert response.headers["x-flotilla-route"].startswith("sqs; ")
    if json_protocol:
        assert response.json()["__type"] == "ServiceUnavailable"
        assert "'sqs' is unavailable" in response.json()["message"]
    else:
        assert "<Code>ServiceUnavailable</Code>" in response.text


def test_silent_upstream_is_a_504_and_the_gateway_carries_on(partial: Server) -> None:
    """s3 of ``partial`` may stay silent 1 s (FLOTILLA_GATEWAY_UPSTREAM_TIMEOUT_S3): a 5 s wait is cut,
    a 0.3 s one is not, and the abandoned connection is never reused for the next request."""
    with httpx.Client(base_url=partial.url, timeout=10.0) as c:
        started = time.monotonic()
        response = c.get("/sleep/5")
        elapsed = time.monotonic() - started
        assert 1.0 <= elapsed < 3.0
        assert response.status_code == 504
        assert "<Code>GatewayTimeout</Code>" in response.text
        assert "did not answer in time" in response.text
        assert c.get("/sleep/0.3").status_code == 200
        assert c.get("/small").content == b"x" * 100


# ---- health --------------------------------------------------------------------------------------


def test_ping(client: httpx.Client) -> None:
    response = client.get("/_flotilla/ping")
    assert (response.status_code, response.text) == (200, "pong")


@pytest.mark.parametrize("path", ["/_flotilla/health", "/_localstack/health"])
def test_health_all_running(client: httpx.Client, path: str) -> None:
    health = client.get(path).json()
    assert health["edition"] == "community"
    assert health["version"]
    assert health["services"] == {**dict.fromkeys(SERVICES, "running"), "dynamodbstreams": "running"}


def test_health_reports_disabled_and_unavailable(partial: Server) -> None:
    with httpx.Client(base_url=partial.url) as c:
        started = time.monotonic()
        services = c.get("/_localstack/health").json()["services"]
        assert time.monotonic() - started < 2.0
        head = c.head("/_localstack/health")
    assert services == {
        "s3": "running",
        "sqs": "unavailable",
        "dynamodb": "disabled",
        "dynamodbstreams": "disabled",
        "lambda": "disabled",
        "ec2": "disabled",
        "rds": "disabled",
    }
    assert head.status_code == 200
    assert head.content == b""
    assert int(head.headers["content-length"]) > 0


# ---- connections ---------------------------------------------------------------------------------


def test_keep_alive_reuse(client: httpx.Client, echo: Server) -> None:
    before = _tcp_states(echo.port)
    for _ in range(200):
        response = client.get("/small")
        assert response.status_code == 200
        assert response.content == b"x" * 100
    after = _tcp_states(echo.port)
    if after is not None and before is not None:
        # Without reuse each request would leave a TIME_WAIT socket behind.
        assert after.get("06", 0) - before.get("06", 0) < 20


def test_concurrent_requests(gw: Server) -> None:
    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=gw.url, timeout=30.0) as c:
            return await asyncio.gather(*(c.put(f"/k/{i}", content=b"%d" % i * 1000) for i in range(64)))

    for i, response in enumerate(asyncio.run(run())):
        assert response.json()["raw_path"] == f"/k/{i}"
        assert response.json()["body_size"] == len(b"%d" % i) * 1000


def test_client_disconnect_midway_is_quiet(gw: Server, client: httpx.Client) -> None:
    with socket.create_connection(("127.0.0.1", gw.port), timeout=10) as sock:
        sock.sendall(b"GET /chunked/1073741824 HTTP/1.1\r\nhost: localhost\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
    with socket.create_connection(("127.0.0.1", gw.port), timeout=10) as sock:
        sock.sendall(
            b"PUT /bucket/k HTTP/1.1\r\nhost: localhost\r\ncontent-length: 10000000\r\n\r\n" + b"a" * 1000
        )
    deadline = time.monotonic() + 10
    while client.get("/small").status_code != 200:  # the gateway keeps serving
        assert time.monotonic() < deadline
    assert "Traceback" not in gw.log_text()


# ---- helpers -------------------------------------------------------------------------------------


def _tcp_states(port: int) -> dict[str, int] | None:
    """Socket states (hex codes as in /proc/net/tcp) of connections to ``port``; None off Linux."""
    path = Path("/proc/net/tcp")
    if not path.exists():
        return None
    states: dict[str, int] = {}
    for line in path.read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[2].rsplit(":", 1)[1], 16) == port:
            states[fields[3]] = states.get(fields[3], 0) + 1
    return states


def _read_head(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(1)
        assert piece, "connection closed"
        data += piece
    return data


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    head = _read_head(sock)
    lines = head.decode("latin-1").split("\r\n")
    headers = {
        k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)
    }
    length = int(headers["content-length"])
    body = b""
    while len(body) < length:
        piece = sock.recv(length - len(body))
        assert piece, "connection closed"
        body += piece
    return int(lines[0].split()[1]), headers, body


def _raw_exchange(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        return _read_response(sock)


if sys.platform == "win32":  # pragma: no cover
    pytestmark = pytest.mark.skip("the fixtures start uvicorn with uvloop")
