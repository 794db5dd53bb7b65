"""Digests computed while an object streams to disk: the MD5 ETag, and S3's flexible checksums.

CRC32 is always computed (it is cheap and botocore asks for it by default); CRC32C, CRC64NVME,
SHA1 and SHA256 only when the client names them. CRC32C and CRC64NVME come from AWS's own C
library (``awscrt``, the one botocore itself needs to send them), at memory speed.

A multipart object's checksum is either COMPOSITE (the algorithm over the concatenated binary
part checksums, suffixed ``-<parts>``) or FULL_OBJECT (over the whole object's bytes, CRC only).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from collections.abc import Callable

from awscrt import checksums as crt

# checksum algorithm -> the output member (and header suffix) that carries it
MEMBERS = {
    "CRC32": "ChecksumCRC32",
    "CRC32C": "ChecksumCRC32C",
    "CRC64NVME": "ChecksumCRC64NVME",
    "SHA1": "ChecksumSHA1",
    "SHA256": "ChecksumSHA256",
}
SIZES = {"CRC32": 4, "CRC32C": 4, "CRC64NVME": 8, "SHA1": 20, "SHA256": 32}  # digest bytes
_HASHES = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256}
# running CRCs: algorithm -> (update(chunk, previous) -> crc, width in bytes)
_CRCS: dict[str, tuple[Callable[[bytes, int], int], int]] = {
    "CRC32": (zlib.crc32, 4),
    "CRC32C": (crt.crc32c, 4),
    "CRC64NVME": (crt.crc64nvme, 8),
}


class Digests:
    """MD5 plus CRC32 plus any requested checksum, fed chunk by chunk."""

    def __init__(self, algorithms: tuple[str, ...] = (), md5: bool = True) -> None:
        self._md5 = hashlib.md5() if md5 else _NoHash()
        self._crcs = {alg: 0 for alg in ("CRC32", *algorithms) if alg in _CRCS}
        self._hashes = {alg: _HASHES[alg]() for alg in algorithms if alg in _HASHES}
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self._md5.update(chunk)
        for alg, value in self._crcs.items():
            self._crcs[alg] = _CRCS[alg][0](chunk, value)
        for h in self._hashes.values():
            h.update(chunk)
        self.size += len(chunk)

    @property
    def etag(self) -> str:
        """The hex MD5, unquoted (handlers add the quotes S3 puts on the wire)."""
        return self._md5.hexdigest()

    @property
    def md5_b64(self) -> str:
        return base64.b64encode(self._md5.digest()).decode()

    def checksum(self, algorithm: str) -> str | None:
        """The base64 checksum S3 would send for ``algorithm``, or None when it was not computed."""
        if algorithm in self._crcs:
            return _b64(self._crcs[algorithm].to_bytes(_CRCS[algorithm][1], "big"))
        h = self._hashes.get(algorithm)
        return _b64(h.digest()) if h is not None else None


class _NoHash:
    """Stands in for MD5 where the ETag is known already (a completed multipart upload)."""

    def update(self, _chunk: bytes) -> None:
        pass

    def digest(self) -> bytes:
        return b""

    def hexdigest(self) -> str:
        return ""


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def well_formed(algorithm: str, value: str) -> bool:
    """Whether ``value`` is base64 of a digest of the algorithm's width (S3 refuses others as
    ``InvalidRequest`` before comparing)."""
    try:
        return len(base64.b64decode(value, validate=True)) == SIZES[algorithm]
    except (binascii.Error, ValueError):
        return False


def crc32c(data: bytes) -> int:
    return crt.crc32c(data)


def digest(algorithm: str, data: bytes) -> bytes:
    """The algorithm's binary digest of ``data`` (a few bytes: composite checksums)."""
    if algorithm in _CRCS:
        update, width = _CRCS[algorithm]
        return update(data, 0).to_bytes(width, "big")
    return _HASHES[algorithm](data).digest()


COMPOSITE = ("CRC32", "CRC32C", "SHA1", "SHA256")  # algorithms S3 allows for COMPOSITE
FULL_OBJECT = ("CRC32", "CRC32C", "CRC64NVME")  # algorithms S3 allows for FULL_OBJECT


def composite(algorithm: str, part_checksums: list[str]) -> str | None:
    """The COMPOSITE checksum of a multipart object from its parts' base64 checksums."""
    if algorithm not in COMPOSITE:
        return None
    joined = b"".join(base64.b64decode(value) for value in part_checksums)
    return f"{_b64(digest(algorithm, joined))}-{len(part_checksums)}"
