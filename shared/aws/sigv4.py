"""AWS request authentication: read the caller's credentials, check SigV4 signatures, decode aws-chunked.

Every service needs the account and region of a request (``parse_credentials`` + ``account_for``) even
when signatures are not enforced; ``verify`` recomputes the signature exactly as botocore computes it
(botocore is the reference because every SDK we test with signs through it or agrees with it).

``decode_aws_chunked`` turns the framed body S3 clients send for streaming uploads
(``Content-Encoding: aws-chunked``) back into the object bytes, streaming; given a ``ChunkSigner``
(``chunk_signer``) it also checks the chain of chunk and trailer signatures as the chunks arrive.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

from shared.aws.errors import SIGNATURE_MISMATCH_MESSAGE, AwsError
from shared.aws.http import Headers, HttpRequest

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
STREAMING_PAYLOAD = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_PAYLOAD_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
# What x-amz-content-sha256 may say instead of the body's digest (the ECDSA ones are SigV4a's).
PAYLOAD_MODES = frozenset(
    {
        UNSIGNED_PAYLOAD,
        STREAMING_PAYLOAD,
        STREAMING_PAYLOAD_TRAILER,
        STREAMING_UNSIGNED_TRAILER,
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER",
    }
)
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
DEFAULT_ACCOUNT = "000000000000"
MAX_SKEW = timedelta(minutes=15)
MAX_PRESIGN_EXPIRES = 7 * 24 * 3600  # a week, AWS's limit for X-Amz-Expires
_AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
_ACCOUNT_KEY = re.compile(r"[0-9]{12}")
_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")
_MISMATCH_MESSAGE = SIGNATURE_MISMATCH_MESSAGE


@dataclass(frozen=True)
class Scope:
    """What a request says about its signer. SigV2-style credentials (``sigv2``) carry only
    ``access_key`` and ``signature`` (``date``, ``region`` and ``service`` are empty); a SigV2
    presigned URL's ``expires`` is its ``Expires`` parameter, the epoch second it expires at, where
    a SigV4 one's is ``X-Amz-Expires``, seconds after ``amz_date``."""

    access_key: str
    date: str = ""
    region: str = ""
    service: str = ""
    signed_headers: tuple[str, ...] = ()
    signature: str = ""
    presigned: bool = False
    amz_date: str | None = None
    expires: int | None = None
    sigv2: bool = False


# ---------------------------------------------------------------------------------------------
# Reading credentials


def parse_credentials(headers: Headers, query: list[tuple[str, str]]) -> Scope | None:
    """The credentials of a request, from its Authorization header or presigned query string.

    Never raises: garbage yields ``None`` (no access key readable) or a partial ``Scope``.
    """
    auth = (headers.get("authorization") or "").strip()
    if auth:
        return _parse_authorization(auth, headers)
    params = _first_values(query)
    if "X-Amz-Credential" in params or "X-Amz-Algorithm" in params:
        return _parse_presigned(params)
    if params.get("AWSAccessKeyId"):
        expires = params.get("Expires", "")
        return Scope(
            access_key=params["AWSAccessKeyId"],
            signature=params.get("Signature", ""),
            presigned=True,
            expires=int(expires) if expires.isascii() and expires.isdigit() else None,
            sigv2=True,
        )
    return None


def _parse_authorization(auth: str, headers: Headers) -> Scope | None:
    scheme, _, rest = auth.partition(" ")
    if scheme == ALGORITHM:
        fields = _auth_fields(rest)
        credential = _parse_credential(fields.get("Credential", ""))
        if credential is None:
            return None
        return Scope(
            **credential,
            signed_headers=_split_signed_headers(fields.get("SignedHeaders", "")),
            signature=fields.get("Signature", ""),
            amz_date=_header_amz_date(headers),
        )
    if scheme == "AWS":
        access_key, _, signature = rest.strip().partition(":")
        return Scope(access_key=access_key, signature=signature, sigv2=True) if access_key else None
    return None


def _parse_presigned(params: dict[str, str]) -> Scope | None:
    credential = _parse_credential(params.get("X-Amz-Credential", ""))
    if credential is None:
        return None
    expires = params.get("X-Amz-Expires", "")
    return Scope(
        **credential,
        signed_headers=_split_signed_headers(params.get("X-Amz-SignedHeaders", "")),
        signature=params.get("X-Amz-Signature", ""),
        presigned=True,
        amz_date=params.get("X-Amz-Date") or None,
        expires=int(expires) if expires.isascii() and expires.isdigit() else None,
    )


def _auth_fields(text: str) -> dict[str, str]:
    """``Credential=..., SignedHeaders=..., Signature=...`` as a dict (commas or spaces may separate)."""
    fields: dict[str, str] = {}
    for part in re.split(r"[,\s]+", text):
        name, sep, value = part.partition("=")
        if sep:
            fields.setdefault(name, value)
    return fields


def _parse_credential(credential: str) -> dict[str, str] | None:
    """``AKID/20240101/us-east-1/s3/aws4_request`` -> access_key, date, region, service."""
    parts = credential.strip().split("/")
    if len(parts) >= 5:
        access_key = "/".join(parts[:-4])
        date, region, service = parts[-4:-1]
    else:
        access_key, date, region, service = parts[0], "", "", ""
    if not access_key:
        return None
    return {"access_key": access_key, "date": date, "region": region, "service": service}


def _split_signed_headers(value: str) -> tuple[str, ...]:
    return tuple(h.strip().lower() for h in value.split(";") if h.strip())


def _header_amz_date(headers: Headers) -> str | None:
    """The signing time: ``X-Amz-Date``, else the ``Date`` header (botocore signs with either)."""
    amz_date = headers.get("x-amz-date")
    if amz_date:
        return amz_date.strip()
    date = headers.get("date")
    if not date:
        return None
    try:
        return parsedate_to_datetime(date).astimezone(UTC).strftime(_AMZ_DATE_FORMAT)
    except (TypeError, ValueError):
        return None


def _first_values(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in pairs:
        out.setdefault(name, value)
    return out


def account_for(access_key: str | None) -> str:
    """The account a request acts in: a 12-digit access key *is* the account id (an easy way for
    tests to use several accounts); every other key maps to the default account."""
    if access_key and _ACCOUNT_KEY.fullmatch(access_key):
        return access_key
    return DEFAULT_ACCOUNT


# ---------------------------------------------------------------------------------------------
# Verifying signatures


def verify(req: HttpRequest, scope: Scope, secret: str, *, now: datetime | None = None) -> None:
    """Recompute the SigV4 signature of ``req`` and raise ``AwsError`` unless it matches ``scope``.

    ``now`` (timezone-aware) exists for tests. When the payload hash is neither in a header nor
    computable up front (a streaming body of a non-S3 service, e.g. Lambda Invoke), ``req.stream``
    is wrapped so that the signature is checked once the body has been read: the last read raises.
    """
    if not (scope.date and scope.region and scope.service):
        raise AwsError(
            "InvalidRequest",
            "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.",
            400,
        )
    if not scope.signature:
        raise AwsError("IncompleteSignature", "The request signature is missing.", 403)
    signed_at = _check_time(scope, now or datetime.now(UTC))
    payload_hash = _payload_hash(req, scope)
    if payload_hash is None:
        _verify_after_stream(req, scope, secret, signed_at)
        return
    _compare(req, scope, secret, signed_at, payload_hash)


def _compare(req: HttpRequest, scope: Scope, secret: str, signed_at: str, payload_hash: str) -> None:
    canonical = canonical_request(req, scope, payload_hash)
    expected = _signature(secret, scope, signed_at, canonical)
    if not hmac.compare_digest(expected, scope.signature.strip().lower()):
        raise AwsError("SignatureDoesNotMatch", _MISMATCH_MESSAGE, 403)


def _check_time(scope: Scope, now: datetime) -> str:
    """The request's signing timestamp, after checking presigned expiry or header clock skew."""
    signed = _parse_amz_date(scope.amz_date)
    if signed is None:
        raise AwsError("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header", 403)
    if scope.presigned:
        _check_presigned_expiry(scope, signed, now)
    elif abs(now - signed) > MAX_SKEW:
        raise AwsError(
            "RequestTimeTooSkewed",
            "The difference between the request time and the current time is too large.",
            403,
        )
    return signed.strftime(_AMZ_DATE_FORMAT)


def _check_presigned_expiry(scope: Scope, signed: datetime, now: datetime) -> None:
    if scope.expires is None:
        raise AwsError(
            "AuthorizationQueryParametersError", "X-Amz-Expires must be a non-negative integer.", 400
        )
    if scope.expires > MAX_PRESIGN_EXPIRES:
        raise AwsError(
            "AuthorizationQueryParametersError",
            f"X-Amz-Expires must be less than a week (in seconds) that is {MAX_PRESIGN_EXPIRES}",
            400,
        )
    if now > signed + timedelta(seconds=scope.expires):
        raise _expired(scope, signed + timedelta(seconds=scope.expires), now)
    if signed - now > MAX_SKEW:
        raise AwsError("AccessDenied", "Request is not valid yet", 403)


def check_expiry(scope: Scope, now: datetime | None = None) -> None:
    """Refuse a presigned URL (SigV4 or SigV2) past its expiry: ``AccessDenied`` "Request has expired".

    The app runs this on every request, signatures enforced or not, so that code under test sees
    its expired URLs fail as they would on AWS. Only readable values are checked here; ``verify``
    rejects malformed ones when signatures are enforced.
    """
    if not scope.presigned or scope.expires is None:
        return
    if scope.sigv2:
        try:
            deadline = datetime.fromtimestamp(scope.expires, UTC)
        except (OverflowError, OSError, ValueError):
            return  # beyond any calendar: never expires
    else:
        signed = _parse_amz_date(scope.amz_date)
        if signed is None:
            return
        deadline = signed + timedelta(seconds=min(scope.expires, 10**9))
    now = now or datetime.now(UTC)
    if now > deadline:
        raise _expired(scope, deadline, now)


def _expired(scope: Scope, deadline: datetime, now: datetime) -> AwsError:
    """S3's answer to an expired URL, with the extra ``<Error>`` elements AWS sends."""
    fields = {} if scope.sigv2 else {"X-Amz-Expires": str(scope.expires)}
    fields["Expires"] = deadline.strftime("%Y-%m-%dT%H:%M:%SZ")
    fields["ServerTime"] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    return AwsError("AccessDenied", "Request has expired", 403, fields=fields)


def _parse_amz_date(value: str | None) -> datetime | None:
    try:
        return datetime.strptime(value or "", _AMZ_DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def canonical_request(req: HttpRequest, scope: Scope, payload_hash: str) -> str:
    """The SigV4 canonical request, as botocore builds it for ``scope.service``."""
    return "\n".join(
        [
            req.method.upper(),
            canonical_uri(req.path, scope.service),
            canonical_query(req.query, drop_signature=scope.presigned),
            _canonical_headers(req, scope.signed_headers) + "\n",
            ";".join(scope.signed_headers),
            payload_hash,
        ]
    )


def canonical_uri(raw_path: str, service: str) -> str:
    """S3 signs the path exactly as sent; every other service signs the dot-segment-normalized path
    URI-encoded once more (so ``%20`` on the wire is ``%2520`` in the canonical request)."""
    if service == "s3":
        return raw_path or "/"
    path = _remove_dot_segments(raw_path) or "/"
    return quote(path.encode("latin-1", "replace"), safe="/~")


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 dot-segment removal, plus collapsing empty segments (as AWS and botocore do)."""
    out: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if out:
                out.pop()
        elif segment and segment != ".":
            out.append(segment)
    lead = "/" if path.startswith("/") else ""
    trail = "/" if path.endswith("/") and out else ""
    return lead + "/".join(out) + trail


def canonical_query(query: list[tuple[str, str]], *, drop_signature: bool = False) -> str:
    """Decoded query pairs re-encoded (RFC 3986 unreserved kept) and sorted by encoded key, then value."""
    pairs = sorted(
        (_uri_encode(name), _uri_encode(value))
        for name, value in query
        if not (drop_signature and name == "X-Amz-Signature")
    )
    return "&".join(f"{name}={value}" for name, value in pairs)


def _uri_encode(text: str) -> str:
    return quote(text, safe="-_.~")


def _canonical_headers(req: HttpRequest, names: tuple[str, ...]) -> str:
    lines = []
    for name in names:
        values = req.headers.get_all(name)
        if not values and name == "host" and req.host:
            values = [req.host]
        lines.append(f"{name}:{','.join(' '.join(v.split()) for v in values)}")
    return "\n".join(lines)


def _payload_hash(req: HttpRequest, scope: Scope) -> str | None:
    """The payload hash the client signed, or None when it can only be known after reading the stream."""
    declared = req.headers.get("x-amz-content-sha256")
    if declared and (not scope.presigned or "x-amz-content-sha256" in scope.signed_headers):
        return declared.strip()
    if scope.presigned and scope.service == "s3":
        return UNSIGNED_PAYLOAD
    if req.stream is not None and not req.body:
        return None
    return hashlib.sha256(req.body).hexdigest()


def _verify_after_stream(req: HttpRequest, scope: Scope, secret: str, signed_at: str) -> None:
    source = req.stream
    assert source is not None

    async def checked() -> AsyncIterator[bytes]:
        digest = hashlib.sha256()
        async for chunk in source:
            digest.update(chunk)
            yield chunk
        _compare(req, scope, secret, signed_at, digest.hexdigest())

    req.stream = checked()


def _signature(secret: str, scope: Scope, signed_at: str, canonical: str) -> str:
    credential_scope = f"{scope.date}/{scope.region}/{scope.service}/aws4_request"
    string_to_sign = "\n".join(
        [ALGORITHM, signed_at, credential_scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest()]
    )
    key = signing_key(secret, scope.date, scope.region, scope.service)
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """The SigV4 key derived for one day, region and service (S3 POST forms sign their policy with it)."""
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


# ---------------------------------------------------------------------------------------------
# Declared payload hashes (x-amz-content-sha256)


def is_sha256_hex(value: str) -> bool:
    return bool(_SHA256_HEX.fullmatch(value))


class PayloadCheck:
    """The body's SHA-256, computed as the body streams past, against the digest the client declared
    in ``x-amz-content-sha256``.

    The signature only proves that the client signed that *declaration*; nothing but this check ties
    it to the bytes that arrived. ``wrap`` passes the (raw, still framed) body through unchanged;
    with ``check_at_end`` its last read raises ``on_mismatch(computed)`` instead of ending, so a
    consumer that commits only after a clean end (S3's object writes) commits nothing. Otherwise
    the caller runs ``check`` when it chooses (after the signature check, which AWS runs first).
    """

    __slots__ = ("declared", "computed", "_on_mismatch")

    def __init__(self, declared: str, on_mismatch: Callable[[str], AwsError]) -> None:
        self.declared = declared.lower()
        self.computed: str | None = None  # known once the body has been read to its end
        self._on_mismatch = on_mismatch

    async def wrap(self, chunks: AsyncIterator[bytes], *, check_at_end: bool) -> AsyncIterator[bytes]:
        digest = hashlib.sha256()
        async for chunk in chunks:
            digest.update(chunk)
            yield chunk
        self.computed = digest.hexdigest()
        if check_at_end:
            self.check()

    def check(self) -> None:
        """Raise unless the body read so far hashes to the declared digest (a no-op before its end)."""
        if self.computed is not None and self.computed != self.declared:
            raise self._on_mismatch(self.computed)


# ---------------------------------------------------------------------------------------------
# Chunk signatures (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER])


class ChunkSigner:
    """The signature chain of a chunk-signed ``aws-chunked`` body.

    Each chunk carries ``chunk-signature=<sig>``: the HMAC (with the request's signing key) of
    ``AWS4-HMAC-SHA256-PAYLOAD\\n<amz-date>\\n<scope>\\n<previous signature>\\n<sha256("")>\\n<sha256(data)>``,
    where the first chunk's previous signature is the request's own (the *seed*) and the final
    0-byte chunk is signed too. A signed trailer (``x-amz-trailer-signature``) chains on the final
    chunk's signature: ``AWS4-HMAC-SHA256-TRAILER\\n<amz-date>\\n<scope>\\n<previous>\\n<sha256(trailers)>``,
    the trailers canonical as ``name:value\\n`` each. A chain that breaks raises S3's
    ``SignatureDoesNotMatch`` (403).
    """

    def __init__(self, key: bytes, signed_at: str, credential_scope: str, seed: str, *, trailer: bool):
        self._key = key
        self._middle = f"\n{signed_at}\n{credential_scope}\n"
        self.previous = seed.strip().lower()
        self.trailer = trailer  # the trailers are signed (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER)

    def check_chunk(self, sent: str | None, data_sha256: str) -> None:
        self.previous = self._check("AWS4-HMAC-SHA256-PAYLOAD", sent, f"{EMPTY_SHA256}\n{data_sha256}")

    def check_trailer(self, sent: str | None, trailers: dict[str, str]) -> None:
        canonical = "".join(f"{name}:{value}\n" for name, value in sorted(trailers.items()))
        self._check("AWS4-HMAC-SHA256-TRAILER", sent, hashlib.sha256(canonical.encode("utf-8")).hexdigest())

    def _check(self, algorithm: str, sent: str | None, tail: str) -> str:
        string_to_sign = f"{algorithm}{self._middle}{self.previous}\n{tail}"
        expected = hmac.new(self._key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
        given = (sent or "").strip().lower().encode("latin-1", "replace")
        if not hmac.compare_digest(expected.encode("ascii"), given):
            raise AwsError("SignatureDoesNotMatch", _MISMATCH_MESSAGE, 403)
        return expected


def chunk_signer(headers: Headers, scope: Scope, secret: str) -> ChunkSigner | None:
    """The chain to check a chunk-signed body against, seeded with the request's signature; None
    unless ``x-amz-content-sha256`` declares chunk signatures (unsigned-trailer and plain bodies
    carry none). The seed itself is checked by ``verify``: a wrong seed fails both."""
    mode = (headers.get("x-amz-content-sha256") or "").strip()
    if mode not in (STREAMING_PAYLOAD, STREAMING_PAYLOAD_TRAILER) or scope.presigned or scope.sigv2:
        return None
    signed = _parse_amz_date(scope.amz_date)
    if signed is None or not (scope.date and scope.region and scope.service and scope.signature):
        return None
    return ChunkSigner(
        signing_key(secret, scope.date, scope.region, scope.service),
        signed.strftime(_AMZ_DATE_FORMAT),
        f"{scope.date}/{scope.region}/{scope.service}/aws4_request",
        scope.signature,
        trailer=mode == STREAMING_PAYLOAD_TRAILER,
    )


# ---------------------------------------------------------------------------------------------
# aws-chunked bodies

MAX_LINE = 8192  # a chunk header or trailer line; real ones are < 200 bytes
_HEX_SIZE = re.compile(rb"[0-9a-fA-F]{1,16}")
_TRAILER_SIGNATURE = "x-amz-trailer-signature"


class AwsChunkedDecoder:
    """Push parser for ``aws-chunked`` framing::

        <hex-size>[;chunk-signature=<sig>]\\r\\n<data>\\r\\n ... 0[;...]\\r\\n[<name>:<value>\\r\\n]*\\r\\n

    Memory stays bounded: data is passed through as slices of the input and only a partial line
    (at most ``MAX_LINE`` bytes) is kept between feeds. With a ``signer`` every chunk's signature
    is checked when its last byte arrives (data of a chunk is passed on before that: a consumer
    must not commit what it wrote until the stream has ended cleanly), the final chunk's when it is
    read, and a signed trailer's at the end. With ``decoded_length`` (``x-amz-decoded-content-length``)
    the decoded size must match it: bytes beyond it are counted but not passed on, and ``finish``
    raises S3's ``IncompleteBody``. Trailing checksums are handed to the caller, who may check them.
    """

    def __init__(self, signer: ChunkSigner | None = None, decoded_length: int | None = None) -> None:
        self._line = bytearray()
        self._remaining = 0  # data bytes left in the current chunk
        self._state = "size"  # size -> data -> data-end -> size ... -> trailers -> done
        self._signer = signer
        self._chunk_signature: str | None = None
        self._digest: Any = None  # sha256 of the current chunk's data, when signatures are checked
        self._decoded_length = decoded_length
        self.decoded = 0  # data bytes read so far
        self.trailers: dict[str, str] = {}

    @property
    def done(self) -> bool:
        return self._state == "done"

    def feed(self, data: bytes) -> list[bytes]:
        """Consume ``data``; return the decoded payload pieces it completed."""
        out: list[bytes] = []
        pos = 0
        while pos < len(data):
            if self._state == "done":
                raise _framing_error("InvalidRequest", "Unexpected bytes after the final aws-chunked chunk.")
            if self._state == "data":
                take = min(self._remaining, len(data) - pos)
                self._on_data(data[pos : pos + take], out)
                pos += take
                continue
            line, pos = self._read_line(data, pos)
            if line is not None:
                self._on_line(line)
        return out

    def finish(self) -> None:
        """The input ended: fail unless the framing was complete and the size the one declared."""
        if self._state == "trailers" and not self._line and not self.trailers:
            self._end()  # tolerate clients that stop right after the ``0`` chunk line
        if self._state != "done":
            raise _framing_error("IncompleteBody", "The aws-chunked body ended before its final chunk.")
        if self._decoded_length is not None and self.decoded != self._decoded_length:
            raise AwsError(
                "IncompleteBody",
                "You did not provide the number of bytes specified by the Content-Length HTTP header",
                400,
                fields={
                    "NumberBytesExpected": str(self._decoded_length),
                    "NumberBytesProvided": str(self.decoded),
                },
            )

    def _on_data(self, piece: bytes, out: list[bytes]) -> None:
        if self._digest is not None:
            self._digest.update(piece)
        allowed = len(piece)
        if self._decoded_length is not None:
            allowed = max(0, min(allowed, self._decoded_length - self.decoded))
        self.decoded += len(piece)
        out.append(piece if allowed == len(piece) else piece[:allowed])
        self._remaining -= len(piece)
        if self._remaining == 0:
            self._state = "data-end"
            if self._signer is not None:
                self._signer.check_chunk(self._chunk_signature, self._digest.hexdigest())

    def _read_line(self, data: bytes, pos: int) -> tuple[bytes | None, int]:
        end = data.find(b"\n", pos)
        if end < 0:
            self._line += data[pos:]
            self._check_line_length()
            return None, len(data)
        self._line += data[pos : end + 1]
        self._check_line_length()
        line = bytes(self._line)
        self._line.clear()
        if not line.endswith(b"\r\n"):
            raise _framing_error("InvalidRequest", "aws-chunked lines must end with CRLF.")
        return line[:-2], end + 1

    def _check_line_length(self) -> None:
        if len(self._line) > MAX_LINE:
            raise _framing_error("InvalidRequest", f"aws-chunked header line longer than {MAX_LINE} bytes.")

    def _on_line(self, line: bytes) -> None:
        getattr(self, "_line_" + self._state.replace("-", "_"))(line)

    def _line_size(self, line: bytes) -> None:
        size, _, extensions = line.partition(b";")
        size = size.strip()
        if not _HEX_SIZE.fullmatch(size):
            raise _framing_error("InvalidRequest", f"Invalid aws-chunked chunk size line {line[:80]!r}.")
        self._remaining = int(size, 16)
        self._state = "data" if self._remaining else "trailers"
        if self._signer is None:
            return
        self._chunk_signature = _chunk_signature(extensions)
        if self._remaining:
            self._digest = hashlib.sha256()
        else:
            self._signer.check_chunk(self._chunk_signature, EMPTY_SHA256)

    def _line_data_end(self, line: bytes) -> None:
        if line:
            raise _framing_error("InvalidRequest", "aws-chunked chunk data is longer than its declared size.")
        self._state = "size"

    def _line_trailers(self, line: bytes) -> None:
        if not line:
            self._end()
            return
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep or not name.strip():
            raise _framing_error("InvalidRequest", f"Invalid aws-chunked trailer line {line[:80]!r}.")
        self.trailers[name.strip().lower()] = value.strip()

    def _end(self) -> None:
        """The last line: a signed trailer block must carry a matching ``x-amz-trailer-signature``."""
        self._state = "done"
        if self._signer is not None and self._signer.trailer and self.trailers:
            signed = {k: v for k, v in self.trailers.items() if k != _TRAILER_SIGNATURE}
            self._signer.check_trailer(self.trailers.get(_TRAILER_SIGNATURE), signed)


def _chunk_signature(extensions: bytes) -> str | None:
    """The ``chunk-signature`` extension of a chunk size line (``;chunk-signature=<hex>``)."""
    for extension in extensions.split(b";"):
        name, _, value = extension.partition(b"=")
        if name.strip() == b"chunk-signature":
            return value.strip().decode("latin-1")
    return None


def _framing_error(code: str, message: str) -> AwsError:
    return AwsError(code, message, 400)


async def decode_aws_chunked(
    chunks: AsyncIterator[bytes],
    on_trailers: Callable[[dict[str, str]], None] | None = None,
    *,
    signer: ChunkSigner | None = None,
    decoded_length: int | None = None,
) -> AsyncIterator[bytes]:
    """Decode an ``aws-chunked`` body as it arrives (see ``AwsChunkedDecoder``); the trailers, with
    lowercase names, go to ``on_trailers`` once the final chunk has been read.

    The iterator raises (``SignatureDoesNotMatch``, ``IncompleteBody``, ``InvalidRequest``) instead
    of ending whenever the body is not exactly what was signed and declared, so a consumer that
    stores only after a clean end never stores a forged or truncated body.
    """
    decoder = AwsChunkedDecoder(signer, decoded_length)
    async for chunk in chunks:
        for piece in decoder.feed(chunk):
            if piece:
                yield piece
    decoder.finish()
    if on_trailers is not None:
        on_trailers(dict(decoder.trailers))
