"""EC2 ``Filters``: ``[{"Name": ..., "Values": [...]}]`` matched against a resource's attributes.

Each resource kind declares how to read each filter name from a resource (a function returning
the resource's values for it); ``tag:<Key>``, ``tag-key`` and ``tag-value`` work for every kind
that has ``Tags``. Filter values may use EC2's wildcards ``*`` and ``?``. A resource matches when,
for every filter, one of its values matches one of the filter's values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache
from typing import Any

from . import errors

Resource = Mapping[str, Any]
Reader = Callable[[Resource], Iterable[str]]


@cache
def _wildcard(pattern: str) -> re.Pattern[str]:
    parts = (".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile("".join(parts), re.DOTALL)


def value_matches(pattern: str, value: str) -> bool:
    return _wildcard(pattern).fullmatch(value) is not None


def _tags(resource: Resource) -> list[dict[str, str]]:
    return list(resource.get("Tags") or [])


def reader_for(name: str, readers: Mapping[str, Reader]) -> Reader:
    """How to read filter ``name`` (raises InvalidParameterValue for a filter this kind lacks)."""
    if name in readers:
        return readers[name]
    if name.startswith("tag:") and len(name) > 4:
        key = name[4:]
        return lambda r: [t["Value"] for t in _tags(r) if t["Key"] == key]
    if name == "tag-key":
        return lambda r: [t["Key"] for t in _tags(r)]
    if name == "tag-value":
        return lambda r: [t["Value"] for t in _tags(r)]
    raise errors.invalid_filter(name)


def compile_filters(
    filters: Sequence[Mapping[str, Any]] | None, readers: Mapping[str, Reader]
) -> Callable[[Resource], bool]:
    """A predicate for ``filters`` (unknown filter names are refused up front, as EC2 does)."""
    checks = [(reader_for(f["Name"], readers), list(f.get("Values") or [])) for f in filters or ()]

    def matches(resource: Resource) -> bool:
        for read, patterns in checks:
            values = list(read(resource))
            if not any(value_matches(p, v) for p in patterns for v in values):
                return False
        return True

    return matches


def flag(value: bool) -> list[str]:
    """A boolean as EC2 filters compare it."""
    return ["true" if value else "false"]
