"""The MD5 digests SQS returns, computed exactly as the SDKs recompute them to verify a send.

``MD5OfMessageBody`` is the hex MD5 of the UTF-8 body. ``MD5OfMessageAttributes`` (and
``MD5OfMessageSystemAttributes``) digest the attributes in order of name, each as

    len(name) name len(DataType) DataType transport value-length value

with 4-byte big-endian lengths and a one-byte transport type: 1 for ``StringValue``
(String, Number and their custom labels), 2 for ``BinaryValue``. The Java and .NET SDKs and
the SQS extended clients recompute this and raise on a mismatch, so one wrong byte here
breaks every client that checks.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping
from typing import Any

STRING_TRANSPORT = 1
BINARY_TRANSPORT = 2


def md5_hex(data: str | bytes) -> str:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return hashlib.md5(raw, usedforsecurity=False).hexdigest()


def _length_prefixed(value: bytes) -> bytes:
    return struct.pack(">I", len(value)) + value


def _attribute_bytes(name: str, value: Mapping[str, Any]) -> bytes:
    data_type = value["DataType"]
    head = _length_prefixed(name.encode("utf-8")) + _length_prefixed(data_type.encode("utf-8"))
    if data_type.startswith("Binary"):
        return head + bytes([BINARY_TRANSPORT]) + _length_prefixed(bytes(value["BinaryValue"]))
    return head + bytes([STRING_TRANSPORT]) + _length_prefixed(value["StringValue"].encode("utf-8"))


def md5_of_attributes(attributes: Mapping[str, Mapping[str, Any]] | None) -> str | None:
    """The digest of message (or message system) attributes; None when there are none."""
    if not attributes:
        return None
    digest = hashlib.md5(usedforsecurity=False)
    for name in sorted(attributes):
        digest.update(_attribute_bytes(name, attributes[name]))
    return digest.hexdigest()
