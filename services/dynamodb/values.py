"""AttributeValues: validation, number canonical form, sizes, storage codec, sortable key bytes.

Items arrive from the parser as AttributeValue dicts with ``bytes`` for B and BS; we store
them as DynamoDB's own JSON (binary as base64) and turn key values into byte strings that
sort as DynamoDB sorts them (S by UTF-8 bytes, B by unsigned bytes, N by numeric value), so
that SQLite's BLOB order is DynamoDB's key order and Query can range-scan the index.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Mapping
from decimal import Context, Decimal, InvalidOperation
from typing import Any

from . import errors

TYPES = ("S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL")
MAX_DIGITS = 38
_DECIMAL = Context(prec=200)

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]


# -- validation and canonical form ----------------------------------------------------------


def canonical_number(text: str) -> str:
    """DynamoDB's form of a number: plain notation, no superfluous zeros, within its range."""
    try:
        value = Decimal(text.strip(), context=_DECIMAL) if text.strip() else None
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise errors.validation(f"The parameter cannot be converted to a numeric value: {text}")
    if value.is_zero():
        return "0"
    value = value.normalize(_DECIMAL)
    if len(value.as_tuple().digits) > MAX_DIGITS:
        raise errors.validation("Attempting to store more than 38 significant digits in a Number")
    if value.adjusted() > 125:
        raise errors.validation(
            "Number overflow. Attempting to store a number with magnitude larger than supported range"
        )
    if value.adjusted() < -130:
        raise errors.validation(
            "Number underflow. Attempting to store a number with magnitude smaller than supported range"
        )
    return format(value, "f")


def _type_of(value: Any) -> str:
    if not isinstance(value, Mapping) or not value:
        raise errors.validation(
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
        )
    if len(value) > 1:
        raise errors.validation(
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
        )
    (kind,) = value
    if kind not in TYPES:
        raise errors.validation(
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
        )
    return kind


def _no_duplicates(members: list, shown: list[str]) -> None:
    if len(set(members)) != len(members):
        raise errors.invalid_parameters(f"Input collection [{', '.join(shown)}] contains duplicates.")


def _canon_s(v: str) -> str:
    return v


def _canon_n(v: str) -> str:
    return canonical_number(v)


def _canon_b(v: bytes) -> bytes:
    return bytes(v)


def _canon_ss(v: list[str]) -> list[str]:
    if not v:
        raise errors.invalid_parameters("An string set  may not be empty")
    _no_duplicates(v, v)
    return list(v)


def _canon_ns(v: list[str]) -> list[str]:
    if not v:
        raise errors.invalid_parameters("An number set  may not be empty")
    numbers = [canonical_number(n) for n in v]
    _no_duplicates(numbers, list(v))
    return numbers


def _canon_bs(v: list[bytes]) -> list[bytes]:
    if not v:
        raise errors.invalid_parameters("Binary sets should not be empty")
    members = [bytes(b) for b in v]
    _no_duplicates(members, [base64.b64encode(b).decode() for b in members])
    return members


def _canon_m(v: Mapping[str, Any]) -> dict[str, AttributeValue]:
    return {name: canonical(value) for name, value in v.items()}


def _canon_l(v: list[Any]) -> list[AttributeValue]:
    return [canonical(value) for value in v]


def _canon_null(v: bool) -> bool:
    if v is not True:
        raise errors.invalid_parameters("Null attribute value types must have the value of true")
    return True


def _canon_bool(v: bool) -> bool:
    return bool(v)


_CANON: dict[str, Callable[[Any], Any]] = {
    "S": _canon_s, "N": _canon_n, "B": _canon_b, "SS": _canon_ss, "NS": _canon_ns, "BS": _canon_bs,
    "M": _canon_m, "L": _canon_l, "NULL": _canon_null, "BOOL": _canon_bool,
}  # fmt: skip


def canonical(value: Any) -> AttributeValue:
    """A checked copy of an AttributeValue in DynamoDB's canonical form (raises ValidationException)."""
    kind = _type_of(value)
    return {kind: _CANON[kind](value[kind])}


def canonical_item(item: Mapping[str, Any]) -> Item:
    """A checked Item or Key: every attribute named (DynamoDB refuses "" as a name) and canonical."""
    if "" in item:
        raise errors.invalid_parameters("Empty attribute name")
    return {name: canonical(value) for name, value in item.items()}


# -- size -----------------------------------------------------------------------------------


def _number_size(text: str) -> int:
    digits = len(text.lstrip("-").replace(".", "").strip("0")) or 1
    return 1 + math.ceil(digits / 2)


def value_size(value: AttributeValue) -> int:
    """DynamoDB's documented size of a value (what counts toward the 400 KB item limit)."""
    ((kind, v),) = value.items()
    if kind == "S":
        return len(v.encode("utf-8"))
    if kind == "N":
        return _number_size(v)
    if kind == "B":
        return len(v)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode("utf-8")) for s in v)
    if kind == "NS":
        return sum(_number_size(n) for n in v)
    if kind == "BS":
        return sum(len(b) for b in v)
    if kind == "L":
        return 3 + sum(1 + value_size(e) for e in v)
    return 3 + sum(1 + len(k.encode("utf-8")) + value_size(e) for k, e in v.items())  # M


def item_size(item: Item) -> int:
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


# -- storage codec (DynamoDB's JSON: binary as base64) --------------------------------------


def _map_binary(value: AttributeValue, one: Callable[[Any], Any]) -> AttributeValue:
    ((kind, v),) = value.items()
    if kind == "B":
        return {kind: one(v)}
    if kind == "BS":
        return {kind: [one(b) for b in v]}
    if kind == "L":
        return {kind: [_map_binary(e, one) for e in v]}
    if kind == "M":
        return {kind: {k: _map_binary(e, one) for k, e in v.items()}}
    return value


def to_json(item: Item) -> Item:
    return {k: _map_binary(v, lambda b: base64.b64encode(b).decode()) for k, v in item.items()}


def from_json(item: Item) -> Item:
    return {k: _map_binary(v, base64.b64decode) for k, v in item.items()}


# -- sortable key bytes ---------------------------------------------------------------------

_NEGATIVE, _ZERO, _POSITIVE = b"\x01", b"\x02", b"\x03"


def _number_key(text: str) -> bytes:
    """Bytes that compare (memcmp) as the numbers compare.

    sign byte, then for a positive number the biased decimal exponent (2 bytes) and the
    digits (one byte each, no trailing zeros, so a prefix is smaller); a negative number
    stores the complement of both, ended by 0xFF so that a prefix sorts larger.
    """
    value = Decimal(text)
    if value.is_zero():
        return _ZERO
    sign, digits, _ = value.normalize(_DECIMAL).as_tuple()
    exponent = value.normalize(_DECIMAL).adjusted() + 0x8000
    if sign == 0:
        return _POSITIVE + exponent.to_bytes(2, "big") + bytes(digits)
    return _NEGATIVE + (0xFFFF - exponent).to_bytes(2, "big") + bytes(9 - d for d in digits) + b"\xff"


def key_bytes(value: AttributeValue) -> bytes:
    ((kind, v),) = value.items()
    if kind == "S":
        return v.encode("utf-8")
    if kind == "N":
        return _number_key(v)
    return bytes(v)  # B


def prefix_end(prefix: bytes) -> bytes | None:
    """The smallest byte string greater than every string starting with ``prefix`` (None: no bound)."""
    trimmed = prefix.rstrip(b"\xff")
    if not trimmed:
        return None
    return trimmed[:-1] + bytes([trimmed[-1] + 1])


def kind_of(value: AttributeValue) -> str:
    """The type letter(s) of a canonical AttributeValue."""
    (kind,) = value
    return kind
