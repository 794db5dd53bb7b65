"""A json model spoken in the legacy query protocol (SQS).

SQS moved from ``query`` to ``json`` in 2023. botocore's model is json-only and lost what the
query protocol needs: XML element names (``<Attribute><Name/><Value/></Attribute>``, flattened
``<QueueUrl>`` lists ...), the ``<Op>Result`` wrappers, the XML namespace and the legacy error
codes (``AWS.SimpleQueueService.NonExistentQueue``). Older SDKs and hand-written form posts
still speak query, so we rebuild a query model in-process from botocore's json model: the
names and codes below are the ``xmlName`` / ``xmlFlattened`` / ``awsQueryError`` traits of
AWS's Smithy model of SQS (2012-11-05), which botocore's json model drops.

``query_compatible_model(model)`` is what ``create_serializer(model, "query")`` uses; the
request parser and the conformance tests can use it too.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import botocore.session
from botocore.model import ServiceModel

# Per service: the query XML namespace and the legacy error table (shape -> (code, status)).
_QUERY_NAMESPACES = {"sqs": "http://queue.amazonaws.com/doc/2012-11-05/"}

_QUERY_ERRORS: dict[str, dict[str, tuple[str, int]]] = {
    "sqs": {
        "BatchEntryIdsNotDistinct": ("AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400),
        "BatchRequestTooLong": ("AWS.SimpleQueueService.BatchRequestTooLong", 400),
        "EmptyBatchRequest": ("AWS.SimpleQueueService.EmptyBatchRequest", 400),
        "InvalidAddress": ("InvalidAddress", 404),
        "InvalidAttributeName": ("InvalidAttributeName", 400),
        "InvalidAttributeValue": ("InvalidAttributeValue", 400),
        "InvalidBatchEntryId": ("AWS.SimpleQueueService.InvalidBatchEntryId", 400),
        "InvalidIdFormat": ("InvalidIdFormat", 400),
        "InvalidMessageContents": ("InvalidMessageContents", 400),
        "InvalidSecurity": ("InvalidSecurity", 403),
        "KmsAccessDenied": ("KMS.AccessDeniedException", 400),
        "KmsDisabled": ("KMS.DisabledException", 400),
        "KmsInvalidKeyUsage": ("KMS.InvalidKeyUsageException", 400),
        "KmsInvalidState": ("KMS.InvalidStateException", 400),
        "KmsNotFound": ("KMS.NotFoundException", 400),
        "KmsOptInRequired": ("KMS.OptInRequired", 403),
        "KmsThrottled": ("KMS.ThrottlingException", 400),
        "MessageNotInflight": ("AWS.SimpleQueueService.MessageNotInflight", 400),
        "OverLimit": ("OverLimit", 403),
        "PurgeQueueInProgress": ("AWS.SimpleQueueService.PurgeQueueInProgress", 403),
        "QueueDeletedRecently": ("AWS.SimpleQueueService.QueueDeletedRecently", 400),
        "QueueDoesNotExist": ("AWS.SimpleQueueService.NonExistentQueue", 400),
        "QueueNameExists": ("QueueAlreadyExists", 400),
        "ReceiptHandleIsInvalid": ("ReceiptHandleIsInvalid", 404),
        "RequestThrottled": ("RequestThrottled", 403),
        "ResourceNotFoundException": ("ResourceNotFoundException", 404),
        "TooManyEntriesInBatchRequest": ("AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400),
        "UnsupportedOperation": ("AWS.SimpleQueueService.UnsupportedOperation", 400),
    }
}

# Element names the naming rule below does not produce (request-side lists).
_NAME_OVERRIDES: dict[str, dict[tuple[str, str], str]] = {
    "sqs": {
        ("AddPermissionRequest", "Actions"): "ActionName",
        ("ReceiveMessageRequest", "MessageSystemAttributeNames"): "AttributeName",
    }
}

# Map shapes whose entries are <Key>/<Value> rather than <Name>/<Value>.
_KEY_VALUE_MAPS = {"TagMap"}


def legacy_error_codes(service_name: str) -> dict[str, tuple[str, int]]:
    """Error shape name -> (legacy query code, HTTP status) for a query-compatible service."""
    return _QUERY_ERRORS.get(service_name, {})


@cache
def query_compatible_model(model: ServiceModel) -> ServiceModel:
    """``model`` (a json model with ``awsQueryCompatible``) rebuilt for the query protocol."""
    name = model.service_name
    data = copy.deepcopy(botocore.session.get_session().get_service_data(name))
    meta = data["metadata"]
    meta["protocol"] = "query"
    meta["protocols"] = ["query"]
    meta["xmlNamespace"] = _QUERY_NAMESPACES.get(
        name, f"https://{meta['endpointPrefix']}.amazonaws.com/doc/{meta['apiVersion']}/"
    )
    for op_name, op in data["operations"].items():
        if "output" in op:
            op["output"]["resultWrapper"] = f"{op_name}Result"
    shapes: dict[str, Any] = data["shapes"]
    for shape_name, (code, status) in _QUERY_ERRORS.get(name, {}).items():
        if shape_name in shapes:
            shapes[shape_name]["error"] = {"code": code, "httpStatusCode": status, "senderFault": True}
    overrides = _NAME_OVERRIDES.get(name, {})
    for shape_name, shape in shapes.items():
        if shape["type"] == "map":
            key = "Key" if shape_name in _KEY_VALUE_MAPS else "Name"
            shape["key"]["locationName"] = key
            shape["value"]["locationName"] = "Value"
        elif shape["type"] == "structure":
            for member_name, ref in shape["members"].items():
                target = shapes[ref["shape"]]
                if target["type"] in ("list", "map") and "locationName" not in ref:
                    ref["flattened"] = True
                    ref["locationName"] = overrides.get((shape_name, member_name)) or _element_name(
                        member_name, target, shapes
                    )
    return ServiceModel(data, service_name=name)


def _element_name(member_name: str, target: dict[str, Any], shapes: dict[str, Any]) -> str:
    """The flattened element name of a list or map member, as SQS's XML had it.

    A list of structures repeats the structure's name (``<SendMessageBatchResultEntry>``);
    anything else repeats the member name in the singular (``QueueUrls`` -> ``<QueueUrl>``).
    """
    if target["type"] == "list":
        item = shapes[target["member"]["shape"]]
        if item["type"] == "structure":
            return target["member"]["shape"]
    singular = member_name[:-1] if member_name.endswith("s") else member_name
    return singular[:1].upper() + singular[1:]
