"""Conditional requests (If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since) as S3 applies them.

RFC 7232 precedence: If-Match decides alone when present (If-Unmodified-Since is then ignored),
and If-None-Match decides alone over If-Modified-Since. A failed If-Match / If-Unmodified-Since
is 412 PreconditionFailed; a failed If-None-Match / If-Modified-Since is 304 Not Modified on
reads. Dates compare at the second, the precision of an HTTP date.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from . import errors


def etag_matches(header: str, etag: str) -> bool:
    """Whether the If-Match / If-None-Match list names ``etag`` (unquoted) or is ``*``."""
    for item in header.split(","):
        item = item.strip()
        if item.startswith("W/"):
            item = item[2:]
        if item == "*" or item.strip('"') == etag:
            return True
    return False


def _seconds(value: datetime) -> int:
    return int(value.timestamp())


def check_read(req: dict[str, Any], etag: str, last_modified: datetime) -> None:
    """Raise PreconditionFailed (412) or NotModified (304) for GetObject / HeadObject."""
    if_match = req.get("IfMatch")
    if if_match is not None:
        if not etag_matches(if_match, etag):
            raise errors.precondition_failed("If-Match")
    elif req.get("IfUnmodifiedSince") is not None and _seconds(last_modified) > _seconds(
        req["IfUnmodifiedSince"]
    ):
        raise errors.precondition_failed("If-Unmodified-Since")
    if_none_match = req.get("IfNoneMatch")
    if if_none_match is not None:
        if etag_matches(if_none_match, etag):
            raise _not_modified(etag, last_modified)
    elif req.get("IfModifiedSince") is not None and _seconds(last_modified) <= _seconds(
        req["IfModifiedSince"]
    ):
        raise _not_modified(etag, last_modified)


def _not_modified(etag: str, last_modified: datetime) -> Exception:
    err = errors.not_modified()
    err.headers.update(
        {"ETag": f'"{etag}"', "Last-Modified": last_modified.strftime("%a, %d %b %Y %H:%M:%S GMT")}
    )
    return err


def check_write(req: dict[str, Any], current_etag: str | None) -> None:
    """PutObject's If-Match / If-None-Match: ``*`` means "exists" / "does not exist"."""
    if_none_match = req.get("IfNoneMatch")
    if if_none_match is not None and current_etag is not None and etag_matches(if_none_match, current_etag):
        raise errors.precondition_failed("If-None-Match")
    if_match = req.get("IfMatch")
    if if_match is not None:
        if current_etag is None:
            raise errors.no_such_key_for_condition()
        if not etag_matches(if_match, current_etag):
            raise errors.precondition_failed("If-Match")


def write_precondition(req: dict[str, Any]) -> Callable[[str | None], None] | None:
    """A write's If-Match / If-None-Match as a test the store runs again at commit, with the ETag
    current then: of two racing ``If-None-Match: *`` writes the one committing second gets 412."""
    if req.get("IfMatch") is None and req.get("IfNoneMatch") is None:
        return None
    return partial(check_write, req)
