"""`flotilla dev`: starts the fleet, prints Ready., serves boto3, stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time

import boto3
import httpx
import pytest

from flotilla.fleet import ROOT, free_port


def _wait_for_line(proc: subprocess.Popen, needle: str, timeout: float) -> list[str]:
    """Lines of ``proc``'s stdout up to the first starting with ``needle`` (within ``timeout``)."""
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    buf = b""
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline and proc.poll() is None:
            if not sel.select(timeout=0.2):
                continue
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            *lines, buf = (buf + chunk).split(b"\n")
            seen.extend(line.decode() for line in lines)
            if any(line.startswith(needle.encode()) for line in lines):
                return seen
    raise AssertionError(f"no {needle!r} line within {timeout} s; output: {seen + [buf.decode()]}")


@pytest.mark.timeout(120)
def test_flotilla_dev_starts_serves_and_stops(tmp_path):
    port = free_port()
    env = {**os.environ, "FLOTILLA_PORT": str(port), "FLOTILLA_DATA_DIR": str(tmp_path / "data"),
           "FLOTILLA_LOG_LEVEL": "WARNING"}  # fmt: skip
    env.pop("FLOTILLA_REDIS_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "flotilla.cli", "dev", "--services", "s3,sqs"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        lines = _wait_for_line(proc, "Ready.", 60)
        assert any(f"127.0.0.1:{port}" in line for line in lines)
        s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")  # fmt: skip
        s3.create_bucket(Bucket="cli-bucket")
        assert "cli-bucket" in [b["Name"] for b in s3.list_buckets()["Buckets"]]
        health = httpx.get(f"http://127.0.0.1:{port}/_localstack/health").json()
        assert health["services"]["s3"] == "running"
        assert health["services"]["ec2"] == "disabled"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    assert proc.returncode == 0
    # nothing is left listening on the gateway port
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/_flotilla/ping", timeout=1)


def test_missing_redis_server_is_a_clear_error(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path), "FLOTILLA_PORT": str(free_port())}
    env.pop("FLOTILLA_REDIS_URL", None)
    out = subprocess.run(
        [sys.executable, "-m", "flotilla.cli", "dev", "--data-dir", str(tmp_path / "d")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert out.returncode == 1
    assert "redis-server was not found on PATH" in out.stderr
