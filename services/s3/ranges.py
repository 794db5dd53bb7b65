"""HTTP ``Range: bytes=...`` as S3 reads it: one range; syntax it does not understand is ignored."""

from __future__ import annotations

import re

from . import errors

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive ``(first, last)`` byte range, or None for the whole object.

    Raises InvalidRange (416) for a well-formed range the object cannot satisfy, as S3 does
    (an empty object satisfies no range).
    """
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None or not (match[1] or match[2]):
        return None  # S3 ignores a malformed or multi-part range and sends the whole object
    first, last = match[1], match[2]
    if not first:  # suffix range: the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            raise errors.invalid_range(size, header)
        return max(size - length, 0), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None  # an inverted range is a syntax error: ignored
    if start >= size:
        raise errors.invalid_range(size, header)
    return start, min(end, size - 1)


_COPY_RANGE = re.compile(r"^bytes=(\d+)-(\d+)$")


def copy_range(header: str | None, size: int) -> tuple[int, int] | None:
    """UploadPartCopy's ``x-amz-copy-source-range: bytes=first-last``: both ends required and
    inside the source object (InvalidArgument otherwise); None copies the whole source."""
    if header is None:
        return None
    match = _COPY_RANGE.match(header.strip())
    if match is None:
        raise errors.invalid_argument(
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last "
            "are the zero-based offsets of the first and last bytes to copy",
            "x-amz-copy-source-range",
            header,
        )
    first, last = int(match[1]), int(match[2])
    if first > last or last >= size:
        raise errors.invalid_argument(
            f"Range specified is not valid for source object of size: {size}",
            "x-amz-copy-source-range",
            header,
        )
    return first, last
