"""The body against its declared ``x-amz-content-sha256``, and S3's header-section limit, in the service
app (shared/app.py) with stand-in handlers: S3 names a mismatch (``XAmzContentSHA256Mismatch``) whether
signatures are enforced or not, other services fail it as a signature mismatch; a streamed upload
with a wrong digest is refused before its handler commits anything."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from shared.app import ServiceSpec, create_service_app
from shared.aws import sigv4
from shared.aws.errors import (
    SIGNATURE_MISMATCH_MESSAGE,
    AwsError,
    invalid_payload_hash,
    payload_hash_mismatch,
)
from shared.handlers import Handlers
from shared.settings import Settings

AKID, SECRET = "AKIAPAYLOADTEST00001", "payload-secret"
ENDPOINT = "http://localhost:4566"
BODY = b"hello world"
SHA = hashlib.sha256(BODY).hexdigest()
WRONG = "0" * 64


# --- PayloadCheck and the per-service errors ------------------------------------------------------


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def _mismatch(computed: str) -> AwsError:
    return payload_hash_mismatch("s3", WRONG, computed)


def test_wrap_passes_the_body_through_and_raises_at_its_end():
    async def read(check: sigv4.PayloadCheck, seen: list[bytes]) -> None:
        async for chunk in check.wrap(_chunks(b"hello", b" world"), check_at_end=True):
            seen.append(chunk)

    seen: list[bytes] = []
    asyncio.run(read(sigv4.PayloadCheck(SHA.upper(), _mismatch), seen))  # hex digits in either case
    assert seen == [b"hello", b" world"]
    seen.clear()
    with pytest.raises(AwsError) as err:
        asyncio.run(read(sigv4.PayloadCheck(WRONG, _mismatch), seen))
    assert seen == [b"hello", b" world"]  # every byte passed on before the end raised
    assert err.value.fields == {"ClientComputedContentSHA256": WRONG, "S3ComputedContentSHA256": SHA}


def test_deferred_check_raises_only_when_asked_and_only_after_the_end():
    check = sigv4.PayloadCheck(WRONG, _mismatch)
    check.check()  # nothing read yet: nothing to say

    async def drain() -> None:
        async for _ in check.wrap(_chunks(BODY), check_at_end=False):
            pass

    asyncio.run(drain())
    assert check.computed == SHA
    with pytest.raises(AwsError):
        check.check()


@pytest.mark.parametrize(
    ("service", "code", "status"),
    [
        ("s3", "XAmzContentSHA256Mismatch", 400),
        ("sqs", "SignatureDoesNotMatch", 403),
        ("dynamodb", "InvalidSignatureException", 400),
        ("lambda", "InvalidSignatureException", 403),
    ],
)
def test_mismatch_error_is_the_services_own(service, code, status):
    err = payload_hash_mismatch(service, WRONG, SHA)
    assert (err.code, err.status) == (code, status)
    if service == "s3":
        assert err.message == "The provided 'x-amz-content-sha256' header does not match what was computed."
    else:
        assert err.message == SIGNATURE_MISMATCH_MESSAGE


def test_only_s3_refuses_an_unreadable_declaration():
    err = invalid_payload_hash("s3", "nonsense")
    assert (err.code, err.status, err.fields["ArgumentValue"]) == ("InvalidArgument", 400, "nonsense")
    assert invalid_payload_hash("sqs", "nonsense") is None


# --- through the service app ------------------------------------------------------------------------


def _apps(enforce: bool) -> tuple[Callable, Callable, list[bytes]]:
    """(s3-like app, sqs-like app, what the s3 PutObject stand-in committed)."""
    committed: list[bytes] = []
    s3 = Handlers("s3")

    @s3("PutObject", "UploadPart")
    async def put_object(ctx, req: dict) -> dict:
        data = b"".join([chunk async for chunk in req["Body"]])  # raises instead of ending on a bad body
        committed.append(data)  # commit only after a clean end, as S3's storage does
        return {}

    @s3("PutBucketTagging")
    async def put_bucket_tagging(ctx, req: dict) -> dict:
        committed.append(b"tagging")
        return {}

    @s3("ListBuckets")
    async def list_buckets(ctx, req: dict) -> dict:
        return {"Buckets": []}

    sqs = Handlers("sqs")

    @sqs("ListQueues")
    async def list_queues(ctx, req: dict) -> dict:
        return {}

    def settings(name: str) -> Settings:
        return Settings(service=name, enforce_sigv4=enforce, credentials={AKID: SECRET}, log_level="WARNING")

    s3_spec = ServiceSpec(name="s3", models=("s3",), handlers=s3, max_header_bytes=8192)
    sqs_spec = ServiceSpec(name="sqs", models=("sqs",), handlers=sqs, extra_protocols={"sqs": ("query",)})
    return (
        create_service_app(s3_spec, settings("s3")),
        create_service_app(sqs_spec, settings("sqs")),
        committed,
    )


def _run(app, scenario: Callable[[httpx.AsyncClient], Awaitable[None]]) -> None:
    async def main() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=ENDPOINT) as http:
            await scenario(http)

    asyncio.run(main())


def _send(app, method: str, path: str, body: bytes = b"", headers: dict | None = None) -> httpx.Response:
    out: list[httpx.Response] = []

    async def scenario(http: httpx.AsyncClient) -> None:
        out.append(await http.request(method, path, content=body, headers=headers or {}))

    _run(app, scenario)
    return out[0]


def _signed(service: str, method: str, path: str, body: bytes, headers: dict | None = None) -> AWSRequest:
    """Signed by botocore (S3's signer declares the body's digest in x-amz-content-sha256)."""
    request = AWSRequest(method=method, url=ENDPOINT + path, data=body, headers=dict(headers or {}))
    signer = S3SigV4Auth if service == "s3" else SigV4Auth
    signer(Credentials(AKID, SECRET), service, "us-east-1").add_auth(request)
    return request


def _code(response: httpx.Response) -> str:
    return response.text.split("<Code>", 1)[1].split("</Code>", 1)[0]


@pytest.mark.parametrize("enforce", [False, True])
def test_s3_streamed_upload_with_a_wrong_digest_commits_nothing(enforce):
    s3, _, committed = _apps(enforce)
    request = _signed("s3", "PUT", "/bucket/key", BODY)
    response = _send(s3, "PUT", "/bucket/key", BODY + b"!", dict(request.headers))  # changed after signing
    assert response.status_code == 400
    assert _code(response) == "XAmzContentSHA256Mismatch"  # the signature itself was right
    assert f"<ClientComputedContentSHA256>{SHA}</ClientComputedContentSHA256>" in response.text
    computed = hashlib.sha256(BODY + b"!").hexdigest()
    assert f"<S3ComputedContentSHA256>{computed}</S3ComputedContentSHA256>" in response.text
    assert committed == []
    assert _send(s3, "PUT", "/bucket/key", BODY, dict(request.headers)).status_code == 200
    assert committed == [BODY]


def test_s3_read_body_and_empty_body_are_checked_too():
    s3, _, committed = _apps(False)
    tagging = b"<Tagging><TagSet/></Tagging>"
    response = _send(s3, "PUT", "/bucket?tagging", tagging, {"x-amz-content-sha256": WRONG})
    assert (response.status_code, _code(response)) == (400, "XAmzContentSHA256Mismatch")
    assert committed == []
    ok = _send(
        s3, "PUT", "/bucket?tagging", tagging, {"x-amz-content-sha256": hashlib.sha256(tagging).hexdigest()}
    )
    assert ok.status_code == 200
    assert _send(s3, "GET", "/", headers={"x-amz-content-sha256": sigv4.EMPTY_SHA256}).status_code == 200
    assert _code(_send(s3, "GET", "/", headers={"x-amz-content-sha256": SHA})) == "XAmzContentSHA256Mismatch"


def test_s3_signature_is_checked_before_the_digest():
    s3, _, committed = _apps(True)
    headers = dict(_signed("s3", "PUT", "/bucket/key", BODY).headers)
    headers["X-Amz-Content-SHA256"] = hashlib.sha256(b"other").hexdigest()  # a signed header changed
    response = _send(s3, "PUT", "/bucket/key", b"other", headers)
    assert (response.status_code, _code(response)) == (403, "SignatureDoesNotMatch")
    assert committed == []


@pytest.mark.parametrize("value", ["UNSIGNED-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER", ""])
def test_s3_payload_modes_are_not_digests(value):
    s3, _, committed = _apps(False)
    headers = {"x-amz-content-sha256": value}
    if value.startswith("STREAMING"):
        body, headers["Content-Encoding"] = b"b\r\nhello world\r\n0\r\n\r\n", "aws-chunked"
    else:
        body = BODY
    assert _send(s3, "PUT", "/bucket/key", body, headers).status_code == 200
    assert committed == [BODY]


def test_s3_unreadable_declaration_is_invalid_argument():
    s3, _, committed = _apps(False)
    response = _send(s3, "PUT", "/bucket/key", BODY, {"x-amz-content-sha256": "abc123"})
    assert (response.status_code, _code(response)) == (400, "InvalidArgument")
    assert "<ArgumentName>x-amz-content-sha256</ArgumentName>" in response.text
    assert committed == []


@pytest.mark.parametrize("enforce", [False, True])
def test_sqs_wrong_digest_is_a_signature_mismatch(enforce):
    _, sqs, _ = _apps(enforce)
    form = b"Action=ListQueues&Version=2012-11-05"
    ctype = {"Content-Type": "application/x-www-form-urlencoded"}
    signed = _signed("sqs", "POST", "/", form, {**ctype, "X-Amz-Content-SHA256": WRONG})  # signed as sent
    response = _send(sqs, "POST", "/", form, dict(signed.headers))
    assert response.status_code == 403
    assert _code(response) == "SignatureDoesNotMatch"
    assert SIGNATURE_MISMATCH_MESSAGE in response.text
    right = _signed(
        "sqs", "POST", "/", form, {**ctype, "X-Amz-Content-SHA256": hashlib.sha256(form).hexdigest()}
    )
    assert _send(sqs, "POST", "/", form, dict(right.headers)).status_code == 200
    assert _send(sqs, "POST", "/", form, {**ctype, "X-Amz-Content-SHA256": "required"}).status_code == (
        403 if enforce else 200  # not a digest: other services ignore it (only the signature reads it)
    )


def _headers_of_size(total: int) -> dict[str, str]:
    """Headers whose section, as the service app counts it (``name: value\\r\\n`` each), is ``total``
    bytes, including what httpx adds on its own (host, accept, accept-encoding, connection, user-agent,
    content-length)."""
    base = {
        "host": "localhost:4566",
        "accept": "*/*",
        "accept-encoding": "gzip, deflate",
        "connection": "keep-alive",
        "user-agent": f"python-httpx/{httpx.__version__}",
    }
    used = sum(len(k) + len(v) + 4 for k, v in base.items())
    pad = total - used - len("x-pad") - 4
    return {**base, "x-pad": "p" * pad}


@pytest.mark.parametrize(("size", "status"), [(8192, 200), (8193, 400)])
def test_s3_header_section_limit_is_8_kib(size, status):
    s3, sqs, _ = _apps(False)
    response = _send(s3, "GET", "/", headers=_headers_of_size(size))
    assert response.status_code == status, response.text
    if status == 400:
        assert _code(response) == "RequestHeaderSectionTooLarge"
        assert "Your request header section exceeds the maximum allowed size." in response.text
        assert "<MaxSizeAllowed>8192</MaxSizeAllowed>" in response.text
    form = b"Action=ListQueues&Version=2012-11-05"
    headers = {**_headers_of_size(20_000), "Content-Type": "application/x-www-form-urlencoded"}
    assert _send(sqs, "POST", "/", form, headers).status_code == 200  # no limit elsewhere
