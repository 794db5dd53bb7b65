"""Resource-based policy: AddPermission, RemovePermission, GetPolicy.

One policy per function, version or alias (record kind ``policy``, id ``<name>:<qualifier or
$LATEST>``). The policy's RevisionId is the RevisionId of what it is attached to: adding or
removing a statement gives the function (``$LATEST``), version or alias a new RevisionId, as
Lambda does.
"""

from __future__ import annotations

import uuid
from typing import Any

from shared.aws.errors import AwsError
from shared.context import RequestContext
from shared.handlers import Handlers

from .. import errors, policy
from ..function_configs import POLICY, key
from ..functions import LATEST, is_version
from .common import alias_record, save_function, store
from .config_support import Target, check, records, split, target

handles = Handlers("lambda")


@handles("AddPermission")
async def add_permission(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check("AddPermission", req)
    name, qualifier = split(ctx, req["FunctionName"], req.get("Qualifier"))
    if qualifier == LATEST:
        raise errors.invalid_parameter("We currently do not support adding policies for $LATEST.")
    fn = target(ctx, name, qualifier)
    current = _load(ctx, fn)
    _check_revision(req.get("RevisionId"), _revision(ctx, fn))
    statements = current["Statement"] if current else []
    if policy.find(statements, req["StatementId"]) is not None:
        raise errors.resource_conflict(
            f"The statement id ({req['StatementId']}) provided already exists. Please provide a new "
            "statement id, or remove the existing statement."
        )
    try:
        added = policy.statement(fn.arn(ctx), req, ctx.partition)
    except policy.InvalidPrincipal:
        raise errors.invalid_parameter(
            "The provided principal was invalid. Please check the principal and try again."
        ) from None
    size = policy.too_long([*statements, added])
    if size is not None:
        raise AwsError(
            "PolicyLengthExceededException",
            f"The final policy size ({size}) is bigger than the limit ({policy.MAX_POLICY_BYTES}).",
            400,
            fields=errors.USER,
        )
    _save(ctx, fn, [*statements, added])
    return {"Statement": policy.to_json(added)}


@handles("RemovePermission")
async def remove_permission(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check("RemovePermission", req)
    fn = target(ctx, req["FunctionName"], req.get("Qualifier"))
    current = _load(ctx, fn)
    if not current:
        raise errors.resource_not_found("No policy is associated with the given resource.")
    sid = req["StatementId"]
    if policy.find(current["Statement"], sid) is None:
        raise errors.resource_not_found(f"Statement {sid} is not found in resource policy.")
    _check_revision(req.get("RevisionId"), _revision(ctx, fn))
    _save(ctx, fn, [s for s in current["Statement"] if s.get("Sid") != sid])
    return {}


@handles("GetPolicy")
async def get_policy(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check("GetPolicy", req)
    fn = target(ctx, req["FunctionName"], req.get("Qualifier"))
    current = _load(ctx, fn)
    if not current:
        raise errors.resource_not_found()
    return {
        "Policy": policy.to_json(policy.document(current["Statement"])),
        "RevisionId": _revision(ctx, fn),
    }


def _load(ctx: RequestContext, fn: Target) -> dict[str, Any] | None:
    doc = records(ctx).get(ctx.account_id, ctx.region, POLICY, key(fn.name, fn.qualifier))
    return doc if doc and doc["Statement"] else None


def _revision(ctx: RequestContext, fn: Target) -> str | None:
    """The RevisionId of what the policy is attached to: the policy answers it and RevisionId
    parameters are checked against it."""
    if fn.qualifier and not is_version(fn.qualifier):
        alias = alias_record(ctx, fn.name, fn.qualifier)
        return alias.get("RevisionId") if alias else None
    return fn.doc["Configuration"].get("RevisionId")


def _bump(ctx: RequestContext, fn: Target, revision: str) -> None:
    """Give the function, version or alias a new RevisionId, as a policy change does in Lambda."""
    lambda_store, account, region = store(ctx), ctx.account_id, ctx.region
    if fn.qualifier is None:
        fn.doc["Configuration"]["RevisionId"] = revision
        save_function(ctx, fn.doc)
    elif is_version(fn.qualifier):
        version = lambda_store.get_version(account, region, fn.name, fn.qualifier)
        if version is not None:
            version["Configuration"]["RevisionId"] = revision
            lambda_store.put_version(account, region, fn.name, fn.qualifier, version)
    else:
        alias = alias_record(ctx, fn.name, fn.qualifier)
        if alias is not None:
            lambda_store.put_alias(account, region, fn.name, {**alias, "RevisionId": revision})


def _check_revision(given: str | None, current: str | None) -> None:
    if given and given != current:
        raise errors.precondition_failed()


def _save(ctx: RequestContext, fn: Target, statements: list[dict[str, Any]]) -> None:
    revision = str(uuid.uuid4())
    id_ = key(fn.name, fn.qualifier)
    if statements:
        doc = {"Statement": statements, "RevisionId": revision}
        records(ctx).put(ctx.account_id, ctx.region, POLICY, id_, doc)
    else:
        records(ctx).delete(ctx.account_id, ctx.region, POLICY, id_)
    _bump(ctx, fn, revision)
