"""Queue attributes: which exist, which a caller may set, their valid values and defaults.

Attributes travel as strings (``{"VisibilityTimeout": "30"}``); we keep them as SQS returns
them. The computed ones (counts, timestamps, ARN) are filled in on read by the handlers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

from . import errors

Check = Callable[[str, str], str]  # (name, value) -> normalized value, or raises

COMPUTED = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
)


def _integer(low: int, high: int) -> Check:
    def check(name: str, value: str) -> str:
        try:
            number = int(value.strip())
        except ValueError:
            raise errors.invalid_attribute_value(name) from None
        if not low <= number <= high:
            raise errors.invalid_attribute_value(name)
        return str(number)

    return check


def _choice(*allowed: str, case_insensitive: bool = False) -> Check:
    def check(name: str, value: str) -> str:
        candidate = value.lower() if case_insensitive else value
        if candidate not in allowed:
            raise errors.invalid_attribute_value(name)
        return candidate

    return check


def _json_document(name: str, value: str) -> str:
    if value == "":
        return value
    try:
        doc = json.loads(value)
    except ValueError:
        raise errors.invalid_attribute_value(name) from None
    if not isinstance(doc, dict):
        raise errors.invalid_attribute_value(name)
    return value


def _text(name: str, value: str) -> str:
    return value


_BOOLEAN = _choice("true", "false", case_insensitive=True)

SETTABLE: dict[str, Check] = {
    "DelaySeconds": _integer(0, 900),
    "MaximumMessageSize": _integer(1024, 1_048_576),
    "MessageRetentionPeriod": _integer(60, 1_209_600),
    "ReceiveMessageWaitTimeSeconds": _integer(0, 20),
    "VisibilityTimeout": _integer(0, 43_200),
    "Policy": _json_document,
    "RedrivePolicy": _json_document,
    "RedriveAllowPolicy": _json_document,
    "KmsMasterKeyId": _text,
    "KmsDataKeyReusePeriodSeconds": _integer(60, 86_400),
    "SqsManagedSseEnabled": _BOOLEAN,
    "FifoQueue": _BOOLEAN,
    "ContentBasedDeduplication": _BOOLEAN,
    "DeduplicationScope": _choice("messageGroup", "queue"),
    "FifoThroughputLimit": _choice("perQueue", "perMessageGroupId"),
}
FIFO_ONLY = frozenset({"ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"})

STANDARD_DEFAULTS = {
    "VisibilityTimeout": "30",
    "MaximumMessageSize": "1048576",
    "MessageRetentionPeriod": "345600",
    "DelaySeconds": "0",
    "ReceiveMessageWaitTimeSeconds": "0",
    "SqsManagedSseEnabled": "true",
}
FIFO_DEFAULTS = {
    **STANDARD_DEFAULTS,
    "FifoQueue": "true",
    "ContentBasedDeduplication": "false",
    "DeduplicationScope": "queue",
    "FifoThroughputLimit": "perQueue",
}


def is_fifo(requested: Mapping[str, str] | None) -> bool:
    return (requested or {}).get("FifoQueue", "false").strip().lower() == "true"


def validate(requested: Mapping[str, str] | None, fifo: bool) -> dict[str, str]:
    """The requested attributes, checked and normalized (raises SQS's own errors)."""
    out: dict[str, str] = {}
    for name, value in (requested or {}).items():
        check = SETTABLE.get(name)
        if check is None or (name in FIFO_ONLY and not fifo):
            raise errors.invalid_attribute_name(name)
        out[name] = check(name, value)
    high_throughput = out.get("FifoThroughputLimit") == "perMessageGroupId"
    if high_throughput and out.get("DeduplicationScope", "queue") != "messageGroup":
        raise errors.invalid_attribute_value("FifoThroughputLimit")
    if out.get("Policy") == "":
        del out["Policy"]
    if out.get("FifoQueue") == "false":
        del out["FifoQueue"]  # what a standard queue is anyway; SQS does not list it
    return out


def defaults(fifo: bool) -> dict[str, str]:
    """What a new queue has unless the caller says otherwise."""
    return dict(FIFO_DEFAULTS if fifo else STANDARD_DEFAULTS)


def first_difference(existing: Mapping[str, str], requested: Mapping[str, str]) -> str | None:
    """The first requested attribute whose value differs from the queue's (CreateQueue's idempotency)."""
    for name, value in requested.items():
        if existing.get(name) != value:
            return name
    return None
