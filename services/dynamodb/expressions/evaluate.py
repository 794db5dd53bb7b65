"""Evaluating conditions against an item, with DynamoDB's comparison rules.

Values of different types are never equal and never ordered; only N, S and B have an order
(numbers by value, strings by UTF-8 bytes, binary by unsigned bytes); sets are equal when they
hold the same members in any order. A path that does not resolve makes a comparison false
(except ``<>``, which is true when the two sides are not equal, a missing side included).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from .ast import And, Between, Compare, Function, In, Node, Not, Operand, Or, Path, PathElements, Value

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]
_SETS = {"SS": "S", "NS": "N", "BS": "B"}


# -- paths ----------------------------------------------------------------------------------------


def step(value: AttributeValue | None, element: str | int) -> AttributeValue | None:
    """One step down a document path (None when the value has no such member)."""
    if value is None:
        return None
    if isinstance(element, int):
        items = value.get("L")
        return items[element] if items is not None and element < len(items) else None
    members = value.get("M")
    return members.get(element) if members is not None else None


def resolve(item: Item, elements: PathElements) -> AttributeValue | None:
    head = elements[0]
    value = item.get(head) if isinstance(head, str) else None
    for element in elements[1:]:
        value = step(value, element)
    return value


# -- comparison -----------------------------------------------------------------------------------


def _key(kind: str, raw: Any) -> Any:
    """A comparable form of a scalar: numbers by value, strings by UTF-8 bytes, binary by bytes."""
    if kind == "N":
        return Decimal(raw)
    if kind == "S":
        return raw.encode("utf-8")
    return raw


def equals(one: AttributeValue | None, two: AttributeValue | None) -> bool:
    if one is None or two is None:
        return False
    ((kind, a),) = one.items()
    ((other, b),) = two.items()
    if kind != other:
        return False
    if kind in _SETS:
        return {_key(_SETS[kind], m) for m in a} == {_key(_SETS[kind], m) for m in b}
    if kind == "L":
        return len(a) == len(b) and all(equals(x, y) for x, y in zip(a, b, strict=True))
    if kind == "M":
        return a.keys() == b.keys() and all(equals(a[k], b[k]) for k in a)
    return _key(kind, a) == _key(kind, b)


def order(one: AttributeValue | None, two: AttributeValue | None) -> int | None:
    """-1, 0 or 1 when both are the same orderable type (N, S, B); else None."""
    if one is None or two is None:
        return None
    ((kind, a),) = one.items()
    ((other, b),) = two.items()
    if kind != other or kind not in ("N", "S", "B"):
        return None
    x, y = _key(kind, a), _key(kind, b)
    return (x > y) - (x < y)


_ORDERED: dict[str, Callable[[int], bool]] = {
    "<": lambda c: c < 0, "<=": lambda c: c <= 0, ">": lambda c: c > 0, ">=": lambda c: c >= 0,
}  # fmt: skip


def compare(op: str, one: AttributeValue | None, two: AttributeValue | None) -> bool:
    if op == "=":
        return equals(one, two)
    if op == "<>":
        return not equals(one, two)
    result = order(one, two)
    return result is not None and _ORDERED[op](result)


# -- functions ------------------------------------------------------------------------------------


def size(value: AttributeValue | None) -> AttributeValue | None:
    if value is None:
        return None
    ((kind, raw),) = value.items()
    if kind in ("N", "BOOL", "NULL"):
        return None
    return {"N": str(len(raw))}


def begins_with(value: AttributeValue | None, prefix: AttributeValue | None) -> bool:
    if value is None or prefix is None:
        return False
    ((kind, raw),) = value.items()
    ((other, start),) = prefix.items()
    return kind == other and kind in ("S", "B") and raw.startswith(start)


def contains(value: AttributeValue | None, member: AttributeValue | None) -> bool:
    if value is None or member is None:
        return False
    ((kind, raw),) = value.items()
    ((other, wanted),) = member.items()
    if kind in ("S", "B"):
        return kind == other and wanted in raw
    if kind in _SETS:
        return _SETS[kind] == other and any(equals({other: m}, member) for m in raw)
    if kind == "L":
        return any(equals(element, member) for element in raw)
    return False


def operand(node: Operand, item: Item) -> AttributeValue | None:
    """The value an operand stands for in ``item`` (None when it does not resolve)."""
    if isinstance(node, Path):
        return resolve(item, node.elements)
    if isinstance(node, Value):
        return node.value
    if isinstance(node, Function) and node.name == "size":
        return size(operand(node.args[0], item))
    return None


def _function(node: Function, item: Item) -> bool:
    args = [operand(arg, item) for arg in node.args]
    if node.name == "attribute_exists":
        return args[0] is not None
    if node.name == "attribute_not_exists":
        return args[0] is None
    if node.name == "attribute_type":
        return args[0] is not None and args[1] is not None and next(iter(args[0])) == args[1].get("S")
    if node.name == "begins_with":
        return begins_with(*args)
    if node.name == "contains":
        return contains(*args)
    return False


# -- conditions -----------------------------------------------------------------------------------


def _compare(node: Compare, item: Item) -> bool:
    return compare(node.op, operand(node.left, item), operand(node.right, item))


def _between(node: Between, item: Item) -> bool:
    value = operand(node.operand, item)
    low, high = operand(node.low, item), operand(node.high, item)
    return compare(">=", value, low) and compare("<=", value, high)


def _in(node: In, item: Item) -> bool:
    value = operand(node.operand, item)
    return any(equals(value, operand(option, item)) for option in node.options)


def _and(node: And, item: Item) -> bool:
    return matches(node.left, item) and matches(node.right, item)


def _or(node: Or, item: Item) -> bool:
    return matches(node.left, item) or matches(node.right, item)


def _not(node: Not, item: Item) -> bool:
    return not matches(node.operand, item)


_MATCHERS: dict[type, Callable[[Any, Item], bool]] = {
    Compare: _compare, Between: _between, In: _in, And: _and, Or: _or, Not: _not, Function: _function,
}  # fmt: skip


def matches(node: Node, item: Item) -> bool:
    return _MATCHERS[type(node)](node, item)
