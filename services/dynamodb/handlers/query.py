"""Query and Scan, on a table or on one of its secondary indexes.

A Query is a range scan of one partition's rows (``storage.query``) bounded by the sort key
condition; a Scan walks every row in key order, a parallel scan keeping the rows whose
partition key hashes to its segment. Either reads a page of at most ``Limit`` rows and 1 MB,
then applies the filter to what it read (as DynamoDB does: Count <= ScannedCount <= Limit).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from shared.context import RequestContext
from shared.handlers import Handlers

from .. import errors, indexes
from ..conditions import (
    BEGINS_WITH,
    BETWEEN,
    EQ,
    GE,
    GT,
    LE,
    LT,
    KeyRange,
    RequestExpressions,
    attributes,
    legacy_condition,
    legacy_key_condition,
    no_mixing,
)
from ..indexes import Index
from ..storage import TABLE, Bound, Row, RowKey
from ..values import Item, canonical_item, key_bytes, kind_of, prefix_end
from .common import consumed, read_units, store, table

handles = Handlers("dynamodb")

PAGE_SIZE = 1024 * 1024
SELECTS = ("ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT")


@dataclass
class Source:
    """What is read: the table itself, or one of its indexes."""

    desc: dict[str, Any]
    index: Index | None

    @property
    def idx(self) -> str:
        return self.index.name if self.index else TABLE

    @property
    def keys(self) -> list[str]:
        return self.index.keys if self.index else indexes.table_keys(self.desc)

    @property
    def all_keys(self) -> list[str]:
        """The attributes of a LastEvaluatedKey: the table key, then the index key."""
        names = indexes.table_keys(self.desc)
        return names + [n for n in (self.index.keys if self.index else []) if n not in names]

    def type_of(self, name: str) -> str:
        return indexes.attribute_type(self.desc, name)


def _source(ctx: RequestContext, req: Mapping[str, Any]) -> Source:
    desc = table(ctx, req["TableName"])
    name = req.get("IndexName")
    index = indexes.find(desc, name) if name is not None else None
    if index is not None and index.is_global and req.get("ConsistentRead"):
        raise errors.validation("Consistent reads are not supported on global secondary indexes")
    return Source(desc, index)


def _check_limit(req: Mapping[str, Any]) -> int | None:
    limit = req.get("Limit")
    if limit is not None and limit < 1:
        raise errors.constraints(
            [
                f"Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
            ]
        )
    return limit


LEGACY = ("KeyConditions", "QueryFilter", "ScanFilter", "ConditionalOperator", "AttributesToGet")
EXPRESSIONS = ("KeyConditionExpression", "FilterExpression", "ProjectionExpression")


def _no_key_in_filter(req: Mapping[str, Any], keep: Any | None, source: Source) -> None:
    """A Query filters on non-key attributes only: the key condition is what narrows keys."""
    if keep is None:
        return
    keys = [name for name in source.keys if name in attributes(keep)]
    if keys and req.get("FilterExpression") is not None:
        raise errors.validation(
            f"Filter Expression can only contain non-primary key attributes: Primary key attribute: {keys[0]}"
        )
    if keys:
        raise errors.validation(
            f"QueryFilter can only contain non-key attributes: Primary key attribute: {keys[0]}"
        )


def _filter(req: Mapping[str, Any], ex: RequestExpressions, legacy: str) -> Any | None:
    """FilterExpression, or the legacy QueryFilter / ScanFilter with ConditionalOperator."""
    if req.get("FilterExpression") is not None:
        return ex.condition(req["FilterExpression"], "FilterExpression")
    return legacy_condition(req.get(legacy), req.get("ConditionalOperator"), "FilterExpression")


# -- Select and projection ----------------------------------------------------------------------


def _select(req: Mapping[str, Any], source: Source) -> str:
    """The effective Select, checked against the projection parameters and the index."""
    projected = req.get("ProjectionExpression") is not None or req.get("AttributesToGet") is not None
    default = (
        "SPECIFIC_ATTRIBUTES"
        if projected
        else "ALL_PROJECTED_ATTRIBUTES"
        if source.index
        else "ALL_ATTRIBUTES"
    )
    select = req.get("Select") or default
    if select not in SELECTS:
        raise errors.constraints(
            [
                f"Value '{select}' at 'select' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(SELECTS)}]"
            ]
        )
    if projected and select != "SPECIFIC_ATTRIBUTES":
        member = "ProjectionExpression" if req.get("ProjectionExpression") is not None else "AttributesToGet"
        wanted = "only the Count" if select == "COUNT" else select
        raise errors.validation(f"Cannot specify the {member} when choosing to get {wanted}")
    if select == "SPECIFIC_ATTRIBUTES" and not projected:
        raise errors.validation(
            "Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES"
        )
    if select == "ALL_PROJECTED_ATTRIBUTES" and source.index is None:
        raise errors.validation("ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName")
    index = source.index
    if select == "ALL_ATTRIBUTES" and index and index.is_global and index.projection != "ALL":
        raise errors.invalid_parameters(
            f"Select type ALL_ATTRIBUTES is not supported for global secondary index {index.name} "
            "because its projection type is not ALL"
        )
    return select


def _fetches_table(source: Source, select: str) -> bool:
    """A local index answers for attributes it does not hold by reading the table's item."""
    index = source.index
    return bool(
        index
        and not index.is_global
        and index.projection != "ALL"
        and select in ("ALL_ATTRIBUTES", "SPECIFIC_ATTRIBUTES")
    )


def _cut(req: Mapping[str, Any], ex: RequestExpressions) -> Callable[[Item], Item] | None:
    expression, legacy = req.get("ProjectionExpression"), req.get("AttributesToGet")
    if expression is not None:
        return ex.projection(expression).apply
    if legacy is not None:
        wanted = set(legacy)
        return lambda item: {k: v for k, v in item.items() if k in wanted}
    return None


# -- start keys ---------------------------------------------------------------------------------


def _start(source: Source, raw: Mapping[str, Any] | None) -> RowKey | None:
    """The row an ExclusiveStartKey names: its table key, plus its index key on an index."""
    if raw is None:
        return None
    key = canonical_item(raw)
    names = source.all_keys
    if set(key) != set(names) or any(kind_of(key[n]) != source.type_of(n) for n in names):
        raise errors.validation(
            "The provided starting key is invalid: The provided key element does not match the schema"
        )
    tpk, tsk = indexes.row_key(indexes.table_keys(source.desc), key)
    if source.index is None:
        return RowKey(tpk, tsk)
    pk, sk = indexes.row_key(source.index.keys, key)
    return RowKey(pk, sk, tpk, tsk)


def _start_in_query(start: RowKey, hash_value: bytes, low: Bound | None, high: Bound | None) -> None:
    """A Query resumes only from a key its own condition could have returned."""
    if start.pk != hash_value:
        raise errors.validation(
            "The provided starting key is outside query boundaries based on provided conditions"
        )
    below = low is not None and (start.sk < low.value or start.sk == low.value and not low.inclusive)
    above = high is not None and (start.sk > high.value or start.sk == high.value and not high.inclusive)
    if below or above:
        raise errors.validation("The provided starting key does not match the range key predicate")


def _start_in_segment(start: RowKey | None, segment: tuple[int, int] | None) -> None:
    """A parallel scan resumes only from a key of its own segment."""
    if start is None or segment is None or _segment_of(start.pk, segment[1]) == segment[0]:
        return
    raise errors.validation(
        "The provided starting key is invalid: Invalid ExclusiveStartKey. Please use ExclusiveStartKey "
        f"with correct Segment. TotalSegments: {segment[1]} Segment: {segment[0]}"
    )


# -- reading a page -----------------------------------------------------------------------------


@dataclass
class Page:
    rows: list[Row]
    size: int
    more: bool


def _read_page(rows: Iterable[Row], limit: int | None) -> Page:
    """Rows up to Limit and 1 MB; ``more`` when reading stopped at either bound."""
    taken: list[Row] = []
    size = 0
    for row in rows:
        if taken and size + row.size > PAGE_SIZE:
            return Page(taken, size, True)
        taken.append(row)
        size += row.size
        if limit is not None and len(taken) >= limit:
            return Page(taken, size, True)
    return Page(taken, size, False)


def _respond(
    ctx: RequestContext,
    req: Mapping[str, Any],
    source: Source,
    page: Page,
    select: str,
    keep: Any | None,
    cut: Callable[[Item], Item] | None,
) -> dict[str, Any]:
    fetch = _fetches_table(source, select)
    items: list[Item] = []
    last_item: Item | None = None
    for row in page.rows:
        item = last_item = row.item()
        if fetch:
            full = store(ctx).get(source.desc["TableId"], RowKey(row.key.tpk, row.key.tsk))
            item = full.item() if full else item
        if keep is not None and not keep.matches(item):
            continue
        items.append(cut(item) if cut else item)
    consistent = bool(req.get("ConsistentRead"))
    out: dict[str, Any] = {"Count": len(items), "ScannedCount": len(page.rows)}
    if select != "COUNT":
        out["Items"] = items
    if page.more and last_item is not None:
        out["LastEvaluatedKey"] = {name: last_item[name] for name in source.all_keys}
    out.update(consumed(req, source.desc, {source.idx: read_units(page.size, consistent)}))
    return out


# -- Query --------------------------------------------------------------------------------------


def _bounds(found: KeyRange | None, name: str | None) -> tuple[Bound | None, Bound | None]:
    if found is None:
        return None, None
    values = [key_bytes(v) for v in found.values]
    op = found.op
    if op == EQ:
        return Bound(values[0], True), Bound(values[0], True)
    if op in (LT, LE):
        return None, Bound(values[0], op == LE)
    if op in (GT, GE):
        return Bound(values[0], op == GE), None
    if op == BETWEEN:
        if values[0] > values[1]:
            raise errors.validation(
                "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or "
                f"equal to lower bound; lower bound operand: AttributeValue: {_shown(found.values[0])}, "
                f"upper bound operand: AttributeValue: {_shown(found.values[1])}"
            )
        return Bound(values[0], True), Bound(values[1], True)
    if op == BEGINS_WITH:
        end = prefix_end(values[0])
        return Bound(values[0], True), Bound(end, False) if end is not None else None
    raise errors.validation(f"Invalid KeyConditionExpression: unsupported operator {op} on key {name}")


def _shown(value: Mapping[str, Any]) -> str:
    ((kind, v),) = value.items()
    return f"{{{kind}:{v}}}"


def _key_condition(req: Mapping[str, Any], ex: RequestExpressions, source: Source) -> Any:
    keys = source.keys
    hash_key, range_key = keys[0], keys[1] if len(keys) == 2 else None
    types = {name: source.type_of(name) for name in keys}
    expression, legacy = req.get("KeyConditionExpression"), req.get("KeyConditions")
    if expression is not None:
        return ex.key_condition(expression, hash_key, range_key, types)
    if legacy is not None:
        return legacy_key_condition(legacy, hash_key, range_key, types)
    raise errors.validation(
        "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request."
    )


@handles("Query")
async def query(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    source = _source(ctx, req)
    no_mixing(req, LEGACY, EXPRESSIONS)
    limit = _check_limit(req)
    select = _select(req, source)
    ex = RequestExpressions(req)
    condition = _key_condition(req, ex, source)
    keep = _filter(req, ex, "QueryFilter")
    _no_key_in_filter(req, keep, source)
    cut = _cut(req, ex)
    ex.check_unused()
    low, high = _bounds(condition.range, source.keys[-1])
    hash_value = key_bytes(condition.hash_value)
    start = _start(source, req.get("ExclusiveStartKey"))
    if start is not None:
        _start_in_query(start, hash_value, low, high)
    rows = store(ctx).query(
        source.desc["TableId"],
        source.idx,
        hash_value,
        low,
        high,
        forward=req.get("ScanIndexForward", True),
        after=start,
    )
    return _respond(ctx, req, source, _read_page(rows, limit), select, keep, cut)


# -- Scan ---------------------------------------------------------------------------------------


def _segment(req: Mapping[str, Any]) -> tuple[int, int] | None:
    segment, total = req.get("Segment"), req.get("TotalSegments")
    if segment is None and total is None:
        return None
    if total is None:
        raise errors.validation(
            "The TotalSegments parameter is required but was not present in the request when Segment parameter is present"
        )
    if segment is None:
        raise errors.validation(
            "The Segment parameter is required but was not present in the request when parameter TotalSegments is present"
        )
    if not 1 <= total <= 1_000_000:
        bound = "greater than or equal to 1" if total < 1 else "less than or equal to 1000000"
        raise errors.constraints(
            [
                f"Value '{total}' at 'totalSegments' failed to satisfy constraint: Member must have value {bound}"
            ]
        )
    if segment >= total:
        raise errors.validation(
            "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
            f"Segment: {segment} is not less than TotalSegments: {total}"
        )
    return segment, total


def _in_segment(rows: Iterator[Row], segment: tuple[int, int] | None) -> Iterator[Row]:
    """A parallel scan's share: rows whose partition key hashes to the segment."""
    if segment is None:
        yield from rows
        return
    number, total = segment
    for row in rows:
        if _segment_of(row.key.pk, total) == number:
            yield row


def _segment_of(pk: bytes, total: int) -> int:
    return zlib.crc32(pk) % total


@handles("Scan")
async def scan(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    source = _source(ctx, req)
    no_mixing(req, LEGACY, EXPRESSIONS)
    limit = _check_limit(req)
    segment = _segment(req)
    select = _select(req, source)
    ex = RequestExpressions(req)
    keep = _filter(req, ex, "ScanFilter")
    cut = _cut(req, ex)
    ex.check_unused()
    start = _start(source, req.get("ExclusiveStartKey"))
    _start_in_segment(start, segment)
    rows = store(ctx).scan(source.desc["TableId"], source.idx, start)
    return _respond(ctx, req, source, _read_page(_in_segment(rows, segment), limit), select, keep, cut)
