"""Account-wide and per-function settings: GetAccountSettings, recursion and runtime management configs.

Account settings are per account and region, as Lambda's are. The recursion and runtime
management configs are stored and answered; Flotilla neither detects recursive loops nor
manages runtime versions (``RuntimeVersionArn`` is kept as given).
"""

from __future__ import annotations

from typing import Any

from shared.context import RequestContext
from shared.handlers import Handlers

from .. import errors
from ..function_configs import RECURSION, RUNTIME_MANAGEMENT, key
from .concurrency import account_limit, unreserved
from .config_support import check, function_docs, records, target, unqualified

handles = Handlers("lambda")

TOTAL_CODE_SIZE = 80530636800  # 75 GiB of code per region
CODE_SIZE_UNZIPPED = 262144000  # 250 MiB
CODE_SIZE_ZIPPED = 52428800  # 50 MiB


@handles("GetAccountSettings")
async def get_account_settings(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    docs = list(function_docs(ctx))
    return {
        "AccountLimit": {
            "TotalCodeSize": TOTAL_CODE_SIZE,
            "CodeSizeUnzipped": CODE_SIZE_UNZIPPED,
            "CodeSizeZipped": CODE_SIZE_ZIPPED,
            "ConcurrentExecutions": account_limit(ctx),
            "UnreservedConcurrentExecutions": unreserved(ctx),
        },
        "AccountUsage": {
            "TotalCodeSize": sum(doc["Configuration"].get("CodeSize", 0) for doc in docs),
            "FunctionCount": len(docs),
        },
    }


@handles("PutFunctionRecursionConfig")
async def put_function_recursion_config(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check("PutFunctionRecursionConfig", req)
    fn = unqualified(ctx, req["FunctionName"])
    records(ctx).put(ctx.account_id, ctx.region, RECURSION, fn.name, {"RecursiveLoop": req["RecursiveLoop"]})
    return {"RecursiveLoop": req["RecursiveLoop"]}


@handles("GetFunctionRecursionConfig")
async def get_function_recursion_config(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check("GetFunctionRecursionConfig", req)
    fn = unqualified(ctx, req["FunctionName"])
    doc = records(ctx).get(ctx.account_id, ctx.region, RECURSION, fn.name)
    return {"RecursiveLoop": doc["RecursiveLoop"] if doc else "Terminate"}


@handles("PutRuntimeManagementConfig")
async def put_runtime_management_config(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check("PutRuntimeManagementConfig", req)
    fn = target(ctx, req["FunctionName"], req.get("Qualifier"))
    mode, version = req["UpdateRuntimeOn"], req.get("RuntimeVersionArn")
    if mode == "Manual" and not version:
        raise errors.invalid_parameter("RuntimeVersionArn must be specified when UpdateRuntimeOn is Manual.")
    doc = {"UpdateRuntimeOn": mode, **({"RuntimeVersionArn": version} if version else {})}
    records(ctx).put(ctx.account_id, ctx.region, RUNTIME_MANAGEMENT, key(fn.name, fn.qualifier), doc)
    return {"FunctionArn": fn.arn(ctx), **doc}


@handles("GetRuntimeManagementConfig")
async def get_runtime_management_config(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    check("GetRuntimeManagementConfig", req)
    fn = target(ctx, req["FunctionName"], req.get("Qualifier"))
    doc = records(ctx).get(ctx.account_id, ctx.region, RUNTIME_MANAGEMENT, key(fn.name, fn.qualifier))
    return {"FunctionArn": fn.arn(ctx), **(doc or {"UpdateRuntimeOn": "Auto"})}
