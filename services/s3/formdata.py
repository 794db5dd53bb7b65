"""A streaming ``multipart/form-data`` reader, for S3's browser POST uploads.

The fields of an upload form come first and are small; the file comes last and may be gigabytes.
``FormReader`` hands out one part at a time: a field's value is read whole (bounded), the file's
bytes are yielded as they arrive, never gathered. Memory stays bounded by one incoming chunk
plus the boundary length (and ``MAX_HEADER_BLOCK`` for a part's headers).

Framing (RFC 7578 / RFC 2046)::

    [preamble]\\r\\n--BOUNDARY\\r\\n<headers>\\r\\n\\r\\n<data>\\r\\n--BOUNDARY\\r\\n ... \\r\\n--BOUNDARY--[epilogue]

The reader starts with ``\\r\\n`` in its buffer, so the first delimiter looks like every other.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

from shared.aws.errors import AwsError

MAX_HEADER_BLOCK = 8 * 1024
_PARAM = re.compile(r';\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')
_BOUNDARY = re.compile(r'boundary\s*=\s*("[^"]{1,70}"|[^\s;,]{1,70})', re.IGNORECASE)


def malformed() -> AwsError:
    return AwsError(
        "MalformedPOSTRequest",
        "The body of your POST request is not well-formed multipart/form-data.",
        400,
    )


def boundary_of(content_type: str | None) -> bytes | None:
    """The boundary of a ``multipart/form-data`` content type; None for any other content type."""
    if not content_type or not content_type.lower().lstrip().startswith("multipart/form-data"):
        return None
    match = _BOUNDARY.search(content_type)
    if match is None:
        raise malformed()
    return match[1].strip('"').encode("latin-1")


@dataclass(frozen=True)
class Part:
    """One part's headers: the form field name, and the file name when it is a file."""

    name: str
    filename: str | None = None
    content_type: str | None = None


class FormReader:
    """Reads a form from an async iterator of body chunks: ``next_part()``, then ``value()`` or
    ``data()`` for that part, then ``next_part()`` again until it returns None."""

    def __init__(self, chunks: AsyncIterator[bytes], boundary: bytes) -> None:
        self._chunks = aiter(chunks)
        self._delimiter = b"\r\n--" + boundary
        self._buf = bytearray(b"\r\n")
        self._started = False
        self._pending = False  # the current part's data has not been read to its delimiter

    async def next_part(self) -> Part | None:
        """The next part's headers, or None after the closing delimiter."""
        if not self._started or self._pending:
            async for _ in self.data():  # skip the preamble, or the unread rest of a part
                pass
            self._started = True
        while len(self._buf) < 2:
            await self._fill()
        if self._buf[:2] == b"--":
            return None
        block = await self._header_block()
        self._pending = True
        return _part(block)

    async def data(self) -> AsyncIterator[bytes]:
        """The current part's bytes, as they arrive (the boundary may straddle chunks)."""
        delimiter, keep = self._delimiter, len(self._delimiter) - 1
        while True:
            at = self._buf.find(delimiter)
            if at >= 0:
                if at:
                    yield bytes(self._buf[:at])
                del self._buf[: at + len(delimiter)]
                self._pending = False
                return
            if len(self._buf) > keep:
                out = bytes(self._buf[:-keep])
                del self._buf[:-keep]
                yield out
            await self._fill()

    async def value(self, limit: int) -> bytes:
        """The current part's bytes, whole; raises ``OverflowError`` past ``limit`` bytes."""
        parts: list[bytes] = []
        size = 0
        async for chunk in self.data():
            size += len(chunk)
            if size > limit:
                raise OverflowError(size)
            parts.append(chunk)
        return b"".join(parts)

    async def drain(self) -> None:
        """Read (and drop) whatever the client still sends: the parts after the file, the epilogue."""
        async for _ in self._chunks:
            pass

    async def _header_block(self) -> bytes:
        while (end := self._buf.find(b"\r\n\r\n")) < 0:
            if len(self._buf) > MAX_HEADER_BLOCK:
                raise malformed()
            await self._fill()
        if end > MAX_HEADER_BLOCK:
            raise malformed()
        block = bytes(self._buf[:end])
        del self._buf[: end + 4]
        return block

    async def _fill(self) -> None:
        """Append the next chunk; a body that ends before the closing delimiter is malformed."""
        try:
            chunk = await anext(self._chunks)
        except StopAsyncIteration:
            raise malformed() from None
        self._buf += chunk


def _part(block: bytes) -> Part:
    """A part from its header block (the bytes between the delimiter line's end and the blank line).

    Header values are UTF-8 as browsers send them (RFC 7578 allows raw UTF-8 in file names).
    """
    headers: dict[str, str] = {}
    text = block.decode("utf-8", "replace")
    first, _, rest = text.partition("\r\n")
    if first.strip(" \t"):  # only transport padding may follow the boundary on its line
        raise malformed()
    for line in rest.split("\r\n"):
        name, sep, value = line.partition(":")
        if not sep:
            raise malformed()
        headers.setdefault(name.strip().lower(), value.strip())
    disposition = headers.get("content-disposition", "")
    if not disposition.lower().startswith("form-data"):
        raise malformed()
    params = {k.lower(): _unquote(v.strip()) for k, v in _PARAM.findall(disposition)}
    if "name" not in params:
        raise malformed()
    return Part(params["name"], params.get("filename"), headers.get("content-type"))


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value
