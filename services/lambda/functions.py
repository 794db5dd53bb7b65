"""Lambda functions without I/O: names and ARNs, input checks, and the function's configuration.

A function is named by its name, a partial ARN (``123456789012:function:name``) or a full ARN
(``arn:aws:lambda:us-east-1:123456789012:function:name``), each optionally with ``:qualifier``;
``parse_ref`` reads all three.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.aws.models import service_model
from shared.context import RequestContext

from . import constraints, errors

LATEST = "$LATEST"

_REF = re.compile(
    r"(?:arn:(?P<partition>aws[a-zA-Z-]*)?:lambda:)?"
    r"(?:(?P<region>(?:eusc-)?[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d):)?"
    r"(?:(?P<account>\d{12}):)?"
    r"(?:function:)?"
    r"(?P<name>[a-zA-Z0-9_-]+)"
    r"(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9_-]+))?"
)

# Runtimes Lambda no longer accepts for new functions, and what it suggests instead.
DEPRECATED_RUNTIMES = {
    **dict.fromkeys(
        ["nodejs", "nodejs4.3", "nodejs4.3-edge", "nodejs6.10", "nodejs8.10", "nodejs10.x", "nodejs12.x"],
        "nodejs22.x",
    ),
    **dict.fromkeys(["python2.7", "python3.6", "python3.7"], "python3.13"),
    **dict.fromkeys(["dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1", "dotnetcore3.1"], "dotnet8"),
    **dict.fromkeys(["ruby2.5", "ruby2.7"], "ruby3.3"),
}


@dataclass(frozen=True)
class FunctionRef:
    name: str
    qualifier: str | None = None
    region: str | None = None
    account: str | None = None


def parse_ref(value: str) -> FunctionRef | None:
    """Read a name, partial ARN or full ARN; None when it is none of these."""
    m = _REF.fullmatch(value)
    if m is None:
        return None
    return FunctionRef(m["name"], m["qualifier"], m["region"], m["account"])


def function_arn(ctx: RequestContext, name: str, qualifier: str | None = None) -> str:
    suffix = f":{qualifier}" if qualifier else ""
    return ctx.arn("lambda", f"function:{name}{suffix}")


def resolve(ctx: RequestContext, value: str) -> FunctionRef:
    """The function ``value`` names, in this request's account and region.

    A full ARN of another region is refused as Lambda refuses it; one of another account is
    simply not found here.
    """
    ref = parse_ref(value)
    if ref is None:  # the model's pattern check normally catches this first
        raise errors.constraints([_pattern_violation(value)])
    if ref.region and ref.region != ctx.region:
        raise errors.invalid_parameter(
            f"Functions from '{ref.region}' are not reachable in this region ('{ctx.region}')"
        )
    if ref.account and ref.account != ctx.account_id:
        raise errors.function_not_found(ctx.arn("lambda", f"function:{ref.name}", account=ref.account))
    return ref


def _pattern_violation(value: str) -> str:
    pattern = service_model("lambda").shape_for("FunctionName").metadata["pattern"]
    return (
        f"Value '{value}' at 'functionName' failed to satisfy constraint: "
        f"Member must satisfy regular expression pattern: {pattern}"
    )


def lambda_timestamp(when: datetime) -> str:
    """Lambda's LastModified: ``2024-01-01T00:00:00.000+0000`` (a string in the model)."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}+0000"


def code_sha256(zip_bytes: bytes) -> str:
    """CodeSha256 as Lambda reports it: the base64 of the SHA-256 digest."""
    return base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode()


def check_zip(zip_bytes: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
            archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise errors.invalid_parameter(
            "Could not unzip uploaded file. Please check your file, then try to upload again."
        ) from None


def check_runtime(runtime: str | None, handler: str | None) -> None:
    if not runtime or not handler:
        raise errors.invalid_parameter(
            "Runtime and Handler are mandatory parameters for functions created with deployment packages."
        )
    enum = service_model("lambda").shape_for("Runtime").enum
    if runtime not in enum:
        supported = ", ".join(r for r in enum if r not in DEPRECATED_RUNTIMES)
        raise errors.invalid_parameter(
            f"Value {runtime} at 'runtime' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{supported}] or be a valid ARN"
        )
    if runtime in DEPRECATED_RUNTIMES:
        raise errors.invalid_parameter(
            f"The runtime parameter of {runtime} is no longer supported for creating or updating AWS Lambda "
            f"functions. We recommend you use the new runtime ({DEPRECATED_RUNTIMES[runtime]}) while "
            "creating or updating functions."
        )


def check_create(req: dict[str, Any]) -> bytes:
    """Everything CreateFunction refuses, in Lambda's order; returns the zip bytes."""
    shape = service_model("lambda").operation_model("CreateFunction").input_shape
    problems = constraints.violations(shape, req)
    if problems:
        raise errors.constraints(problems)
    if req.get("PackageType", "Zip") != "Zip":
        raise errors.unsupported("PackageType Image")
    code = req.get("Code") or {}
    if "ZipFile" not in code:
        raise errors.unsupported("function code from S3 or an image (give Code.ZipFile)")
    check_runtime(req.get("Runtime"), req.get("Handler"))
    zip_bytes = code["ZipFile"]
    check_zip(zip_bytes)
    return zip_bytes


def new_configuration(
    ctx: RequestContext, name: str, req: dict[str, Any], zip_bytes: bytes, now: datetime
) -> dict[str, Any]:
    """The FunctionConfiguration of a new function, with Lambda's defaults filled in."""
    config: dict[str, Any] = {
        "FunctionName": name,
        "FunctionArn": function_arn(ctx, name),
        "Runtime": req["Runtime"],
        "Role": req["Role"],
        "Handler": req["Handler"],
        "CodeSize": len(zip_bytes),
        "Description": req.get("Description", ""),
        "Timeout": req.get("Timeout", 3),
        "MemorySize": req.get("MemorySize", 128),
        "LastModified": lambda_timestamp(now),
        "CodeSha256": code_sha256(zip_bytes),
        "Version": LATEST,
        "TracingConfig": {"Mode": (req.get("TracingConfig") or {}).get("Mode", "PassThrough")},
        "RevisionId": str(uuid.uuid4()),
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
        "Architectures": req.get("Architectures") or ["x86_64"],
        "EphemeralStorage": req.get("EphemeralStorage") or {"Size": 512},
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"},
    }
    for optional in ("KMSKeyArn", "DeadLetterConfig"):
        if req.get(optional):
            config[optional] = req[optional]
    if req.get("Environment") is not None:
        config["Environment"] = {"Variables": req["Environment"].get("Variables") or {}}
    return config
