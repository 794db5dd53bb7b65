"""S3 through the gateway as clients reach it: early answers to bodies still being sent (``Expect:
100-continue`` and plain), and virtual-host addressing by ``Host`` header alone."""

from __future__ import annotations

import socket
import time
from typing import Any
from urllib.parse import urlsplit

import pytest

from .s3_support import unique

GIB = 1024**3
MIB = 1024**2


def _port(endpoint: str) -> int:
    port = urlsplit(endpoint).port
    assert port is not None
    return port


def _read_head(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def _exchange(endpoint: str, head: bytes, body: bytes = b"", *, expect_interim: bool = False) -> tuple:
    """Send a raw request; (status, lowercased headers, body, whether a 100 Continue came first)."""
    with socket.create_connection(("127.0.0.1", _port(endpoint)), timeout=10) as sock:
        sock.sendall(head + body)
        data = _read_head(sock)
        interim = data.startswith(b"HTTP/1.1 100")
        if interim:
            data = data.split(b"\r\n\r\n", 1)[1] or _read_head(sock)
        head_bytes, _, rest = data.partition(b"\r\n\r\n")
        lines = head_bytes.split(b"\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower().decode()] = value.strip().decode()
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        return int(lines[0][9:12]), headers, rest.decode(errors="replace"), interim


# -- early answers -----------------------------------------------------------------------------


def test_oversized_put_with_expect_is_refused_at_once(endpoint: str, bucket: str) -> None:
    head = (
        f"PUT /{bucket}/huge HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {6 * GIB}\r\n"
        "Expect: 100-continue\r\n\r\n"
    ).encode()
    started = time.monotonic()
    status, headers, body, interim = _exchange(endpoint, head)
    assert time.monotonic() - started < 5
    assert (status, interim) == (400, False)
    assert "<Code>EntityTooLarge</Code>" in body
    assert headers["connection"] == "close"  # the announced body was never read


def test_put_to_missing_bucket_with_expect_gets_404_without_100(endpoint: str) -> None:
    head = (
        f"PUT /{unique()}/key HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {100 * MIB}\r\n"
        "Expect: 100-continue\r\n\r\n"
    ).encode()
    status, _, body, interim = _exchange(endpoint, head)
    assert (status, interim) == (404, False)
    assert "<Code>NoSuchBucket</Code>" in body


def test_invalid_put_still_sending_its_body_gets_the_early_answer(endpoint: str) -> None:
    """No Expect: the client sends 1 MiB of an announced 1 GiB and waits; before, the gateway waited
    for the rest (until its 20 s client-body timeout) instead of relaying S3's answer."""
    head = f"PUT /{unique()}/key HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {GIB}\r\n\r\n".encode()
    started = time.monotonic()
    status, headers, body, _ = _exchange(endpoint, head, b"z" * MIB)
    assert time.monotonic() - started < 5
    assert status == 404 and "<Code>NoSuchBucket</Code>" in body
    assert headers["connection"] == "close"


def test_expect_100_continue_put_is_stored(endpoint: str, s3: Any, bucket: str) -> None:
    payload = b"e" * (300 * 1024)
    head = (
        f"PUT /{bucket}/cont HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(payload)}\r\n"
        "Expect: 100-continue\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", _port(endpoint)), timeout=10) as sock:
        sock.sendall(head)
        assert _read_head(sock).startswith(b"HTTP/1.1 100 Continue")  # relayed from S3
        sock.sendall(payload)
        assert _read_head(sock).startswith(b"HTTP/1.1 200")
    assert s3.get_object(Bucket=bucket, Key="cont")["Body"].read() == payload


# -- virtual-host addressing -------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["s3.amazonaws.com", "localhost"])
def test_virtual_host_addressing_by_host_header(endpoint: str, s3: Any, bucket: str, suffix: str) -> None:
    host = f"{bucket}.{suffix}:{_port(endpoint)}"
    data = b"virtual " * 1000
    put = f"PUT /v.txt HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(data)}\r\n\r\n".encode()
    status, headers, _, _ = _exchange(endpoint, put, data)
    assert status == 200, headers
    assert s3.get_object(Bucket=bucket, Key="v.txt")["Body"].read() == data
    status, _, body, _ = _exchange(endpoint, f"GET /v.txt HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    assert (status, body.encode()) == (200, data)
    status, _, body, _ = _exchange(endpoint, f"GET /?list-type=2 HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    assert status == 200 and f"<Name>{bucket}</Name>" in body and "<Key>v.txt</Key>" in body
