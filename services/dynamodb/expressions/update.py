"""Applying an UpdateExpression's actions to an item.

Every right-hand side is evaluated against the item as it was before the update (DynamoDB
semantics), then SET, REMOVE, ADD and DELETE are applied to a copy. REMOVE of list elements
runs from the highest index down, so indexes name the elements of the original list.
Arithmetic is exact, then checked against DynamoDB's 38 digits and exponent range.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Context, Decimal
from typing import Any

from .. import errors
from ..values import canonical_number
from .ast import (
    Action,
    AddAction,
    Arith,
    DeleteAction,
    Function,
    Operand,
    Path,
    PathElements,
    RemoveAction,
    SetAction,
    Value,
)
from .evaluate import AttributeValue, Item, resolve, step

_EXACT = Context(prec=400)
_SETS = ("SS", "NS", "BS")


def _invalid_path() -> errors.AwsError:
    return errors.validation("The document path provided in the update expression is invalid for update")


def _wrong_type() -> errors.AwsError:
    return errors.validation("An operand in the update expression has an incorrect data type")


def _missing() -> errors.AwsError:
    return errors.validation("The provided expression refers to an attribute that does not exist in the item")


# -- right-hand sides -------------------------------------------------------------------------------


def _value(node: Operand, item: Item) -> AttributeValue:
    if isinstance(node, Value):
        return node.value
    if isinstance(node, Path):
        found = resolve(item, node.elements)
        if found is None:
            raise _missing()
        return found
    if isinstance(node, Arith):
        return _arith(node, item)
    return _call(node, item)  # type: ignore[arg-type]


def _arith(node: Arith, item: Item) -> AttributeValue:
    left, right = _value(node.left, item), _value(node.right, item)
    if "N" not in left or "N" not in right:
        raise _wrong_type()
    a, b = Decimal(left["N"]), Decimal(right["N"])
    result = _EXACT.add(a, b) if node.op == "+" else _EXACT.subtract(a, b)
    return {"N": canonical_number(str(result))}


def _call(node: Function, item: Item) -> AttributeValue:
    if node.name == "if_not_exists":
        found = resolve(item, node.args[0].elements)  # type: ignore[union-attr]
        return found if found is not None else _value(node.args[1], item)
    first, second = _value(node.args[0], item), _value(node.args[1], item)  # list_append
    if "L" not in first or "L" not in second:
        raise _wrong_type()
    return {"L": [*first["L"], *second["L"]]}


# -- writing into an item ---------------------------------------------------------------------------


def _parent(item: Item, elements: PathElements) -> AttributeValue | Item:
    """The container the last element of a path lives in; a missing or mistyped one is invalid."""
    if len(elements) == 1:
        return item
    parent = resolve(item, elements[:-1])
    wanted = "L" if isinstance(elements[-1], int) else "M"
    if parent is None or wanted not in parent:
        raise _invalid_path()
    return parent


def _put(item: Item, elements: PathElements, value: AttributeValue) -> None:
    parent, last = _parent(item, elements), elements[-1]
    if isinstance(last, int):
        items = parent["L"]
        if last < len(items):
            items[last] = value
        else:
            items.append(value)
    elif len(elements) == 1:
        parent[last] = value
    else:
        parent["M"][last] = value


def _drop(item: Item, elements: PathElements) -> None:
    parent, last = _parent(item, elements), elements[-1]
    if isinstance(last, int):
        if last < len(parent["L"]):
            del parent["L"][last]
    else:
        (parent if len(elements) == 1 else parent["M"]).pop(last, None)


# -- actions ----------------------------------------------------------------------------------------


def _add(current: AttributeValue | None, value: AttributeValue) -> AttributeValue:
    if current is None:
        return value
    ((kind, raw),) = value.items()
    if kind not in current:
        raise _wrong_type()
    if kind == "N":
        return {"N": canonical_number(str(_EXACT.add(Decimal(current["N"]), Decimal(raw))))}
    return {kind: [*current[kind], *(m for m in raw if m not in current[kind])]}


def _delete(current: AttributeValue | None, value: AttributeValue) -> AttributeValue | None:
    if current is None:
        return None
    ((kind, raw),) = value.items()
    if kind not in current:
        raise _wrong_type()
    remaining = [m for m in current[kind] if m not in raw]
    return {kind: remaining} if remaining else None


def _sort_key(action: Action) -> tuple[int, Any]:
    rank = _RANK[type(action)]
    if isinstance(action, RemoveAction):  # highest list index first
        return rank, tuple((0, -e) if isinstance(e, int) else (1, e) for e in action.path.elements)
    return rank, ()


_RANK: dict[type, int] = {SetAction: 0, RemoveAction: 1, AddAction: 2, DeleteAction: 3}


class Update:
    """A parsed UpdateExpression: ``apply(item)`` returns the updated copy."""

    def __init__(self, actions: list[Action]) -> None:
        self.actions = actions

    @property
    def paths(self) -> list[PathElements]:
        """Every path the update writes (for key-attribute checks and UPDATED_* return values)."""
        return [action.path.elements for action in self.actions]

    def apply(self, item: Item) -> Item:
        original = item
        values = {id(a): _value(a.value, original) for a in self.actions if isinstance(a, SetAction)}
        result = copy.deepcopy(item)
        for action in sorted(self.actions, key=_sort_key):
            _APPLY[type(action)](result, action, values)
        return result


def _apply_set(item: Item, action: SetAction, values: dict[int, AttributeValue]) -> None:
    _put(item, action.path.elements, copy.deepcopy(values[id(action)]))


def _apply_remove(item: Item, action: RemoveAction, values: dict[int, AttributeValue]) -> None:
    _drop(item, action.path.elements)


def _current(item: Item, elements: PathElements) -> AttributeValue | None:
    parent = _parent(item, elements)
    last = elements[-1]
    if len(elements) == 1:
        return parent.get(last)  # type: ignore[call-overload]
    return step(parent, last)


def _apply_add(item: Item, action: AddAction, values: dict[int, AttributeValue]) -> None:
    elements = action.path.elements
    _put(item, elements, _add(_current(item, elements), action.value.value))


def _apply_delete(item: Item, action: DeleteAction, values: dict[int, AttributeValue]) -> None:
    elements = action.path.elements
    remaining = _delete(_current(item, elements), action.value.value)
    if remaining is None:
        _drop(item, elements)
    else:
        _put(item, elements, remaining)


_APPLY: dict[type, Callable[[Item, Any, dict[int, AttributeValue]], None]] = {
    SetAction: _apply_set, RemoveAction: _apply_remove, AddAction: _apply_add, DeleteAction: _apply_delete,
}  # fmt: skip
