"""DynamoDB's expression languages: condition/filter, update, projection and key condition.

One ``Expressions`` context per request holds ExpressionAttributeNames/Values, hands out parsed
expressions and records which placeholders they used, so that ``check_unused()`` can raise
DynamoDB's "unused" errors once every expression of the request has been parsed::

    ctx = Expressions(req.get("ExpressionAttributeNames"), req.get("ExpressionAttributeValues"))
    condition = ctx.condition(req["ConditionExpression"]) if "ConditionExpression" in req else None
    update = ctx.update(req["UpdateExpression"])
    ctx.check_unused()
    if condition and not condition.matches(old_item): ...
    new_item = update.apply(old_item)

Every error is a ValidationException worded as DynamoDB words it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import errors, paths, values
from .ast import Node, PathElements
from .evaluate import matches
from .keys import KeyCondition, RangeCondition, key_condition
from .parser import parse_condition, parse_projection, parse_update
from .update import Update

__all__ = ["Condition", "Expressions", "KeyCondition", "Projection", "RangeCondition", "Update"]


class Condition:
    """A parsed ConditionExpression or FilterExpression."""

    def __init__(self, node: Node) -> None:
        self.node = node

    def matches(self, item: Mapping[str, Any]) -> bool:
        return matches(self.node, dict(item))


class Projection:
    """A parsed ProjectionExpression: ``apply(item)`` keeps only the named parts, nested as in the item."""

    def __init__(self, paths_: list[PathElements]) -> None:
        self.paths = paths_

    @property
    def top_level(self) -> set[str]:
        """The attribute names the projection reaches (what an index projection must include)."""
        return {str(p[0]) for p in self.paths}

    def apply(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return paths.project(item, self.paths)


def _checked_names(names: Mapping[str, str] | None) -> dict[str, str]:
    if names is None:
        return {}
    if not names:
        raise errors.validation("ExpressionAttributeNames must not be empty")
    for key in names:
        if not key.startswith("#") or len(key) < 2:
            raise errors.validation(
                f'ExpressionAttributeNames contains invalid key: Syntax error; key: "{key}"'
            )
    return dict(names)


def _checked_values(given: Mapping[str, Any] | None) -> dict[str, Any]:
    if given is None:
        return {}
    if not given:
        raise errors.validation("ExpressionAttributeValues must not be empty")
    checked = {}
    for key, value in given.items():
        if not key.startswith(":") or len(key) < 2:
            raise errors.validation(
                f'ExpressionAttributeValues contains invalid key: Syntax error; key: "{key}"'
            )
        try:
            checked[key] = values.canonical(value)
        except errors.AwsError as error:
            raise errors.validation(
                f"ExpressionAttributeValues contains invalid value: {error.message} for key {key}"
            ) from None
    return checked


class Expressions:
    """The placeholders of one request and the expressions parsed with them."""

    def __init__(
        self,
        names: Mapping[str, str] | None = None,
        values_: Mapping[str, Any] | None = None,
        *,
        limited: bool = True,
    ) -> None:
        """``limited=False`` for expressions rewritten from legacy parameters, which have no size limits."""
        self.limited = limited
        self.names = _checked_names(names)
        self.values = _checked_values(values_)
        self.used_names: set[str] = set()
        self.used_values: set[str] = set()
        self.parsed = 0

    # -- placeholder lookups (the parser's Placeholders protocol) --------------------------------

    def name(self, placeholder: str) -> str | None:
        if placeholder not in self.names:
            return None
        self.used_names.add(placeholder)
        return self.names[placeholder]

    def value(self, placeholder: str) -> dict[str, Any] | None:
        if placeholder not in self.values:
            return None
        self.used_values.add(placeholder)
        return self.values[placeholder]

    # -- the languages ----------------------------------------------------------------------------

    def condition(self, text: str, kind: str = "ConditionExpression") -> Condition:
        """``kind`` is the parameter name used in messages: ConditionExpression or FilterExpression."""
        self.parsed += 1
        return Condition(parse_condition(text, kind, self, self.limited))

    def update(self, text: str) -> Update:
        self.parsed += 1
        return Update(parse_update(text, self, self.limited))

    def projection(self, text: str) -> Projection:
        self.parsed += 1
        return Projection([p.elements for p in parse_projection(text, self, self.limited)])

    def key_condition(
        self, text: str, hash_key: str, range_key: str | None, types: Mapping[str, str]
    ) -> KeyCondition:
        """``types`` maps key attribute names to their scalar type (S, N or B)."""
        self.parsed += 1
        node = parse_condition(text, "KeyConditionExpression", self, self.limited)
        return key_condition(node, hash_key, range_key, dict(types))

    def check_unused(self) -> None:
        """Call once every expression of the request is parsed."""
        for label, given, used in (
            ("ExpressionAttributeNames", self.names, self.used_names),
            ("ExpressionAttributeValues", self.values, self.used_values),
        ):
            if given and not self.parsed:
                raise errors.validation(f"{label} can only be specified when using expressions")
            unused = [key for key in given if key not in used]
            if unused:
                raise errors.validation(
                    f"Value provided in {label} unused in expressions: keys: {{{', '.join(unused)}}}"
                )
