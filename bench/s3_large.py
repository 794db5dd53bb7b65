"""Large-object throughput: one 256 MiB PutObject and GetObject, MB/s and the servers' RSS cost.

The PutObject body is a file object (botocore streams it, never holding it in memory); the
GetObject body is read in 1 MiB chunks and written to /dev/null. The client is configured so
that it does no hashing of its own: ``payload_signing_enabled=False`` (UNSIGNED-PAYLOAD
instead of a SHA-256 of the whole body, which botocore otherwise computes over plain http)
and checksums only "when_required" (no CRC32 of the body up and down). Otherwise one Python
client spends about as much CPU hashing 256 MiB as the server spends storing it, and the
figure would say more about boto3 than about the server. RSS peak growth per server process
is measured as in bench/memory.py (peak reset before each transfer, ``VmHWM`` after).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from bench import memory
from bench.timing import timed

MiB = 1024 * 1024
BUCKET = "bench-large"
KEY = "large-object"
CHUNK = 1 * MiB


def make_source(path: Path, size: int) -> Path:
    """A file of ``size`` random bytes (written once per run, in 1 MiB chunks)."""
    if not path.exists() or path.stat().st_size != size:
        with open(path, "wb") as f:
            for offset in range(0, size, CHUNK):
                f.write(os.urandom(min(CHUNK, size - offset)))
    return path


def client_for(endpoint: str) -> Any:
    """A boto3 S3 client that streams without hashing (see the module docstring)."""
    config = Config(
        retries={"total_max_attempts": 1},
        connect_timeout=5,
        read_timeout=300,
        s3={"addressing_style": "path", "payload_signing_enabled": False},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    session = boto3.session.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
    )
    return session.client("s3", endpoint_url=endpoint, config=config)


def measure(endpoint: str, pids: dict[str, int], source: Path) -> dict[str, Any]:
    """PutObject of ``source`` then GetObject of it; MB/s (10^6 bytes/s) and RSS growth per process.

    Returns ``{"size_mib", "put": {"seconds", "mb_per_s"}, "get": {...}, "processes": {name:
    {"put_peak_mib", "get_peak_mib", "rss_after_mib", "peak_reset"}}, "error"?}``.
    """
    size = source.stat().st_size
    out: dict[str, Any] = {"size_mib": size // MiB, "processes": {name: {} for name in pids}}
    try:
        client = client_for(endpoint)
        _create_bucket(client)
    except Exception as err:  # noqa: BLE001 - reported in the table
        out["error"] = f"setup: {type(err).__name__}: {err}"[:300]
        return out
    for op, call in (("put", _put), ("get", _get)):
        reset = {name: memory.reset_peak(pid) for name, pid in pids.items()}
        before = {name: memory.rss(pid) for name, pid in pids.items()}
        try:
            _, seconds = timed(call, client, source, size)
        except Exception as err:  # noqa: BLE001
            out["error"] = f"{op}: {type(err).__name__}: {err}"[:300]
            break
        out[op] = {"seconds": round(seconds, 3), "mb_per_s": round(size / seconds / 1e6, 1)}
        for name, pid in pids.items():
            after = memory.rss(pid)
            out["processes"][name].update(
                {
                    f"{op}_peak_mib": round(after["VmHWM"] - before[name]["VmRSS"], 1),
                    "rss_after_mib": after["VmRSS"],
                    "peak_reset": reset[name] and out["processes"][name].get("peak_reset", True),
                }
            )
    _delete(client)
    return out


def _create_bucket(client: Any) -> None:
    try:
        client.create_bucket(Bucket=BUCKET)
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") not in (
            "BucketAlreadyOwnedByYou",
            "BucketAlreadyExists",
        ):
            raise


def _put(client: Any, source: Path, size: int) -> None:
    with open(source, "rb") as body:
        client.put_object(Bucket=BUCKET, Key=KEY, Body=body, ContentLength=size)


def _get(client: Any, source: Path, size: int) -> None:
    stream = client.get_object(Bucket=BUCKET, Key=KEY)["Body"]
    received = 0
    with open(os.devnull, "wb") as sink:
        while chunk := stream.read(CHUNK):
            sink.write(chunk)
            received += len(chunk)
    if received != size:
        raise RuntimeError(f"GetObject returned {received} bytes, expected {size}")


def _delete(client: Any) -> None:
    """Free the space (and moto's memory) before the next part; a failure here is harmless."""
    try:
        client.delete_object(Bucket=BUCKET, Key=KEY)
    except Exception:  # noqa: BLE001
        pass
