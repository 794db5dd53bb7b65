"""KeyConditionExpression: a condition narrowed to ``hash = :v [AND range-condition]``.

It is parsed by the condition parser, then checked leaf by leaf against the key schema with
DynamoDB's messages, and reduced to the hash value and an optional range condition that
Query turns into an index range scan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import errors
from .ast import And, Between, Compare, Function, Node, Operand, Path, Value
from .evaluate import matches

_FLIPPED = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_TYPE_MISMATCH = (
    "One or more parameter values were invalid: Condition parameter type does not match schema type"
)


@dataclass(frozen=True)
class RangeCondition:
    """``op`` is one of = < <= > >= BETWEEN begins_with; ``values`` holds one value (two for BETWEEN)."""

    op: str
    values: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class _Leaf:
    name: str
    op: str
    values: tuple[dict[str, Any], ...]


class KeyCondition:
    def __init__(self, node: Node, hash_key: str, hash_value: dict[str, Any], range_: RangeCondition | None):
        self.node, self.hash_key, self.hash_value, self.range = node, hash_key, hash_value, range_

    def matches(self, item: dict[str, Any]) -> bool:
        return matches(self.node, item)


def _unsupported_operator(name: str) -> errors.AwsError:
    return errors.validation(f"Invalid operator used in KeyConditionExpression: {name}")


def _key_name(operand: Operand) -> str:
    if not isinstance(operand, Path):
        raise _unsupported_operator(operand.name if isinstance(operand, Function) else "value")
    if len(operand.elements) > 1:
        raise errors.validation(
            "Invalid KeyConditionExpression: KeyConditionExpressions cannot have conditions on nested attributes"
        )
    return str(operand.elements[0])


def _compare_leaf(node: Compare) -> _Leaf:
    if node.op == "<>":
        raise _unsupported_operator("<>")
    left, right, op = node.left, node.right, node.op
    if isinstance(left, Path) and isinstance(right, Path):
        raise errors.validation(
            "Invalid condition in KeyConditionExpression: multiple attribute names used in one condition"
        )
    if isinstance(right, Path):
        left, right, op = right, left, _FLIPPED[op]
    if not isinstance(left, Path):
        raise errors.validation("Invalid condition in KeyConditionExpression: No key attribute specified")
    return _Leaf(_key_name(left), op, (_value(right),))


def _value(operand: Operand) -> dict[str, Any]:
    if not isinstance(operand, Value):
        raise _unsupported_operator(operand.name if isinstance(operand, Function) else "path")
    return operand.value


def _leaves(node: Node) -> list[_Leaf]:
    if isinstance(node, And):
        return _leaves(node.left) + _leaves(node.right)
    if isinstance(node, Compare):
        return [_compare_leaf(node)]
    if isinstance(node, Between):
        return [_Leaf(_key_name(node.operand), "BETWEEN", (_value(node.low), _value(node.high)))]
    if isinstance(node, Function) and node.name == "begins_with":
        return [_Leaf(_key_name(node.args[0]), "begins_with", (_value(node.args[1]),))]
    if isinstance(node, Function):
        raise _unsupported_operator(node.name)
    raise _unsupported_operator(type(node).__name__.upper())


def key_condition(node: Node, hash_key: str, range_key: str | None, types: dict[str, str]) -> KeyCondition:
    leaves = _leaves(node)
    by_name: dict[str, _Leaf] = {}
    for leaf in leaves:
        if leaf.name in by_name or len(leaves) > 2:
            raise errors.validation("KeyConditionExpressions must only contain one condition per key")
        by_name[leaf.name] = leaf
    if hash_key not in by_name:
        raise errors.validation(f"Query condition missed key schema element: {hash_key}")
    for name in by_name:
        if name not in (hash_key, range_key):
            if range_key is None:
                raise errors.validation("Query key condition not supported")
            raise errors.validation(f"Query condition missed key schema element: {range_key}")
    hashed = by_name[hash_key]
    if hashed.op != "=":
        raise errors.validation("Query key condition not supported")
    for leaf in by_name.values():
        if any(next(iter(v)) != types.get(leaf.name) for v in leaf.values):
            raise errors.validation(_TYPE_MISMATCH)
    ranged = by_name.get(range_key) if range_key else None
    range_ = RangeCondition(ranged.op, ranged.values) if ranged else None
    return KeyCondition(node, hash_key, hashed.values[0], range_)
