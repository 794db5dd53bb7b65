"""Document paths (``a.b[2].#c``) and ProjectionExpression: parse, check, apply.

A path is a tuple of elements: a ``str`` for a map key or attribute name, an ``int`` for
a list index. Expression attribute names (``#n``) are substituted while parsing; the names
used are reported so that the caller can flag unused ones as DynamoDB does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from . import errors

Path = tuple[str | int, ...]
_TOKEN = re.compile(r"\s*(?:(#[A-Za-z0-9_]+)|([A-Za-z0-9_]+)|(\[\s*\d+\s*\])|(\.)|(,))")


class _Parser:
    def __init__(self, text: str, names: Mapping[str, str], what: str) -> None:
        self.text, self.names, self.what = text, names, what
        self.used: set[str] = set()

    def fail(self, detail: str) -> errors.AwsError:
        return errors.validation(f"Invalid {self.what}: {detail}")

    def _name(self, placeholder: str | None, plain: str | None) -> str:
        if placeholder is None:
            return plain or ""
        if placeholder not in self.names:
            raise self.fail(
                f"An expression attribute name used in the document path is not defined; attribute name: {placeholder}"
            )
        self.used.add(placeholder)
        return self.names[placeholder]

    def tokens(self) -> Iterable[tuple[str, str]]:
        pos, text = 0, self.text
        while pos < len(text.rstrip()):
            match = _TOKEN.match(text, pos)
            if match is None:
                raise self.fail(
                    f'Syntax error; token: "{text[pos:].strip()[:1]}", near: "{text[max(0, pos - 5) : pos + 5].strip()}"'
                )
            pos = match.end()
            placeholder, plain, index, dot, comma = match.groups()
            if placeholder or plain:
                yield "name", self._name(placeholder, plain)
            elif index:
                yield "index", index.strip("[] \t")
            else:
                yield ("dot", ".") if dot else ("comma", ",")

    def paths(self) -> list[Path]:
        out: list[Path] = []
        current: list[str | int] = []
        expect = "name"
        for kind, value in self.tokens():
            if expect == "name" and kind != "name":
                raise self.fail(f'Syntax error; token: "{value}", near: "{self.text.strip()[:20]}"')
            if kind == "name":
                if expect not in ("name", "after-dot"):
                    raise self.fail(f'Syntax error; token: "{value}", near: "{self.text.strip()[:20]}"')
                current.append(value)
                expect = "rest"
            elif kind == "index" and expect == "rest":
                current.append(int(value))
            elif kind == "dot" and expect == "rest":
                expect = "after-dot"
            elif kind == "comma" and expect == "rest":
                out.append(tuple(current))
                current, expect = [], "name"
            else:
                raise self.fail(f'Syntax error; token: "{value}", near: "{self.text.strip()[:20]}"')
        if expect != "rest":
            raise self.fail('Syntax error; token: "<EOF>", near: "' + self.text.strip()[-10:] + '"')
        out.append(tuple(current))
        return out


def _shown(path: Path) -> str:
    return "[" + ", ".join(f"[{p}]" if isinstance(p, int) else p for p in path) + "]"


def _check_overlap(paths: list[Path], what: str) -> None:
    for i, one in enumerate(paths):
        for other in paths[i + 1 :]:
            shorter = min(len(one), len(other))
            if one[:shorter] == other[:shorter]:
                raise errors.validation(
                    f"Invalid {what}: Two document paths overlap with each other; must remove or rewrite one of "
                    f"these paths; path one: {_shown(one)}, path two: {_shown(other)}"
                )


def parse_projection(text: str, names: Mapping[str, str]) -> tuple[list[Path], set[str]]:
    """The paths of a ProjectionExpression and the ``#names`` it used."""
    if not text.strip():
        raise errors.validation("Invalid ProjectionExpression: The expression can not be empty;")
    parser = _Parser(text, names, "ProjectionExpression")
    paths = parser.paths()
    _check_overlap(paths, "ProjectionExpression")
    return paths, parser.used


def _get(value: dict[str, Any], element: str | int) -> dict[str, Any] | None:
    if isinstance(element, int):
        items = value.get("L")
        return items[element] if items is not None and element < len(items) else None
    members = value.get("M")
    return members.get(element) if members is not None else None


def _put(target: dict[str, Any], path: Path, leaf: dict[str, Any]) -> None:
    """Graft ``leaf`` into ``target`` along ``path``; list slots are kept by index, ordered in _finish."""
    head, rest = path[0], path[1:]
    container = target.setdefault("_slots" if isinstance(head, int) else "M", {})
    node = container.setdefault(head, {} if rest else leaf)
    if rest:
        _put(node, rest, leaf)


def _finish(value: dict[str, Any]) -> dict[str, Any]:
    if "_slots" in value:
        return {"L": [_finish(value["_slots"][i]) for i in sorted(value["_slots"])]}
    if "M" in value and isinstance(value["M"], dict):
        return {"M": {k: _finish(v) for k, v in value["M"].items()}}
    return value


def project(item: Mapping[str, Any], paths: list[Path]) -> dict[str, Any]:
    """The parts of ``item`` the paths name, nested as in the item (missing parts are left out)."""
    root: dict[str, Any] = {"M": {}}
    for path in paths:
        value: dict[str, Any] | None = item.get(path[0])  # type: ignore[arg-type]
        for element in path[1:]:
            if value is None:
                break
            value = _get(value, element)
        if value is not None:
            _put(root, path, value)
    return _finish(root)["M"]
