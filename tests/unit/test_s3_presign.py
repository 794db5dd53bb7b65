"""Presigned S3 access: SigV2 signatures, POST policies and forms, and the S3 app with signatures
enforced (in process, through ASGI) answering presigned URLs and POST uploads signed by botocore."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import boto3
import httpx
import pytest
from botocore.auth import HmacV1Auth, HmacV1QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from services.s3 import presign
from services.s3.app import SPEC
from services.s3.formdata import FormReader, boundary_of
from shared.app import create_service_app
from shared.aws import sigv4
from shared.aws.errors import AwsError
from shared.aws.http import HttpRequest
from shared.settings import Settings

AKID, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
ENDPOINT = "http://localhost:4566"


def error_of(call, *args, **kwargs) -> AwsError:
    with pytest.raises(AwsError) as err:
        call(*args, **kwargs)
    return err.value


# --- SigV2 --------------------------------------------------------------------------------------


def sign_v2(method: str, url: str, headers: dict[str, str] | None = None, *, query: bool) -> HttpRequest:
    """A request signed by botocore's HmacV1 (query or header form), as the service receives it."""
    request = AWSRequest(method=method, url=url, headers=dict(headers or {}))
    if ".s3." in url:  # virtual-host style: botocore signs the path with the bucket in front
        request.auth_path = "/bucket" + urlsplit(url).path
    creds = Credentials(AKID, SECRET)
    (HmacV1QueryAuth(creds, expires=300) if query else HmacV1Auth(creds)).add_auth(request)
    split = urlsplit(request.url)
    wire = [*request.headers.items(), ("Host", split.netloc)]
    return HttpRequest.from_url_parts(method, split.path, split.query, wire)


def check_v2(req: HttpRequest, secret: str = SECRET, now: datetime | None = None) -> None:
    scope = sigv4.parse_credentials(req.headers, req.query)
    assert scope is not None and scope.sigv2
    presign.verify_sigv2(req, scope, secret, now=now)


@pytest.mark.parametrize(
    ("method", "url", "headers"),
    [
        ("GET", f"{ENDPOINT}/bucket/dir/a%20b%2Bc%C3%BC", {}),
        ("GET", f"{ENDPOINT}/bucket/key?versionId=3&response-content-type=text/plain&x-id=GetObject", {}),
        ("PUT", f"{ENDPOINT}/bucket/key", {"Content-Type": "text/plain", "x-amz-meta-color": "red"}),
        ("POST", f"{ENDPOINT}/bucket/key?uploads", {}),
        ("GET", "http://bucket.s3.localhost.localstack.cloud:4566/key?acl", {}),
    ],
    ids=["path", "subresources", "headers", "bare-subresource", "virtual-host"],
)
@pytest.mark.parametrize("query", [True, False], ids=["presigned", "header"])
def test_sigv2_botocore_requests_verify(method, url, headers, query):
    req = sign_v2(method, url, headers, query=query)
    check_v2(req)
    assert error_of(check_v2, req, "wrong-secret").code == "SignatureDoesNotMatch"


def test_sigv2_tampering_is_caught():
    req = sign_v2("GET", f"{ENDPOINT}/bucket/key", query=True)
    req.path = "/bucket/other"
    assert error_of(check_v2, req).code == "SignatureDoesNotMatch"
    req = sign_v2("GET", f"{ENDPOINT}/bucket/key?versionId=1", query=True)
    req.query = [(k, "2" if k == "versionId" else v) for k, v in req.query]
    assert error_of(check_v2, req).code == "SignatureDoesNotMatch"


def test_sigv2_expiry_and_skew():
    req = sign_v2("GET", f"{ENDPOINT}/bucket/key", query=True)
    err = error_of(check_v2, req, now=datetime.now(UTC) + timedelta(seconds=400))
    assert (err.code, err.message, err.status) == ("AccessDenied", "Request has expired", 403)
    assert set(err.fields) == {"Expires", "ServerTime"}
    header_signed = sign_v2("GET", f"{ENDPOINT}/bucket/key", query=False)
    assert error_of(check_v2, header_signed, now=datetime.now(UTC) + timedelta(hours=1)).code == (
        "RequestTimeTooSkewed"
    )


def test_check_expiry_sigv4_fields():
    scope = sigv4.Scope("AKID", "20240101", "us-east-1", "s3", presigned=True, amz_date="20240101T000000Z")
    sigv4.check_expiry(scope)  # no X-Amz-Expires readable: verify() is the one to refuse it
    scope = sigv4.Scope(
        "AKID", "20240101", "us-east-1", "s3", presigned=True, amz_date="20240101T000000Z", expires=60
    )
    sigv4.check_expiry(scope, datetime(2024, 1, 1, 0, 1, tzinfo=UTC))
    err = error_of(sigv4.check_expiry, scope, datetime(2024, 1, 1, 0, 1, 1, tzinfo=UTC))
    assert err.fields == {
        "X-Amz-Expires": "60",
        "Expires": "2024-01-01T00:01:00Z",
        "ServerTime": "2024-01-01T00:01:01Z",
    }
    huge = sigv4.Scope("AKID", presigned=True, expires=10**30, sigv2=True)
    sigv4.check_expiry(huge)  # beyond the calendar: never expires, never crashes


# --- POST policies ------------------------------------------------------------------------------


def policy(conditions: list, expires_in: int = 60) -> presign.Policy:
    expiration = (datetime.now(UTC) + timedelta(seconds=expires_in)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    doc = json.dumps({"expiration": expiration, "conditions": conditions})
    return presign.read_policy(base64.b64encode(doc.encode()).decode())


def test_policy_conditions_hold():
    p = policy(
        [
            {"bucket": "b"},
            ["starts-with", "$key", "uploads/"],
            ["eq", "$Content-Type", "text/plain"],
            ["starts-with", "$x-amz-meta-tag", ""],
            ["content-length-range", 1, "10"],
        ]
    )
    fields = {"key": "uploads/a", "content-type": "text/plain", "x-amz-meta-tag": "x", "x-ignore-me": "1"}
    assert presign.check_policy(p, fields, "b") == (1, 10)


@pytest.mark.parametrize(
    ("conditions", "fields", "message"),
    [
        ([{"bucket": "other"}], {}, 'Policy Condition failed: ["eq", "$bucket", "other"]'),
        ([["starts-with", "$key", "up/"]], {"key": "down/x"}, 'Policy Condition failed: ["starts-with"'),
        ([{"key": "k"}], {"key": "k", "acl": "public-read"}, "Extra input fields: acl"),
        ([["eq", "$success_action_status", "201"]], {}, "Policy Condition failed"),
        (
            [["starts-with", "$content-type", "image/"]],
            {"content-type": "image/png, text/html"},
            "Policy Condition failed",
        ),
    ],
    ids=["bucket", "starts-with", "extra-field", "missing-field", "content-type-list"],
)
def test_policy_conditions_fail(conditions, fields, message):
    err = error_of(presign.check_policy, policy(conditions), fields, "b")
    assert (err.code, err.status) == ("AccessDenied", 403)
    assert err.message.startswith("Invalid according to Policy: " + message)


def test_expired_policy():
    err = error_of(presign.check_policy, policy([], expires_in=-1), {}, "b")
    assert err.message == "Invalid according to Policy: Policy expired."


@pytest.mark.parametrize(
    "document",
    [
        b"not json",
        b"[]",
        b'{"conditions": []}',
        b'{"expiration": "tomorrow", "conditions": []}',
        b'{"expiration": "2030-01-01T00:00:00Z"}',
    ],
)
def test_invalid_policy_documents(document):
    err = error_of(presign.read_policy, base64.b64encode(document).decode())
    assert (err.code, err.status) == ("InvalidPolicyDocument", 400)


@pytest.mark.parametrize(
    "condition", [["in", "$key", "x"], ["eq", "key", "x"], {"a": 1}, ["content-length-range", 5, 1]]
)
def test_invalid_conditions(condition):
    assert error_of(presign.check_policy, policy([condition]), {}, "b").code == "InvalidPolicyDocument"


def test_check_size():
    presign.check_size(5, (1, 5))
    presign.check_size(10**12, None)
    small = error_of(presign.check_size, 0, (1, 5))
    large = error_of(presign.check_size, 6, (1, 5))
    assert (small.code, small.fields) == ("EntityTooSmall", {"ProposedSize": "0", "MinSizeAllowed": "1"})
    assert (large.code, large.fields) == ("EntityTooLarge", {"ProposedSize": "6", "MaxSizeAllowed": "5"})


@pytest.mark.parametrize("signature_version", ["s3v4", "s3"])
def test_post_signatures_from_botocore(signature_version):
    form = client(signature_version).generate_presigned_post("b", "k")["fields"]
    fields = {k.lower(): v for k, v in form.items()}
    presign.verify_post_signature(fields, {AKID: SECRET})
    assert error_of(presign.verify_post_signature, fields, {AKID: "nope"}).code == "SignatureDoesNotMatch"
    assert error_of(presign.verify_post_signature, fields, {}).code == "InvalidAccessKeyId"
    tampered = {**fields, "policy": fields["policy"][:-4] + "AAA="}
    assert error_of(presign.verify_post_signature, tampered, {AKID: SECRET}).code == "SignatureDoesNotMatch"


# --- multipart/form-data ------------------------------------------------------------------------


def encode_form(fields: list[tuple[str, str]], file: bytes, boundary: str = "XyZzY") -> bytes:
    out = [b"preamble to ignore"]
    for name, value in fields:
        out.append(
            f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}'.encode()
        )
    out.append(
        f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a \\"q\\".txt"\r\n'
        f"Content-Type: text/plain\r\n\r\n".encode()
        + file
    )
    out.append(f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=after\r\n\r\nignored".encode())
    out.append(f"\r\n--{boundary}--\r\nepilogue".encode())
    return b"".join(out)


async def read_form(body: bytes, size: int) -> tuple[list[tuple[str, bytes]], bytes]:
    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(body), size):
            yield body[i : i + size]

    reader = FormReader(chunks(), b"XyZzY")
    fields: list[tuple[str, bytes]] = []
    while (part := await reader.next_part()) is not None:
        if part.filename is not None:
            assert part.filename == 'a "q".txt' and part.content_type == "text/plain"
            data = b"".join([c async for c in reader.data()])
        else:
            fields.append((part.name, await reader.value(1000)))
    return fields, data


@pytest.mark.parametrize("size", [1, 2, 5, 7, 13, 64, 100_000])
def test_form_reader_at_every_split(size):
    file = b"\r\n--XyZz not quite\r\n--XyZz-Y? no: binary \x00\xff" * 3
    body = encode_form([("key", "a/${filename}"), ("x-amz-meta-ü", "ü")], file)
    fields, data = asyncio.run(read_form(body, size))
    assert fields == [("key", b"a/${filename}"), ("x-amz-meta-ü", "ü".encode()), ("after", b"ignored")]
    assert data == file


@pytest.mark.parametrize(
    "body",
    [
        b"--XyZzY\r\nContent-Disposition: form-data; name=key\r\n\r\nno end",
        b"--XyZzY\r\nNo-Colon\r\n\r\nx\r\n--XyZzY--",
        b"--XyZzY\r\nContent-Disposition: attachment; name=key\r\n\r\nx\r\n--XyZzY--",
        b"--XyZzY\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZzY--",
        b"--XyZzY\r\n" + b"X: y\r\n" * 3000 + b"\r\n",
        b"",
    ],
    ids=["unterminated", "bad-header", "not-form-data", "no-name", "huge-headers", "empty"],
)
def test_form_reader_malformed(body):
    with pytest.raises(AwsError) as err:
        asyncio.run(read_form(body, 10))
    assert err.value.code == "MalformedPOSTRequest"


def test_boundary_of():
    assert boundary_of('multipart/form-data; boundary="a b"') == b"a b"
    assert boundary_of("Multipart/Form-Data;boundary=xyz") == b"xyz"
    assert boundary_of("application/x-www-form-urlencoded") is None
    assert error_of(boundary_of, "multipart/form-data").code == "MalformedPOSTRequest"


# --- the app, signatures enforced -----------------------------------------------------------------


def client(signature_version: str):
    return boto3.client(
        "s3",
        endpoint_url=ENDPOINT,
        region_name="us-east-1",
        aws_access_key_id=AKID,
        aws_secret_access_key=SECRET,
        config=Config(signature_version=signature_version, s3={"addressing_style": "path"}),
    )


@pytest.fixture
def enforced(tmp_path) -> Iterator:
    settings = Settings(
        service="s3", data_dir=tmp_path, enforce_sigv4=True, credentials={AKID: SECRET}, log_level="WARNING"
    )
    return create_service_app(SPEC, settings)


@asynccontextmanager
async def serving(app) -> AsyncIterator[httpx.AsyncClient]:
    async with app.api.router.lifespan_context(app.api):
        app.api.state.dispatcher.holder["state"].create_bucket("bucket", "000000000000", "us-east-1")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=ENDPOINT) as http:
            yield http


def run(app, scenario) -> None:
    async def main() -> None:
        async with serving(app) as http:
            await scenario(http)

    asyncio.run(main())


def code_of(response: httpx.Response) -> str:
    return response.text.split("<Code>", 1)[1].split("</Code>", 1)[0]


@pytest.mark.parametrize("signature_version", ["s3v4", "s3"])
def test_enforced_presigned_put_and_get(enforced, signature_version):
    s3 = client(signature_version)
    put = s3.generate_presigned_url(
        "put_object", Params={"Bucket": "bucket", "Key": "dir/ü k", "ContentType": "text/plain"}
    )
    get = s3.generate_presigned_url("get_object", Params={"Bucket": "bucket", "Key": "dir/ü k"})

    async def scenario(http: httpx.AsyncClient) -> None:
        assert (
            await http.put(put, content=b"hello", headers={"Content-Type": "text/plain"})
        ).status_code == 200
        got = await http.get(get)
        assert (got.status_code, got.content, got.headers["content-type"]) == (200, b"hello", "text/plain")
        unsigned = await http.get("/bucket/dir/%C3%BC%20k")
        assert unsigned.status_code == 403
        forged = await http.get(get.replace("dir/", "dir2/"))
        assert (forged.status_code, code_of(forged)) == (403, "SignatureDoesNotMatch")
        wrong_type = await http.put(put, content=b"x", headers={"Content-Type": "text/html"})
        assert (wrong_type.status_code, code_of(wrong_type)) == (403, "SignatureDoesNotMatch")

    run(enforced, scenario)


@pytest.mark.parametrize("signature_version", ["s3v4", "s3"])
def test_enforced_post_upload(enforced, signature_version):
    s3 = client(signature_version)
    good = s3.generate_presigned_post("bucket", "up/${filename}", ExpiresIn=60)
    bad = {**good["fields"], "policy": good["fields"]["policy"]}
    bad[next(k for k in bad if k.lower() in ("x-amz-signature", "signature"))] = "0" * 40

    async def scenario(http: httpx.AsyncClient) -> None:
        ok = await http.post("/bucket", data=good["fields"], files={"file": ("a.txt", b"data")})
        assert ok.status_code == 204 and ok.headers["etag"]
        assert (await http.get("/bucket/up/a.txt")).status_code == 403  # reading still needs a signature
        forged = await http.post("/bucket", data=bad, files={"file": ("a.txt", b"data")})
        assert (forged.status_code, code_of(forged)) == (403, "SignatureDoesNotMatch")
        anonymous = await http.post("/bucket", data={"key": "k"}, files={"file": ("a.txt", b"data")})
        assert (anonymous.status_code, code_of(anonymous)) == (403, "AccessDenied")

    run(enforced, scenario)
