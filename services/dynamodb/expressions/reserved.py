"""DynamoDB's reserved words, kept as data in reserved_words.txt (one list, case-insensitive)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_DATA = Path(__file__).with_name("reserved_words.txt")


@cache
def reserved_words() -> frozenset[str]:
    lines = (line for line in _DATA.read_text().splitlines() if not line.startswith("#"))
    return frozenset(word for line in lines for word in line.split())


def is_reserved(name: str) -> bool:
    return name.upper() in reserved_words()
