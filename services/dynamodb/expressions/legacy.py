"""The legacy parameters, turned into the same trees the expression languages parse into.

``Expected``/``QueryFilter``/``ScanFilter`` (+ ``ConditionalOperator``) become a Condition,
``AttributeUpdates`` an Update, ``AttributesToGet`` a Projection and ``KeyConditions`` a
KeyCondition, so that handlers evaluate one kind of object whichever style the caller used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import reduce
from typing import Any

from .. import errors, values
from .ast import (
    AddAction,
    And,
    Between,
    Compare,
    DeleteAction,
    Function,
    In,
    Node,
    Not,
    Or,
    Path,
    RemoveAction,
    SetAction,
    Value,
)
from .keys import KeyCondition, key_condition
from .update import Update

_COMPARE = {"EQ": "=", "NE": "<>", "LE": "<=", "LT": "<", "GE": ">=", "GT": ">"}
_ARITY = {**dict.fromkeys(_COMPARE, 1), "NOT_NULL": 0, "NULL": 0, "CONTAINS": 1, "NOT_CONTAINS": 1,
          "BEGINS_WITH": 1, "BETWEEN": 2}  # fmt: skip


def _invalid(message: str) -> errors.AwsError:
    return errors.invalid_parameters(message)


def _values(name: str, condition: Mapping[str, Any]) -> list[Value]:
    operator = condition.get("ComparisonOperator", "")
    given = [values.canonical(v) for v in condition.get("AttributeValueList") or []]
    expected = _ARITY.get(operator)
    if operator == "IN" and given:
        expected = len(given)
    if expected is None or len(given) != expected:
        raise _invalid(f"Invalid number of argument(s) for the {operator} ComparisonOperator")
    return [Value(f"{name}[{i}]", v) for i, v in enumerate(given)]


def _comparison(name: str, condition: Mapping[str, Any]) -> Node:
    operator = condition.get("ComparisonOperator", "")
    path, args = Path((name,)), _values(name, condition)
    if operator in _COMPARE:
        return Compare(_COMPARE[operator], path, args[0])
    return _BUILDERS[operator](path, args)


_BUILDERS: dict[str, Callable[[Path, list[Value]], Node]] = {
    "NOT_NULL": lambda p, a: Function("attribute_exists", (p,)),
    "NULL": lambda p, a: Function("attribute_not_exists", (p,)),
    "CONTAINS": lambda p, a: Function("contains", (p, a[0])),
    "NOT_CONTAINS": lambda p, a: And(
        Function("attribute_exists", (p,)), Not(Function("contains", (p, a[0])))
    ),
    "BEGINS_WITH": lambda p, a: Function("begins_with", (p, a[0])),
    "IN": lambda p, a: In(p, tuple(a)),
    "BETWEEN": lambda p, a: Between(p, a[0], a[1]),
}


def _expected(name: str, condition: Mapping[str, Any]) -> Node:
    """One entry of ``Expected``: the Exists/Value form or the ComparisonOperator form."""
    if "ComparisonOperator" in condition:
        if "Value" in condition or "Exists" in condition:
            raise _invalid(
                "Value or Exists cannot be used with ComparisonOperator for Attribute: " + name
                if "Value" in condition
                else "Exists and ComparisonOperator cannot be used together for Attribute: " + name
            )
        return _comparison(name, condition)
    exists, path = condition.get("Exists", True), Path((name,))
    if exists and "Value" not in condition:
        raise _invalid(f"Value must be provided when Exists is true for Attribute: {name}")
    if not exists:
        if "Value" in condition:
            raise _invalid(f"Value cannot be used when Exists is false for Attribute: {name}")
        return Function("attribute_not_exists", (path,))
    return Compare("=", path, Value(name, values.canonical(condition["Value"])))


def _combine(nodes: list[Node], operator: str | None) -> Node:
    joiner = Or if operator == "OR" else And
    return reduce(joiner, nodes)


def expected_condition(expected: Mapping[str, Mapping[str, Any]], operator: str | None = None) -> Node | None:
    """``Expected`` + ``ConditionalOperator`` as a condition tree (None when empty)."""
    nodes = [_expected(name, condition) for name, condition in expected.items()]
    return _combine(nodes, operator) if nodes else None


def filter_condition(conditions: Mapping[str, Mapping[str, Any]], operator: str | None = None) -> Node | None:
    """``QueryFilter``/``ScanFilter`` + ``ConditionalOperator`` as a condition tree (None when empty)."""
    nodes = [_comparison(name, condition) for name, condition in conditions.items()]
    return _combine(nodes, operator) if nodes else None


def attribute_updates(updates: Mapping[str, Mapping[str, Any]]) -> Update:
    """``AttributeUpdates``: PUT sets, DELETE removes (or deletes set members), ADD adds (or appends to a list)."""
    actions = []
    for name, change in updates.items():
        path, action = Path((name,)), change.get("Action", "PUT")
        value = Value(name, values.canonical(change["Value"])) if "Value" in change else None
        if action == "PUT":
            if value is None:
                raise _invalid(f"Only DELETE action is allowed when no attribute value is specified: {name}")
            actions.append(SetAction(path, value))
        elif action == "DELETE":
            actions.append(RemoveAction(path) if value is None else DeleteAction(path, value))
        elif value is None:
            raise _invalid(f"Only DELETE action is allowed when no attribute value is specified: {name}")
        elif value.type == "L":
            empty = Function("if_not_exists", (path, Value(name, {"L": []})))
            actions.append(SetAction(path, Function("list_append", (empty, value))))
        else:
            actions.append(AddAction(path, value))
    return Update(actions)


def attributes_to_get(names: list[str]) -> list[tuple[str]]:
    """``AttributesToGet`` as projection paths (for ``Projection``)."""
    if len(set(names)) != len(names):
        raise _invalid(f"Duplicate value in attribute name: {next(n for n in names if names.count(n) > 1)}")
    return [(name,) for name in names]


def key_conditions(
    conditions: Mapping[str, Mapping[str, Any]],
    hash_key: str,
    range_key: str | None,
    types: Mapping[str, str],
) -> KeyCondition:
    node = filter_condition(conditions)
    if node is None:
        raise _invalid("Missing the key " + hash_key + " in the item")
    return key_condition(node, hash_key, range_key, dict(types))
