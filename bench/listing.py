"""ListObjectsV2 over a large bucket: milliseconds per 1,000-key page.

Filling: boto3 PutObject in 8 threads manages about 190 keys/s against Flotilla and 110/s
against moto on the 2-core bench machine (client-bound), so 100,000 keys would take about
9 minutes. The fill therefore uses a tiny asyncio HTTP/1.1 client sending unsigned, empty
PutObjects on 16 keep-alive connections (neither Flotilla nor moto enforces signatures by
default): about 450 keys/s into Flotilla (server-bound) and 150/s into moto. Even so 100,000
keys cost several minutes, so the default count is smaller (``--listing-keys``); the fill
time is reported. The fill is not what is measured.

Measuring: full passes over the bucket with ``MaxKeys=1000`` until at least ``min_pages``
pages are timed, each page timed as a boto3 call and as the bare HTTP round trip; then one more
pass (``raw``) with a bare keep-alive HTTP client that parses nothing but the continuation token.
botocore spends 100-200 ms of CPU parsing each page, and on a 2-core machine shared with other
work that starves the client's own reading of the next answer: the raw pass is the closest a
client gets to the server's own time per page (the issue 5 target is "each page under 50 ms").
"""

from __future__ import annotations

import asyncio
import http.client
import re
import time
from itertools import count as counter
from typing import Any
from urllib.parse import quote, urlsplit

from bench import boto_load
from bench.timing import RoundTrips, summary, timed

BUCKET = "bench-listing"
PAGE = 1000
CONNECTIONS = 16


def key(i: int) -> str:
    return f"listing/object-{i:07d}"


def fill(endpoint: str, keys: int) -> dict[str, Any]:
    """Create the bucket (boto3) and ``keys`` empty objects (raw unsigned PUTs); how long it took."""
    client = boto_load.make_clients("s3", endpoint, 1)[0]
    boto_load._ignore_exists(
        lambda: client.create_bucket(Bucket=BUCKET), "BucketAlreadyOwnedByYou", "BucketAlreadyExists"
    )
    started = time.perf_counter()
    asyncio.run(_put_all(endpoint, keys))
    seconds = time.perf_counter() - started
    return {"keys": keys, "seconds": round(seconds, 1), "keys_per_s": round(keys / seconds)}


def measure(endpoint: str, keys: int, min_pages: int = 60, budget: float = 10.0) -> dict[str, Any]:
    """Page through ``BUCKET`` until ``min_pages`` pages are timed; check each pass sees ``keys`` keys.

    At least one full pass; further passes only while ``budget`` seconds last (moto takes
    about half a second a page at 10,000 keys).
    """
    client = boto_load.make_clients("s3", endpoint, 1)[0]
    round_trips = RoundTrips(client)
    calls: list[float] = []
    passes = 0
    deadline = time.perf_counter() + budget
    while passes == 0 or (len(calls) < min_pages and time.perf_counter() < deadline):
        seen = _one_pass(client, calls)
        passes += 1
        if seen != keys:
            raise RuntimeError(f"a full listing returned {seen} keys, expected {keys}")
    raw: list[float] = []
    seen = _raw_pass(endpoint, raw)
    if seen != keys:
        raise RuntimeError(f"a raw listing returned {seen} keys, expected {keys}")
    return {
        "keys": keys,
        "passes": passes,
        "call": summary(calls),
        "http": summary(round_trips.samples),
        "raw": summary(raw),
    }


def _one_pass(client: Any, calls: list[float]) -> int:
    seen, token = 0, None
    while True:
        extra = {"ContinuationToken": token} if token else {}
        page, seconds = timed(client.list_objects_v2, Bucket=BUCKET, MaxKeys=PAGE, **extra)
        calls.append(seconds)
        seen += page.get("KeyCount", 0)
        token = page.get("NextContinuationToken")
        if not page.get("IsTruncated"):
            return seen


_TOKEN = re.compile(rb"<NextContinuationToken>([^<]*)</NextContinuationToken>")


def _raw_pass(endpoint: str, samples: list[float]) -> int:
    """One pass of unsigned ``GET /bucket?list-type=2`` (as boto3 sends it, with ``encoding-type=url``)
    on one connection, each page timed from the request to the last byte of its body."""
    url = urlsplit(endpoint)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port or 80, timeout=60)
    seen, token = 0, b""
    try:
        while True:
            query = f"list-type=2&max-keys={PAGE}&encoding-type=url"
            if token:
                query += "&continuation-token=" + quote(token.decode(), safe="")
            started = time.perf_counter()
            conn.request("GET", f"/{BUCKET}?{query}")
            response = conn.getresponse()
            body = response.read()
            samples.append(time.perf_counter() - started)
            if response.status != 200:
                raise RuntimeError(f"ListObjectsV2: {response.status} {body[:200]!r}")
            seen += body.count(b"<Contents>")
            found = _TOKEN.search(body)
            if found is None:
                return seen
            token = found.group(1)
    finally:
        conn.close()


# -- the filler ------------------------------------------------------------------------------


async def _put_all(endpoint: str, keys: int) -> None:
    url = urlsplit(endpoint)
    numbers = counter()  # shared by the lanes: each takes the next key number
    lanes = [_lane(url.hostname or "127.0.0.1", url.port or 80, numbers, keys) for _ in range(CONNECTIONS)]
    await asyncio.gather(*lanes)


async def _lane(host: str, port: int, numbers: Any, keys: int) -> None:
    """PUT the next key until all are taken; reconnect whenever the server closes (moto does)."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while (i := next(numbers)) < keys:
            if reader.at_eof():
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
            request = f"PUT /{BUCKET}/{key(i)} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Length: 0\r\n\r\n"
            writer.write(request.encode())
            head, body = await _response(reader)
            if not head.startswith((b"HTTP/1.1 200", b"HTTP/1.0 200")):
                raise RuntimeError(f"PutObject {key(i)}: {head[:200]!r} {body[:200]!r}")
            if b"connection: close" in head.lower() or head.startswith(b"HTTP/1.0"):
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
    finally:
        writer.close()


async def _response(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return head, await reader.readexactly(length) if length else b""
