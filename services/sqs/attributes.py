"""Queue attributes: which exist, which a caller may set, their valid values and defaults.

Attributes travel as strings (``{"VisibilityTimeout": "30"}``); we keep them as SQS returns
them. The computed ones (counts, timestamps, ARN) are filled in on read by the handlers.
Checks that need other queues (does the dead-letter target exist?) live with the handlers;
everything decidable from the value alone is here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from shared.aws.errors import AwsError

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
MAX_RECEIVE_COUNT = 1000
MAX_REDRIVE_SOURCES = 10
REDRIVE_PERMISSIONS = ("allowAll", "denyAll", "byQueue")


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


def _json_object(name: str, value: str, reason: str = "") -> dict[str, Any]:
    try:
        doc = json.loads(value)
    except (ValueError, RecursionError):
        raise errors.invalid_attribute_value(name, reason) from None
    if not isinstance(doc, dict):
        raise errors.invalid_attribute_value(name, reason)
    return doc


def _policy(name: str, value: str) -> str:
    """An IAM policy document: a JSON object (kept as given; '' removes it)."""
    if value:
        _json_object(name, value)
    return value


def _redrive_error(name: str, value: str, reason: str) -> AwsError:
    return errors.invalid_parameter(f"Value {value} for parameter {name} is invalid. Reason: {reason}")


def _max_receive_count(name: str, value: str, raw: Any) -> int:
    try:
        count = int(raw) if not isinstance(raw, bool | float) else None
    except (TypeError, ValueError):
        count = None
    if count is None or not 1 <= count <= MAX_RECEIVE_COUNT:
        raise _redrive_error(
            name,
            value,
            f"Invalid value for maxReceiveCount: {raw}, valid values are from 1 to {MAX_RECEIVE_COUNT} "
            "both inclusive.",
        )
    return count


def _redrive_policy(name: str, value: str) -> str:
    """``{"deadLetterTargetArn": ..., "maxReceiveCount": n}``, normalized as SQS returns it ('' removes)."""
    if not value:
        return value
    doc = _json_object(name, value, "Redrive policy is not a valid JSON map.")
    for member in ("deadLetterTargetArn", "maxReceiveCount"):
        if member not in doc:
            raise _redrive_error(
                name, value, f"Redrive policy does not contain mandatory attribute: {member}."
            )
    target = doc["deadLetterTargetArn"]
    if not isinstance(target, str) or not target.startswith("arn:") or target.count(":") != 5:
        raise _redrive_error(name, value, "Invalid value for deadLetterTargetArn.")
    count = _max_receive_count(name, value, doc["maxReceiveCount"])
    return json.dumps({"deadLetterTargetArn": target, "maxReceiveCount": count}, separators=(",", ":"))


def _redrive_allow_policy(name: str, value: str) -> str:
    """``{"redrivePermission": allowAll|denyAll|byQueue, "sourceQueueArns": [...]}`` ('' removes)."""
    if not value:
        return value
    unsupported = _redrive_error(
        name, value, "Amazon SQS can't create the redrive allow policy, as it's in an unsupported format."
    )
    doc = _json_object(
        name, value, "Amazon SQS can't create the redrive allow policy, as it's in an unsupported format."
    )
    permission, sources = doc.get("redrivePermission"), doc.get("sourceQueueArns")
    if permission not in REDRIVE_PERMISSIONS or set(doc) - {"redrivePermission", "sourceQueueArns"}:
        raise unsupported
    if permission == "byQueue":
        if not isinstance(sources, list) or not 1 <= len(sources) <= MAX_REDRIVE_SOURCES:
            raise unsupported
        if not all(isinstance(s, str) and s.startswith("arn:") for s in sources):
            raise unsupported
        return json.dumps(
            {"redrivePermission": permission, "sourceQueueArns": sources}, separators=(",", ":")
        )
    if sources is not None:
        raise unsupported
    return json.dumps({"redrivePermission": permission}, separators=(",", ":"))


def _kms_key(name: str, value: str) -> str:
    if len(value) > 2048:
        raise errors.invalid_attribute_value(name)
    return value


_BOOLEAN = _choice("true", "false", case_insensitive=True)

SETTABLE: dict[str, Check] = {
    "DelaySeconds": _integer(0, 900),
    "MaximumMessageSize": _integer(1024, 1_048_576),
    "MessageRetentionPeriod": _integer(60, 1_209_600),
    "ReceiveMessageWaitTimeSeconds": _integer(0, 20),
    "VisibilityTimeout": _integer(0, 43_200),
    "Policy": _policy,
    "RedrivePolicy": _redrive_policy,
    "RedriveAllowPolicy": _redrive_allow_policy,
    "KmsMasterKeyId": _kms_key,
    "KmsDataKeyReusePeriodSeconds": _integer(60, 86_400),
    "SqsManagedSseEnabled": _BOOLEAN,
    "FifoQueue": _BOOLEAN,
    "ContentBasedDeduplication": _BOOLEAN,
    "DeduplicationScope": _choice("messageGroup", "queue"),
    "FifoThroughputLimit": _choice("perQueue", "perMessageGroupId"),
}
FIFO_ONLY = frozenset({"FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"})
# Attributes that '' removes rather than sets (SQS then no longer lists them).
REMOVABLE = frozenset({"Policy", "RedrivePolicy", "RedriveAllowPolicy", "KmsMasterKeyId"})

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
NAMES = frozenset({*SETTABLE, *COMPUTED})


def is_fifo(requested: Mapping[str, str] | None) -> bool:
    value = (requested or {}).get("FifoQueue", "false")
    return isinstance(value, str) and value.strip().lower() == "true"


def utf8_text(value: object) -> bool:
    """A string UTF-8 can carry (JSON input may smuggle in lone surrogates)."""
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_each(requested: Mapping[str, str] | None, fifo: bool) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in (requested or {}).items():
        check = SETTABLE.get(name)
        standard_fifo_false = name == "FifoQueue" and not fifo
        if check is None or (name in FIFO_ONLY and not fifo and not standard_fifo_false):
            raise errors.invalid_attribute_name(name if utf8_text(name) else repr(name))
        if not utf8_text(value):
            raise errors.invalid_attribute_value(name)
        out[name] = check(name, value)
    return out


def _check_together(out: dict[str, str], current: Mapping[str, str]) -> None:
    """Rules across attributes: high throughput needs per-group deduplication."""
    merged = {**current, **out}
    if (
        merged.get("FifoThroughputLimit") == "perMessageGroupId"
        and merged.get("DeduplicationScope", "queue") != "messageGroup"
    ):
        raise errors.invalid_attribute_value(
            "FifoThroughputLimit",
            "The perMessageGroupId value is allowed only when the value for DeduplicationScope is messageGroup.",
        )


def validate(requested: Mapping[str, str] | None, fifo: bool) -> dict[str, str]:
    """CreateQueue's attributes, checked and normalized (raises SQS's own errors)."""
    out = _check_each(requested, fifo)
    _check_together(out, {})
    for name in REMOVABLE:
        if out.get(name) == "":
            del out[name]
    if out.get("FifoQueue") == "false":
        del out["FifoQueue"]  # what a standard queue is anyway; SQS does not list it
    _kms_defaults(out)
    return out


def validate_update(requested: Mapping[str, str] | None, current: Mapping[str, str]) -> dict[str, str]:
    """SetQueueAttributes' attributes: what to store ('' for the ones to remove).

    The queue type cannot change: ``FifoQueue`` names no attribute of a standard queue, and a
    FIFO queue answers that modifying its type is not supported.
    """
    fifo = current.get("FifoQueue") == "true"
    if "FifoQueue" in (requested or {}) and not fifo:
        raise errors.invalid_attribute_name("FifoQueue")
    out = _check_each(requested, fifo)
    if "FifoQueue" in out:
        if out["FifoQueue"] != "true":
            raise errors.invalid_attribute_value("FifoQueue", "Modifying queue type is not supported.")
        del out["FifoQueue"]
    _check_together(out, current)
    if out.get("KmsMasterKeyId") and "KmsDataKeyReusePeriodSeconds" not in current:
        _kms_defaults(out)
    return out


def _kms_defaults(out: dict[str, str]) -> None:
    """A customer key replaces SQS-managed encryption, with AWS's default data key period."""
    if out.get("KmsMasterKeyId"):
        out.setdefault("KmsDataKeyReusePeriodSeconds", "300")
        out.setdefault("SqsManagedSseEnabled", "false")


def defaults(fifo: bool) -> dict[str, str]:
    """What a new queue has unless the caller says otherwise."""
    return dict(FIFO_DEFAULTS if fifo else STANDARD_DEFAULTS)


def first_difference(existing: Mapping[str, str], requested: Mapping[str, str]) -> str | None:
    """The first requested attribute whose value differs from the queue's (CreateQueue's idempotency)."""
    for name, value in requested.items():
        if existing.get(name) != value:
            return name
    return None


def check_names(wanted: Iterable[str], fifo: bool) -> set[str]:
    """GetQueueAttributes' names, checked: unknown ones (and FIFO-only ones on a standard queue) fail."""
    names = set(wanted)
    for name in sorted(names - {"All"}):
        if name not in NAMES or (name in FIFO_ONLY and not fifo):
            raise errors.invalid_attribute_name(name if utf8_text(name) else repr(name))
    return names


def select(every: Mapping[str, str], names: set[str]) -> dict[str, str]:
    return dict(every) if "All" in names else {k: v for k, v in every.items() if k in names}


def redrive_target(attributes: Mapping[str, str]) -> tuple[str, int] | None:
    """(dead-letter target ARN, maxReceiveCount) of a queue's RedrivePolicy, if it has one."""
    raw = attributes.get("RedrivePolicy")
    if not raw:
        return None
    try:
        doc = json.loads(raw)
        return str(doc["deadLetterTargetArn"]), int(doc["maxReceiveCount"])
    except (ValueError, KeyError, TypeError):
        return None


def allows_redrive_from(attributes: Mapping[str, str], source_arn: str) -> bool:
    """Whether a dead-letter queue's RedriveAllowPolicy lets ``source_arn`` use it."""
    raw = attributes.get("RedriveAllowPolicy")
    if not raw:
        return True
    try:
        doc = json.loads(raw)
    except ValueError:
        return True
    permission = doc.get("redrivePermission")
    if permission == "denyAll":
        return False
    if permission == "byQueue":
        return source_arn in doc.get("sourceQueueArns", [])
    return True
