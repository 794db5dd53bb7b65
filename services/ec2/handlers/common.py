"""What every EC2 handler needs: the store, DryRun, and NextToken paging."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from shared.context import RequestContext

from .. import errors
from ..storage import Ec2Store

T = TypeVar("T")


def store(ctx: RequestContext) -> Ec2Store:
    return ctx.state


def check_dry_run(req: dict[str, Any]) -> None:
    """EC2 answers a DryRun of a permitted request with the DryRunOperation error (412)."""
    if req.get("DryRun"):
        raise errors.dry_run()


def check_max_results(value: int | None, low: int = 5, high: int = 1000) -> None:
    if value is None:
        return
    if value < low:
        expecting = f"greater than {low}"
    elif value > high:
        expecting = f"smaller than or equal to {high}"
    else:
        return
    raise errors.invalid_parameter_value(
        f"Value ( {value} ) for parameter maxResults is invalid. Expecting a value {expecting}."
    )


def paginate(
    items: Sequence[T], key: Callable[[T], str], max_results: int | None, token: str | None
) -> tuple[list[T], str | None]:
    """One page after ``token`` (the encoded key of the previous page's last item) and the next token."""
    start = 0
    if token:
        after = _decode(token)
        keys = [key(item) for item in items]
        if after not in keys:
            raise errors.invalid_next_token(token)
        start = keys.index(after) + 1
    if max_results is None:
        return list(items[start:]), None
    page = list(items[start : start + max_results])
    more = start + max_results < len(items)
    return page, (_encode(key(page[-1])) if more and page else None)


def _encode(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode()


def _decode(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise errors.invalid_next_token(token) from None
