"""AddPermission / RemovePermission: statements of the queue's Policy, a real IAM policy document.

AddPermission adds one statement per label (``Sid`` = label) allowing the given accounts
the given SQS actions on this queue, exactly what SQS writes; RemovePermission drops it,
and the Policy attribute goes away with its last statement.
"""

from __future__ import annotations

import json
import re
from typing import Any

from shared.aws.errors import AwsError
from shared.context import RequestContext
from shared.handlers import Handlers

from .. import errors
from ..admin import admin_of
from ..attributes import utf8_text
from .common import queue_at, queue_errors, store

handles = Handlers("sqs")

_LABEL = re.compile(r"[A-Za-z0-9_-]{1,80}")
_ACCOUNT = re.compile(r"\d{12}")
MAX_ACTIONS = 7
SHARED_ACTIONS = frozenset(
    {
        "*",
        "SendMessage",
        "ReceiveMessage",
        "DeleteMessage",
        "ChangeMessageVisibility",
        "GetQueueAttributes",
        "GetQueueUrl",
        "ListDeadLetterSourceQueues",
        "PurgeQueue",
        "ListQueueTags",
    }
)
OWNER_ACTIONS = frozenset(
    {"AddPermission", "CreateQueue", "DeleteQueue", "RemovePermission", "SetQueueAttributes", "TagQueue"}
)


def _check_actions(actions: list[str]) -> None:
    if not actions:
        raise errors.missing_parameter("Actions")
    if len(actions) > MAX_ACTIONS:
        raise AwsError("OverLimit", f"{len(actions)} Actions were found, maximum allowed is {MAX_ACTIONS}.")
    for action in actions:
        if action in SHARED_ACTIONS:
            continue
        action = action if utf8_text(action) else repr(action)
        reason = (
            "Only the queue owner is allowed to invoke this action."
            if action in OWNER_ACTIONS
            else "Please refer to the appropriate WSDL for a list of valid actions."
        )
        raise errors.invalid_parameter(
            f"Value SQS:{action} for parameter ActionName is invalid. Reason: {reason}"
        )


def _check_accounts(accounts: list[str]) -> None:
    if not accounts:
        raise errors.missing_parameter("AWSAccountIds")
    for account in accounts:
        if not isinstance(account, str) or not _ACCOUNT.fullmatch(account):
            account = account if utf8_text(account) else repr(account)
            raise errors.invalid_parameter(
                f"Value {account} for parameter PrincipalId is invalid. Reason: Unable to verify."
            )


def _one_or_many(values: list[str]) -> str | list[str]:
    """IAM writes a single principal or action as a string, several as a list."""
    return values[0] if len(values) == 1 else values


def _statements(policy: str) -> list[dict[str, Any]]:
    if not policy:
        return []
    try:
        statements = json.loads(policy).get("Statement", [])
    except (ValueError, AttributeError):
        return []
    return [s for s in (statements if isinstance(statements, list) else [statements]) if isinstance(s, dict)]


def _document(queue_arn: str, statements: list[dict[str, Any]]) -> str:
    if not statements:
        return ""
    doc = {"Version": "2012-10-17", "Id": f"{queue_arn}/SQSDefaultPolicy", "Statement": statements}
    return json.dumps(doc, separators=(",", ":"))


def _label_invalid(label: str, reason: str) -> AwsError:
    return errors.invalid_parameter(f"Value {label} for parameter Label is invalid. Reason: {reason}")


@handles("AddPermission")
@queue_errors
async def add_permission(ctx: RequestContext, req: dict[str, Any]) -> None:
    queue = await queue_at(ctx, req["QueueUrl"])
    label = req["Label"]
    if not _LABEL.fullmatch(label):
        raise errors.invalid_parameter("Value for parameter Label is invalid.")
    accounts, actions = list(req.get("AWSAccountIds") or []), list(req.get("Actions") or [])
    _check_accounts(accounts)
    _check_actions(actions)
    queue_arn = queue.ref.arn(ctx)
    statement = {
        "Sid": label,
        "Effect": "Allow",
        "Principal": {"AWS": _one_or_many([f"arn:{ctx.partition}:iam::{a}:root" for a in accounts])},
        "Action": _one_or_many([f"SQS:{a}" for a in actions]),
        "Resource": queue_arn,
    }

    def add(policy: str) -> str:
        statements = _statements(policy)
        if any(s.get("Sid") == label for s in statements):
            raise _label_invalid(label, "Already exists.")
        return _document(queue_arn, [*statements, statement])

    await admin_of(store(ctx)).modify_attribute(queue.ref, "Policy", add)


@handles("RemovePermission")
@queue_errors
async def remove_permission(ctx: RequestContext, req: dict[str, Any]) -> None:
    queue = await queue_at(ctx, req["QueueUrl"])
    label = req["Label"]
    queue_arn = queue.ref.arn(ctx)

    def remove(policy: str) -> str:
        statements = _statements(policy)
        kept = [s for s in statements if s.get("Sid") != label]
        if len(kept) == len(statements):
            raise _label_invalid(label, "can't find label on existing policy.")
        return _document(queue_arn, kept)

    await admin_of(store(ctx)).modify_attribute(queue.ref, "Policy", remove)
