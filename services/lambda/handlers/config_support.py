"""What the configuration handlers share: input checks, the function a request targets, paging."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from shared.aws.models import service_model
from shared.context import RequestContext
from shared.records import RecordStore

from .. import constraints, errors
from ..functions import LATEST, function_arn, lambda_timestamp, resolve
from ..storage import FUNCTION
from .common import function_record, store

T = TypeVar("T")

UNQUALIFIED_ONLY = (
    "This operation is permitted on Lambda functions only. Aliases and versions do not support this "
    "operation. Please specify either a function name or an unqualified function ARN."
)


def check(operation: str, req: dict[str, Any]) -> None:
    """The model's length/pattern/range constraints on the operation's top-level members."""
    shape = service_model("lambda").operation_model(operation).input_shape
    problems = constraints.violations(shape, req)
    if problems:
        raise errors.constraints(problems)


def now() -> str:
    """Lambda's timestamp string for ``LastModified`` members typed as strings."""
    return lambda_timestamp(datetime.now(UTC))


def records(ctx: RequestContext) -> RecordStore:
    return store(ctx).records


@dataclass(frozen=True)
class Target:
    """The function (and version or alias) a request names, known to exist."""

    name: str
    qualifier: str | None  # None: the unqualified function ($LATEST)
    doc: dict[str, Any]

    def arn(self, ctx: RequestContext, latest: bool = False) -> str:
        """The function's ARN, qualified by the qualifier (or by ``$LATEST`` when ``latest``)."""
        return function_arn(ctx, self.name, self.qualifier or (LATEST if latest else None))


def split(ctx: RequestContext, name_or_arn: str, qualifier: str | None = None) -> tuple[str, str | None]:
    """Name and qualifier from a name or ARN and the separate ``Qualifier`` (they must agree)."""
    ref = resolve(ctx, name_or_arn)
    if ref.qualifier and qualifier and ref.qualifier != qualifier:
        raise errors.invalid_parameter(
            "The derived qualifier from the function name does not match the specified qualifier."
        )
    return ref.name, ref.qualifier or qualifier


def target(ctx: RequestContext, name_or_arn: str, qualifier: str | None = None) -> Target:
    """The function, version or alias named (raises ResourceNotFoundException)."""
    name, qualifier = split(ctx, name_or_arn, qualifier)
    doc = function_record(ctx, name, qualifier)
    return Target(name, None if qualifier == LATEST else qualifier, doc)


def unqualified(ctx: RequestContext, name_or_arn: str) -> Target:
    """The function named by an unqualified name or ARN (operations on the whole function)."""
    name, qualifier = split(ctx, name_or_arn)
    if qualifier:
        raise errors.invalid_parameter(UNQUALIFIED_ONLY)
    return Target(name, None, function_record(ctx, name))


def function_docs(ctx: RequestContext) -> Iterator[dict[str, Any]]:
    """Every function record of the account and region (reserved concurrency, code size ...)."""
    for _, doc in records(ctx).list(ctx.account_id, ctx.region, FUNCTION):
        yield doc


def page(
    items: list[T], marker: str | None, max_items: int | None, default: int = 50
) -> tuple[list[T], str | None]:
    """One page of ``items`` after ``marker`` (opaque: the start offset, base64url), and the next marker."""
    start = _read_marker(marker) if marker else 0
    limit = max_items or default
    chunk = items[start : start + limit]
    more = start + limit < len(items)
    return chunk, (base64.urlsafe_b64encode(str(start + limit).encode()).decode() if more else None)


def _read_marker(marker: str) -> int:
    try:
        return max(0, int(base64.urlsafe_b64decode(marker.encode()).decode()))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise errors.invalid_parameter(f"Invalid marker: {marker}") from None


def listed(out: dict[str, Any], key: str, items: list[Any], next_marker: str | None) -> dict[str, Any]:
    out[key] = items
    if next_marker:
        out["NextMarker"] = next_marker
    return out
