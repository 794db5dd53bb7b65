"""Event filtering of event source mappings (``FilterCriteria``): pure functions, no I/O.

A mapping's ``FilterCriteria`` is ``{"Filters": [{"Pattern": "<JSON text>"}, ...]}``. A record is
passed to the function when *any* pattern matches it; the others are dropped (the poller deletes
dropped SQS messages, as Lambda does). The syntax is Lambda's (EventBridge's pattern language):

- a pattern is a JSON object; its keys name fields of the record, nested objects name nested
  fields, and every leaf is a list of conditions, one of which must hold (OR); all keys must
  match (AND); ``"$or": [pattern, pattern, ...]`` matches when one of its patterns does;
- conditions: a string, number, boolean or ``null`` (equal; ``null`` matches a present ``null``),
  ``{"prefix": s}``, ``{"suffix": s}``, ``{"equals-ignore-case": s}``,
  ``{"anything-but": value | [values] | {"prefix": s} | {"suffix": s} | {"equals-ignore-case": s}}``,
  ``{"numeric": ["=", n]}`` or ``{"numeric": [">", a, "<=", b]}`` (one lower and/or one upper
  bound), ``{"exists": true|false}``;
- a field whose value is a list matches when one of its elements does;
- numbers match numbers only (``"5"`` is not ``5``); equality of numbers is by value (``5`` = ``5.0``).

What a record looks like to a pattern: the record as the function receives it, except that an SQS
record's ``body`` is the parsed JSON when the body is JSON text (and stays the string otherwise,
so ``{"body": ["plain text"]}`` matches a plain body). DynamoDB stream records are matched as they
are, so ``{"dynamodb": {"NewImage": {"status": {"S": ["done"]}}}}``; their ``N`` values are strings
in DynamoDB JSON, so ``numeric`` does not apply to them (as on AWS).

``compile_criteria`` checks the patterns and raises Lambda's ``InvalidParameterValueException``
("Invalid filter pattern definition.") for one it cannot read.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from . import errors

MAX_FILTERS = 5  # Lambda's default quota of filters per event source mapping
INVALID = "Invalid filter pattern definition."
_MISSING = object()

Pattern = dict[str, Any]
Condition = Callable[[Any], bool]  # called with the field's value, or _MISSING


class PatternError(ValueError):
    """A pattern that is not valid filter syntax (the message says what is wrong, for logs and tests)."""


# -- checking and compiling ------------------------------------------------------------------------


def compile_criteria(criteria: dict[str, Any] | None) -> list[Pattern] | None:
    """The mapping's patterns, parsed and checked; None when there is nothing to filter on.

    Raises Lambda's InvalidParameterValueException for an invalid pattern or too many filters.
    """
    filters = (criteria or {}).get("Filters") or []
    if len(filters) > MAX_FILTERS:
        raise errors.invalid_parameter(
            f"The number of filters ({len(filters)}) exceeds the maximum of {MAX_FILTERS}."
        )
    patterns = []
    for item in filters:
        try:
            patterns.append(parse_pattern(item.get("Pattern")))
        except PatternError:
            raise errors.invalid_parameter(INVALID) from None
    return patterns or None


def parse_pattern(text: str | None) -> Pattern:
    """One pattern from its JSON text, checked (raises PatternError)."""
    try:
        pattern = json.loads(text or "")
    except ValueError as err:
        raise PatternError(f"not JSON: {err}") from None
    check_pattern(pattern)
    return pattern


def check_pattern(pattern: Any) -> None:
    """A pattern object: nested objects, leaves that are non-empty lists of valid conditions."""
    if not isinstance(pattern, dict) or not pattern:
        raise PatternError("a pattern must be a non-empty JSON object")
    for key, value in pattern.items():
        if key == "$or":
            _check_or(value)
        elif isinstance(value, dict):
            check_pattern(value)
        elif isinstance(value, list):
            if not value:
                raise PatternError(f"{key}: an empty list matches nothing")
            for condition in value:
                check_condition(condition)
        else:
            raise PatternError(f"{key}: a leaf must be a list of conditions")


def _check_or(value: Any) -> None:
    if not isinstance(value, list) or len(value) < 2:
        raise PatternError("$or takes a list of at least two patterns")
    for branch in value:
        check_pattern(branch)


def check_condition(condition: Any) -> None:
    if condition is None or isinstance(condition, str | bool | int | float):
        return
    if not isinstance(condition, dict) or len(condition) != 1:
        raise PatternError(f"{condition!r}: a condition is a value or an object with one operator")
    ((operator, argument),) = condition.items()
    checker = _CHECKS.get(operator)
    if checker is None:
        raise PatternError(f"unknown operator {operator!r}")
    checker(argument)


def _check_string(argument: Any) -> None:
    if not isinstance(argument, str):
        raise PatternError(f"{argument!r}: this operator takes a string")


def _check_exists(argument: Any) -> None:
    if not isinstance(argument, bool):
        raise PatternError("exists takes true or false")


def _check_anything_but(argument: Any) -> None:
    if isinstance(argument, dict):
        if len(argument) != 1 or next(iter(argument)) not in ("prefix", "suffix", "equals-ignore-case"):
            raise PatternError("anything-but takes prefix, suffix or equals-ignore-case")
        _check_string(next(iter(argument.values())))
        return
    values = argument if isinstance(argument, list) else [argument]
    if not values or not all(_is_scalar(v) for v in values):
        raise PatternError("anything-but takes a string, a number or a list of them")


def _check_numeric(argument: Any) -> None:
    numeric_bounds(argument)


def numeric_bounds(argument: Any) -> list[tuple[str, float]]:
    """``[op, n, op, n]`` as (op, n) pairs: ``=`` alone, or at most one lower and one upper bound."""
    if not isinstance(argument, list) or not argument or len(argument) % 2 or len(argument) > 4:
        raise PatternError("numeric takes [operator, number] or [operator, number, operator, number]")
    pairs = list(zip(argument[::2], argument[1::2], strict=True))
    for op, number in pairs:
        if op not in _COMPARE or not _is_number(number):
            raise PatternError(f"numeric: {op!r} {number!r} is not an operator and a number")
    ops = [op for op, _ in pairs]
    if len(pairs) == 2:
        lower = [n for op, n in pairs if op in (">", ">=")]
        upper = [n for op, n in pairs if op in ("<", "<=")]
        if len(lower) != 1 or len(upper) != 1 or lower[0] >= upper[0]:
            raise PatternError("numeric: a range is one lower bound below one upper bound")
    elif "=" in ops and len(pairs) > 1:
        raise PatternError("numeric: '=' stands alone")
    return [(op, float(n)) for op, n in pairs]


_CHECKS: dict[str, Callable[[Any], None]] = {
    "prefix": _check_string,
    "suffix": _check_string,
    "equals-ignore-case": _check_string,
    "exists": _check_exists,
    "anything-but": _check_anything_but,
    "numeric": _check_numeric,
}


# -- matching --------------------------------------------------------------------------------------


def matches_any(patterns: list[Pattern] | None, record: dict[str, Any]) -> bool:
    """Whether a record passes the mapping's filters (no filters: every record passes)."""
    if not patterns:
        return True
    return any(matches(pattern, record) for pattern in patterns)


def matches(pattern: Pattern, value: Any) -> bool:
    """Every key of the pattern matches the object ``value`` (AND), ``$or`` branches by OR."""
    for key, wanted in pattern.items():
        if key == "$or":
            if not any(matches(branch, value) for branch in wanted):
                return False
            continue
        field = value.get(key, _MISSING) if isinstance(value, dict) else _MISSING
        if isinstance(wanted, dict):
            if not _matches_nested(wanted, field):
                return False
        elif not _matches_leaf(wanted, field):
            return False
    return True


def _matches_nested(pattern: Pattern, field: Any) -> bool:
    if isinstance(field, list):  # a list of objects: one of them must match
        return any(isinstance(item, dict) and matches(pattern, item) for item in field)
    if isinstance(field, dict):
        return matches(pattern, field)
    return all(_only_absence(cond) for cond in _leaves(pattern))  # e.g. {"a": {"b": [{"exists": false}]}}


def _leaves(pattern: Pattern) -> list[Any]:
    out: list[Any] = []
    for key, value in pattern.items():
        if key == "$or":
            return [None]  # an $or below a missing object never matches
        out.extend(_leaves(value) if isinstance(value, dict) else [value])
    return out


def _only_absence(conditions: Any) -> bool:
    """A leaf under a missing object matches only when it accepts a missing field."""
    return isinstance(conditions, list) and any(_condition_holds(c, _MISSING) for c in conditions)


def _matches_leaf(conditions: list[Any], field: Any) -> bool:
    if isinstance(field, list):
        if any(_condition_holds(c, field) for c in conditions if _is_exists(c)):
            return True
        return any(_condition_holds(c, item) for item in field for c in conditions if not _is_exists(c))
    return any(_condition_holds(c, field) for c in conditions)


def _condition_holds(condition: Any, value: Any) -> bool:
    if not isinstance(condition, dict):
        return value is not _MISSING and _equal(condition, value)
    ((operator, argument),) = condition.items()
    if operator == "exists":
        return (value is not _MISSING and not isinstance(value, dict)) is argument
    if value is _MISSING:
        return False
    return _OPERATORS[operator](argument, value)


def _equal(wanted: Any, value: Any) -> bool:
    """Equality of JSON values by type: ``null`` only equals ``null``, booleans only booleans."""
    if wanted is None or value is None:
        return wanted is value
    if isinstance(wanted, bool) or isinstance(value, bool):
        return isinstance(wanted, bool) and isinstance(value, bool) and wanted == value
    if _is_number(wanted):
        return _is_number(value) and float(wanted) == float(value)
    return isinstance(value, str) and wanted == value


def _prefix(argument: str, value: Any) -> bool:
    return isinstance(value, str) and value.startswith(argument)


def _suffix(argument: str, value: Any) -> bool:
    return isinstance(value, str) and value.endswith(argument)


def _equals_ignore_case(argument: str, value: Any) -> bool:
    return isinstance(value, str) and value.casefold() == argument.casefold()


def _anything_but(argument: Any, value: Any) -> bool:
    if isinstance(argument, dict):
        ((operator, text),) = argument.items()
        return isinstance(value, str) and not _OPERATORS[operator](text, value)
    values = argument if isinstance(argument, list) else [argument]
    return not any(_equal(v, value) for v in values)


def _numeric(argument: list[Any], value: Any) -> bool:
    if not _is_number(value):
        return False
    number = float(value)
    return all(_COMPARE[op](number, bound) for op, bound in numeric_bounds(argument))


_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "=": lambda a, b: a == b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "prefix": _prefix,
    "suffix": _suffix,
    "equals-ignore-case": _equals_ignore_case,
    "anything-but": _anything_but,
    "numeric": _numeric,
}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str) or _is_number(value)


def _is_exists(condition: Any) -> bool:
    return isinstance(condition, dict) and "exists" in condition


# -- what a pattern sees ---------------------------------------------------------------------------


def sqs_view(record: dict[str, Any]) -> dict[str, Any]:
    """An SQS record as patterns see it: ``body`` parsed when it is JSON text."""
    body = record.get("body")
    if isinstance(body, str):
        try:
            return {**record, "body": json.loads(body)}
        except ValueError:
            pass
    return record
