"""What every Lambda handler needs: the store, and the function a name or ARN refers to."""

from __future__ import annotations

from typing import Any

from shared.context import RequestContext

from .. import errors
from ..functions import LATEST, FunctionRef, function_arn, resolve
from ..storage import FUNCTION, LambdaStore


def store(ctx: RequestContext) -> LambdaStore:
    return ctx.state


def function_record(ctx: RequestContext, name_or_arn: str, qualifier: str | None = None) -> dict[str, Any]:
    """The record of the function named by name, partial or full ARN (raises ResourceNotFoundException).

    Only ``$LATEST`` exists until versions and aliases are implemented.
    """
    ref: FunctionRef = resolve(ctx, name_or_arn)
    qualifier = qualifier or ref.qualifier
    doc = store(ctx).get(ctx.account_id, ctx.region, ref.name)
    if doc is None or qualifier not in (None, LATEST):
        raise errors.function_not_found(function_arn(ctx, ref.name, qualifier))
    return doc


def invocation_record(
    ctx: RequestContext, name_or_arn: str, qualifier: str | None = None
) -> tuple[dict[str, Any], str]:
    """The record to run for an invoke of ``name_or_arn``/``qualifier``, and the version it runs.

    An alias's routing configuration picks the version here. Until versions exist, ``$LATEST``.
    """
    return function_record(ctx, name_or_arn, qualifier), LATEST


def save_function(ctx: RequestContext, doc: dict[str, Any]) -> None:
    """Write back a function record read with ``function_record`` (tags, concurrency ... changed)."""
    name = doc["Configuration"]["FunctionName"]
    store(ctx).records.put(ctx.account_id, ctx.region, FUNCTION, name, doc)
