"""Event source mappings: Create, Get, Update, Delete and List.

The handlers keep the records; the pollers (``pollers.py``) act on them. After a change the
handler answers with the transitional state (``Creating``, ``Enabling``, ``Disabling``,
``Updating``, ``Deleting``) and tells the pollers, which settle it (``Enabled``/``Disabled``) as
soon as the poller has started or stopped.
"""

from __future__ import annotations

import base64
import binascii
import logging
from datetime import UTC, datetime
from typing import Any

import httpx

from shared.aws.client import AwsCallError
from shared.context import RequestContext
from shared.handlers import Handlers
from shared.registry import parse_arn

from .. import errors, mappings, pollers
from ..functions import function_arn, resolve
from ..mappings import MAPPING, SCOPE
from .common import function_record, store

log = logging.getLogger("flotilla.lambda")

handles = Handlers("lambda")

DEFAULT_MAX_ITEMS = 100


@handles("CreateEventSourceMapping")
async def create_event_source_mapping(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    kind = mappings.check_create(req)
    arn = target_function_arn(ctx, req["FunctionName"])
    await check_source_exists(ctx, kind, req["EventSourceArn"])
    await check_visibility_timeout(ctx, kind, req["EventSourceArn"], req["FunctionName"])
    for _, doc in _mine(ctx):  # after the last await: two concurrent creates cannot both pass
        config = doc["Configuration"]
        if config["EventSourceArn"] == req["EventSourceArn"] and config["FunctionArn"] == arn:
            raise errors.mapping_conflict(req["EventSourceArn"], req["FunctionName"], config["UUID"])
    config = mappings.new_configuration(ctx, kind, req, arn, datetime.now(UTC))
    doc = mappings.new_record(ctx, config, req.get("Enabled", True), req.get("Tags") or {})
    store(ctx).records.put(*SCOPE, MAPPING, config["UUID"], doc)
    _notify(ctx, config["UUID"])
    return config


@handles("GetEventSourceMapping")
async def get_event_source_mapping(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    return mapping_record(ctx, req["UUID"])["Configuration"]


@handles("UpdateEventSourceMapping")
async def update_event_source_mapping(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    doc = mapping_record(ctx, req["UUID"])
    before = doc["Configuration"]
    kind = mappings.source_kind(before["EventSourceArn"])
    mappings.check_update(kind, before["EventSourceArn"], req)
    config = mappings.updated_configuration(before, req)
    mappings.check_settings(kind, config["EventSourceArn"], config)
    if req.get("FunctionName"):
        config["FunctionArn"] = target_function_arn(ctx, req["FunctionName"])
    await check_visibility_timeout(ctx, kind, config["EventSourceArn"], config["FunctionArn"])
    doc = mapping_record(ctx, req["UUID"])  # re-read after the await: keep the pollers' checkpoints
    enabled = req["Enabled"] if req.get("Enabled") is not None else doc["Enabled"]
    config["State"] = mappings.state_after_update(doc["Enabled"], enabled)
    config["StateTransitionReason"] = "USER_INITIATED"
    config["LastModified"] = datetime.now(UTC)
    # no await since the read: checkpoints the pollers wrote meanwhile cannot be lost
    store(ctx).records.put(*SCOPE, MAPPING, req["UUID"], {**doc, "Configuration": config, "Enabled": enabled})
    _notify(ctx, req["UUID"])
    return config


@handles("DeleteEventSourceMapping")
async def delete_event_source_mapping(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    doc = mapping_record(ctx, req["UUID"])
    config = {**doc["Configuration"], "State": "Deleting", "StateTransitionReason": "USER_INITIATED"}
    store(ctx).records.delete(*SCOPE, MAPPING, req["UUID"])
    running = pollers.manager(store(ctx))
    if running is not None:
        running.removed(req["UUID"])
    return config


@handles("ListEventSourceMappings")
async def list_event_source_mappings(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    mappings.check_constraints("ListEventSourceMappings", req)
    limit = req.get("MaxItems") or DEFAULT_MAX_ITEMS
    start = _read_marker(req["Marker"]) if req.get("Marker") else 0
    wanted_fn = (
        function_arn(ctx, *_name_and_qualifier(ctx, req["FunctionName"])) if req.get("FunctionName") else None
    )
    found = [
        doc["Configuration"]
        for _, doc in _mine(ctx)
        if req.get("EventSourceArn") in (None, doc["Configuration"]["EventSourceArn"])
        and (wanted_fn is None or _same_function(wanted_fn, doc["Configuration"]["FunctionArn"]))
    ]
    out: dict[str, Any] = {"EventSourceMappings": found[start : start + limit]}
    if len(found) > start + limit:
        out["NextMarker"] = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
    return out


# -- helpers ----------------------------------------------------------------------------------


def mapping_record(ctx: RequestContext, mapping_id: str) -> dict[str, Any]:
    doc = store(ctx).records.get(*SCOPE, MAPPING, mapping_id)
    if not mappings.visible_to(ctx, doc):
        raise errors.mapping_not_found()
    assert doc is not None
    return doc


def _mine(ctx: RequestContext) -> list[tuple[str, dict[str, Any]]]:
    """This account's and region's mappings, in creation order."""
    return [(i, doc) for i, doc in store(ctx).records.list(*SCOPE, MAPPING) if mappings.visible_to(ctx, doc)]


def _name_and_qualifier(ctx: RequestContext, value: str) -> tuple[str, str | None]:
    ref = resolve(ctx, value)
    return ref.name, ref.qualifier


def target_function_arn(ctx: RequestContext, value: str) -> str:
    """The ARN a mapping invokes (qualified when the name was): the function must exist."""
    name, qualifier = _name_and_qualifier(ctx, value)
    function_record(ctx, value)
    return function_arn(ctx, name, qualifier)


def _same_function(wanted: str, arn: str) -> bool:
    """An unqualified filter matches the function's mappings of every qualifier."""
    return arn == wanted or (wanted.count(":") == 6 and arn.rsplit(":", 1)[0] == wanted)


async def check_source_exists(ctx: RequestContext, kind: str, arn: str) -> None:
    """The queue must be in the registry (SQS publishes its queues there); the stream must describe."""
    try:
        where = parse_arn(arn)
    except ValueError:
        raise errors.invalid_parameter(
            "Unrecognized event source, must be kinesis, dynamodb stream or sqs."
        ) from None
    if kind == mappings.SQS:
        registry = store(ctx).registry
        if registry is not None and await registry.get(arn) is None:
            raise errors.invalid_parameter(
                "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. "
                "SQS Error Message: The specified queue does not exist for this wsdl version."
            )
        return
    running = pollers.manager(store(ctx))
    if running is None:
        return
    try:
        await running.client.call(
            "dynamodbstreams", "DescribeStream", {"StreamArn": arn, "Limit": 1},
            account=where.account, region=where.region,
        )  # fmt: skip
    except AwsCallError as err:
        if err.code == "ResourceNotFoundException":
            raise errors.invalid_parameter(f"Stream not found: {arn}") from None
        log.warning("could not check stream %s: %s", arn, err)
    except httpx.HTTPError as err:
        log.warning("could not check stream %s: %s", arn, err)


async def check_visibility_timeout(ctx: RequestContext, kind: str, queue_arn: str, function: str) -> None:
    """Lambda refuses an SQS mapping whose queue's VisibilityTimeout is shorter than the function's Timeout
    (a message would reappear while the function still runs). The attribute is read from SQS through the
    fleet; when SQS cannot be asked, the mapping is accepted (and the reason logged)."""
    running = pollers.manager(store(ctx))
    if kind != mappings.SQS or running is None or store(ctx).registry is None:
        return
    entry = await store(ctx).registry.get(queue_arn)
    if not entry or not entry.get("url"):
        return
    where = parse_arn(queue_arn)
    try:
        out = await running.client.call(
            "sqs", "GetQueueAttributes", {"QueueUrl": entry["url"], "AttributeNames": ["VisibilityTimeout"]},
            account=where.account, region=where.region,
        )  # fmt: skip
    except (AwsCallError, httpx.HTTPError) as err:
        log.warning("could not read the visibility timeout of %s: %s", queue_arn, err)
        return
    visibility = int((out.get("Attributes") or {}).get("VisibilityTimeout", 30))
    timeout = int(function_record(ctx, function)["Configuration"].get("Timeout", 3))
    if visibility < timeout:
        raise errors.invalid_parameter(
            f"Queue visibility timeout: {visibility} seconds is less than Function timeout: {timeout} seconds"
        )


def _notify(ctx: RequestContext, mapping_id: str) -> None:
    running = pollers.manager(store(ctx))
    if running is not None:
        running.changed(mapping_id)


def _read_marker(marker: str) -> int:
    try:
        return max(0, int(base64.urlsafe_b64decode(marker.encode()).decode()))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise errors.invalid_parameter(f"Invalid marker: {marker}") from None
