"""TransactWriteItems and TransactGetItems.

A write transaction is prepared whole (every table, key and expression checked) before it
reads anything; then, inside one SQLite transaction, every item is read and its condition
tested and new value built; only if all of them pass are they written. A failure cancels the
whole transaction with one CancellationReason per item, in order ("None" for the others).
Each service process has one connection, so transactions are serialized and never conflict.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from shared.context import RequestContext
from shared.handlers import Handlers

from .. import errors
from ..changes import record_change
from ..storage import RowKey
from ..values import Item, item_size
from .common import capacities, item_collection_metrics, key_of, read_units, store, table
from .items import ItemWrite, prepare_check, prepare_delete, prepare_put, prepare_update, projection

handles = Handlers("dynamodb")

MAX_ITEMS = 100
MAX_TRANSACTION_SIZE = 4 * 1024 * 1024
_ACTIONS = ("ConditionCheck", "Put", "Delete", "Update")


def check_count(items: list[Any], member: str) -> None:
    if not items or len(items) > MAX_ITEMS:
        bound = "greater than or equal to 1" if not items else f"less than or equal to {MAX_ITEMS}"
        raise errors.constraints(
            [f"Value '{items}' at '{member}' failed to satisfy constraint: Member must have length {bound}"]
        )


# transactional reads and writes cost twice the units of plain ones
TRANSACTIONAL = 2.0


def _check_size(writes: list[ItemWrite]) -> None:
    """DynamoDB caps the aggregate size of a write transaction's items at 4 MB, checked before any read."""
    if sum(write.size or 0 for write in writes) > MAX_TRANSACTION_SIZE:
        raise errors.validation(
            "The aggregate size of the items in the transaction has exceeded the maximum allowed size of 4 MB"
        )


def _one_item_once(seen: set[tuple[str, RowKey]], table_id: str, key: RowKey) -> None:
    if (table_id, key) in seen:
        raise errors.validation("Transaction request cannot include multiple operations on one item")
    seen.add((table_id, key))


# -- TransactWriteItems -------------------------------------------------------------------------


def _prepare(ctx: RequestContext, entry: Mapping[str, Any]) -> ItemWrite:
    given = [action for action in _ACTIONS if entry.get(action) is not None]
    if len(given) != 1:
        raise errors.validation(
            "TransactItems can only contain one of Check, Put, Update or Delete"
            if given
            else "Invalid Request: TransactWriteItem must contain exactly one of ConditionCheck, Put, Update or Delete"
        )
    action = given[0]
    spec = entry[action]
    desc = table(ctx, spec["TableName"])
    if action == "Put":
        return prepare_put(desc, spec)
    if action == "Delete":
        return prepare_delete(desc, spec)
    if action == "Update":
        return prepare_update(desc, spec)
    return prepare_check(desc, spec)


def _reason(err: errors.AwsError) -> dict[str, Any]:
    if err.code == "ConditionalCheckFailedException":
        return {"Code": "ConditionalCheckFailed", "Message": err.message, **err.fields}
    return {"Code": "ValidationError", "Message": err.message}


def _cancelled(reasons: list[dict[str, Any]]) -> errors.AwsError:
    codes = ", ".join(reason["Code"] for reason in reasons)
    return errors.AwsError(
        "TransactionCanceledException",
        f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
        fields={"CancellationReasons": reasons},
    )


def _evaluate(ctx: RequestContext, writes: list[ItemWrite]) -> list[tuple[Item | None, Item | None]]:
    """(old, new) of every item, or TransactionCanceledException when any item fails."""
    results: list[tuple[Item | None, Item | None]] = []
    reasons: list[dict[str, Any]] = []
    for write in writes:
        old = write.read(ctx)
        try:
            write.test(old)
            new = write.build(old) if write.build else old
        except errors.AwsError as err:
            reasons.append(_reason(err))
            results.append((old, old))
            continue
        reasons.append({"Code": "None"})
        results.append((old, new))
    if any(reason["Code"] != "None" for reason in reasons):
        raise _cancelled(reasons)
    return results


def _digest(req: Mapping[str, Any]) -> str:
    """What a ClientRequestToken stands for: the request's parameters apart from the token."""
    body = {k: v for k, v in req.items() if k != "ClientRequestToken"}
    text = json.dumps(body, sort_keys=True, default=lambda b: base64.b64encode(b).decode())
    return hashlib.sha256(text.encode()).hexdigest()


def _encode(response: dict[str, Any]) -> str:
    return json.dumps(response, default=lambda b: {"__bytes__": base64.b64encode(b).decode()})


def _decode(text: str) -> dict[str, Any]:
    return json.loads(text, object_hook=lambda d: base64.b64decode(d["__bytes__"]) if "__bytes__" in d else d)


def _replay(ctx: RequestContext, token: str | None, digest: str) -> dict[str, Any] | None:
    if token is None:
        return None
    found = store(ctx).token(ctx.account_id, ctx.region, token)
    if found is None:
        return None
    if found[0] != digest:
        raise errors.AwsError(
            "IdempotentParameterMismatchException",
            "Request with the same client token was already made with different parameters",
        )
    return _decode(found[1])


@handles("TransactWriteItems")
async def transact_write_items(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check_count(req["TransactItems"], "transactItems")
    return commit_transaction(ctx, req, lambda: [_prepare(ctx, entry) for entry in req["TransactItems"]])


def commit_transaction(
    ctx: RequestContext,
    req: Mapping[str, Any],
    prepare: Callable[[], list[ItemWrite]],
    *,
    metrics: bool = True,
) -> dict[str, Any]:
    """A write transaction (TransactWriteItems, PartiQL's ExecuteTransaction) from start to end.

    A repeated ``ClientRequestToken`` answers the first response; otherwise ``prepare()`` gives
    the writes, each item may appear once, every condition is checked and every write committed
    in one SQLite transaction (or none: TransactionCanceledException), then streams are told.
    """
    token, digest = req.get("ClientRequestToken"), _digest(req)
    replayed = _replay(ctx, token, digest)
    if replayed is not None:
        return replayed
    writes = prepare()
    _check_size(writes)
    seen: set[tuple[str, RowKey]] = set()
    for write in writes:
        _one_item_once(seen, write.desc["TableId"], write.key)
    with store(ctx).transaction():
        results = _evaluate(ctx, writes)
        spent = [
            (w.desc, w.commit(ctx, old, new) if w.build else {"": 1.0})
            for w, (old, new) in zip(writes, results, strict=True)
        ]
        out = capacities(req, spent, TRANSACTIONAL)
        if metrics:
            out.update(_metrics(ctx, req, writes))
        if token is not None:
            store(ctx).remember_token(ctx.account_id, ctx.region, token, digest, _encode(out))
    for write, (old, new) in zip(writes, results, strict=True):
        if write.build:
            record_change(ctx, write.desc, old, new)
    return out


def _metrics(ctx: RequestContext, req: Mapping[str, Any], writes: list[ItemWrite]) -> dict[str, Any]:
    found: dict[str, list[dict[str, Any]]] = {}
    for write in writes:
        metrics = item_collection_metrics(ctx, req, write.desc, write.key_item) if write.build else None
        if metrics:
            found.setdefault(write.desc["TableName"], []).append(metrics)
    return {"ItemCollectionMetrics": found} if found else {}


# -- TransactGetItems ---------------------------------------------------------------------------


@handles("TransactGetItems")
async def transact_get_items(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check_count(req["TransactItems"], "transactItems")
    plan = []
    seen: set[tuple[str, RowKey]] = set()
    for entry in req["TransactItems"]:
        spec = entry["Get"]
        desc = table(ctx, spec["TableName"])
        cut = projection(spec)
        key, _ = key_of(desc, spec["Key"])
        _one_item_once(seen, desc["TableId"], key)
        plan.append((desc, key, cut))
    responses, spent = [], []
    with store(ctx).transaction():
        for desc, key, cut in plan:
            row = store(ctx).get(desc["TableId"], key)
            item = row.item() if row else None
            spent.append((desc, {"": read_units(item_size(item) if item else 0, True)}))
            responses.append({"Item": cut(item) if cut else item} if item is not None else {})
    return {"Responses": responses, **capacities(req, spent, TRANSACTIONAL)}
