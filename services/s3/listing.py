"""ListObjectsV2 paging: prefix, delimiter roll-up into common prefixes, max-keys, tokens.

Pure functions over an ordered iterator of keys, so the rules are testable without storage.
A continuation token is the last key or common prefix of the page, base64url-encoded: the next
page starts after it (and skips the rest of a common prefix it names).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from . import errors

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    contents: list[T] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    truncated: bool = False
    last: str | None = None  # the marker the next page continues after

    @property
    def count(self) -> int:
        return len(self.contents) + len(self.prefixes)


def paginate(
    items: Iterable[T], key_of: Callable[[T], str], prefix: str, delimiter: str, after: str, max_keys: int
) -> Page[T]:
    """One page of ``items`` (already filtered to ``prefix`` and sorted after ``after``)."""
    page: Page[T] = Page()
    if max_keys <= 0:
        return page
    for item in items:
        key = key_of(item)
        common = _common_prefix(key, prefix, delimiter)
        if common is not None and (common == after or (page.prefixes and page.prefixes[-1] == common)):
            continue  # rolled up into a prefix already listed (on this page or the previous one)
        if page.count == max_keys:
            page.truncated = True
            break
        if common is None:
            page.contents.append(item)
            page.last = key
        else:
            page.prefixes.append(common)
            page.last = common
    return page


def _common_prefix(key: str, prefix: str, delimiter: str) -> str | None:
    if not delimiter:
        return None
    at = key.find(delimiter, len(prefix))
    return None if at < 0 else key[: at + len(delimiter)]


def encode_token(marker: str) -> str:
    return base64.urlsafe_b64encode(marker.encode("utf-8")).decode("ascii")


def decode_token(token: str) -> str:
    try:
        marker = base64.b64decode(token.encode("ascii"), altchars=b"-_", validate=True).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        marker = ""
    if not marker:  # we never hand out an empty token
        raise errors.invalid_argument(
            "The continuation token provided is incorrect", "continuation-token", token
        )
    return marker
