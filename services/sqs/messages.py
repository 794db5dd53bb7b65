"""Messages: what SendMessage accepts, how a message is kept, and what ReceiveMessage returns.

A message is kept as one JSON document (its immutable part: body, attributes, digests,
send time, FIFO ids); the mutable part (receive count, receipt) lives next to it in Redis,
see storage.py.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.aws.errors import AwsError

from . import errors
from .checksums import md5_hex, md5_of_attributes

MAX_ATTRIBUTES = 10
SYSTEM_ATTRIBUTES = ("AWSTraceHeader",)
_VALID_TEXT = re.compile("[\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*")
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,256}")
_DATA_TYPE = re.compile(r"(String|Number|Binary)(\..+)?")
_RESERVED_PREFIXES = ("aws.", "amazon.")


def _invalid_contents() -> AwsError:
    return AwsError(
        "InvalidMessageContents",
        "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | "
        "#xE000 to #xFFFD | #x10000 to #x10FFFF",
        400,
    )


def check_body(body: str | None) -> None:
    if not body:
        raise errors.missing_parameter("MessageBody")
    if not _VALID_TEXT.fullmatch(body):
        raise _invalid_contents()


def _check_attribute_name(name: str) -> None:
    lowered = name.lower()
    if (
        not _ATTRIBUTE_NAME.fullmatch(name)
        or lowered.startswith(_RESERVED_PREFIXES)
        or name.startswith(".")
        or name.endswith(".")
        or ".." in name
    ):
        raise errors.invalid_parameter(f"Message (user) attribute name '{name}' is invalid.")


def _check_attribute_value(name: str, value: Mapping[str, Any]) -> None:
    data_type = value.get("DataType") or ""
    match = _DATA_TYPE.fullmatch(data_type)
    if match is None:
        raise errors.invalid_parameter(
            f"The type of message (user) attribute '{name}' is invalid. You must use only the following "
            "supported type prefixes: Binary, Number, String."
        )
    base = match.group(1)
    member = "BinaryValue" if base == "Binary" else "StringValue"
    if value.get(member) in (None, "", b""):
        raise errors.invalid_parameter(
            f"The message attribute '{name}' must contain non-empty message attribute value for "
            f"message attribute type '{base}'."
        )
    if base == "Number":
        try:
            Decimal(value["StringValue"])
        except InvalidOperation:
            raise errors.invalid_parameter(
                f"Could not cast message attribute '{name}' value to number."
            ) from None
    if base != "Binary" and not _VALID_TEXT.fullmatch(value["StringValue"]):
        raise _invalid_contents()


def check_attributes(attributes: Mapping[str, Mapping[str, Any]] | None) -> None:
    attributes = attributes or {}
    if len(attributes) > MAX_ATTRIBUTES:
        raise errors.invalid_parameter(
            f"Number of message attributes [{len(attributes)}] exceeds the allowed maximum [{MAX_ATTRIBUTES}]."
        )
    for name, value in attributes.items():
        _check_attribute_name(name)
        _check_attribute_value(name, value)


def check_system_attributes(attributes: Mapping[str, Mapping[str, Any]] | None) -> None:
    for name, value in (attributes or {}).items():
        if name not in SYSTEM_ATTRIBUTES:
            raise errors.invalid_parameter(f"Message system attribute name '{name}' is invalid.")
        if value.get("DataType") != "String" or not value.get("StringValue"):
            raise errors.invalid_parameter(
                f"Message system attribute '{name}' must be of type String with a non-empty value."
            )


def size_of(body: str, attributes: Mapping[str, Mapping[str, Any]] | None) -> int:
    """The size SQS counts against MaximumMessageSize: body plus every attribute's name, type and value."""
    size = len(body.encode("utf-8"))
    for name, value in (attributes or {}).items():
        size += len(name.encode("utf-8")) + len(value["DataType"].encode("utf-8"))
        raw = value.get("BinaryValue") if value["DataType"].startswith("Binary") else value.get("StringValue")
        size += len(raw if isinstance(raw, bytes | bytearray) else (raw or "").encode("utf-8"))
    return size


def check_size(body: str, attributes: Mapping[str, Mapping[str, Any]] | None, limit: int) -> None:
    if size_of(body, attributes) > limit:
        raise errors.invalid_parameter(
            f"One or more parameters are invalid. Reason: Message must be shorter than {limit} bytes."
        )


def _stored_attributes(attributes: Mapping[str, Mapping[str, Any]] | None) -> dict[str, dict[str, str]]:
    """Only the members SQS keeps (the list members are reserved), with binary values in base64."""
    out: dict[str, dict[str, str]] = {}
    for name, value in (attributes or {}).items():
        kept = {"DataType": value["DataType"]}
        if value["DataType"].startswith("Binary"):
            kept["BinaryValue"] = base64.b64encode(bytes(value["BinaryValue"])).decode()
        else:
            kept["StringValue"] = value["StringValue"]
        out[name] = kept
    return out


def _wire_attributes(stored: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, value in stored.items():
        wire: dict[str, Any] = dict(value)
        if "BinaryValue" in wire:
            wire["BinaryValue"] = base64.b64decode(wire["BinaryValue"])
        out[name] = wire
    return out


def new_message(req: Mapping[str, Any], sender: str, sent_ms: int) -> dict[str, Any]:
    """The stored document of a message SendMessage accepted."""
    attributes = _stored_attributes(req.get("MessageAttributes"))
    system = _stored_attributes(req.get("MessageSystemAttributes"))
    doc: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "body": req["MessageBody"],
        "md5": md5_hex(req["MessageBody"]),
        "attrs": attributes,
        "md5_attrs": md5_of_attributes(_wire_attributes(attributes)),
        "sys": system,
        "md5_sys": md5_of_attributes(_wire_attributes(system)),
        "sent": sent_ms,
        "sender": sender,
    }
    for key, member in (("group", "MessageGroupId"), ("dedup", "MessageDeduplicationId")):
        if req.get(member):
            doc[key] = req[member]
    return doc


@dataclass
class Received:
    """One delivery of a message: its document plus this receive's counters and receipt."""

    doc: dict[str, Any]
    receive_count: int
    first_receive_ms: int
    receipt_handle: str


def _system_attribute_values(item: Received) -> dict[str, str]:
    doc = item.doc
    values = {
        "SenderId": doc["sender"],
        "SentTimestamp": str(doc["sent"]),
        "ApproximateReceiveCount": str(item.receive_count),
        "ApproximateFirstReceiveTimestamp": str(item.first_receive_ms),
    }
    optional = {
        "SequenceNumber": doc.get("seq"),
        "MessageDeduplicationId": doc.get("dedup"),
        "MessageGroupId": doc.get("group"),
        "AWSTraceHeader": doc.get("sys", {}).get("AWSTraceHeader", {}).get("StringValue"),
    }
    values.update({k: v for k, v in optional.items() if v is not None})
    return values


def _select_system(item: Received, names: Iterable[str]) -> dict[str, str]:
    wanted = set(names)
    values = _system_attribute_values(item)
    if "All" in wanted:
        return values
    return {k: v for k, v in values.items() if k in wanted}


def _attribute_wanted(name: str, patterns: Iterable[str]) -> bool:
    for pattern in patterns:
        if pattern in ("All", ".*") or pattern == name:
            return True
        if pattern.endswith(".*") and name.startswith(pattern[:-1]):
            return True
    return False


def to_output(item: Received, system_names: Iterable[str], attribute_names: Iterable[str]) -> dict[str, Any]:
    """The ``Message`` shape ReceiveMessage returns for one delivery."""
    doc = item.doc
    out: dict[str, Any] = {
        "MessageId": doc["id"],
        "ReceiptHandle": item.receipt_handle,
        "MD5OfBody": doc["md5"],
        "Body": doc["body"],
    }
    system = _select_system(item, system_names)
    if system:
        out["Attributes"] = system
    patterns = list(attribute_names)
    chosen = {k: v for k, v in doc["attrs"].items() if _attribute_wanted(k, patterns)}
    if chosen:
        wire = _wire_attributes(chosen)
        out["MessageAttributes"] = wire
        out["MD5OfMessageAttributes"] = md5_of_attributes(wire)
    return out
