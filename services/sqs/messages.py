"""Messages: what SendMessage accepts, how a message is kept, and what ReceiveMessage returns.

A message is kept as one JSON document (its immutable part: body, attributes, digests,
send time, FIFO ids); the mutable part (receive count, receipt) lives next to it in Redis,
see storage.py.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.aws.errors import AwsError
from shared.aws.protocol.query_compat import legacy_error_codes

from . import errors
from .checksums import md5_hex, md5_of_attributes
from .queues import QueueRef

MAX_ATTRIBUTES = 10
SYSTEM_ATTRIBUTES = ("AWSTraceHeader",)
MAX_BATCH_ENTRIES = 10
# The sum of a batch's message sizes; botocore's model (and AWS since 2025) says 1 MiB, as for one message.
MAX_BATCH_BYTES = 1_048_576
NOT_FOR_THIS_QUEUE = "The request include parameter that is not valid for this queue type."
_BATCH_ENTRY_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")
TOKEN = re.compile(r"[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}")
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
        data_type = value.get("DataType") or ""
        size += len(name.encode("utf-8")) + len(data_type.encode("utf-8"))
        raw = value.get("BinaryValue") if data_type.startswith("Binary") else value.get("StringValue")
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


@dataclass(frozen=True)
class Outgoing:
    """One message to enqueue: its document, delay and (FIFO) deduplication key."""

    doc: dict[str, Any]
    delay_s: int = 0
    dedup_key: str = ""


def _delay(req: Mapping[str, Any], queue_attributes: Mapping[str, str], fifo: bool) -> int:
    """The message's own delay, else the queue's; FIFO queues allow only the queue's."""
    delay = req.get("DelaySeconds")
    if delay is None:
        return int(queue_attributes.get("DelaySeconds", "0"))
    if fifo and delay != 0:
        raise errors.out_of_range("DelaySeconds", delay, NOT_FOR_THIS_QUEUE)
    if not 0 <= delay <= 900:
        raise errors.out_of_range("DelaySeconds", delay, "Must be >= 0 and <= 900.")
    return delay


def check_token(name: str, value: str) -> str:
    """Group, deduplication and receive-attempt ids: 1-128 ASCII letters, digits and punctuation."""
    if not TOKEN.fullmatch(value):
        raise errors.out_of_range(
            name,
            value,
            f"{name} can only include alphanumeric and punctuation characters. 1 to 128 in length.",
        )
    return value


def _dedup_key(req: dict[str, Any], queue_attributes: Mapping[str, str], fifo: bool) -> str:
    """FIFO: the key duplicates share within the 5-minute window ('' for standard queues).

    Fills in the content-based ``MessageDeduplicationId`` (SHA-256 of the body) so the message keeps it.
    """
    if not fifo:
        if req.get("MessageDeduplicationId"):
            raise errors.out_of_range(
                "MessageDeduplicationId", req["MessageDeduplicationId"], NOT_FOR_THIS_QUEUE
            )
        return ""
    if not req.get("MessageGroupId"):
        raise errors.missing_parameter("MessageGroupId")
    if req.get("MessageDeduplicationId"):
        check_token("MessageDeduplicationId", req["MessageDeduplicationId"])
    dedup = req.get("MessageDeduplicationId")
    if not dedup:
        if queue_attributes.get("ContentBasedDeduplication") != "true":
            raise errors.invalid_parameter(
                "The queue should either have ContentBasedDeduplication enabled or "
                "MessageDeduplicationId provided explicitly"
            )
        dedup = req["MessageDeduplicationId"] = hashlib.sha256(req["MessageBody"].encode("utf-8")).hexdigest()
    if queue_attributes.get("DeduplicationScope") == "messageGroup":
        return f"{req['MessageGroupId']}\x00{dedup}"
    return dedup


def prepare(
    req: Mapping[str, Any], queue_attributes: Mapping[str, str], sender: str, sent_ms: int
) -> Outgoing:
    """Check one SendMessage (or batch entry) against the queue and build what the store enqueues."""
    fifo = queue_attributes.get("FifoQueue") == "true"
    entry = dict(req)
    check_body(entry.get("MessageBody"))
    check_attributes(entry.get("MessageAttributes"))
    check_system_attributes(entry.get("MessageSystemAttributes"))
    check_size(
        entry["MessageBody"],
        entry.get("MessageAttributes"),
        int(queue_attributes.get("MaximumMessageSize", str(MAX_BATCH_BYTES))),
    )
    if entry.get("MessageGroupId"):  # standard queues keep it too (fair queues)
        check_token("MessageGroupId", entry["MessageGroupId"])
    delay, dedup_key = _delay(entry, queue_attributes, fifo), _dedup_key(entry, queue_attributes, fifo)
    return Outgoing(new_message(entry, sender, sent_ms), delay, dedup_key)


def redrive_target(queue_attributes: Mapping[str, str]) -> tuple[QueueRef, int] | None:
    """The dead-letter queue and maxReceiveCount of a queue's RedrivePolicy (None: no usable policy)."""
    raw = queue_attributes.get("RedrivePolicy")
    if not raw:
        return None
    try:
        policy = json.loads(raw)
        arn, count = str(policy["deadLetterTargetArn"]), int(policy["maxReceiveCount"])
    except (ValueError, TypeError, KeyError):
        return None
    parts = arn.split(":")
    if len(parts) != 6 or parts[2] != "sqs" or count < 1:
        return None
    return QueueRef(parts[4], parts[3], parts[5]), count


# -- receipt handles ---------------------------------------------------------------------------
# They carry the queue, the message and the nonce of this one receive, so a handle from another
# queue, or a forged one, is recognised as invalid without a lookup.


def encode_receipt(ref: QueueRef, message_id: str, nonce: str) -> str:
    raw = f"{ref.account}:{ref.region}:{ref.name}:{message_id}:{nonce}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_receipt(handle: str) -> tuple[QueueRef, str, str] | None:
    try:
        raw = base64.urlsafe_b64decode(handle + "=" * (-len(handle) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    parts = raw.split(":")
    if len(parts) != 5 or not all(parts):
        return None
    account, region, name, message_id, nonce = parts
    return QueueRef(account, region, name), message_id, nonce


def receipt_of(ref: QueueRef, handle: str) -> tuple[str, str]:
    """(message id, nonce) of a receipt handle issued by ``ref`` (raises ReceiptHandleIsInvalid)."""
    decoded = decode_receipt(handle or "")
    if decoded is None or decoded[0] != ref:
        raise errors.receipt_handle_invalid(handle)
    return decoded[1], decoded[2]


# -- results and errors shared by the single and batch operations -----------------------------


def sent_result(outgoing: Outgoing, message_id: str, sequence: str | None) -> dict[str, Any]:
    """What SendMessage (and each successful SendMessageBatch entry) answers."""
    doc = outgoing.doc
    out = {
        "MessageId": message_id,
        "MD5OfMessageBody": doc["md5"],
        "MD5OfMessageAttributes": doc["md5_attrs"],
        "MD5OfMessageSystemAttributes": doc["md5_sys"],
        "SequenceNumber": sequence,
    }
    return {k: v for k, v in out.items() if v is not None}


def receipt_expired(handle: str) -> AwsError:
    return errors.invalid_parameter(
        f"Value {handle} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired."
    )


def not_changeable(handle: str) -> AwsError:
    return errors.invalid_parameter(
        f"Value {handle} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not "
        "available for visibility timeout change."
    )


def not_in_flight() -> AwsError:
    return AwsError("MessageNotInflight", "The message referred to isn't in flight.")


def check_visibility(value: Any) -> int:
    if not 0 <= value <= 43_200:
        raise errors.out_of_range("VisibilityTimeout", value, "Must be between 0 and 43200, if provided.")
    return value


# -- batches -----------------------------------------------------------------------------------


def check_batch(entries: Sequence[Mapping[str, Any]] | None, entry_shape: str) -> None:
    """The whole-request rules of every *Batch operation: 1-10 entries with distinct, valid ids."""
    if not entries:
        raise AwsError("EmptyBatchRequest", f"There should be at least one {entry_shape} in the request.")
    if len(entries) > MAX_BATCH_ENTRIES:
        raise AwsError(
            "TooManyEntriesInBatchRequest",
            f"Maximum number of entries per request are {MAX_BATCH_ENTRIES}. You have sent {len(entries)}.",
        )
    seen: set[str] = set()
    for entry in entries:
        entry_id = entry.get("Id") or ""
        if not _BATCH_ENTRY_ID.fullmatch(entry_id):
            raise AwsError(
                "InvalidBatchEntryId",
                "A batch entry id can only contain alphanumeric characters, hyphens and underscores. "
                "It can be at most 80 letters long.",
            )
        if entry_id in seen:
            raise AwsError("BatchEntryIdsNotDistinct", f"Id {entry_id} repeated.")
        seen.add(entry_id)


def check_batch_size(entries: Sequence[Mapping[str, Any]]) -> None:
    total = sum(size_of(e.get("MessageBody") or "", e.get("MessageAttributes")) for e in entries)
    if total > MAX_BATCH_BYTES:
        raise AwsError(
            "BatchRequestTooLong",
            f"Batch requests cannot be longer than {MAX_BATCH_BYTES} bytes. You have sent {total} bytes.",
        )


def failed_entry(entry_id: str, error: AwsError) -> dict[str, Any]:
    """A ``BatchResultErrorEntry``: the error's code as SQS writes it in a batch (its legacy form)."""
    code = legacy_error_codes("sqs").get(error.code, (error.code, 400))[0]
    return {
        "Id": entry_id,
        "SenderFault": error.sender_fault is not False,
        "Code": code,
        "Message": error.message,
    }


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
        "DeadLetterQueueSourceArn": doc.get("dlq_src"),
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
