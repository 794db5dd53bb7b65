"""Digests computed while an object streams to disk: the MD5 ETag, and S3's flexible checksums.

CRC32 is always computed (it is cheap and botocore asks for it by default); SHA1 and SHA256
only when the client names them. CRC32C and CRC64NVME need native code we do not ship: a
client-supplied value for them is stored and echoed unverified (a short table-driven CRC32C
serves composite checksums, which hash a few bytes per part).

A multipart object's checksum is either COMPOSITE (the algorithm over the concatenated binary
part checksums, suffixed ``-<parts>``) or FULL_OBJECT (over the whole object's bytes, CRC only).
"""

from __future__ import annotations

import base64
import hashlib
import zlib

# checksum algorithm -> the output member (and header suffix) that carries it
MEMBERS = {
    "CRC32": "ChecksumCRC32",
    "CRC32C": "ChecksumCRC32C",
    "CRC64NVME": "ChecksumCRC64NVME",
    "SHA1": "ChecksumSHA1",
    "SHA256": "ChecksumSHA256",
}
_HASHES = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256}


class Digests:
    """MD5 plus CRC32 plus any requested SHA, fed chunk by chunk."""

    def __init__(self, algorithms: tuple[str, ...] = (), md5: bool = True) -> None:
        self._md5 = hashlib.md5() if md5 else _NoHash()
        self._crc32 = 0
        self._hashes = {alg: _HASHES[alg]() for alg in algorithms if alg in _HASHES}
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self._md5.update(chunk)
        self._crc32 = zlib.crc32(chunk, self._crc32)
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
        """The base64 checksum S3 would send for ``algorithm``, or None when we cannot compute it."""
        if algorithm == "CRC32":
            return base64.b64encode(self._crc32.to_bytes(4, "big")).decode()
        h = self._hashes.get(algorithm)
        return base64.b64encode(h.digest()).decode() if h is not None else None


class _NoHash:
    """Stands in for MD5 where the ETag is known already (a completed multipart upload)."""

    def update(self, _chunk: bytes) -> None:
        pass

    def digest(self) -> bytes:
        return b""

    def hexdigest(self) -> str:
        return ""


def _crc32c_table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC32C (Castagnoli) in pure Python: for a few bytes only (composite checksums)."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC32C[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


COMPOSITE = ("CRC32", "CRC32C", "SHA1", "SHA256")  # algorithms S3 allows for COMPOSITE
FULL_OBJECT = ("CRC32", "CRC32C", "CRC64NVME")  # algorithms S3 allows for FULL_OBJECT


def composite(algorithm: str, part_checksums: list[str]) -> str | None:
    """The COMPOSITE checksum of a multipart object from its parts' base64 checksums."""
    joined = b"".join(base64.b64decode(value) for value in part_checksums)
    if algorithm == "CRC32":
        digest = zlib.crc32(joined).to_bytes(4, "big")
    elif algorithm == "CRC32C":
        digest = crc32c(joined).to_bytes(4, "big")
    elif algorithm in _HASHES:
        digest = _HASHES[algorithm](joined).digest()
    else:
        return None
    return f"{base64.b64encode(digest).decode()}-{len(part_checksums)}"
