"""Deterministic values for botocore shapes, for the generated conformance tests.

    generate(op.output_shape, "boundary", seed=2)  # -> a dict shaped as the output shape
    operations("s3")                                # -> sorted operation names

Modes:

- ``required``: only the required members of structures (recursively), one-element lists and maps;
- ``all``: every member, two-element lists and maps;
- ``boundary``: every member, with the values that break serializers: lengths at the shape's
  ``min``/``max`` (capped at ``LONG_TEXT``), empty strings where ``min`` allows, non-ASCII and
  XML-special text, integers at their type's limits, fractional floats, timestamps with
  milliseconds, non-UTF-8 blobs, and enum values cycling with the seed.

The values must be representable on every wire the shape can travel on (the same generator feeds
the response and the request conformance tests), so a member's location narrows what it gets:
``uri`` labels are never empty, ``hostLabel`` members are DNS labels, header-map keys are tokens,
header lists and ``jsonvalue`` headers are plain text. Values are reproducible: each call draws
from ``random.Random`` seeded with the seed, the mode and the shape name.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

from shared.aws.models import service_model

MODES = ("required", "all", "boundary")
MAX_DEPTH = 4  # a recursive shape (AttributeValue) nested this deep gets only what it must have
HARD_DEPTH = 24  # past this anything is left empty (no model nests this deep without recursion)
LONG_TEXT = 64  # longest string generated, whatever a shape's ``max`` allows

_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
_UNICODE = "ünï<cödé> & 'q' \"€\" 😀"  # non-ASCII (incl. astral) and every XML-special character
_SPACES = " \tline1\r\nline2 ]]> "  # whitespace XML and HTTP like to fold, and a CDATA end
_INT_LIMITS = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
_FLOATS = (0.5, -1.25, 1e300, 3.0)
_SPECIAL_FLOATS = (float("nan"), float("inf"), float("-inf"))  # only for shapes without a range
_TIMESTAMPS = (
    datetime(2026, 1, 2, 3, 4, 5, 123000, tzinfo=UTC),
    datetime(1970, 1, 1, 0, 0, 1, 1000, tzinfo=UTC),
    datetime(2099, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
)
_BLOBS = (b"\x00\xff\xfe\x80binary\xc3(", b"\xff", b"")
# Structures the service treats as unions although the model does not say so (DynamoDB's
# AttributeValue: "exactly one of S, N, B, ..."); a value with several members is unrealistic.
_DE_FACTO_UNIONS = frozenset(("AttributeValue",))
_DOCUMENT = {"name": "doc", "count": 2, "nested": {"flag": True, "items": ["a", 1.5, None]}}


def operations(service: str) -> list[str]:
    """The model's operation names, sorted."""
    return sorted(service_model(service).operation_names)


def generate(shape: Shape, mode: str, seed: int, *, request: bool = False) -> Any:
    """A value for ``shape`` in ``mode`` (see the module docstring); the same for the same arguments.

    ``request=True`` keeps header values printable ASCII: botocore sends request headers as they
    are (http.client refuses CR/LF and non-Latin-1), while our responses RFC 2047-encode them.
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; expected one of {MODES}")
    return _Generator(mode, seed, shape.name).value(shape, _Where(request=request), ())


Path = tuple[str, ...]


class _Where:
    """What the enclosing member says about where a value travels (it narrows what it may be)."""

    __slots__ = ("location", "host_label", "plain", "request")

    def __init__(
        self, location: str = "", host_label: bool = False, plain: bool = False, request: bool = False
    ) -> None:
        self.location = location
        self.host_label = host_label
        self.plain = plain  # text that must stay ASCII alphanumeric (header lists, jsonvalue, keys)
        self.request = request

    @classmethod
    def of(cls, member: Shape, parent: _Where) -> _Where:
        ser = member.serialization
        location = ser.get("location") or parent.location
        plain = (
            parent.plain
            or (location == "header" and member.type_name == "list")
            or (location in ("header", "headers") and parent.request)
            or bool(ser.get("jsonvalue"))
        )
        return cls(location, bool(ser.get("hostLabel")) or parent.host_label, plain, parent.request)


class _Generator:
    """One generation: the mode, a seeded random source, and a counter cycling enum values."""

    def __init__(self, mode: str, seed: int, name: str) -> None:
        self.mode = mode
        self.seed = seed
        self.rng = random.Random(f"{seed}:{mode}:{name}")
        self.turn = seed  # advances with each choice so that successive enums differ

    @property
    def boundary(self) -> bool:
        return self.mode == "boundary"

    def value(self, shape: Shape, where: _Where, path: Path) -> Any:
        """A value for ``shape``; ``path`` names the container shapes it is nested in."""
        return getattr(self, f"_{shape.type_name}", self._string)(shape, where, path)

    def _pick(self, options: Any) -> Any:
        self.turn += 1
        return options[self.turn % len(options)]

    @staticmethod
    def _cut(shape: Shape, path: Path) -> bool:
        """Whether to stop growing here: a recursive shape deep enough, or any shape far too deep."""
        return len(path) >= HARD_DEPTH or (len(path) >= MAX_DEPTH and shape.name in path)

    def _count(self, shape: Shape, path: Path) -> int:
        low = shape.metadata.get("min", 0)
        if self._cut(shape, path):
            return low if len(path) < HARD_DEPTH else 0
        want = 1 if self.mode == "required" else 2
        return max(low, min(want, shape.metadata.get("max", want)))

    # -- containers ------------------------------------------------------------------

    def _structure(self, shape: StructureShape, where: _Where, path: Path) -> dict[str, Any]:
        if shape.is_document_type:
            return dict(_DOCUMENT)
        if shape.serialization.get("eventstream"):
            return self._events(shape, where, path)
        if shape.is_tagged_union or shape.name in _DE_FACTO_UNIONS:
            return self._union(shape, where, path)
        names = list(shape.members)
        if self.mode == "required" or self._cut(shape, path):
            names = shape.required_members if len(path) < HARD_DEPTH else []
        inner = (*path, shape.name)
        out = {}
        for name in names:
            member = shape.members[name]
            out[name] = self.value(member, _Where.of(member, where), inner)
        return out

    def _union(self, shape: StructureShape, where: _Where, path: Path) -> dict[str, Any]:
        """Exactly one member; once cut (see ``_cut``) a scalar one, so recursion ends."""
        names = list(shape.members)
        if self._cut(shape, path):
            scalars = [n for n in names if shape.members[n].type_name not in ("structure", "list", "map")]
            names = scalars or names
        name = self._pick(names) if self.mode == "all" else names[(self.seed + len(path)) % len(names)]
        member = shape.members[name]
        return {name: self.value(member, _Where.of(member, where), (*path, shape.name))}

    def _events(self, shape: StructureShape, where: _Where, path: Path) -> dict[str, Any]:
        """Event member -> event; error events are left out (they travel as exceptions)."""
        names = [n for n, m in shape.members.items() if not m.metadata.get("exception")]
        if self.mode == "required":
            names = names[:1]
        return {n: self.value(shape.members[n], where, (*path, shape.name)) for n in names}

    def _list(self, shape: ListShape, where: _Where, path: Path) -> list[Any]:
        inner = (*path, shape.name)
        return [self.value(shape.member, where, inner) for _ in range(self._count(shape, path))]

    def _map(self, shape: MapShape, where: _Where, path: Path) -> dict[Any, Any]:
        key_where = _Where(
            where.location, plain=where.plain or where.location == "headers", request=where.request
        )
        inner = (*path, shape.name)
        out: dict[Any, Any] = {}
        for index in range(self._count(shape, path)):
            key = self.value(shape.key, key_where, inner) or f"k{index}"
            if key in out:  # keys must differ: enum keys take the next value, strings a suffix
                key = self._distinct_key(shape.key, key, out)
            out[key] = self.value(shape.value, where, inner)
        return out

    @staticmethod
    def _distinct_key(shape: Shape, key: str, taken: dict[Any, Any]) -> str:
        for option in shape.enum or [f"{key}{n}" for n in range(1, len(taken) + 2)]:
            if option not in taken:
                return option
        return key

    # -- scalars ---------------------------------------------------------------------

    def _string(self, shape: Shape, where: _Where, path: Path) -> str:
        if shape.enum:
            return self._pick(shape.enum)
        low = shape.metadata.get("min", 0)
        high = max(low, min(shape.metadata.get("max", LONG_TEXT), LONG_TEXT))
        if where.location == "uri" or where.location == "header":
            low = max(low, 1)  # an empty label or header value does not travel
        if where.host_label:
            return self._alnum(max(low, min(8, high)))
        if not self.boundary:
            return self._alnum(max(low, min(12, high)))
        return self._boundary_text(shape, where, low, high)

    def _boundary_text(self, shape: Shape, where: _Where, low: int, high: int) -> str:
        plain = where.plain or "pattern" in shape.metadata
        variants = ["empty", "longest", "shortest"] if plain else ["unicode", "empty", "longest", "spaces"]
        variant = variants[(self.seed + self.turn) % len(variants)]
        self.turn += 1
        if variant == "empty" and low == 0:
            return ""
        if variant in ("unicode", "spaces"):
            text = _UNICODE if variant == "unicode" else _SPACES
            if len(text) <= high:
                return _fit(text, low, high)
        if variant == "shortest":
            return self._alnum(max(low, 1))
        return self._alnum(high)

    def _alnum(self, length: int) -> str:
        return "".join(self.rng.choice(_ALNUM) for _ in range(length))

    def _integer(self, shape: Shape, where: _Where, path: Path) -> int:
        lowest, highest = _INT_LIMITS.get(shape.type_name, _INT_LIMITS["long"])
        low = int(shape.metadata.get("min", lowest))
        high = int(shape.metadata.get("max", highest))
        if self.boundary:
            return self._pick((low, high, _clamp(0, low, high)))
        return _clamp(self.rng.randint(1, 1000), low, high)

    _long = _integer

    def _float(self, shape: Shape, where: _Where, path: Path) -> float:
        low = float(shape.metadata.get("min", -1e308))
        high = float(shape.metadata.get("max", 1e308))
        if self.boundary:
            if "min" in shape.metadata or "max" in shape.metadata:
                return _clamp(self._pick(_FLOATS), low, high)
            return self._pick(_FLOATS + _SPECIAL_FLOATS)
        return _clamp(self.rng.randint(1, 1000) / 4, low, high)

    _double = _float

    def _boolean(self, shape: Shape, where: _Where, path: Path) -> bool:
        return self._pick((True, False)) if self.boundary else self.rng.random() < 0.5

    def _timestamp(self, shape: Shape, where: _Where, path: Path) -> datetime:
        if self.boundary:
            return self._pick(_TIMESTAMPS)
        return datetime(2026, 1, 1, tzinfo=UTC).replace(
            day=self.rng.randint(1, 28),
            hour=self.rng.randint(0, 23),
            microsecond=self.rng.randint(0, 999) * 1000,
        )

    def _blob(self, shape: Shape, where: _Where, path: Path) -> bytes:
        if self.boundary:
            low = shape.metadata.get("min", 0)
            blob = self._pick(_BLOBS)
            return (
                blob if len(blob) >= max(low, 1 if where.location else 0) else blob.ljust(low or 1, b"\xff")
            )
        return f"blob-{self._alnum(6)}".encode()


def _fit(text: str, low: int, high: int) -> str:
    """``text`` cut to ``high`` characters or padded to ``low`` (with ASCII)."""
    return text[:high].ljust(low, "x")


def _clamp(value: Any, low: Any, high: Any) -> Any:
    return max(low, min(value, high))
