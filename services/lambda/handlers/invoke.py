"""Invoke: run the function's code (RequestResponse), queue it (Event, InvokeAsync), or only check (DryRun).

``invoke_function`` and ``run`` are the synchronous path for the rest of the service (pollers,
function URLs, async events); they apply the same concurrency limits as Invoke.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import AsyncIterator
from typing import Any

from shared.context import RequestContext
from shared.handlers import Handlers

from .. import async_events, errors
from ..executors import UnsupportedRuntime
from ..functions import function_arn, resolve
from ..invoke import UNHANDLED, Invoker, Outcome, Target, Throttled, tail
from .common import invocation_record, layer_paths, store

handles = Handlers("lambda")

SYNC_LIMIT = 6 * 1024 * 1024  # 6291456 bytes
ASYNC_LIMIT = 256 * 1024
RESPONSE_LIMIT = 6291556  # what Lambda allows a function to return (a little over 6 MB)


@handles("Invoke")
async def invoke(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    doc, version = invocation_record(ctx, req["FunctionName"], req.get("Qualifier"))
    kind = req.get("InvocationType") or "RequestResponse"
    payload = await read_payload(req.get("Payload"), event=kind == "Event")
    client_context = decode_client_context(req.get("ClientContext"))
    if kind == "DryRun":
        return {"StatusCode": 204}
    target = target_for(ctx, doc)
    check_runtime(ctx, target)
    if kind == "Event":
        await enqueue(ctx, req["FunctionName"], req.get("Qualifier"), payload)
        return {"StatusCode": 202}
    tail_wanted = req.get("LogType") == "Tail"
    outcome = await run(ctx, target, payload, client_context=client_context, wait_for_log=tail_wanted)
    result, function_error = outcome.payload, outcome.function_error
    if len(result) > RESPONSE_LIMIT:
        result, function_error = response_too_large(), UNHANDLED
    out: dict[str, Any] = {"StatusCode": 200, "Payload": result, "ExecutedVersion": version}
    if function_error:
        out["FunctionError"] = function_error
    if tail_wanted:
        out["LogResult"] = base64.b64encode(tail(outcome.log)).decode()
    return out


@handles("InvokeAsync")
async def invoke_async(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    """The deprecated asynchronous invoke: an ``Event`` invoke that answers ``{"Status": 202}``."""
    doc, _version = invocation_record(ctx, req["FunctionName"])
    payload = await read_payload(req.get("InvokeArgs"), event=True)
    check_runtime(ctx, target_for(ctx, doc))
    await enqueue(ctx, req["FunctionName"], None, payload)
    return {"Status": 202}


async def invoke_function(
    ctx: RequestContext, name_or_arn: str, payload: bytes, qualifier: str | None = None
) -> Outcome:
    """Run a function synchronously for another part of the service (event source pollers).

    ``ctx`` may be built by the caller (``RequestContext("lambda", "Invoke", request_id,
    account_id=..., region=..., state=store)``). Raises AwsError as Invoke would
    (ResourceNotFoundException, TooManyRequestsException ...).
    """
    doc, _version = invocation_record(ctx, name_or_arn, qualifier)
    return await run(ctx, target_for(ctx, doc), payload)


async def run(
    ctx: RequestContext,
    target: Target,
    payload: bytes,
    *,
    client_context: str | None = None,
    request_id: str | None = None,
    wait_for_log: bool = False,
) -> Outcome:
    """One synchronous invocation; a concurrency limit reached is ``TooManyRequestsException``.

    ``wait_for_log``: the caller returns the invocation's log (``LogType=Tail``), see ``Invoker.invoke``.
    """
    try:
        return await invoker(ctx).invoke(
            target, payload, client_context=client_context, request_id=request_id, wait_for_log=wait_for_log
        )
    except Throttled as err:
        raise errors.too_many_requests(err.reason) from None


def target_for(ctx: RequestContext, doc: dict[str, Any]) -> Target:
    """What the invoker needs to run the function record ``doc`` (of the version that runs).

    Reserved concurrency belongs to the function, not to a version: it is read from the function's
    own record.
    """
    config = doc["Configuration"]
    name = config["FunctionName"]
    latest = store(ctx).get(ctx.account_id, ctx.region, name) or doc
    reserved = (latest.get("Concurrency") or {}).get("ReservedConcurrentExecutions")
    return Target(
        ctx.account_id,
        ctx.region,
        config,
        store(ctx).code_path(ctx.account_id, ctx.region, name, doc["CodeHex"]),
        layers=layer_paths(ctx, doc),
        reserved=None if reserved is None else int(reserved),
        image=doc.get("ImageUri") if config.get("PackageType") == "Image" else None,
    )


def check_runtime(ctx: RequestContext, target: Target) -> None:
    try:
        invoker(ctx).executor.check(target.runtime)
    except UnsupportedRuntime as err:
        raise errors.unsupported(str(err)) from None


async def enqueue(ctx: RequestContext, name_or_arn: str, qualifier: str | None, payload: bytes) -> None:
    """Queue an ``Event`` invocation on the bus; its request id is this API call's, as in Lambda."""
    ref = resolve(ctx, name_or_arn)
    arn = function_arn(ctx, ref.name, qualifier or ref.qualifier)
    await async_events.enqueue(store(ctx), arn, payload, ctx.request_id)


def invoker(ctx: RequestContext) -> Invoker:
    runner = store(ctx).invoker
    if runner is None:
        raise errors.unsupported("invoking functions in this process")
    return runner


async def read_payload(body: bytes | AsyncIterator[bytes] | None, *, event: bool = False) -> bytes:
    """The request's payload (``{}`` when empty), read no further than Lambda's 6 MB request limit.

    Lambda refuses payloads over its limits (413 ``RequestEntityTooLargeException``: over 6 MB for any
    invocation type, over 256 KB for ``Event``, naming the size) and payloads that are not JSON (400).
    The model's blob payload arrives as a stream, so a 100 MB body is refused after 6 MB, not buffered.
    """
    if body is None or isinstance(body, bytes):
        payload = body or b""
    else:
        parts: list[bytes] = []
        size = 0
        async for chunk in body:
            size += len(chunk)
            if size > SYNC_LIMIT:
                raise errors.request_too_large(SYNC_LIMIT)
            parts.append(chunk)
        payload = b"".join(parts)
    if len(payload) > SYNC_LIMIT:
        raise errors.request_too_large(SYNC_LIMIT)
    if event and len(payload) > ASYNC_LIMIT:
        raise errors.event_payload_too_large(len(payload), ASYNC_LIMIT)
    if not payload.strip():
        return b"{}"
    check_json(payload)
    return payload


def check_json(payload: bytes) -> None:
    try:
        json.loads(payload)
    except (ValueError, UnicodeDecodeError) as err:
        raise errors.invalid_request_content(f"Could not parse request body into json: {err}") from None


def decode_client_context(value: str | None) -> str | None:
    """``X-Amz-Client-Context`` is base64 JSON; the runtime gets the JSON itself."""
    if not value:
        return None
    try:
        text = base64.b64decode(value, validate=True).decode()
        json.loads(text)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise errors.invalid_request_content(
            "Client context must be a valid Base64-encoded JSON object."
        ) from None
    return json.dumps(json.loads(text), separators=(",", ":"))


def response_too_large() -> bytes:
    return json.dumps(
        {
            "errorMessage": f"Response payload size exceeded maximum allowed payload size ({RESPONSE_LIMIT} bytes).",
            "errorType": "Function.ResponseSizeTooLarge",
        }
    ).encode()
