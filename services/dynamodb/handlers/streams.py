"""The ``dynamodbstreams`` operations: ListStreams, DescribeStream, GetShardIterator, GetRecords.

Every stream has one shard (no 4-hourly shard rollover), so DescribeStream always shows one
shard, open while the stream is ENABLED and closed (with an EndingSequenceNumber) once it is
DISABLED. Storage and iterators are in ``services/dynamodb/streams.py``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from shared.aws.errors import AwsError
from shared.context import RequestContext
from shared.handlers import Handlers

from .. import errors, schema
from ..streams import (
    Iterator,
    Stream,
    StreamLog,
    api_record,
    parse_sequence_number,
    sequence_number,
    stream_log,
)
from .common import store

handles = Handlers("dynamodb")

MAX_LIST = 100
MAX_RECORDS = 1000
MAX_RESPONSE_BYTES = 1024 * 1024


def _log(ctx: RequestContext) -> StreamLog:
    return stream_log(store(ctx))


def _limit(req: dict[str, Any], maximum: int) -> int:
    limit = req.get("Limit", maximum)
    if limit < 1 or limit > maximum:
        bound = "greater than or equal to 1" if limit < 1 else f"less than or equal to {maximum}"
        raise errors.constraints(
            [f"Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value {bound}"]
        )
    return limit


def _stream(ctx: RequestContext, arn: str) -> Stream:
    found = _log(ctx).stream(ctx.account_id, ctx.region, arn)
    if found is None:
        _log(ctx).sync(ctx.account_id, ctx.region)
        found = _log(ctx).stream(ctx.account_id, ctx.region, arn)
    if found is None:
        raise AwsError("ResourceNotFoundException", f"Requested resource not found: Stream: {arn} not found")
    return _log(ctx).refresh(found)


def _shard(ctx: RequestContext, stream: Stream) -> dict[str, Any]:
    numbers = {"StartingSequenceNumber": sequence_number(stream.first_seq)}
    if stream.disabled is not None:
        numbers["EndingSequenceNumber"] = sequence_number(max(_log(ctx).last_seq(stream), stream.first_seq))
    return {"ShardId": stream.shard_id, "SequenceNumberRange": numbers}


@handles("ListStreams")
async def list_streams(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    limit = _limit(req, MAX_LIST)
    name = schema.table_name(ctx, req["TableName"]) if req.get("TableName") else None
    _log(ctx).sync(ctx.account_id, ctx.region)
    found = _log(ctx).streams(ctx.account_id, ctx.region, name)
    start = req.get("ExclusiveStartStreamArn")
    if start:
        found = [s for s in found if s.arn > start]
    out: dict[str, Any] = {
        "Streams": [
            {"StreamArn": s.arn, "TableName": s.table_name, "StreamLabel": s.label} for s in found[:limit]
        ]
    }
    if len(found) > limit:
        out["LastEvaluatedStreamArn"] = found[limit - 1].arn
    return out


@handles("DescribeStream")
async def describe_stream(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    _limit(req, MAX_LIST)
    stream = _stream(ctx, req["StreamArn"])
    shards = [_shard(ctx, stream)]
    if req.get("ExclusiveStartShardId") or req.get("ShardFilter"):
        shards = []  # the one shard comes first and has no children
    description = {
        "StreamArn": stream.arn,
        "StreamLabel": stream.label,
        "StreamStatus": stream.status,
        "StreamViewType": stream.view_type,
        "CreationRequestDateTime": datetime.fromtimestamp(stream.created, UTC),
        "TableName": stream.table_name,
        "KeySchema": stream.key_schema,
        "Shards": shards,
    }
    return {"StreamDescription": description}


def _start(ctx: RequestContext, stream: Stream, req: dict[str, Any]) -> int:
    """The ``after`` position of a new iterator of each ShardIteratorType."""
    kind = req["ShardIteratorType"]
    if kind == "TRIM_HORIZON":
        return stream.trimmed
    if kind == "LATEST":
        return _log(ctx).last_seq(stream)
    if not req.get("SequenceNumber"):
        raise errors.validation(f"SequenceNumber is required for ShardIteratorType {kind}")
    seq = parse_sequence_number(req["SequenceNumber"])
    position = seq - 1 if kind == "AT_SEQUENCE_NUMBER" else seq
    if position < stream.trimmed:
        raise _trimmed()
    return position


def _trimmed() -> AwsError:
    return AwsError(
        "TrimmedDataAccessException",
        "The operation attempted to read past the oldest stream record in a shard.",
    )


@handles("GetShardIterator")
async def get_shard_iterator(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    stream = _stream(ctx, req["StreamArn"])
    if req["ShardId"] != stream.shard_id:
        raise AwsError("ResourceNotFoundException", "Requested resource not found: Shard does not exist")
    after = _start(ctx, stream, req)
    return {"ShardIterator": Iterator(stream.arn, stream.shard_id, after, time.time()).encode()}


@handles("GetRecords")
async def get_records(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    limit = _limit(req, MAX_RECORDS)
    now = time.time()
    position = Iterator.decode(req["ShardIterator"], now)
    stream = _log(ctx).stream(ctx.account_id, ctx.region, position.stream_arn)
    if stream is None or stream.shard_id != position.shard_id:
        raise AwsError("ResourceNotFoundException", "Requested resource not found: Shard does not exist")
    stream = _log(ctx).refresh(stream, now)
    if position.after < stream.trimmed:
        raise _trimmed()
    found, size = [], 0
    for seq, doc in _log(ctx).records(stream.arn, position.after, limit):
        size += doc["dynamodb"]["SizeBytes"]
        if found and size > MAX_RESPONSE_BYTES:
            break
        found.append((seq, doc))
    after = found[-1][0] if found else position.after
    out: dict[str, Any] = {"Records": [api_record(seq, doc) for seq, doc in found]}
    if stream.disabled is None or _log(ctx).records(stream.arn, after, 1):
        out["NextShardIterator"] = position._replace(after=after, issued=now).encode()
    return out
