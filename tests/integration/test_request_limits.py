"""Limits and bad framing through the gateway, on a fleet of its own (the client-body timeout is cut to
1 s): S3's 8 KB header section, a body that does not hash to its ``x-amz-content-sha256``, and a
``Content-Length`` that does not match the body sent. None may answer 5xx or hang."""

from __future__ import annotations

import hashlib
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from flotilla.fleet import Fleet, free_port

BODY_TIMEOUT = 1.0
BOUND = 10.0  # the longest any exchange below may take


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    root: Path = tmp_path_factory.mktemp("limits")
    env = {"FLOTILLA_LOG_LEVEL": "WARNING", "FLOTILLA_GATEWAY_CLIENT_BODY_TIMEOUT": str(BODY_TIMEOUT)}
    fleet = Fleet(
        port=free_port(), services=("s3", "sqs"), data_dir=root / "data", log_dir=root / "logs", env=env
    )
    fleet.start()
    yield fleet
    fleet.stop()


def _client(fleet: Fleet, service: str):
    return boto3.client(
        service,
        endpoint_url=fleet.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )


@pytest.fixture(scope="module")
def bucket(fleet: Fleet) -> str:
    _client(fleet, "s3").create_bucket(Bucket="limits")
    return "limits"


def _error(call) -> tuple[str, int]:
    with pytest.raises(ClientError) as err:
        call()
    return err.value.response["Error"]["Code"], err.value.response["ResponseMetadata"]["HTTPStatusCode"]


def _stored(fleet: Fleet, bucket: str, key: str) -> bool:
    return httpx.head(f"{fleet.url}/{bucket}/{key}").status_code == 200


# --- header section ---------------------------------------------------------------------------------


def _with_header(client, size: int):
    def add(request, **_: object) -> None:
        request.headers["x-flotilla-pad"] = "p" * size

    client.meta.events.register("before-sign", add)
    return client


@pytest.mark.parametrize("size", [9_000, 20_000, 60_000])
def test_s3_refuses_a_header_section_over_8_kib(fleet: Fleet, bucket: str, size: int) -> None:
    s3 = _with_header(_client(fleet, "s3"), size)
    with pytest.raises(ClientError) as err:
        s3.list_objects_v2(Bucket=bucket)
    error = err.value.response["Error"]
    assert (error["Code"], err.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (
        "RequestHeaderSectionTooLarge",
        400,
    )
    assert error["Message"] == "Your request header section exceeds the maximum allowed size."
    assert error["MaxSizeAllowed"] == "8192"


def test_s3_takes_headers_under_the_limit_and_other_services_any(fleet: Fleet, bucket: str) -> None:
    _with_header(_client(fleet, "s3"), 6_000).list_objects_v2(Bucket=bucket)
    assert "QueueUrls" not in _with_header(_client(fleet, "sqs"), 20_000).list_queues()


# --- x-amz-content-sha256 ---------------------------------------------------------------------------


def _tamper_after_signing(client):
    """Change one byte of the body after botocore signed it (the declared digest stays the original's)."""

    def tamper(request, **_: object) -> None:
        body = request.body.read() if hasattr(request.body, "read") else request.body  # PutObject: BytesIO
        if body:
            request.body = bytes([body[0] ^ 1]) + body[1:]

    client.meta.events.register("before-send", tamper)
    return client


def test_put_object_whose_body_changed_after_signing_is_refused(fleet: Fleet, bucket: str) -> None:
    s3 = _tamper_after_signing(_client(fleet, "s3"))
    body = b"hello payload" * 1000
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=bucket, Key="tampered", Body=body)
    error = err.value.response["Error"]
    assert error["Code"] == "XAmzContentSHA256Mismatch"
    assert error["ClientComputedContentSHA256"] == hashlib.sha256(body).hexdigest()
    assert error["S3ComputedContentSHA256"] == hashlib.sha256(b"i" + body[1:]).hexdigest()
    assert not _stored(fleet, bucket, "tampered")


def test_upload_part_whose_body_changed_after_signing_is_refused(fleet: Fleet, bucket: str) -> None:
    s3 = _client(fleet, "s3")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mpu")["UploadId"]
    bad = _tamper_after_signing(_client(fleet, "s3"))
    part = {"Bucket": bucket, "Key": "mpu", "UploadId": upload, "PartNumber": 1}
    assert _error(lambda: bad.upload_part(**part, Body=b"part data")) == ("XAmzContentSHA256Mismatch", 400)
    assert s3.list_parts(Bucket=bucket, Key="mpu", UploadId=upload).get("Parts", []) == []
    s3.upload_part(**part, Body=b"part data")  # the same part, untouched, is taken
    assert len(s3.list_parts(Bucket=bucket, Key="mpu", UploadId=upload)["Parts"]) == 1


def test_sqs_body_changed_after_signing_is_a_signature_mismatch(fleet: Fleet) -> None:
    sqs = _client(fleet, "sqs")

    def declare(request, **_: object) -> None:  # as SDKs that send the header for every service do
        request.headers["X-Amz-Content-SHA256"] = hashlib.sha256(request.body or b"").hexdigest()

    sqs.meta.events.register("before-sign", declare)
    sqs.list_queues()
    _tamper_after_signing(sqs)
    assert _error(sqs.list_queues) == ("SignatureDoesNotMatch", 403)


# --- Content-Length that does not match the body -----------------------------------------------------


def _exchange(fleet: Fleet, *pieces: bytes, pause: float = 0.0, half_close: bool = False) -> bytes:
    """Send ``pieces`` on a fresh connection (``pause`` seconds apart), then read until the server
    closes it; fails if that takes longer than BOUND."""
    with socket.create_connection((fleet.host, fleet.port), timeout=BOUND) as sock:
        for i, piece in enumerate(pieces):
            if i and pause:
                time.sleep(pause)
            sock.sendall(piece)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + BOUND
        received = b""
        while time.monotonic() < deadline:
            data = sock.recv(65536)
            if not data:
                return received
            received += data
    raise AssertionError(f"connection still open after {BOUND} s: {received[:300]!r}")


def _statuses(raw: bytes) -> list[int]:
    """The status of every response on the connection (a response may follow a body without a CRLF)."""
    return [int(status) for status in re.findall(rb"HTTP/1\.1 (\d{3}) ", raw)]


def _put_head(bucket: str, key: str, length: int, extra: str = "") -> bytes:
    return (
        f"PUT /{bucket}/{key} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {length}\r\n{extra}\r\n".encode()
    )


def test_body_shorter_than_content_length_times_out(fleet: Fleet, bucket: str) -> None:
    started = time.monotonic()
    raw = _exchange(fleet, _put_head(bucket, "long", 100) + b"only ten b")
    assert BODY_TIMEOUT <= time.monotonic() - started < BOUND
    assert _statuses(raw) == [400]
    assert b"<Code>RequestTimeout</Code>" in raw
    assert b"connection: close" in raw.lower()
    assert not _stored(fleet, bucket, "long")


def test_form_post_shorter_than_content_length_times_out(fleet: Fleet) -> None:
    head = b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    raw = _exchange(fleet, head + b"Content-Length: 200\r\n\r\nAction=ListQueues")  # the router's peek waits
    assert _statuses(raw) == [400]
    assert b"<Code>RequestTimeout</Code>" in raw


def test_client_that_closes_mid_body_stores_nothing(fleet: Fleet, bucket: str) -> None:
    raw = _exchange(fleet, _put_head(bucket, "gone", 100) + b"only ten b", half_close=True)
    assert all(status < 500 for status in _statuses(raw))
    assert not _stored(fleet, bucket, "gone")


def test_slow_body_that_keeps_moving_is_not_cut(fleet: Fleet, bucket: str) -> None:
    pieces = [_put_head(bucket, "slow", 12, "Connection: close\r\n"), b"slow", b" bo", b"dy!!!"]
    raw = _exchange(fleet, *pieces, pause=BODY_TIMEOUT * 0.6)  # 1.8 s in all, never 1 s silent
    assert _statuses(raw) == [200]
    assert _client(fleet, "s3").get_object(Bucket=bucket, Key="slow")["Body"].read() == b"slow body!!!"


def test_body_longer_than_content_length(fleet: Fleet, bucket: str) -> None:
    """The bytes past Content-Length are the next request on the connection: garbage there is a 400
    from the HTTP server, which closes the connection. The first request is answered (here its body,
    cut to the declared length, no longer matches its declared digest) when it came in a packet of
    its own; in the same packet as the garbage it is dropped with the connection. Never a 5xx."""
    digest = hashlib.sha256(b"hello").hexdigest()
    head = _put_head(bucket, "short", 3, f"x-amz-content-sha256: {digest}\r\n")
    raw = _exchange(fleet, head + b"hel", b"lo", pause=0.5)
    assert _statuses(raw) == [400, 400]
    assert b"<Code>XAmzContentSHA256Mismatch</Code>" in raw
    raw = _exchange(fleet, head + b"hello")
    assert _statuses(raw) and all(status == 400 for status in _statuses(raw))
    assert not _stored(fleet, bucket, "short")
