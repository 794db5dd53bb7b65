"""Digests computed while an object streams to disk: the MD5 ETag, and S3's flexible checksums.

CRC32 is always computed (it is cheap and botocore asks for it by default); SHA1 and SHA256
only when the client names them. CRC32C and CRC64NVME need native code we do not ship: a
client-supplied value for them is stored and echoed unverified.
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

    def __init__(self, algorithms: tuple[str, ...] = ()) -> None:
        self._md5 = hashlib.md5()
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
