"""The syntax tree every expression language parses into.

Paths are tuples of ``str`` (map key or attribute name, placeholders already substituted) and
``int`` (list index). Values carry the placeholder they came from (for error messages) and
the canonical AttributeValue it stands for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PathElements = tuple[str | int, ...]


@dataclass(frozen=True, eq=False)
class Path:
    elements: PathElements

    def shown(self) -> str:
        """DynamoDB's way of printing a path in messages: ``[a, b, [2]]``."""
        return show_path(self.elements)


@dataclass(frozen=True, eq=False)
class Value:
    placeholder: str
    value: dict[str, Any]

    @property
    def type(self) -> str:
        return next(iter(self.value))


@dataclass(frozen=True, eq=False)
class Function:
    name: str
    args: tuple[Operand, ...]


@dataclass(frozen=True, eq=False)
class Arith:
    """``a + b`` / ``a - b`` on the right of a SET action."""

    op: str
    left: Operand
    right: Operand


Operand = Path | Value | Function | Arith


@dataclass(frozen=True, eq=False)
class Compare:
    op: str
    left: Operand
    right: Operand


@dataclass(frozen=True, eq=False)
class Between:
    operand: Operand
    low: Operand
    high: Operand


@dataclass(frozen=True, eq=False)
class In:
    operand: Operand
    options: tuple[Operand, ...]


@dataclass(frozen=True, eq=False)
class And:
    left: Node
    right: Node


@dataclass(frozen=True, eq=False)
class Or:
    left: Node
    right: Node


@dataclass(frozen=True, eq=False)
class Not:
    operand: Node


Node = Compare | Between | In | And | Or | Not | Function


@dataclass(frozen=True, eq=False)
class SetAction:
    path: Path
    value: Operand


@dataclass(frozen=True, eq=False)
class RemoveAction:
    path: Path


@dataclass(frozen=True, eq=False)
class AddAction:
    path: Path
    value: Value


@dataclass(frozen=True, eq=False)
class DeleteAction:
    path: Path
    value: Value


Action = SetAction | RemoveAction | AddAction | DeleteAction


def show_path(elements: PathElements) -> str:
    return "[" + ", ".join(f"[{e}]" if isinstance(e, int) else e for e in elements) + "]"
