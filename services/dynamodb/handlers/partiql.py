"""ExecuteStatement, BatchExecuteStatement and ExecuteTransaction: PartiQL run as the item operations.

A statement is parsed by ``services/dynamodb/partiql.py`` and then run as the operation it
stands for, through that operation's own code, so indexes, streams and validation see nothing
different: a SELECT whose WHERE pins the partition key with ``=`` is a Query (else a Scan), with
the whole WHERE applied to what it read as a filter; INSERT is a put that must find no item;
UPDATE and DELETE are UpdateItem / DeleteItem whose condition is the WHERE's other terms,
rendered back as expression text with placeholders and prepared by ``handlers/items.py``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from shared.context import RequestContext
from shared.handlers import Handlers

from .. import errors, indexes, partiql, schema
from ..expressions import Condition, Projection
from ..expressions.ast import Between, Compare, Function, Node, Path, Value
from ..expressions.evaluate import order
from ..partiql import Delete, Exists, Insert, Placeholders, Select, Statement, Update
from ..values import Item, canonical, from_json, item_size, kind_of, to_json
from .common import capacities, consumed, new_item, read_units, returned, store, table
from .items import ItemWrite, prepare_check, prepare_delete, prepare_update, read_item, run_write
from .query import query, scan
from .transactions import TRANSACTIONAL, check_count, commit_transaction

handles = Handlers("dynamodb")

MAX_STATEMENT = 8192
MAX_BATCH = 25
DUPLICATE = "Duplicate primary key exists in table"
INCOMPLETE_KEY = "Where clause does not contain a mandatory equality on all key attributes"
MIXED = "ExecuteTransaction API does not support both read and write operations in the same request."
_RANGE_OPS = ("=", "<", "<=", ">", ">=")
_BATCH_CODES = {
    "ValidationException": "ValidationError",
    "ConditionalCheckFailedException": "ConditionalCheckFailed",
    "DuplicateItemException": "DuplicateItem",
    "ResourceNotFoundException": "ResourceNotFound",
}
T = TypeVar("T")


# -- request checks and parsing -----------------------------------------------------------------


def _length(value: Any, member: str, low: int, high: int) -> None:
    if low <= len(value) <= high:
        return
    bound = f"greater than or equal to {low}" if len(value) < low else f"less than or equal to {high}"
    raise errors.constraints(
        [f"Value '{value}' at '{member}' failed to satisfy constraint: Member must have length {bound}"]
    )


def _parse(spec: Mapping[str, Any]) -> Statement:
    """The statement of a request (or of one member of a batch or transaction), parameters bound."""
    text = spec.get("Statement")
    if not isinstance(text, str):  # a member of a batch or transaction without one
        raise errors.constraints(
            ["Value null at 'statement' failed to satisfy constraint: Member must not be null"]
        )
    _length(text, "statement", 1, MAX_STATEMENT)
    parameters = spec.get("Parameters")
    if parameters is not None:
        _length(parameters, "parameters", 1, 1 << 30)
    return partiql.parse(text, [canonical(p) for p in parameters or ()])


def _key_names(desc: Mapping[str, Any], index: str | None) -> list[str]:
    return indexes.find(desc, index).keys if index else indexes.table_keys(desc)


def _full_key(
    desc: Mapping[str, Any], where: Node | None, missing: str = INCOMPLETE_KEY
) -> tuple[Item, list[Node]]:
    """The item key a WHERE pins with ``=`` on every key attribute, and its other terms."""
    names = schema.key_names(desc)
    key: Item = {}
    rest: list[Node] = []
    for term in partiql.conjuncts(where):
        found = partiql.key_equality(term)
        if found and found[0] in names and found[0] not in key:
            key[found[0]] = found[1]
        else:
            rest.append(term)
    if len(key) != len(names):
        raise errors.validation(missing)
    return key, rest


# -- writes -------------------------------------------------------------------------------------


@dataclass
class _InsertWrite(ItemWrite):
    """INSERT: a put that fails when the key already holds an item."""

    def test(self, old: Item | None) -> None:
        if old is not None:
            raise errors.AwsError("DuplicateItemException", DUPLICATE)


def _insert(desc: dict[str, Any], statement: Insert, spec: Mapping[str, Any]) -> ItemWrite:
    key, item = new_item(desc, statement.item)
    key_item = {name: item[name] for name in schema.key_names(desc)}
    return _InsertWrite(desc, key, key_item, spec, None, lambda old: item)


def _guarded(marks: Placeholders, first: str, joiner: str, rest: list[Node]) -> str:
    """``first`` joined to the conjunction of the WHERE's non-key terms (AND binds tighter than OR)."""
    terms = [marks.condition(term, 2) for term in rest]
    return f"{first} {joiner} {' AND '.join(terms)}" if terms else first


def _prepare(ctx: RequestContext, statement: Statement, on_failure: str | None) -> ItemWrite:
    """The prepared item write an INSERT, UPDATE, DELETE or EXISTS stands for."""
    spec: dict[str, Any] = {"ReturnValuesOnConditionCheckFailure": on_failure} if on_failure else {}
    target = statement.select.target if isinstance(statement, Exists) else statement.target
    if target.index is not None:
        raise errors.validation("Operations on indices are not supported in transactions")
    desc = table(ctx, target.table)
    if isinstance(statement, Insert):
        return _insert(desc, statement, spec)
    where = statement.select.where if isinstance(statement, Exists) else statement.where
    key, rest = _full_key(desc, where)
    marks = Placeholders()
    spec["Key"] = key
    if isinstance(statement, Delete) and not rest:  # a DELETE of a missing item succeeds
        return prepare_delete(desc, spec)
    hash_key = marks.path((schema.key_names(desc)[0],))
    if isinstance(statement, Update):
        spec["UpdateExpression"] = marks.update(statement.actions)
        spec["ConditionExpression"] = _guarded(marks, f"attribute_exists({hash_key})", "AND", rest)
        return prepare_update(desc, {**spec, **marks.spec()})
    if isinstance(statement, Exists):
        spec["ConditionExpression"] = _guarded(marks, f"attribute_exists({hash_key})", "AND", rest)
        return prepare_check(desc, {**spec, **marks.spec()})
    # a DELETE whose other terms do not match the item fails
    spec["ConditionExpression"] = _guarded(marks, f"attribute_not_exists({hash_key})", "OR", rest)
    return prepare_delete(desc, {**spec, **marks.spec()})


def _write(ctx: RequestContext, req: Mapping[str, Any], statement: Statement) -> dict[str, Any]:
    if isinstance(statement, Exists):
        raise errors.validation("EXISTS can only be used in ExecuteTransaction write requests.")
    write = _prepare(ctx, statement, req.get("ReturnValuesOnConditionCheckFailure"))
    old, new, units = run_write(ctx, write)
    mode = getattr(statement, "returning", None) or "NONE"
    attributes = returned(mode, old, new, write.touched)
    return {"Items": [attributes] if attributes else [], **consumed(req, write.desc, units)}


# -- SELECT -------------------------------------------------------------------------------------


def _range_term(term: Node, name: str, kind: str) -> bool:
    """Whether a WHERE term is a key condition Query can use on sort key ``name`` (of type ``kind``)."""

    def on_key(node: Any) -> bool:
        return isinstance(node, Path) and node.elements == (name,)

    def value(node: Any) -> bool:
        return isinstance(node, Value) and kind_of(node.value) == kind

    if isinstance(term, Compare):
        return term.op in _RANGE_OPS and on_key(term.left) and value(term.right)
    if isinstance(term, Between):
        ordered = value(term.low) and value(term.high) and (order(term.low.value, term.high.value) or 0) <= 0
        return on_key(term.operand) and ordered
    if isinstance(term, Function) and term.name == "begins_with" and kind in ("S", "B"):
        return on_key(term.args[0]) and value(term.args[1])
    return False


def _key_condition(
    desc: Mapping[str, Any], keys: list[str], where: Node | None, marks: Placeholders
) -> str | None:
    """A KeyConditionExpression when the WHERE pins the partition key with = (None: a Scan)."""
    types = {name: indexes.attribute_type(desc, name) for name in keys}
    terms = partiql.conjuncts(where)
    pinned = [
        f
        for f in map(partiql.key_equality, terms)
        if f and f[0] == keys[0] and kind_of(f[1]) == types[keys[0]]
    ]
    if not pinned:
        return None
    text = f"{marks.path((keys[0],))} = {marks.value(pinned[0][1])}"
    ranged = [term for term in terms if len(keys) == 2 and _range_term(term, keys[1], types[keys[1]])]
    if len(ranged) == 1:
        text += f" AND {marks.condition(ranged[0])}"
    return text


def _descending(statement: Select, keys: list[str], queried: bool) -> bool:
    """ORDER BY's direction, after DynamoDB's checks of it."""
    if not statement.order:
        return False
    if statement.where is None:
        raise errors.validation("Must have WHERE clause in the statement when using ORDER BY clause.")
    for name, _ in statement.order:
        if name not in keys:
            raise errors.validation(
                f"Variable reference {name} in ORDER BY clause must be part of the primary key"
            )
    if not queried:
        raise errors.validation(
            "Must have at least one non-optional hash key condition in WHERE clause when using ORDER BY clause."
        )
    by_key = dict(statement.order)
    return by_key.get(keys[-1], by_key.get(keys[0], False))


def _request_digest(req: Mapping[str, Any]) -> str:
    """What a NextToken belongs to: the statement and its parameters."""
    body = [req["Statement"], [to_json({"p": p})["p"] for p in req.get("Parameters") or ()]]
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:24]


def _next_token(req: Mapping[str, Any], last: Item) -> str:
    body = json.dumps({"d": _request_digest(req), "k": to_json(last)})
    return base64.urlsafe_b64encode(body.encode()).decode()


def _start_key(req: Mapping[str, Any]) -> Item | None:
    token = req.get("NextToken")
    if token is None:
        return None
    try:
        body = json.loads(base64.urlsafe_b64decode(token.encode()))
        digest, key = body["d"], from_json(body["k"])
    except (ValueError, TypeError, KeyError, AttributeError, binascii.Error):
        raise errors.validation("Invalid NextToken") from None
    if digest != _request_digest(req):
        raise errors.validation("NextToken does not match request")
    return key


def _limit(req: Mapping[str, Any]) -> int | None:
    limit = req.get("Limit")
    if limit is not None and limit < 1:
        raise errors.constraints(
            [
                f"Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
            ]
        )
    return limit


async def _select(ctx: RequestContext, req: Mapping[str, Any], statement: Select) -> dict[str, Any]:
    desc = table(ctx, statement.target.table)
    index = statement.target.index
    keys = _key_names(desc, index)
    marks = Placeholders()
    key_text = _key_condition(desc, keys, statement.where, marks)
    descending = _descending(statement, keys, key_text is not None)
    read = {
        "TableName": desc["TableName"],
        "IndexName": index,
        "ConsistentRead": req.get("ConsistentRead"),
        "Limit": _limit(req),
        "ExclusiveStartKey": _start_key(req),
        "ReturnConsumedCapacity": req.get("ReturnConsumedCapacity"),
    }
    read = {member: value for member, value in read.items() if value is not None}
    if key_text is not None:
        found = await query(
            ctx,
            {**read, "KeyConditionExpression": key_text, "ScanIndexForward": not descending, **marks.spec()},
        )
    else:
        found = await scan(ctx, read)
    keep = Condition(statement.where) if statement.where is not None else None
    cut = Projection(statement.projection).apply if statement.projection else None
    items = [cut(item) if cut else item for item in found["Items"] if keep is None or keep.matches(item)]
    out: dict[str, Any] = {"Items": items}
    if "LastEvaluatedKey" in found:
        out["LastEvaluatedKey"] = found["LastEvaluatedKey"]
        out["NextToken"] = _next_token(req, found["LastEvaluatedKey"])
    if "ConsumedCapacity" in found:
        out["ConsumedCapacity"] = found["ConsumedCapacity"]
    return out


def _key_read(
    ctx: RequestContext, statement: Select, missing: str, on_index: str
) -> tuple[dict[str, Any], Item | None]:
    """A SELECT by full key (in a batch or transaction): its table and the item, if it matches."""
    if statement.target.index is not None:
        raise errors.validation(on_index)
    desc = table(ctx, statement.target.table)
    key, rest = _full_key(desc, statement.where, missing)
    item = read_item(ctx, desc, key)
    if item is None or rest and not Condition(statement.where).matches(item):  # type: ignore[arg-type]
        return desc, None
    return desc, Projection(statement.projection).apply(item) if statement.projection else item


@handles("ExecuteStatement")
async def execute_statement(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    _limit(req)
    statement = _parse(req)
    if isinstance(statement, Select):
        return await _select(ctx, req, statement)
    return _write(ctx, req, statement)


# -- BatchExecuteStatement ----------------------------------------------------------------------


def _batch_error(err: errors.AwsError) -> dict[str, Any]:
    code = _BATCH_CODES.get(err.code, err.code.removesuffix("Exception"))
    found: dict[str, Any] = {"Code": code, "Message": err.message}
    if "Item" in err.fields:
        found["Item"] = err.fields["Item"]
    return found


def _batch_one(ctx: RequestContext, spec: Mapping[str, Any]) -> dict[str, Any]:
    name: str | None = None
    try:
        statement = _parse(spec)
        target = statement.select.target if isinstance(statement, Exists) else statement.target
        name = target.table
        if isinstance(statement, Select):
            _, item = _key_read(ctx, statement, INCOMPLETE_KEY, "This operation is not supported on an index")
            return {"TableName": name, **({"Item": item} if item is not None else {})}
        _write(ctx, spec, statement)
        return {"TableName": name}
    except errors.AwsError as err:
        return {"Error": _batch_error(err), **({"TableName": name} if name else {})}


@handles("BatchExecuteStatement")
async def batch_execute_statement(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    _length(req["Statements"], "statements", 1, MAX_BATCH)
    return {"Responses": [_batch_one(ctx, spec) for spec in req["Statements"]]}


# -- ExecuteTransaction -------------------------------------------------------------------------


def _member(number: int, step: Callable[[], T]) -> T:
    """Run one statement's parse or preparation; its validation errors name the statement."""
    try:
        return step()
    except errors.AwsError as err:
        if err.code != "ValidationException":
            raise
        raise errors.validation(f"Validation failed in TransactStatements[{number}]: {err.message}") from None


def _transact_reads(ctx: RequestContext, req: Mapping[str, Any], statements: list[Select]) -> dict[str, Any]:
    responses: list[dict[str, Any]] = []
    spent: list[tuple[dict[str, Any], dict[str, float]]] = []
    with store(ctx).transaction():
        for number, statement in enumerate(statements):
            desc, item = _member(
                number,
                lambda s=statement: _key_read(
                    ctx,
                    s,
                    "Select statements within ExecuteTransaction must specify the primary key in the where clause.",
                    "Reads on indices are not supported within transactions.",
                ),
            )
            responses.append({"Item": item} if item is not None else {})
            spent.append((desc, {"": read_units(item_size(item) if item else 0, True)}))
    return {"Responses": responses, **capacities(req, spent, TRANSACTIONAL)}


def _transactional(ctx: RequestContext, statement: Statement) -> ItemWrite:
    if getattr(statement, "returning", None):
        raise errors.validation("Unsupported clause: RETURNING")
    return _prepare(ctx, statement, None)


@handles("ExecuteTransaction")
async def execute_transaction(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    entries = req["TransactStatements"]
    check_count(entries, "transactStatements")
    statements = [_member(n, lambda spec=spec: _parse(spec)) for n, spec in enumerate(entries)]
    reads = [s for s in statements if isinstance(s, Select)]
    if reads and len(reads) != len(statements):
        raise errors.validation(MIXED)
    if reads:
        return _transact_reads(ctx, req, reads)
    return commit_transaction(
        ctx,
        req,
        lambda: [_member(n, lambda s=s: _transactional(ctx, s)) for n, s in enumerate(statements)],
        metrics=False,
    )
