"""Event source mappings without I/O: what kind of source an ARN names, input checks, the record's shape.

A mapping is stored in ``store.records`` (kind ``event-source-mapping``) under the global scope
(``*``/``*``), keyed by its UUID, as::

    {"Configuration": <EventSourceMappingConfiguration>, "Account": ..., "Region": ...,
     "Enabled": bool,                     # what the user asked for; State follows it
     "Checkpoints": {shard id: sequence number}}   # streams: the last record handled per shard

UUIDs are global, so Get/Update/Delete find a mapping by UUID alone (and then check that it is
the caller's account and region), and the pollers find every mapping at start without knowing
which accounts exist.

Checks are Lambda's, in Lambda's order: the model's constraints (``ValidationException``), then
per source kind (SQS or DynamoDB stream) the parameters that kind refuses or requires
(``InvalidParameterValueException``). Existence of the function and of the source is checked by
the handlers (it needs I/O).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from shared.aws.models import service_model
from shared.context import RequestContext
from shared.records import GLOBAL

from . import constraints, errors, filters

MAPPING = "event-source-mapping"
SCOPE = (GLOBAL, GLOBAL)
SQS = "sqs"
DYNAMODB = "dynamodb"

SQS_MAX_BATCH = 10000
SQS_FIFO_MAX_BATCH = 10
SQS_BATCH_WITHOUT_WINDOW = 10

# Parameters only stream sources accept (Lambda refuses them for SQS).
STREAM_ONLY = (
    "StartingPosition",
    "StartingPositionTimestamp",
    "ParallelizationFactor",
    "DestinationConfig",
    "MaximumRecordAgeInSeconds",
    "BisectBatchOnFunctionError",
    "MaximumRetryAttempts",
    "TumblingWindowInSeconds",
)
# Parameters only SQS accepts.
SQS_ONLY = ("ScalingConfig",)
# Kafka, MQ and DocumentDB parameters: their sources are not supported here.
OTHER_SOURCES = (
    "Topics",
    "Queues",
    "SourceAccessConfigurations",
    "SelfManagedEventSource",
    "AmazonManagedKafkaEventSourceConfig",
    "SelfManagedKafkaEventSourceConfig",
    "DocumentDBEventSourceConfig",
    "ProvisionedPollerConfig",
)

STREAM_DEFAULTS: dict[str, Any] = {
    "BatchSize": 100,
    "MaximumBatchingWindowInSeconds": 0,
    "ParallelizationFactor": 1,
    "DestinationConfig": {"OnFailure": {}},
    "MaximumRecordAgeInSeconds": -1,
    "BisectBatchOnFunctionError": False,
    "MaximumRetryAttempts": -1,
    "TumblingWindowInSeconds": 0,
}
SQS_DEFAULTS: dict[str, Any] = {"BatchSize": 10, "MaximumBatchingWindowInSeconds": 0}

# Members UpdateEventSourceMapping may change, copied from the request as given.
_UPDATABLE = (
    "BatchSize",
    "MaximumBatchingWindowInSeconds",
    "ParallelizationFactor",
    "DestinationConfig",
    "MaximumRecordAgeInSeconds",
    "BisectBatchOnFunctionError",
    "MaximumRetryAttempts",
    "TumblingWindowInSeconds",
    "ScalingConfig",
    "FilterCriteria",
    "KMSKeyArn",
    "MetricsConfig",
    "LoggingConfig",
    "FunctionResponseTypes",
)
# Members CreateEventSourceMapping copies as given: those, and where a stream starts (fixed once created).
_COPIED = (*_UPDATABLE, "StartingPosition", "StartingPositionTimestamp")


def source_kind(arn: str | None) -> str:
    """``sqs`` or ``dynamodb`` (a stream ARN); anything else is refused as Lambda refuses it."""
    parts = (arn or "").split(":", 5)
    if len(parts) == 6 and parts[2] == "sqs":
        return SQS
    if len(parts) == 6 and parts[2] == "dynamodb" and "/stream/" in parts[5]:
        return DYNAMODB
    if len(parts) == 6 and parts[2] in ("kinesis", "kafka", "mq", "rds"):
        raise errors.unsupported(f"{parts[2]} event sources")
    raise errors.invalid_parameter("Unrecognized event source, must be kinesis, dynamodb stream or sqs.")


def is_fifo(arn: str) -> bool:
    return arn.endswith(".fifo")


def check_constraints(operation: str, req: dict[str, Any]) -> None:
    shape = service_model("lambda").operation_model(operation).input_shape
    problems = constraints.violations(shape, req)
    if problems:
        raise errors.constraints(problems)


def _refuse(req: dict[str, Any], names: tuple[str, ...]) -> None:
    for name in names:
        if req.get(name) is not None:
            raise errors.invalid_parameter(
                f"Unsupported {name} parameter for the given event source mapping type."
            )


def check_create(req: dict[str, Any]) -> str:
    """Everything CreateEventSourceMapping refuses before looking anything up; returns the source kind."""
    check_constraints("CreateEventSourceMapping", req)
    _refuse(req, OTHER_SOURCES)
    kind = source_kind(req.get("EventSourceArn"))
    if kind == SQS:
        if req.get("StartingPosition") is not None:
            raise errors.invalid_parameter("StartingPosition is not valid for SQS event sources.")
        _refuse(req, STREAM_ONLY)
    else:
        if req.get("StartingPosition") is None:
            raise errors.invalid_parameter(
                "1 validation error detected: Value null at 'startingPosition' failed to satisfy "
                "constraint: Member must not be null."
            )
        if req["StartingPosition"] == "AT_TIMESTAMP":
            raise errors.invalid_parameter(
                "Unsupported starting position for arn type: " + req["EventSourceArn"]
            )
        _refuse(req, SQS_ONLY)
    check_settings(kind, req["EventSourceArn"], req)
    return kind


def check_update(kind: str, arn: str, req: dict[str, Any]) -> None:
    """UpdateEventSourceMapping's checks of the parameters given, for the mapping's source kind."""
    check_constraints("UpdateEventSourceMapping", req)
    _refuse(req, OTHER_SOURCES)
    _refuse(req, STREAM_ONLY if kind == SQS else SQS_ONLY)


def check_settings(kind: str, arn: str, config: dict[str, Any]) -> None:
    """Rules across members, checked on the configuration as it will be (after defaults or an update)."""
    batch = config.get("BatchSize")
    window = config.get("MaximumBatchingWindowInSeconds") or 0
    if kind == SQS and batch is not None:
        limit = SQS_FIFO_MAX_BATCH if is_fifo(arn) else SQS_MAX_BATCH
        if batch > limit:
            raise errors.invalid_parameter(f"BatchSize must be between 1 and {limit} for this queue.")
        if batch > SQS_BATCH_WITHOUT_WINDOW and window < 1:
            raise errors.invalid_parameter(
                "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"
            )
    age = config.get("MaximumRecordAgeInSeconds")
    if age is not None and age != -1 and age < 60:
        raise errors.invalid_parameter("MaximumRecordAgeInSeconds must be -1 or between 60 and 604800.")
    concurrency = (config.get("ScalingConfig") or {}).get("MaximumConcurrency")
    if concurrency is not None and not 2 <= concurrency <= 1000:
        raise errors.constraints(
            [
                f"Value '{concurrency}' at 'scalingConfig.maximumConcurrency' failed to satisfy constraint: "
                "Member must have value " + ("greater than or equal to 2" if concurrency < 2 else
                                             "less than or equal to 1000")
            ]
        )  # fmt: skip
    check_destination(config.get("DestinationConfig"))
    filters.compile_criteria(config.get("FilterCriteria"))  # InvalidParameterValueException


def check_destination(config: dict[str, Any] | None) -> None:
    """On-failure destinations: SQS queues only (the fleet has no SNS); OnSuccess is not for mappings."""
    if not config:
        return
    if (config.get("OnSuccess") or {}).get("Destination"):
        raise errors.invalid_parameter(
            "Unsupported OnSuccess destination for the given event source mapping type."
        )
    destination = (config.get("OnFailure") or {}).get("Destination")
    if destination is None:
        return
    parts = destination.split(":")
    if len(parts) < 6 or parts[2] not in ("sqs", "sns", "s3"):
        raise errors.invalid_parameter(
            f"The provided destination config DestinationConfig is invalid: {destination}"
        )
    if parts[2] != "sqs":
        raise errors.unsupported(f"{parts[2]} on-failure destinations")


def new_configuration(
    ctx: RequestContext, kind: str, req: dict[str, Any], function_arn: str, now: datetime
) -> dict[str, Any]:
    """The EventSourceMappingConfiguration of a new mapping, with the kind's defaults, in ``Creating``."""
    mapping_id = str(uuid.uuid4())
    config: dict[str, Any] = {"UUID": mapping_id}
    config.update(SQS_DEFAULTS if kind == SQS else STREAM_DEFAULTS)
    config.update({name: req[name] for name in _COPIED if req.get(name) is not None})
    config.update(
        EventSourceArn=req["EventSourceArn"],
        FunctionArn=function_arn,
        LastModified=now,
        State="Creating",
        StateTransitionReason="USER_INITIATED",
        FunctionResponseTypes=req.get("FunctionResponseTypes") or [],
        EventSourceMappingArn=ctx.arn("lambda", f"event-source-mapping:{mapping_id}"),
    )
    if kind == DYNAMODB:
        config["LastProcessingResult"] = "No records processed"
    return config


def new_record(
    ctx: RequestContext, config: dict[str, Any], enabled: bool, tags: dict[str, str]
) -> dict[str, Any]:
    return {
        "Configuration": config,
        "Account": ctx.account_id,
        "Region": ctx.region,
        "Enabled": enabled,
        "Tags": tags,
        "Checkpoints": {},
    }


def updated_configuration(config: dict[str, Any], req: dict[str, Any]) -> dict[str, Any]:
    """The configuration with the members an update gives (``FunctionArn`` and ``State`` set by the caller)."""
    out = dict(config)
    out.update({name: req[name] for name in _UPDATABLE if req.get(name) is not None})
    return out


def state_after_update(enabled_before: bool, enabled_after: bool) -> str:
    """What UpdateEventSourceMapping answers while the change is applied."""
    if enabled_before and not enabled_after:
        return "Disabling"
    if enabled_after and not enabled_before:
        return "Enabling"
    return "Updating"


def visible_to(ctx: RequestContext, doc: dict[str, Any] | None) -> bool:
    return doc is not None and doc["Account"] == ctx.account_id and doc["Region"] == ctx.region
