"""SigV4 verification against requests botocore itself signed, and aws-chunked decoding."""

from __future__ import annotations

import asyncio
import base64
import io
import zlib
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlsplit

import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum

from shared.aws import sigv4
from shared.aws.errors import AwsError
from shared.aws.http import Headers, HttpRequest

AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
REGION = "eu-west-1"
ENDPOINT = "http://localhost:4566"


def sign(
    signer: type,
    service: str,
    method: str,
    path: str,
    *,
    query: str = "",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    expires: int | None = None,
    context: dict | None = None,
) -> HttpRequest:
    """Sign with botocore, then rebuild the request as the service would receive it off the wire."""
    url = ENDPOINT + path + (f"?{query}" if query else "")
    request = AWSRequest(method=method, url=url, headers=dict(headers or {}), data=body)
    request.context.update(context or {})
    args = (Credentials(AKID, SECRET), service, REGION)
    (signer(*args, expires=expires) if expires is not None else signer(*args)).add_auth(request)
    prepared = request.prepare()
    split = urlsplit(prepared.url)
    wire_headers = list(prepared.headers.items())
    if "host" not in {k.lower() for k, _ in wire_headers}:
        wire_headers.append(("Host", split.netloc))  # what the HTTP client adds
    return HttpRequest.from_url_parts(method, split.path, split.query, wire_headers, body)


def check(req: HttpRequest, secret: str = SECRET, now: datetime | None = None) -> None:
    scope = sigv4.parse_credentials(req.headers, req.query)
    assert scope is not None
    sigv4.verify(req, scope, secret, now=now)


def assert_mismatch(req: HttpRequest, secret: str = SECRET) -> None:
    with pytest.raises(AwsError) as err:
        check(req, secret)
    assert err.value.code == "SignatureDoesNotMatch"
    assert err.value.status == 403
    assert err.value.message.startswith("The request signature we calculated does not match")


# --- header-signed requests ------------------------------------------------------------------


def test_s3_put_with_body_verifies():
    req = sign(
        S3SigV4Auth, "s3", "PUT", "/bucket/key.txt", body=b"hello", headers={"Content-Type": "text/plain"}
    )
    assert req.headers.get("x-amz-content-sha256") != sigv4.UNSIGNED_PAYLOAD
    check(req)


def test_json_service_verifies_with_body_hash():
    body = b'{"TableName": "t"}'
    req = sign(
        SigV4Auth,
        "dynamodb",
        "POST",
        "/",
        headers={
            "X-Amz-Target": "DynamoDB_20120810.DescribeTable",
            "Content-Type": "application/x-amz-json-1.0",
        },
        body=body,
    )
    assert "x-amz-content-sha256" not in req.headers
    check(req)


def test_query_string_is_canonicalized():
    req = sign(SigV4Auth, "sqs", "GET", "/", query="b=2&a=x%20y&a=%2B1&Action=ListQueues&empty=")
    check(req)


@pytest.mark.parametrize("key", ["my file.txt", "ünïcødé/ключ", "a+b=c&d", "tilde~and%percent", "dots/../x"])
def test_s3_paths_are_signed_as_sent(key):
    req = sign(S3SigV4Auth, "s3", "GET", "/bucket/" + quote(key, safe="/~"))
    check(req)


@pytest.mark.parametrize("name", ["my function", "fn+1", "ünï", "a/./b//c/../d"])
def test_other_services_double_encode_and_normalize_paths(name):
    req = sign(
        SigV4Auth, "lambda", "GET", "/2015-03-31/functions/" + quote(name, safe="/~") + "/configuration"
    )
    check(req)


def test_date_header_instead_of_x_amz_date():
    req = sign(SigV4Auth, "sqs", "POST", "/", headers={"Date": "Mon, 01 Jan 2024 00:00:00 GMT"}, body=b"x=1")
    assert "x-amz-date" not in req.headers
    check(req)


def test_header_values_whitespace_is_collapsed():
    req = sign(SigV4Auth, "sqs", "POST", "/", headers={"X-Custom": "  a   b  "}, body=b"x")
    assert req.headers.get("x-custom") == "  a   b  "
    check(req)
    req.headers = Headers([(k, "a \t b" if k.lower() == "x-custom" else v) for k, v in req.headers.items()])
    check(req)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda r: setattr(r, "body", b"tampered"),
        lambda r: setattr(r, "method", "DELETE"),
        lambda r: setattr(r, "path", "/other"),
        lambda r: setattr(r, "query", [*r.query, ("extra", "1")]),
        lambda r: setattr(
            r, "headers", Headers([(k, "evil" if k.lower() == "host" else v) for k, v in r.headers.items()])
        ),
    ],
    ids=["body", "method", "path", "query", "signed-header"],
)
def test_tampered_json_request_is_rejected(tamper):
    req = sign(SigV4Auth, "sqs", "POST", "/", query="a=1", body=b"Action=ListQueues")
    tamper(req)
    assert_mismatch(req)


def test_s3_body_tamper_is_caught_by_declared_hash_mismatch():
    req = sign(S3SigV4Auth, "s3", "PUT", "/b/k", body=b"hello")
    req.headers = Headers(
        [(k, "0" * 64 if k.lower() == "x-amz-content-sha256" else v) for k, v in req.headers.items()]
    )
    assert_mismatch(req)


def test_wrong_secret_is_rejected():
    assert_mismatch(sign(S3SigV4Auth, "s3", "GET", "/b/k"), secret="nope")


def test_unsigned_header_may_change():
    req = sign(SigV4Auth, "sqs", "POST", "/", body=b"x")
    req.headers.add("User-Agent", "anything")
    check(req)


def test_clock_skew_is_rejected():
    req = sign(SigV4Auth, "sqs", "POST", "/", body=b"x")
    with pytest.raises(AwsError) as err:
        check(req, now=datetime.now(UTC) + timedelta(minutes=20))
    assert (err.value.code, err.value.status) == ("RequestTimeTooSkewed", 403)
    check(req, now=datetime.now(UTC) + timedelta(minutes=10))


def test_streaming_trailer_payload_is_signed_by_its_header():
    body = b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n"
    req = sign(
        S3SigV4Auth,
        "s3",
        "PUT",
        "/b/k",
        headers={"Content-Encoding": "aws-chunked", "X-Amz-Trailer": "x-amz-checksum-crc32"},
        body=body,
        context={"checksum": {"request_algorithm": {"in": "trailer", "name": "x-amz-checksum-crc32"}}},
    )
    assert req.headers.get("x-amz-content-sha256") == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    req.body = b""  # the app streams it
    check(req)


def test_stream_of_non_s3_service_is_verified_once_read():
    payload = b'{"hello": "world"}'
    req = sign(SigV4Auth, "lambda", "POST", "/2015-03-31/functions/f/invocations", body=payload)

    async def read(body: bytes) -> bytes:
        req.body = b""
        req.stream = chunks([body[:5], body[5:]])
        check(req)
        return b"".join([c async for c in req.stream])

    assert asyncio.run(read(payload)) == payload
    with pytest.raises(AwsError) as err:
        asyncio.run(read(payload.replace(b"world", b"WORLD")))
    assert err.value.code == "SignatureDoesNotMatch"


def test_sigv2_scope_cannot_be_verified():
    scope = sigv4.parse_credentials(Headers([("Authorization", "AWS AKID:c2ln")]), [])
    with pytest.raises(AwsError) as err:
        sigv4.verify(HttpRequest("GET", "/"), scope, SECRET)
    assert err.value.code == "InvalidRequest"


# --- presigned URLs --------------------------------------------------------------------------


def test_s3_presigned_get_verifies_and_expires():
    req = sign(S3SigV4QueryAuth, "s3", "GET", "/bucket/" + quote("a b+ü", safe="/~"), expires=60)
    scope = sigv4.parse_credentials(req.headers, req.query)
    assert scope.presigned and scope.expires == 60 and scope.service == "s3"
    check(req)
    check(req, now=datetime.now(UTC) + timedelta(seconds=50))
    with pytest.raises(AwsError) as err:
        check(req, now=datetime.now(UTC) + timedelta(seconds=120))
    assert (err.value.code, err.value.message, err.value.status) == (
        "AccessDenied",
        "Request has expired",
        403,
    )


def test_s3_presigned_put_ignores_body():
    req = sign(S3SigV4QueryAuth, "s3", "PUT", "/bucket/key", query="uploadId=1&partNumber=2", expires=300)
    req.body = b"any content: presigned S3 payloads are UNSIGNED-PAYLOAD"
    check(req)


def test_non_s3_presigned_verifies():
    req = sign(SigV4QueryAuth, "sts", "GET", "/", query="Action=GetCallerIdentity&Version=2011-06-15")
    check(req)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda q: [(k, "evil" if k == "X-Amz-Expires" else v) for k, v in q],
        lambda q: [(k, "0" * 64 if k == "X-Amz-Signature" else v) for k, v in q],
        lambda q: [*q, ("response-content-type", "text/html")],
    ],
    ids=["expires", "signature", "added-param"],
)
def test_tampered_presigned_query_is_rejected(tamper):
    req = sign(S3SigV4QueryAuth, "s3", "GET", "/bucket/key", expires=3600)
    req.query = tamper(req.query)
    with pytest.raises(AwsError) as err:
        check(req)
    assert err.value.code in ("SignatureDoesNotMatch", "AuthorizationQueryParametersError")


def test_presigned_expires_over_a_week_is_refused():
    req = sign(S3SigV4QueryAuth, "s3", "GET", "/b/k", expires=sigv4.MAX_PRESIGN_EXPIRES + 1)
    with pytest.raises(AwsError) as err:
        check(req)
    assert err.value.code == "AuthorizationQueryParametersError"


# --- parsing credentials ---------------------------------------------------------------------


def test_parse_authorization_header():
    headers = Headers(
        [
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=123456789012/20240101/us-east-1/s3/aws4_request, "
                "SignedHeaders=Host;x-amz-date, Signature=abc",
            ),
            ("X-Amz-Date", "20240101T000000Z"),
        ]
    )
    assert sigv4.parse_credentials(headers, []) == sigv4.Scope(
        access_key="123456789012",
        date="20240101",
        region="us-east-1",
        service="s3",
        signed_headers=("host", "x-amz-date"),
        signature="abc",
        presigned=False,
        amz_date="20240101T000000Z",
        expires=None,
    )


def test_parse_presigned_query():
    query = [
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
        ("X-Amz-Credential", "AKID/20240101/eu-west-1/sqs/aws4_request"),
        ("X-Amz-Date", "20240101T000000Z"),
        ("X-Amz-Expires", "900"),
        ("X-Amz-SignedHeaders", "host"),
        ("X-Amz-Signature", "def"),
    ]
    scope = sigv4.parse_credentials(Headers(), query)
    assert scope == sigv4.Scope(
        "AKID", "20240101", "eu-west-1", "sqs", ("host",), "def", True, "20240101T000000Z", 900
    )


def test_parse_sigv2_forms():
    assert sigv4.parse_credentials(Headers([("Authorization", "AWS AKID:sig=")]), []).access_key == "AKID"
    scope = sigv4.parse_credentials(Headers(), [("AWSAccessKeyId", "AKID2"), ("Signature", "s")])
    assert (scope.access_key, scope.region) == ("AKID2", "")


@pytest.mark.parametrize(
    "auth",
    [
        "",
        "Bearer token",
        "AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA256 garbage",
        "AWS4-HMAC-SHA256 Credential=",
        "AWS :x",
    ],
)
def test_parse_garbage_returns_none(auth):
    assert sigv4.parse_credentials(Headers([("Authorization", auth)]), []) is None


def test_parse_partial_credential_keeps_access_key():
    headers = Headers([("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/2024, Signature=x")])
    scope = sigv4.parse_credentials(headers, [("X-Amz-Expires", "nan")])
    assert (scope.access_key, scope.region, scope.signed_headers) == ("AKID", "", ())
    presigned = sigv4.parse_credentials(Headers(), [("X-Amz-Credential", "AKID"), ("X-Amz-Expires", "x")])
    assert (presigned.access_key, presigned.expires) == ("AKID", None)


def test_account_for():
    assert sigv4.account_for("123456789012") == "123456789012"
    assert sigv4.account_for("AKIDEXAMPLE") == "000000000000"
    assert sigv4.account_for("1234567890123") == "000000000000"
    assert sigv4.account_for("١٢٣٤٥٦٧٨٩٠١٢") == "000000000000"  # non-ASCII digits
    assert sigv4.account_for(None) == "000000000000"
    assert sigv4.account_for("") == "000000000000"


# --- aws-chunked -----------------------------------------------------------------------------


async def chunks(pieces: Iterable[bytes]) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


def decode(pieces: Iterable[bytes]) -> tuple[bytes, dict[str, str] | None]:
    seen: list[dict[str, str]] = []

    async def run() -> bytes:
        return b"".join([c async for c in sigv4.decode_aws_chunked(chunks(pieces), on_trailers=seen.append)])

    data = asyncio.run(run())
    return data, (seen[0] if seen else None)


SIG = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
SIGNED_BODY = (
    f"a;chunk-signature={SIG}\r\n0123456789\r\n3;chunk-signature={SIG}\r\nabc\r\n0;chunk-signature={SIG}\r\n\r\n"
).encode()
TRAILER_BODY = (
    b"5\r\nhello\r\n6\r\n world\r\n0\r\nX-Amz-Checksum-CRC32:DUoRhQ==\r\nx-amz-trailer-signature:abc\r\n\r\n"
)


@pytest.mark.parametrize(
    ("body", "data", "trailers"),
    [
        (SIGNED_BODY, b"0123456789abc", {}),
        (
            TRAILER_BODY,
            b"hello world",
            {"x-amz-checksum-crc32": "DUoRhQ==", "x-amz-trailer-signature": "abc"},
        ),
        (b"0\r\n\r\n", b"", {}),
    ],
    ids=["signed", "trailers", "empty"],
)
def test_chunked_decodes_at_every_split(body, data, trailers):
    assert decode([body]) == (data, trailers)
    assert decode([body[i : i + 1] for i in range(len(body))]) == (data, trailers)
    for cut in range(1, len(body)):
        assert decode([body[:cut], body[cut:]]) == (data, trailers), cut


def test_chunked_from_botocore_wrapper_with_crc32_trailer():
    payload = bytes(range(256)) * 5
    wrapper = AwsChunkedWrapper(
        io.BytesIO(payload), checksum_cls=Crc32Checksum, checksum_name="x-amz-checksum-crc32", chunk_size=100
    )
    body = wrapper.read()
    crc = base64.b64encode(zlib.crc32(payload).to_bytes(4, "big")).decode()
    assert decode([body[i : i + 37] for i in range(0, len(body), 37)]) == (
        payload,
        {"x-amz-checksum-crc32": crc},
    )
    assert decode([body[i : i + 1] for i in range(len(body))])[0] == payload


def test_chunked_streams_data_before_the_chunk_ends():
    decoder = sigv4.AwsChunkedDecoder()
    assert decoder.feed(b"10\r\nabcd") == [b"abcd"]
    assert decoder.feed(b"efgh") == [b"efgh"]
    assert decoder.feed(b"ijklmnop\r\n0\r\n\r\n") == [b"ijklmnop"]
    assert decoder.done


def test_chunked_tolerates_missing_final_crlf():
    assert decode([b"3\r\nabc\r\n0\r\n"]) == (b"abc", {})


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"zz\r\nabc\r\n0\r\n\r\n", "InvalidRequest"),
        (b"0x3\r\nabc\r\n0\r\n\r\n", "InvalidRequest"),
        (b"3\r\nabcd\r\n0\r\n\r\n", "InvalidRequest"),
        (b"3\nabc\r\n0\r\n\r\n", "InvalidRequest"),
        (b"0\r\nno-colon\r\n\r\n", "InvalidRequest"),
        (b"0\r\n\r\nextra", "InvalidRequest"),
        (b"5\r\nabc", "IncompleteBody"),
        (b"3\r\nabc\r\n", "IncompleteBody"),
        (b"", "IncompleteBody"),
        (b"1" * (sigv4.MAX_LINE + 10), "InvalidRequest"),
    ],
    ids=[
        "hex",
        "0x",
        "overlong-data",
        "bare-lf",
        "trailer",
        "extra",
        "truncated",
        "no-final",
        "empty",
        "long-line",
    ],
)
def test_chunked_malformed(body, code):
    with pytest.raises(AwsError) as err:
        decode([body[i : i + 3] for i in range(0, len(body), 3)])
    assert (err.value.code, err.value.status) == (code, 400)


def test_host_falls_back_to_request_host():
    req = sign(SigV4Auth, "sqs", "POST", "/", body=b"x")
    req.headers = Headers([(k, v) for k, v in req.headers.items() if k.lower() != "host"])
    req.host = "localhost:4566"
    check(req)


# --- whole requests from a botocore client ---------------------------------------------------


class _Captured(Exception):
    def __init__(self, request) -> None:
        self.request = request


def client_request(service: str, operation: str, **params) -> HttpRequest:
    """The request a real botocore client sends (checksums, user agent, Expect ...), caught before sending."""
    import botocore.session

    session = botocore.session.get_session()
    client = session.create_client(
        service,
        region_name=REGION,
        endpoint_url=ENDPOINT,
        aws_access_key_id=AKID,
        aws_secret_access_key=SECRET,
    )

    def capture(request, **_):
        raise _Captured(request)

    client.meta.events.register("before-send", capture)
    with pytest.raises(_Captured) as caught:
        getattr(client, operation)(**params)
    prepared = caught.value.request
    body = prepared.body or b""
    body = body.read() if hasattr(body, "read") else body
    split = urlsplit(prepared.url)
    headers = list(prepared.headers.items())
    if not any(k.lower() == "host" for k, _ in headers):  # the CRT signer (awscrt installed) sets it itself
        headers.append(("Host", split.netloc))
    headers = [(k, v.decode() if isinstance(v, bytes) else v) for k, v in headers]
    body = body.encode() if isinstance(body, str) else body
    return HttpRequest.from_url_parts(prepared.method, split.path, split.query, headers, body)


@pytest.mark.parametrize(
    ("service", "operation", "params"),
    [
        ("s3", "put_object", {"Bucket": "bucket", "Key": "dir/my file+ü.txt", "Body": b"data"}),
        ("s3", "list_objects_v2", {"Bucket": "bucket", "Prefix": "a b/", "Delimiter": "/"}),
        ("sqs", "send_message", {"QueueUrl": f"{ENDPOINT}/000000000000/q", "MessageBody": "hi ü"}),
        ("lambda", "invoke", {"FunctionName": "my-fn", "Payload": b'{"a": 1}'}),
        ("dynamodb", "list_tables", {}),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_real_client_requests_verify(service, operation, params):
    req = client_request(service, operation, **params)
    check(req)
    req.body = req.body + b"!" if req.body else b"!"
    if req.headers.get("x-amz-content-sha256") is None:
        assert_mismatch(req)


# --- chunk signatures: AWS's documented examples -----------------------------------------------
# "Signature Calculations for the Authorization Header: Transferring Payload in Multiple Chunks" and
# "... Including Trailing Headers" (S3 API reference): 66560 bytes of "a" in chunks of 65536, 1024, 0.

DOC_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
DOC_NOW = datetime(2013, 5, 24, 0, 5, tzinfo=UTC)
DOC_CHUNKS = (b"a" * 65536, b"a" * 1024, b"")
DOC_SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
DOC_SIGNATURES = (
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
)
DOC_TRAILER_SEED = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
DOC_TRAILER_SIGNATURES = (
    "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
    "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
    "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
)
DOC_TRAILER = "x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n"


def doc_request(seed: str = DOC_SEED, mode: str = sigv4.STREAMING_PAYLOAD) -> HttpRequest:
    headers = [
        ("Host", "s3.amazonaws.com"),
        ("x-amz-date", "20130524T000000Z"),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        (
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders="
            "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;"
            f"x-amz-storage-class,Signature={seed}",
        ),
        ("x-amz-content-sha256", mode),
        ("Content-Encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "66560"),
        ("Content-Length", "66824"),
    ]
    return HttpRequest.from_url_parts("PUT", "/examplebucket/chunkObject.txt", "", headers)


def doc_body(signatures=DOC_SIGNATURES, chunks_=DOC_CHUNKS, trailer: str = "") -> bytes:
    framed = [
        f"{len(data):x};chunk-signature={sig}\r\n".encode() + data + (b"\r\n" if data else b"")
        for data, sig in zip(chunks_, signatures, strict=True)
    ]
    return b"".join(framed) + trailer.encode() + b"\r\n"


def doc_signer(seed: str = DOC_SEED, mode: str = sigv4.STREAMING_PAYLOAD) -> sigv4.ChunkSigner:
    req = doc_request(seed, mode)
    scope = sigv4.parse_credentials(req.headers, req.query)
    assert scope is not None
    signer = sigv4.chunk_signer(req.headers, scope, DOC_SECRET)
    assert signer is not None
    return signer


def decode_signed(
    body: bytes, signer: sigv4.ChunkSigner | None, piece: int = 4096, decoded_length: int | None = None
) -> tuple[bytes, dict[str, str]]:
    seen: dict[str, str] = {}

    async def run() -> bytes:
        pieces = [body[i : i + piece] for i in range(0, len(body), piece)]
        stream = sigv4.decode_aws_chunked(
            chunks(pieces), on_trailers=seen.update, signer=signer, decoded_length=decoded_length
        )
        return b"".join([c async for c in stream])

    return asyncio.run(run()), seen


def test_doc_seed_signature_verifies():
    req = doc_request()
    scope = sigv4.parse_credentials(req.headers, req.query)
    assert scope is not None
    sigv4.verify(req, scope, DOC_SECRET, now=DOC_NOW)


@pytest.mark.parametrize("piece", [1 << 20, 4096, 997, 64])
def test_doc_chunk_signatures_verify(piece):
    data, trailers = decode_signed(doc_body(), doc_signer(), piece, decoded_length=66560)
    assert data == b"a" * 66560
    assert trailers == {}


def test_doc_signed_trailer_verifies():
    body = doc_body(DOC_TRAILER_SIGNATURES, trailer=DOC_TRAILER)
    data, trailers = decode_signed(body, doc_signer(DOC_TRAILER_SEED, sigv4.STREAMING_PAYLOAD_TRAILER))
    assert data == b"a" * 66560
    assert trailers["x-amz-checksum-crc32c"] == "sOO8/Q=="


def _mismatch(body: bytes, signer: sigv4.ChunkSigner, piece: int = 4096) -> list[bytes]:
    """Decode a body that must fail; returns what was passed on before the failure."""
    passed: list[bytes] = []

    async def run() -> None:
        pieces = [body[i : i + piece] for i in range(0, len(body), piece)]
        async for data in sigv4.decode_aws_chunked(chunks(pieces), signer=signer):
            passed.append(data)

    with pytest.raises(AwsError) as err:
        asyncio.run(run())
    assert (err.value.code, err.value.status) == ("SignatureDoesNotMatch", 403)
    return passed


def test_tampered_chunk_data_fails_at_the_end_of_that_chunk():
    body = bytearray(doc_body())
    body[len(body) - 600] = ord("b")  # inside the second chunk
    first = doc_body()[: doc_body().index(b"400;")]  # the first chunk, framed
    passed = _mismatch(bytes(body), doc_signer(), piece=len(first))
    assert (
        b"".join(passed) == b"a" * 65536
    )  # the second chunk arrived whole and failed before it was passed on


@pytest.mark.parametrize(
    "signatures",
    [
        (DOC_SIGNATURES[1], DOC_SIGNATURES[0], DOC_SIGNATURES[2]),  # reordered
        (*DOC_SIGNATURES[:2], "0" * 64),  # final 0-byte chunk
        (DOC_SIGNATURES[0], DOC_SIGNATURES[1].upper()[:-1], DOC_SIGNATURES[2]),
    ],
    ids=["reordered", "final-chunk", "truncated"],
)
def test_bad_chunk_signatures_are_refused(signatures):
    _mismatch(doc_body(signatures), doc_signer())


def test_missing_chunk_signature_is_refused():
    body = doc_body().replace(f";chunk-signature={DOC_SIGNATURES[1]}".encode(), b"")
    _mismatch(body, doc_signer())


def test_wrong_seed_breaks_the_chain():
    _mismatch(doc_body(), doc_signer(DOC_TRAILER_SEED))


@pytest.mark.parametrize(
    "trailer",
    [
        DOC_TRAILER.replace("sOO8/Q==", "AAAAAA=="),
        DOC_TRAILER.split("\r\n")[0] + "\r\n",  # no trailer signature
        DOC_TRAILER.replace("d81f", "d82f"),
    ],
    ids=["value", "missing", "signature"],
)
def test_bad_signed_trailers_are_refused(trailer):
    body = doc_body(DOC_TRAILER_SIGNATURES, trailer=trailer)
    _mismatch(body, doc_signer(DOC_TRAILER_SEED, sigv4.STREAMING_PAYLOAD_TRAILER))


@pytest.mark.parametrize(
    "mode", [sigv4.STREAMING_UNSIGNED_TRAILER, sigv4.UNSIGNED_PAYLOAD, sigv4.EMPTY_SHA256]
)
def test_no_chunk_signer_without_signed_chunks(mode):
    req = doc_request(mode=mode)
    scope = sigv4.parse_credentials(req.headers, req.query)
    assert scope is not None
    assert sigv4.chunk_signer(req.headers, scope, DOC_SECRET) is None


@pytest.mark.parametrize(("declared", "sent"), [(5, 11), (20, 11)])
def test_decoded_length_must_match(declared, sent):
    passed: list[bytes] = []

    async def run() -> None:
        stream = sigv4.decode_aws_chunked(chunks([TRAILER_BODY]), decoded_length=declared)
        async for data in stream:
            passed.append(data)

    with pytest.raises(AwsError) as err:
        asyncio.run(run())
    assert (err.value.code, err.value.status) == ("IncompleteBody", 400)
    assert err.value.fields == {"NumberBytesExpected": str(declared), "NumberBytesProvided": str(sent)}
    assert sum(map(len, passed)) == min(declared, sent)  # nothing beyond the declared size is passed on


def test_decoded_length_that_matches_passes():
    assert decode_signed(TRAILER_BODY, None, 3, decoded_length=11)[0] == b"hello world"
