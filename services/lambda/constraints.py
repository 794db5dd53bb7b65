"""The model's member constraints (pattern, length, range), checked as Lambda's framework does.

Lambda rejects such input with ``ValidationException`` and one line per violation, naming the
member in lower camel case (``functionName``, ``memorySize``) and quoting the constraint.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from botocore.model import Shape, StructureShape


def wire_name(member: str) -> str:
    """``FunctionName`` -> ``functionName``, ``KMSKeyArn`` -> ``kMSKeyArn`` (only the first letter)."""
    return member[:1].lower() + member[1:]


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _string_violation(shape: Shape, value: str) -> str | None:
    meta = shape.metadata
    if "min" in meta and len(value) < meta["min"]:
        return f"Member must have length greater than or equal to {meta['min']}"
    if "max" in meta and len(value) > meta["max"]:
        return f"Member must have length less than or equal to {meta['max']}"
    pattern = meta.get("pattern")
    if pattern and _compiled(pattern).fullmatch(value) is None:
        return f"Member must satisfy regular expression pattern: {pattern}"
    return None


def _number_violation(shape: Shape, value: int | float) -> str | None:
    meta = shape.metadata
    if "min" in meta and value < meta["min"]:
        return f"Member must have value greater than or equal to {meta['min']}"
    if "max" in meta and value > meta["max"]:
        return f"Member must have value less than or equal to {meta['max']}"
    return None


def violation(shape: Shape, value: Any) -> str | None:
    """The constraint ``value`` breaks, worded as Lambda words it; None when it is fine."""
    if shape.type_name == "string" and isinstance(value, str) and not getattr(shape, "enum", None):
        return _string_violation(shape, value)
    if shape.type_name in ("integer", "long") and isinstance(value, int | float):
        return _number_violation(shape, value)
    return None


def violations(
    shape: StructureShape, params: dict[str, Any], only: tuple[str, ...] | None = None
) -> list[str]:
    """Violations of the top-level members of ``params`` (or of the members named in ``only``)."""
    out = []
    for name, member in shape.members.items():
        if (only is not None and name not in only) or params.get(name) is None:
            continue
        problem = violation(member, params[name])
        if problem is not None:
            out.append(
                f"Value '{params[name]}' at '{wire_name(name)}' failed to satisfy constraint: {problem}"
            )
    return out
