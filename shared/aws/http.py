"""Framework-free HTTP request/response values the protocol layer works on.

The app factory builds an ``HttpRequest`` from the ASGI scope; the conformance tests build
one from botocore's serialized request dict. Neither the parsers nor the serializers know
about Starlette, FastAPI or ASGI.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl


class Headers:
    """Case-insensitive, multi-valued header map (keeps the first value for ``get``)."""

    __slots__ = ("_items", "_index")

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: list[tuple[str, str]] = []
        self._index: dict[str, list[str]] = {}
        for k, v in items:
            self.add(k, v)

    def add(self, name: str, value: str) -> None:
        self._items.append((name, value))
        self._index.setdefault(name.lower(), []).append(value)

    def get(self, name: str, default: str | None = None) -> str | None:
        values = self._index.get(name.lower())
        return values[0] if values else default

    def get_all(self, name: str) -> list[str]:
        return list(self._index.get(name.lower(), ()))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def items(self) -> list[tuple[str, str]]:
        return list(self._items)

    def lower_items(self) -> list[tuple[str, str]]:
        return [(k.lower(), v) for k, v in self._items]

    def __iter__(self):
        return iter(self._index)

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


@dataclass
class HttpRequest:
    """An HTTP request as the service received it.

    ``path`` is the raw, still percent-encoded path (no query string); ``query`` is the
    decoded query string as ordered pairs (a key without ``=`` has value ``""``).
    ``body`` is the whole body for non-streaming operations; for an operation whose input
    has a streaming payload (S3 PutObject, UploadPart, Lambda Invoke ...) the app factory
    leaves ``body`` empty and sets ``stream`` to an async iterator of body chunks, which the
    parser hands to the handler as the payload member's value.
    """

    method: str
    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    stream: AsyncIterator[bytes] | None = None
    host: str = ""

    @classmethod
    def from_url_parts(
        cls, method: str, path: str, query_string: str, headers: Iterable[tuple[str, str]], body: bytes = b""
    ) -> HttpRequest:
        hdrs = Headers(headers)
        return cls(
            method=method.upper(),
            path=path or "/",
            query=parse_qsl(query_string, keep_blank_values=True),
            headers=hdrs,
            body=body,
            host=hdrs.get("host", "") or "",
        )

    def query_dict(self) -> dict[str, str]:
        """First value of every query key."""
        out: dict[str, str] = {}
        for k, v in self.query:
            out.setdefault(k, v)
        return out


@dataclass
class HttpResponse:
    """What a serializer produces. ``body`` is bytes, or an async iterator of bytes for a
    streaming payload (S3 GetObject). ``headers`` keep their order and may repeat."""

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | AsyncIterator[bytes] = b""

    def header(self, name: str) -> str | None:
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None
