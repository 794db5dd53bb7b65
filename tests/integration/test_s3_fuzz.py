"""Thousands of malformed S3 requests through the gateway: never a 5xx, always an S3 ``<Error>``.

A seeded generator (set FLOTILLA_FUZZ_SEED to replay another run) breaks requests in the ways
clients and attackers do: malformed, hostile or mistyped XML bodies for every XML-taking
operation (configuration PUTs, DeleteObjects, CompleteMultipartUpload, CreateBucket ...), bad
``Content-MD5`` and ``x-amz-checksum-*`` values, oversized headers and metadata, invalid
``Range`` headers, invalid bucket names, keys that are not UTF-8 or too long, junk query
parameters and unknown methods. Requests go out through ``http.client`` so that paths and
headers reach the gateway exactly as written. Bodies that are shorter than their
``Content-Length`` are sent over raw sockets. Every answer must be below 500, an error must be a
well-formed ``<Error>`` with a ``Code`` and a ``Message``, nothing half-written may become an
object, and afterwards S3 still serves.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import random
import re
import socket
import time
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest

SEED = int(os.environ.get("FLOTILLA_FUZZ_SEED", "20250611"))
REQUESTS = 2600
NS = ' xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'

# Valid bodies of the XML-taking operations: (method, sub-resource query, on the object?, body).
XML_OPERATIONS = {
    "PutBucketTagging": ("PUT", "tagging", False, "<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>"),
    "DeleteObjects": ("POST", "delete", False, "<Delete><Object><Key>gone</Key></Object><Quiet>true</Quiet></Delete>"),
    "CompleteMultipartUpload": ("POST", "uploadId={upload}", True, "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"0123\"</ETag></Part></CompleteMultipartUpload>"),
    "CreateBucket": ("PUT", "", None, "<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>"),
    "PutBucketVersioning": ("PUT", "versioning", False, "<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>"),
    "PutBucketCors": ("PUT", "cors", False, "<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>"),
    "PutBucketLifecycleConfiguration": ("PUT", "lifecycle", False, "<LifecycleConfiguration><Rule><ID>r</ID><Filter><Prefix>never/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>30</Days></Expiration></Rule></LifecycleConfiguration>"),
    "PutBucketAcl": ("PUT", "acl", False, '<AccessControlPolicy><Owner><ID>x</ID></Owner><AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>x</ID></Grantee><Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>'),
    "PutBucketNotificationConfiguration": ("PUT", "notification", False, "<NotificationConfiguration><QueueConfiguration><Queue>arn:aws:sqs:us-east-1:000000000000:nope</Queue><Event>s3:ObjectCreated:*</Event></QueueConfiguration></NotificationConfiguration>"),
    "PutBucketEncryption": ("PUT", "encryption", False, "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>"),
    "PutBucketWebsite": ("PUT", "website", False, "<WebsiteConfiguration><IndexDocument><Suffix>index.html</Suffix></IndexDocument></WebsiteConfiguration>"),
    "PutPublicAccessBlock": ("PUT", "publicAccessBlock", False, "<PublicAccessBlockConfiguration><BlockPublicAcls>false</BlockPublicAcls></PublicAccessBlockConfiguration>"),
    "PutBucketOwnershipControls": ("PUT", "ownershipControls", False, "<OwnershipControls><Rule><ObjectOwnership>BucketOwnerEnforced</ObjectOwnership></Rule></OwnershipControls>"),
    "PutBucketRequestPayment": ("PUT", "requestPayment", False, "<RequestPaymentConfiguration><Payer>BucketOwner</Payer></RequestPaymentConfiguration>"),
    "PutBucketAccelerateConfiguration": ("PUT", "accelerate", False, "<AccelerateConfiguration><Status>Suspended</Status></AccelerateConfiguration>"),
    "PutBucketLogging": ("PUT", "logging", False, "<BucketLoggingStatus></BucketLoggingStatus>"),
    "PutObjectLockConfiguration": ("PUT", "object-lock", False, "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>"),
    "PutObjectTagging": ("PUT", "tagging", True, "<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>"),
    "PutObjectAcl": ("PUT", "acl", True, "<AccessControlPolicy><Owner><ID>x</ID></Owner><AccessControlList></AccessControlList></AccessControlPolicy>"),
    "PutObjectRetention": ("PUT", "retention", True, "<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>2000-01-01T00:00:00Z</RetainUntilDate></Retention>"),
    "PutObjectLegalHold": ("PUT", "legal-hold", True, "<LegalHold><Status>OFF</Status></LegalHold>"),
    "RestoreObject": ("POST", "restore", True, "<RestoreRequest><Days>1</Days></RestoreRequest>"),
}  # fmt: skip

HOSTILE_XML = [
    b"",
    b"   ",
    b"not xml at all",
    b"<",
    b"<?xml version='1.0'?>",
    b"<Unclosed><Tag>",
    b"<a></b>",
    b"\xff\xfe<\x00a\x00>\x00",
    b"<Tagging>\xc3\x28</Tagging>",
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><Tagging>&e;</Tagging>',
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]><Delete>&d;</Delete>',
    b"<Delete>" + b"<Object>" * 5000 + b"</Object>" * 5000 + b"</Delete>",
    b"<Tagging><TagSet>" + b"<Tag><Key>k</Key><Value>v</Value></Tag>" * 2000 + b"</TagSet></Tagging>",
    b"<Tagging><TagSet><Tag><Key>" + b"k" * 300_000 + b"</Key></Tag></TagSet></Tagging>",
    b"<Delete>" + b"<Object><Key>x</Key></Object>" * 1500 + b"</Delete>",
    b"<Delete><Object><Key></Key></Object></Delete>",
    b"<Delete><Quiet>perhaps</Quiet></Delete>",
    b"<CompleteMultipartUpload><Part><PartNumber>99999999999999999999999</PartNumber></Part></CompleteMultipartUpload>",
    b"<CompleteMultipartUpload><Part><PartNumber>-1</PartNumber><ETag></ETag></Part></CompleteMultipartUpload>",
    b"<CompleteMultipartUpload></CompleteMultipartUpload>",
    b"<RestoreRequest><Days>abc</Days></RestoreRequest>",
    b"<LifecycleConfiguration><Rule><Status>Enabled</Status><Expiration><Date>yesterday</Date></Expiration></Rule></LifecycleConfiguration>",
    b"<VersioningConfiguration><Status>Maybe</Status></VersioningConfiguration>",
    b"<CreateBucketConfiguration><LocationConstraint>moon-1</LocationConstraint></CreateBucketConfiguration>",
    b"<x:Tagging xmlns:x='urn:other'><x:TagSet/></x:Tagging>",
    b"<Tagging>\x00\x01</Tagging>",
]  # fmt: skip

BAD_BUCKETS = [
    "A", "ab", "a" * 64, "-abc", "abc-", "a..b", "a.-b", "192.168.1.1", "xn--abc", "abc-s3alias", "a_b",
    "UPPER", "sp%20ace", "%C3%BCber", "%00nul", "%FF%FE", "a%2Fb", "..", ".", "bucket.", "%2E%2E",
]  # fmt: skip
BAD_KEYS = [
    "%FF", "%C0%AF", "%ED%A0%80", "a%00b", "%00", "..%2F..%2Fetc%2Fpasswd", "../../../etc/passwd", "a//b/",
    "k" * 1025, "%E2%82", "%", "%zz", "%F0%9F%98%80" * 300, "%7F%1B%5B31m", "~%2E%2E", "a%3Fb%23c",
]  # fmt: skip
RANGES = [
    "bytes=5-1", "bytes=abc", "bytes=-0", "bytes=100-200", "items=0-1", "bytes=0-1,3-4", "bytes=",
    "bytes=99999999999999999999999-", "bytes=--1", "bytes=0-99999999999999999999999", "bytes=-", "bytes 0-1",
    "bytes=1-1", "bytes=-99999", "bytes=0- 1", "bytes=\u00e9-1",
]  # fmt: skip
QUERIES = [
    "uploadId=nope&partNumber=abc", "partNumber=0", "partNumber=10001", "max-keys=-1", "max-keys=abc",
    "list-type=2&continuation-token=%FF%00junk", "list-type=3", "versionId=%00", "versions&key-marker=%FF",
    "uploads&max-uploads=-5", "encoding-type=base64", "delimiter=%FF", "tagging&versionId=nope",
    "x-id=Nonsense", "acl=&acl=", "response-expires=notadate", "attributes", "select&select-type=3",
    "uploadId=&partNumber=1", "prefix=" + "p" * 5000,
]  # fmt: skip
CHECKSUM_HEADERS = [
    "Content-MD5", "x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-sha1",
    "x-amz-checksum-sha256", "x-amz-checksum-crc64nvme", "x-amz-sdk-checksum-algorithm", "x-amz-content-sha256",
    "x-amz-trailer", "x-amz-checksum-algorithm",
]  # fmt: skip
METHODS = ["PATCH", "PROPFIND", "TRACE", "DELETE", "GET", "HEAD", "POST", "PUT", "OPTIONS"]
# S3 writes characters XML 1.0 cannot carry as numeric references, as AWS does (strict parsers
# refuse them; that is what ``encoding-type=url`` is for): drop them before parsing.
_BAD_CHAR_REF = re.compile(rb"&#(?:x0*(?:[0-8BCEF]|1[0-9A-F])|0*(?:[0-8]|1[1-2]|1[4-9]|2[0-9]|3[01]));", re.I)


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    kind: str = ""


class Generator:
    """Seeded malformed requests against a config bucket, an object bucket and its upload."""

    def __init__(self, rng: random.Random, config_bucket: str, data_bucket: str, upload: str) -> None:
        self.rng, self.config, self.data, self.upload = rng, config_bucket, data_bucket, upload

    def request(self) -> Request:
        kinds = [
            (self.xml, 45),
            (self.checksums, 12),
            (self.big_headers, 5),
            (self.ranges, 10),
            (self.bucket_names, 7),
            (self.keys, 10),
            (self.queries, 8),
            (self.methods, 3),
        ]
        make = self.rng.choices([k for k, _ in kinds], [w for _, w in kinds])[0]
        req = make()
        req.kind = make.__name__
        return req

    def xml(self) -> Request:
        r = self.rng
        name = r.choice(list(XML_OPERATIONS))
        method, sub, on_object, valid = XML_OPERATIONS[name]
        body = self.mutate(valid.encode()) if r.random() < 0.6 else r.choice(HOSTILE_XML)
        if on_object is None:
            path = f"/fuzz-{uuid.UUID(int=r.getrandbits(128)).hex[:20]}"
        else:
            path = f"/{self.config}" + ("/obj" if on_object else "")
        query = sub.format(upload=self.upload if r.random() < 0.7 else "junk-upload")
        headers = {
            "Content-Type": r.choice(
                ["application/xml", "text/plain", "", "application/x-www-form-urlencoded"]
            )
        }
        if r.random() < 0.5:
            headers["Content-MD5"] = base64.b64encode(hashlib.md5(body).digest()).decode()
        return Request(method, path + (f"?{query}" if query else ""), headers, body)

    def mutate(self, body: bytes) -> bytes:
        r = self.rng
        choice = r.randrange(9)
        if choice == 0:
            return body[: r.randrange(len(body))]
        if choice == 1:
            at = r.randrange(len(body))
            return body[:at] + r.choice([b"<", b"&", b"\x00", b"]]>", b"\xff", b"&bogus;"]) + body[at + 1 :]
        if choice == 2:
            return body.replace(b">", NS.encode() + b">", 1)
        if choice == 3:  # a value of the wrong type or range
            return _replace_text(
                body, r.choice([b"-1", b"abc", b"9" * 30, b"", b"true", b"\xc3\xa9" * 2000]), r
            )
        if choice == 4:
            return body.replace(b"<", b"<Bogus/><", 2)
        if choice == 5:
            return b'<?xml version="1.0" encoding="UTF-16"?>' + body
        if choice == 6:
            return body * r.randint(2, 3)
        if choice == 7:
            tag_end = body.find(b">")
            return b"<WrongRoot" + body[body.find(b" ", 0, tag_end) if b" " in body[:tag_end] else tag_end :]
        return body

    def checksums(self) -> Request:
        r = self.rng
        body = os.urandom(r.randint(0, 300))
        headers = {}
        for name in r.sample(CHECKSUM_HEADERS, r.randint(1, 3)):
            headers[name] = r.choice(
                [
                    "",
                    "not base64!",
                    "AAAA",
                    base64.b64encode(os.urandom(r.choice([4, 8, 16, 20, 32]))).decode(),
                    "CRC32",
                    "MD5",
                    "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                    "x-amz-checksum-crc32",
                    "0" * 64,
                    "=" * 30,
                ]
            )
        if r.random() < 0.3:
            headers["Content-Encoding"] = "aws-chunked"
        target = r.choice(
            [f"/{self.data}/cs-{r.randrange(50)}", f"/{self.data}/up?uploadId={self.upload}&partNumber=1"]
        )
        return Request("PUT", target, headers, body)

    def big_headers(self) -> Request:
        r = self.rng
        headers = {f"x-amz-meta-m{i}": "v" * r.choice([1, 100, 3000]) for i in range(r.randint(1, 4))}
        if r.random() < 0.5:
            headers.update({f"x-amz-meta-n{i}": "x" for i in range(r.randint(10, 120))})
        if r.random() < 0.3:
            headers["x-amz-tagging"] = "&".join(f"k{i}=v" for i in range(r.randint(5, 60)))
        if r.random() < 0.3:
            headers["Cache-Control"] = "c" * 7000
        return Request("PUT", f"/{self.data}/big-headers", headers, b"x")

    def ranges(self) -> Request:
        r = self.rng
        headers = {"Range": r.choice(RANGES)}
        if r.random() < 0.3:
            headers[r.choice(["If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since"])] = (
                r.choice(["*", '"nope"', "not a date", "Tue, 31 Feb 2024 25:61:61 GMT", ""])
            )
        return Request(r.choice(["GET", "HEAD"]), f"/{self.data}/obj", headers)

    def bucket_names(self) -> Request:
        r = self.rng
        method = r.choice(["PUT", "GET", "HEAD", "DELETE"])
        return Request(method, "/" + r.choice(BAD_BUCKETS) + r.choice(["", "/", "/key"]))

    def keys(self) -> Request:
        r = self.rng
        method = r.choice(["PUT", "GET", "HEAD", "DELETE", "POST"])
        query = r.choice(["", "", "?uploads", "?tagging", "?acl"])
        return Request(
            method, f"/{self.data}/{r.choice(BAD_KEYS)}{query}", {}, b"k" if method == "PUT" else b""
        )

    def queries(self) -> Request:
        r = self.rng
        path = r.choice([f"/{self.data}", f"/{self.data}/obj", "/"])
        return Request(r.choice(["GET", "PUT", "POST", "DELETE", "HEAD"]), f"{path}?{r.choice(QUERIES)}")

    def methods(self) -> Request:
        r = self.rng
        return Request(r.choice(METHODS), r.choice([f"/{self.data}", f"/{self.data}/obj", "/", "/%FF"]))


def _replace_text(body: bytes, value: bytes, r: random.Random) -> bytes:
    """Replace the text of one element (the first run between ``>`` and ``</``)."""
    starts = [i + 1 for i in range(len(body)) if body[i : i + 1] == b">" and body[i + 1 : i + 3] != b"</"]
    starts = [s for s in starts if body.find(b"</", s) > s and body.find(b"<", s) == body.find(b"</", s)]
    if not starts:
        return body
    start = r.choice(starts)
    return body[:start] + value + body[body.find(b"</", start) :]


class Connection:
    """Keep-alive ``http.client`` connection that reconnects when the server closed it."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.conn = http.client.HTTPConnection(host, port, timeout=30)

    def send(self, req: Request) -> tuple[int, bytes]:
        for attempt in range(2):
            try:
                self.conn.putrequest(req.method, req.path, skip_host=False, skip_accept_encoding=True)
                for name, value in req.headers.items():
                    self.conn.putheader(name, value)
                if req.body or req.method in ("PUT", "POST"):
                    self.conn.putheader("Content-Length", str(len(req.body)))
                self.conn.endheaders(req.body or None)
                response = self.conn.getresponse()
                body = response.read()
                if response.will_close:
                    self.reconnect()
                return response.status, body
            except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine):
                self.reconnect()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def reconnect(self) -> None:
        self.conn.close()
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)


def problem(status: int, body: bytes, method: str) -> str | None:
    """Why this answer is wrong, or None (a 501 for an operation not built yet is a gap, not a crash)."""
    if status == 501 and b"<Code>NotImplemented</Code>" in body:
        return None
    if status >= 500:
        return f"server error {status}: {body[:300]!r}"
    if status < 300 or status == 304 or method == "HEAD" or not body:
        return None if status < 400 or method == "HEAD" or body else f"{status} without an error body"
    try:
        root = ET.fromstring(_BAD_CHAR_REF.sub(b"", body))
    except ET.ParseError as exc:
        return f"{status} with a body that is not XML ({exc}): {body[:200]!r}"
    if status >= 400 and (root.tag != "Error" or not root.findtext("Code") or root.find("Message") is None):
        return f"{status} with a malformed <Error>: {body[:300]!r}"
    return None


@pytest.fixture(scope="module")
def setup(aws):
    s3 = aws("s3")
    config_bucket, data_bucket = f"fuzz-config-{uuid.uuid4().hex[:8]}", f"fuzz-data-{uuid.uuid4().hex[:8]}"
    for name in (config_bucket, data_bucket):
        s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=config_bucket, Key="obj", Body=b"0123456789")
    s3.put_object(Bucket=data_bucket, Key="obj", Body=b"0123456789")
    upload = s3.create_multipart_upload(Bucket=config_bucket, Key="obj")["UploadId"]
    s3.create_multipart_upload(Bucket=data_bucket, Key="up")
    return s3, config_bucket, data_bucket, upload


def test_malformed_requests_never_break_s3(setup, endpoint):
    s3, config_bucket, data_bucket, upload = setup
    split = urlsplit(endpoint)
    conn = Connection(split.hostname, split.port)
    gen = Generator(random.Random(SEED), config_bucket, data_bucket, upload)
    problems: list[str] = []
    statuses: Counter[tuple[str, int]] = Counter()
    started = time.monotonic()
    for i in range(REQUESTS):
        req = gen.request()
        status, body = conn.send(req)
        statuses[(req.kind, status)] += 1
        found = problem(status, body, req.method)
        if found:
            problems.append(
                f"#{i} {req.method} {req.path[:120]} {dict(list(req.headers.items())[:4])}: {found}"
            )
    elapsed = time.monotonic() - started
    assert not problems, f"{len(problems)} bad answers (seed {SEED}):\n" + "\n".join(problems[:25])
    gaps = sorted({kind for (kind, status) in statuses if status == 501})
    print(f"{REQUESTS} requests in {elapsed:.1f}s; kinds answering 501 NotImplemented: {gaps}")
    assert any(s >= 400 for _, s in statuses) and elapsed < 60, (elapsed, statuses)
    assert_still_serving(s3, data_bucket)


def short_body(host: str, port: int, head: bytes, body: bytes, *, half_close: bool) -> bytes:
    """Send ``head`` + ``body`` where the head promises more than ``body``; return what comes back."""
    with socket.create_connection((host, port), timeout=3) as sock:
        sock.sendall(head + body)
        if half_close:
            sock.shutdown(socket.SHUT_WR)  # the client gives up sending: the server sees end of stream
        else:
            sock.settimeout(0.3)  # a client that just stalls; we hang up after a short wait
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except (TimeoutError, ConnectionResetError):
            pass
        return b"".join(chunks)


@pytest.mark.parametrize("half_close", [True, False], ids=["half-close", "stall"])
def test_bodies_shorter_than_content_length(setup, endpoint, half_close):
    s3, _config_bucket, data_bucket, upload = setup
    split = urlsplit(endpoint)
    host = f"{split.hostname}:{split.port}"
    targets = [
        ("PUT", f"/{data_bucket}/short-{half_close}", b"x" * 10),
        ("PUT", f"/{data_bucket}/up?uploadId={upload}&partNumber=2", b"p" * 100),
        ("PUT", f"/{data_bucket}?tagging", b"<Tagging><TagSet>"),
        ("POST", f"/{data_bucket}?delete", b"<Delete><Object>"),
        ("POST", f"/{data_bucket}", b'--b\r\nContent-Disposition: form-data; name="key"\r\n\r\nk\r\n--b'),
        ("PUT", f"/{data_bucket}/chunked-{half_close}", b"a;chunk-signature=00\r\nshort"),
    ]
    for method, path, body in targets:
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(body) + 1000}\r\n"
            + (
                "Content-Type: multipart/form-data; boundary=b\r\n"
                if method == "POST" and "?" not in path
                else ""
            )
            + (
                "Content-Encoding: aws-chunked\r\nx-amz-decoded-content-length: 10\r\n"
                if "chunked" in path
                else ""
            )
            + "\r\n"
        ).encode()
        answer = short_body(split.hostname, split.port, head, body, half_close=half_close)
        if answer:
            status_line, _, rest = answer.partition(b"\r\n")
            status = int(status_line.split()[1])
            body_start = rest.find(b"\r\n\r\n")
            assert status < 500, (method, path, answer[:400])
            payload = rest[body_start + 4 :] if body_start >= 0 else b""
            if payload and status >= 400 and b"transfer-encoding: chunked" not in rest[:body_start].lower():
                assert problem(status, payload, method) is None, (method, path, answer[:400])
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=data_bucket).get("Contents", [])]
    assert f"short-{half_close}" not in keys and f"chunked-{half_close}" not in keys  # nothing half-written
    assert_still_serving(s3, data_bucket)


def assert_still_serving(s3, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="after-fuzz", Body=b"still here")
    assert s3.get_object(Bucket=bucket, Key="after-fuzz")["Body"].read() == b"still here"
