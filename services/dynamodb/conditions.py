"""The handlers' one door to the expression languages (services/dynamodb/expressions).

``RequestExpressions(req)`` reads a request's (or a transaction item's) ExpressionAttributeNames
and ExpressionAttributeValues once; each expression of the request is parsed through it, and
``check_unused()`` then flags names or values no expression used. Key conditions come back as a
``KeyRange`` on the sort key whether they were written as KeyConditionExpression or as the
legacy KeyConditions, so Query reads one shape.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, NamedTuple

from . import errors
from .expressions import Expressions
from .values import AttributeValue, canonical, kind_of

# KeyRange.op: the comparison on the sort key.
EQ, LT, LE, GT, GE, BETWEEN, BEGINS_WITH = "=", "<", "<=", ">", ">=", "BETWEEN", "BEGINS_WITH"
_LEGACY_OPS = {
    "EQ": EQ,
    "LT": LT,
    "LE": LE,
    "GT": GT,
    "GE": GE,
    "BETWEEN": BETWEEN,
    "BEGINS_WITH": BEGINS_WITH,
}
_OP_ARITY = {EQ: 1, LT: 1, LE: 1, GT: 1, GE: 1, BETWEEN: 2, BEGINS_WITH: 1}


class KeyRange(NamedTuple):
    op: str
    values: tuple[AttributeValue, ...]


class KeyCondition(NamedTuple):
    hash_value: AttributeValue
    range: KeyRange | None


class RequestExpressions:
    """The expressions of one request (or transaction item), sharing its attribute names and values.

    Call ``check_unused()`` once every expression of the request is parsed, also when it has
    none: that is what rejects names or values given without any expression.
    """

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self._library = Expressions(
            spec.get("ExpressionAttributeNames"), spec.get("ExpressionAttributeValues")
        )

    def condition(self, text: str | None, kind: str = "ConditionExpression") -> Any | None:
        """A parsed condition (``.matches(item)``), or None when the request has none."""
        return None if text is None else self._library.condition(text, kind)

    def update(self, text: str | None) -> Any | None:
        """A parsed update expression (``.apply(item)`` -> the new item; ``.paths`` it writes)."""
        return None if text is None else self._library.update(text)

    def projection(self, text: str) -> Any:
        """A parsed projection (``.apply(item)`` -> the projected item; ``.top_level`` names)."""
        return self._library.projection(text)

    def key_condition(
        self, text: str, hash_key: str, range_key: str | None, types: Mapping[str, str]
    ) -> KeyCondition:
        parsed = self._library.key_condition(text, hash_key, range_key, types)
        found = parsed.range
        ranged = None if found is None else KeyRange(str(found.op).upper(), tuple(found.values))
        return KeyCondition(parsed.hash_value, ranged)

    def check_unused(self) -> None:
        self._library.check_unused()


# -- the legacy parameters ----------------------------------------------------------------------


def legacy_key_condition(
    conditions: Mapping[str, Any], hash_key: str, range_key: str | None, types: Mapping[str, str]
) -> KeyCondition:
    """KeyConditions ({attribute: {ComparisonOperator, AttributeValueList}}) as a KeyCondition."""
    if hash_key not in conditions or any(name not in (hash_key, range_key) for name in conditions):
        missing = hash_key if hash_key not in conditions else next(n for n in conditions if n != hash_key)
        raise errors.validation(f"Query condition missed key schema element: {missing}")
    hash_range = _legacy_range(conditions[hash_key], hash_key, types)
    if hash_range.op != EQ:
        raise errors.validation("Query key condition not supported")
    ranged = _legacy_range(conditions[range_key], range_key, types) if range_key in conditions else None
    return KeyCondition(hash_range.values[0], ranged)


def _legacy_range(condition: Mapping[str, Any], name: str, types: Mapping[str, str]) -> KeyRange:
    operator = condition.get("ComparisonOperator")
    op = _LEGACY_OPS.get(operator or "")
    if op is None:
        raise errors.validation(f"Unsupported operator on KeyCondition: {operator}")
    values = tuple(canonical(v) for v in condition.get("AttributeValueList") or ())
    if len(values) != _OP_ARITY[op]:
        raise errors.validation(
            f"One or more parameter values were invalid: Invalid number of argument(s) for the {operator} ComparisonOperator"
        )
    for value in values:
        if kind_of(value) != types[name]:
            raise errors.validation(
                "One or more parameter values were invalid: Condition parameter type does not match schema type"
            )
    return KeyRange(op, values)


# Expected / QueryFilter / ScanFilter and AttributeUpdates are rewritten as expressions with
# generated placeholders, so the legacy parameters share the expression evaluator.
_COMPARE = {"EQ": "=", "NE": "<>", "LE": "<=", "LT": "<", "GE": ">=", "GT": ">"}
_ARITY = {
    **dict.fromkeys(_COMPARE, 1), "NULL": 0, "NOT_NULL": 0, "CONTAINS": 1, "NOT_CONTAINS": 1,
    "BEGINS_WITH": 1, "BETWEEN": 2,
}  # fmt: skip


class _Rewrite:
    """Placeholders for a legacy parameter rewritten as an expression."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def name(self, attribute: str) -> str:
        key = f"#legacy{len(self.names)}"
        self.names[key] = attribute
        return key

    def value(self, value: Any) -> str:
        key = f":legacy{len(self.values)}"
        self.values[key] = value
        return key

    def library(self) -> Expressions:
        return Expressions(self.names or None, self.values or None, limited=False)


def _invalid(detail: str) -> errors.AwsError:
    return errors.invalid_parameters(detail)


def _value_form(rewrite: _Rewrite, attribute: str, name: str, condition: Mapping[str, Any]) -> str:
    """Expected's older form: Value and/or Exists."""
    exists, value = condition.get("Exists", True), condition.get("Value")
    if value is not None:
        if exists is False:
            raise _invalid(f"Value cannot be used when Exists is false for Attribute: {attribute}")
        return f"{name} = {rewrite.value(value)}"
    if exists is False:
        return f"attribute_not_exists({name})"
    raise _invalid(f"Value must be provided when Exists is true for Attribute: {attribute}")


def _clause(rewrite: _Rewrite, attribute: str, condition: Mapping[str, Any]) -> str:
    name = rewrite.name(attribute)
    operator = condition.get("ComparisonOperator")
    if operator is None:
        return _value_form(rewrite, attribute, name, condition)
    arguments = [rewrite.value(v) for v in condition.get("AttributeValueList") or ()]
    if operator != "IN" and len(arguments) != _ARITY.get(operator, -1) or operator == "IN" and not arguments:
        raise _invalid(f"Invalid number of argument(s) for the {operator} ComparisonOperator")
    if operator in _COMPARE:
        return f"{name} {_COMPARE[operator]} {arguments[0]}"
    forms = {
        "NULL": f"attribute_not_exists({name})",
        "NOT_NULL": f"attribute_exists({name})",
        "CONTAINS": f"contains({name}, {arguments[0] if arguments else ''})",
        "NOT_CONTAINS": f"NOT contains({name}, {arguments[0] if arguments else ''})",
        "BEGINS_WITH": f"begins_with({name}, {arguments[0] if arguments else ''})",
        "IN": f"{name} IN ({', '.join(arguments)})",
        "BETWEEN": f"{name} BETWEEN {' AND '.join(arguments)}",
    }
    return forms[operator]


def legacy_condition(
    conditions: Mapping[str, Any] | None, operator: str | None, kind: str = "ConditionExpression"
) -> Any | None:
    """Expected, QueryFilter or ScanFilter (with ConditionalOperator) as a parsed condition."""
    if not conditions:
        if operator is not None:
            raise _invalid(
                "ConditionalOperator can only be used when Filter or Expected has two or more elements"
            )
        return None
    if operator is not None and len(conditions) < 2:
        raise _invalid(
            "ConditionalOperator can only be used when Filter or Expected has two or more elements"
        )
    rewrite = _Rewrite()
    joiner = f" {operator or 'AND'} "
    text = joiner.join(f"({_clause(rewrite, a, c)})" for a, c in conditions.items())
    return rewrite.library().condition(text, kind)


def legacy_update(updates: Mapping[str, Any] | None) -> Any | None:
    """AttributeUpdates ({name: {Action, Value}}) as a parsed update expression."""
    if not updates:
        return None
    rewrite = _Rewrite()
    clauses: dict[str, list[str]] = {"SET": [], "REMOVE": [], "ADD": [], "DELETE": []}
    for attribute, update in updates.items():
        name, action, value = rewrite.name(attribute), update.get("Action") or "PUT", update.get("Value")
        if action == "PUT":
            if value is None:
                raise _invalid(
                    f"Only DELETE action is allowed when no attribute value is specified: {attribute}"
                )
            clauses["SET"].append(f"{name} = {rewrite.value(value)}")
        elif action == "DELETE" and value is None:
            clauses["REMOVE"].append(name)
        elif value is None:
            raise _invalid(f"Only DELETE action is allowed when no attribute value is specified: {attribute}")
        else:
            clauses[action].append(f"{name} {rewrite.value(value)}")
    text = " ".join(f"{verb} {', '.join(parts)}" for verb, parts in clauses.items() if parts)
    return rewrite.library().update(text)


def no_mixing(spec: Mapping[str, Any], legacy: tuple[str, ...], expressions: tuple[str, ...]) -> None:
    """DynamoDB's refusal of a request with both legacy and expression parameters."""
    old = [m for m in legacy if spec.get(m) is not None]
    new = [m for m in expressions if spec.get(m) is not None]
    if old and new:
        raise errors.validation(
            "Can not use both expression and non-expression parameters in the same request: "
            f"Non-expression parameters: {{{', '.join(old)}}} Expression parameters: {{{', '.join(new)}}}"
        )


def attributes(condition: Any) -> set[str]:
    """The top-level attribute names a parsed condition reads."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, (tuple, list)):
            for child in node:
                walk(child)
        elif hasattr(node, "elements") and isinstance(node.elements, tuple):
            found.add(str(node.elements[0]))
        elif dataclasses.is_dataclass(node):
            for member in dataclasses.fields(node):
                walk(getattr(node, member.name))

    walk(getattr(condition, "node", None))
    return found
