"""Signature enforcement (``FLOTILLA_ENFORCE_SIGV4=1``) through the gateway of a fleet of its own:
right credentials pass, a wrong secret, an unknown key and an unsigned request get each
service's own error; chunk-signed uploads have every chunk checked."""

from __future__ import annotations

import base64
import hashlib
import hmac
import zlib
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from botocore import UNSIGNED
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from flotilla.fleet import Fleet, free_port

AKID, SECRET = "AKIAFLOTILLATEST0001", "flotilla-secret"


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    root: Path = tmp_path_factory.mktemp("strict")
    env = {
        "FLOTILLA_ENFORCE_SIGV4": "1",
        "FLOTILLA_CREDENTIALS": f"{AKID}:{SECRET}",
        "FLOTILLA_LOG_LEVEL": "WARNING",
    }
    fleet = Fleet(
        port=free_port(),
        services=("s3", "sqs", "dynamodb"),
        data_dir=root / "data",
        log_dir=root / "logs",
        env=env,
    )
    fleet.start()
    yield fleet
    fleet.stop()


def _client(fleet: Fleet, service: str, key: str = AKID, secret: str = SECRET, **config: object):
    cfg = Config(retries={"max_attempts": 1}, **config)
    return boto3.client(
        service,
        endpoint_url=fleet.url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=cfg,
    )


def _error(call) -> tuple[str, int]:
    with pytest.raises(ClientError) as err:
        call()
    return err.value.response["Error"]["Code"], err.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_right_credentials_pass(strict: Fleet) -> None:
    s3 = _client(strict, "s3")
    s3.create_bucket(Bucket="strict-bucket")
    s3.put_object(Bucket="strict-bucket", Key="a b/ü+c", Body=b"signed")  # payload hash signed (http)
    assert s3.get_object(Bucket="strict-bucket", Key="a b/ü+c")["Body"].read() == b"signed"
    url = _client(strict, "sqs").create_queue(QueueName="strict-q")["QueueUrl"]
    _client(strict, "sqs").send_message(QueueUrl=url, MessageBody="x")
    assert _client(strict, "dynamodb").list_tables()["TableNames"] == []
    presigned = s3.generate_presigned_url("get_object", Params={"Bucket": "strict-bucket", "Key": "a b/ü+c"})
    assert httpx.get(presigned).content == b"signed"


@pytest.mark.parametrize(
    ("service", "call", "wrong_secret", "unknown_key"),
    [
        ("s3", lambda c: c.list_buckets(), ("SignatureDoesNotMatch", 403), ("InvalidAccessKeyId", 403)),
        ("sqs", lambda c: c.list_queues(), ("SignatureDoesNotMatch", 403), ("InvalidClientTokenId", 403)),
        (
            "dynamodb",
            lambda c: c.list_tables(),
            ("InvalidSignatureException", 400),
            ("UnrecognizedClientException", 400),
        ),
    ],
)
def test_bad_credentials_get_the_services_errors(strict, service, call, wrong_secret, unknown_key) -> None:
    assert _error(lambda: call(_client(strict, service, secret="wrong"))) == wrong_secret
    assert _error(lambda: call(_client(strict, service, key="AKIAUNKNOWN0000000000"))) == unknown_key


def test_unsigned_requests_are_refused(strict: Fleet) -> None:
    s3 = _client(strict, "s3", signature_version=UNSIGNED)
    assert _error(lambda: s3.list_objects_v2(Bucket="strict-bucket")) == ("AccessDenied", 403)
    response = httpx.post(f"{strict.url}/", data={"Action": "ListQueues", "Version": "2012-11-05"})
    assert response.status_code == 403
    assert "MissingAuthenticationToken" in response.text


# --- chunk-signed aws-chunked uploads ------------------------------------------------------------
# botocore never sends chunk signatures (over http it signs the whole payload; over https it sends
# STREAMING-UNSIGNED-PAYLOAD-TRAILER), so these bodies are built by hand as other SDKs (Java v1,
# Go v1, minio) send them: the head signed by botocore with the streaming mode as its payload hash,
# each chunk signed here (independently of the server's code; tests/unit/test_sigv4.py checks the
# server against AWS's documented example).

CHUNK = 64 * 1024
EMPTY = hashlib.sha256(b"").hexdigest()


class _StreamingAuth(S3SigV4Auth):
    """botocore's S3 signer with the payload hash of a streaming upload."""

    def __init__(self, mode: str) -> None:
        super().__init__(Credentials(AKID, SECRET), "s3", "us-east-1")
        self.mode = mode

    def payload(self, request) -> str:
        return self.mode


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _chunked_put(
    fleet: Fleet, path: str, data: bytes, mode: str, *, tamper: bool = False, declared: int | None = None
) -> httpx.Response:
    """PUT ``data`` as an aws-chunked body in ``mode`` (signed chunks, signed trailer or unsigned trailer)."""
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    headers = {
        "Content-Encoding": "aws-chunked",
        "X-Amz-Decoded-Content-Length": str(len(data) if declared is None else declared),
    }
    if mode.endswith("TRAILER"):
        headers["X-Amz-Trailer"] = "x-amz-checksum-crc32"
    request = AWSRequest(method="PUT", url=f"{fleet.url}{path}", headers=headers)
    _StreamingAuth(mode).add_auth(request)
    amz_date = request.headers["X-Amz-Date"]
    scope = f"{amz_date[:8]}/us-east-1/s3/aws4_request"
    key = f"AWS4{SECRET}".encode()
    for part in (amz_date[:8], "us-east-1", "s3", "aws4_request"):
        key = _hmac(key, part)
    previous = request.headers["Authorization"].rsplit("Signature=", 1)[1]
    body = bytearray()
    pieces = [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)] + [b""]
    for piece in pieces:
        extension = ""
        if mode != "STREAMING-UNSIGNED-PAYLOAD-TRAILER":
            digest = hashlib.sha256(piece).hexdigest()
            to_sign = f"AWS4-HMAC-SHA256-PAYLOAD\n{amz_date}\n{scope}\n{previous}\n{EMPTY}\n{digest}"
            previous = _hmac(key, to_sign).hex()
            extension = f";chunk-signature={previous}"
        body += f"{len(piece):x}{extension}\r\n".encode() + piece + (b"\r\n" if piece else b"")
    if mode.endswith("TRAILER"):
        trailer = f"x-amz-checksum-crc32:{crc}\n"
        body += trailer.replace("\n", "\r\n").encode()
        if mode == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER":
            digest = hashlib.sha256(trailer.encode()).hexdigest()
            signature = _hmac(
                key, f"AWS4-HMAC-SHA256-TRAILER\n{amz_date}\n{scope}\n{previous}\n{digest}"
            ).hex()
            body += f"x-amz-trailer-signature:{signature}\r\n".encode()
    body += b"\r\n"
    if tamper:
        body[len(body) // 2] ^= 1
    return httpx.put(request.url, headers=dict(request.headers), content=bytes(body))


MODES = (
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
    "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
)


@pytest.fixture(scope="module")
def chunk_bucket(strict: Fleet) -> str:
    _client(strict, "s3").create_bucket(Bucket="chunk-bucket")
    return "chunk-bucket"


@pytest.mark.parametrize("mode", MODES)
def test_chunked_upload_is_verified_and_stored(strict: Fleet, chunk_bucket: str, mode: str) -> None:
    data = bytes(range(256)) * 1000  # 256000 bytes: three full chunks and a short one
    response = _chunked_put(strict, f"/{chunk_bucket}/{mode}", data, mode)
    assert response.status_code == 200, response.text
    got = _client(strict, "s3").get_object(Bucket=chunk_bucket, Key=mode)
    assert got["Body"].read() == data


@pytest.mark.parametrize("mode", MODES[:2])
def test_tampered_chunk_is_refused_and_nothing_is_stored(strict: Fleet, chunk_bucket: str, mode: str) -> None:
    key = f"tampered-{mode}"
    response = _chunked_put(strict, f"/{chunk_bucket}/{key}", b"x" * 200_000, mode, tamper=True)
    assert response.status_code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in response.text
    assert _error(lambda: _client(strict, "s3").head_object(Bucket=chunk_bucket, Key=key)) == ("404", 404)


@pytest.mark.parametrize("declared", [100, 300_000])
def test_decoded_length_mismatch_is_incomplete_body(strict: Fleet, chunk_bucket: str, declared: int) -> None:
    response = _chunked_put(strict, f"/{chunk_bucket}/short", b"y" * 200_000, MODES[0], declared=declared)
    assert response.status_code == 400
    assert "<Code>IncompleteBody</Code>" in response.text
    assert f"<NumberBytesExpected>{declared}</NumberBytesExpected>" in response.text
    assert _error(lambda: _client(strict, "s3").head_object(Bucket=chunk_bucket, Key="short")) == ("404", 404)


# --- x-amz-content-sha256 against the body -------------------------------------------------------


def _tamper_after_signing(client):
    """Flip a bit of the body once botocore has signed it (its declared digest, if any, is the original's);
    for services whose signer declares none, declare the body's digest first, as some SDKs do."""

    def declare(request, **_: object) -> None:
        request.headers["X-Amz-Content-SHA256"] = hashlib.sha256(request.body or b"").hexdigest()

    def tamper(request, **_: object) -> None:
        body = request.body.read() if hasattr(request.body, "read") else request.body
        request.body = bytes([body[0] ^ 1]) + body[1:]

    if client.meta.service_model.service_name != "s3":  # S3's signer declares it itself
        client.meta.events.register("before-sign", declare)
    client.meta.events.register("before-send", tamper)
    return client


@pytest.mark.parametrize(
    ("service", "call", "expected"),
    [
        (
            "s3",
            lambda c: c.put_object(Bucket="strict-bucket", Key="t", Body=b"x" * 1000),
            ("XAmzContentSHA256Mismatch", 400),
        ),
        ("sqs", lambda c: c.list_queues(), ("SignatureDoesNotMatch", 403)),
        ("dynamodb", lambda c: c.list_tables(), ("InvalidSignatureException", 400)),
    ],
)
def test_body_changed_after_signing_is_refused(strict: Fleet, service, call, expected) -> None:
    """The signature covers the declared digest, not the bytes: S3 names the mismatch, the others (whose
    canonical request hashes the body they received) fail the signature."""
    if service == "s3":
        _client(strict, "s3").create_bucket(Bucket="strict-bucket")
    assert _error(lambda: call(_tamper_after_signing(_client(strict, service)))) == expected
    if service == "s3":
        assert _error(lambda: _client(strict, "s3").head_object(Bucket="strict-bucket", Key="t")) == (
            "404",
            404,
        )
