"""Lambda functions without I/O: names and ARNs, input checks, configurations, versions, aliases, paging.

A function is named by its name, a partial ARN (``123456789012:function:name``) or a full ARN
(``arn:aws:lambda:us-east-1:123456789012:function:name``), each optionally with ``:qualifier``;
``parse_ref`` reads all three. A qualifier is ``$LATEST``, a version number or an alias name.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import random
import re
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from shared.aws.models import service_model
from shared.context import RequestContext

from . import constraints, errors

LATEST = "$LATEST"
T = TypeVar("T")

ZIP_UPLOAD_LIMIT = 50 * 1024 * 1024  # a zip sent in the request (ZipFile)
UPLOAD_REQUEST_LIMIT = 69905067  # what Lambda names: that zip once base64-encoded in the JSON body
UNZIPPED_LIMIT = 262144000  # code and layers, unzipped
ENVIRONMENT_LIMIT = 4096  # the variables as JSON, in bytes
MAX_LAYERS = 5

# Variables Lambda sets itself; a function's configuration may not set them.
RESERVED_VARIABLES = frozenset(
    [
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    ]
)

# What ListFunctions/ListVersionsByFunction leave out of each configuration (AWS: "use GetFunction").
TRANSIENT = (
    "State",
    "StateReason",
    "StateReasonCode",
    "LastUpdateStatus",
    "LastUpdateStatusReason",
    "LastUpdateStatusReasonCode",
)
CREATING = "The function is being created."
IMAGE_URI_MISSING = "Please provide ImageUri when {verb} a function with packageType Image."
IMAGE_URI_UNWANTED = "Please don't provide ImageUri when {verb} a function with packageType Zip."

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


@dataclass(frozen=True)
class Code:
    """A function's code as the configuration reports it, and where the service keeps it."""

    sha256: str  # CodeSha256 (base64 of the digest; for images: the hex digest of the URI)
    size: int  # CodeSize (0 for images)
    hex: str  # the zip's file name in the store ("" for images)
    unzipped: int = 0


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


def qualified(ctx: RequestContext, value: str, qualifier: str | None = None) -> tuple[str, str | None]:
    """Name and qualifier from a name or ARN and a separate ``Qualifier`` (they must agree)."""
    ref = resolve(ctx, value)
    if ref.qualifier and qualifier and ref.qualifier != qualifier:
        raise errors.invalid_parameter(
            "The derived qualifier from the function name does not match the specified qualifier."
        )
    return ref.name, ref.qualifier or qualifier


def is_version(qualifier: str | None) -> bool:
    return bool(qualifier) and qualifier.isdigit()


def _pattern_violation(value: str) -> str:
    pattern = service_model("lambda").shape_for("FunctionName").metadata["pattern"]
    return (
        f"Value '{value}' at 'functionName' failed to satisfy constraint: "
        f"Member must satisfy regular expression pattern: {pattern}"
    )


def check_input(operation: str, req: dict[str, Any]) -> None:
    """The model's length/pattern/range constraints on the operation's top-level members."""
    problems = constraints.violations(service_model("lambda").operation_model(operation).input_shape, req)
    if problems:
        raise errors.constraints(problems)


def lambda_timestamp(when: datetime) -> str:
    """Lambda's LastModified: ``2024-01-01T00:00:00.000+0000`` (a string in the model)."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}+0000"


def now() -> str:
    return lambda_timestamp(datetime.now(UTC))


def code_sha256(zip_bytes: bytes) -> str:
    """CodeSha256 as Lambda reports it: the base64 of the SHA-256 digest."""
    return base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode()


# -- code -----------------------------------------------------------------------------------------


def check_zip(zip_bytes: bytes) -> int:
    """Refuse what is not a zip; the size of its content, unzipped."""
    try:
        with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
            return sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise errors.invalid_parameter(
            "Could not unzip uploaded file. Please check your file, then try to upload again."
        ) from None


def zip_code(zip_bytes: bytes, operation: str, *, direct: bool) -> Code:
    """The code of a zip, checked: a zip sent in the request (``direct``) is limited to 50 MB."""
    if direct and len(zip_bytes) > ZIP_UPLOAD_LIMIT:
        raise errors.request_entity_too_large(UPLOAD_REQUEST_LIMIT, operation)
    unzipped = check_zip(zip_bytes)
    return Code(code_sha256(zip_bytes), len(zip_bytes), hashlib.sha256(zip_bytes).hexdigest(), unzipped)


def image_code(image_uri: str) -> Code:
    """An image is not pulled here: its CodeSha256 is the hex SHA-256 of the URI (AWS: the image digest)."""
    return Code(hashlib.sha256(image_uri.encode()).hexdigest(), 0, "")


def check_unzipped(code_unzipped: int, layers_unzipped: int) -> None:
    """Code and layers together must unzip to under 250 MB, worded as Lambda words it."""
    if code_unzipped + layers_unzipped > UNZIPPED_LIMIT:
        raise errors.invalid_parameter(
            f"Unzipped size must be smaller than {UNZIPPED_LIMIT - layers_unzipped} bytes"
        )


def check_runtime(runtime: str | None, handler: str | None) -> None:
    if not runtime or not handler:
        raise errors.invalid_parameter(
            "Runtime and Handler are mandatory parameters for functions created with deployment packages."
        )
    check_runtime_value(runtime)


def check_runtime_value(runtime: str) -> None:
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


def check_environment(environment: dict[str, Any] | None) -> None:
    """No reserved keys; Lambda measures the variables as compact JSON and allows 4 KB."""
    variables = (environment or {}).get("Variables") or {}
    reserved = [key for key in variables if key in RESERVED_VARIABLES]
    if reserved:
        raise errors.invalid_parameter(
            "Lambda was unable to configure your environment variables because the environment variables "
            "you have provided contains reserved keys that are currently not supported for modification. "
            f"Reserved keys used in this request: {', '.join(reserved)}"
        )
    measured = json.dumps(variables, separators=(",", ":"), ensure_ascii=False)
    if len(measured.encode()) > ENVIRONMENT_LIMIT:
        raise errors.invalid_parameter(
            "Lambda was unable to configure your environment variables because the environment variables "
            f"you have provided exceeded the 4KB limit. String measured: {measured}"
        )


def check_layer_list(layers: list[str], package_type: str = "Zip") -> None:
    """At most five layers, each a layer version ARN, and no two versions of one layer."""
    if layers and package_type == "Image":
        raise errors.invalid_parameter("Layers are not supported for functions with package type Image.")
    if len(layers) > MAX_LAYERS:
        raise errors.invalid_parameter(f"Cannot reference more than {MAX_LAYERS} layers.")
    seen: dict[str, str] = {}
    for arn in layers:
        layer = arn.rsplit(":", 1)[0]
        if layer in seen:
            raise errors.invalid_parameter(
                "Two different versions of the same layer are not allowed to be referenced in the same "
                f"function. {seen[layer]} and {arn} are versions of the same layer."
            )
        seen[layer] = arn


def check_create(req: dict[str, Any]) -> bytes | None:
    """Everything CreateFunction refuses before looking at other resources, in Lambda's order.

    Returns the zip sent in the request (None for code in S3 or an image).
    """
    check_input("CreateFunction", req)
    package_type = req.get("PackageType") or "Zip"
    code = req.get("Code") or {}
    if package_type == "Image":
        if not code.get("ImageUri"):
            raise errors.invalid_parameter(IMAGE_URI_MISSING.format(verb="creating"))
    else:
        check_runtime(req.get("Runtime"), req.get("Handler"))
        if code.get("ImageUri"):
            raise errors.invalid_parameter(IMAGE_URI_UNWANTED.format(verb="creating"))
        if "ZipFile" not in code and not (code.get("S3Bucket") and code.get("S3Key")):
            raise errors.invalid_parameter("Please provide a source for function code.")
    check_environment(req.get("Environment"))
    check_layer_list(req.get("Layers") or [], package_type)
    if "ZipFile" in code:
        zip_code(code["ZipFile"], "CreateFunction", direct=True)
        return code["ZipFile"]
    return None


# -- configurations -------------------------------------------------------------------------------


def new_configuration(
    ctx: RequestContext,
    name: str,
    req: dict[str, Any],
    code: Code | bytes,
    now: datetime,
    layers: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The FunctionConfiguration of a new function, with Lambda's defaults filled in (as stored: Active)."""
    if isinstance(code, bytes):
        code = zip_code(code, "CreateFunction", direct=False)
    image = req.get("PackageType") == "Image"
    config: dict[str, Any] = {
        "FunctionName": name,
        "FunctionArn": function_arn(ctx, name),
        "Role": req["Role"],
        "CodeSize": code.size,
        "Description": req.get("Description", ""),
        "Timeout": req.get("Timeout", 3),
        "MemorySize": req.get("MemorySize", 128),
        "LastModified": lambda_timestamp(now),
        "CodeSha256": code.sha256,
        "Version": LATEST,
        "TracingConfig": {"Mode": (req.get("TracingConfig") or {}).get("Mode", "PassThrough")},
        "RevisionId": str(uuid.uuid4()),
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Image" if image else "Zip",
        "Architectures": req.get("Architectures") or ["x86_64"],
        "EphemeralStorage": req.get("EphemeralStorage") or {"Size": 512},
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"},
    }
    if not image:
        config["Runtime"], config["Handler"] = req["Runtime"], req["Handler"]
    if layers:
        config["Layers"] = layers
    return apply_updates(config, {k: v for k, v in req.items() if k in _CREATE_SETTABLE})


def _vpc(value: dict[str, Any]) -> dict[str, Any] | None:
    subnets, groups = value.get("SubnetIds") or [], value.get("SecurityGroupIds") or []
    if not subnets and not groups:
        return None
    return {"SubnetIds": subnets, "SecurityGroupIds": groups, "VpcId": "", "Ipv6AllowedForDualStack": False}


def _logging(value: dict[str, Any], old: dict[str, Any], name: str) -> dict[str, Any]:
    merged = {**old, **value}
    merged.setdefault("LogGroup", f"/aws/lambda/{name}")
    if merged.get("LogFormat") == "JSON":
        merged.setdefault("ApplicationLogLevel", "INFO")
        merged.setdefault("SystemLogLevel", "INFO")
    else:
        merged.pop("ApplicationLogLevel", None)
        merged.pop("SystemLogLevel", None)
    return merged


# How each settable member becomes part of the configuration: None removes it.
_SETTERS: dict[str, Callable[[Any, dict[str, Any]], Any]] = {
    "Role": lambda v, c: v,
    "Handler": lambda v, c: v,
    "Runtime": lambda v, c: v,
    "Description": lambda v, c: v,
    "Timeout": lambda v, c: v,
    "MemorySize": lambda v, c: v,
    "EphemeralStorage": lambda v, c: {"Size": v.get("Size", 512)},
    "KMSKeyArn": lambda v, c: v or None,
    "Environment": lambda v, c: {"Variables": v.get("Variables") or {}},
    "DeadLetterConfig": lambda v, c: {"TargetArn": v["TargetArn"]} if v.get("TargetArn") else None,
    "TracingConfig": lambda v, c: {"Mode": v.get("Mode") or "PassThrough"},
    "VpcConfig": lambda v, c: _vpc(v),
    "FileSystemConfigs": lambda v, c: v or None,
    "ImageConfig": lambda v, c: {"ImageConfig": v} if v else None,
    "SnapStart": lambda v, c: {"ApplyOn": v.get("ApplyOn", "None"), "OptimizationStatus": "Off"},
    "LoggingConfig": lambda v, c: _logging(v, c.get("LoggingConfig") or {}, c["FunctionName"]),
}
_TARGET = {"ImageConfig": "ImageConfigResponse"}
_CREATE_SETTABLE = set(_SETTERS) - {"Role", "Handler", "Runtime", "Description", "Timeout", "MemorySize"}


def apply_updates(config: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``config`` with the members of an UpdateFunctionConfiguration-shaped ``changes`` applied."""
    out = dict(config)
    for member, value in changes.items():
        setter = _SETTERS.get(member)
        if setter is None or value is None:
            continue
        target = _TARGET.get(member, member)
        new = setter(value, out)
        if new is None:
            out.pop(target, None)
        else:
            out[target] = new
    return out


def check_update(config: dict[str, Any], req: dict[str, Any]) -> None:
    """What UpdateFunctionConfiguration refuses before looking at other resources."""
    check_input("UpdateFunctionConfiguration", req)
    if req.get("Runtime") is not None:
        check_runtime_value(req["Runtime"])
    check_environment(req.get("Environment"))
    if req.get("Layers") is not None:
        check_layer_list(req["Layers"], config.get("PackageType", "Zip"))


def revised(config: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The configuration after a change: a new RevisionId and LastModified; the update is done."""
    fresh = {"RevisionId": str(uuid.uuid4()), "LastModified": now(), "LastUpdateStatus": "Successful"}
    return {**config, **changes, **fresh}


def check_revision(current: str, given: str | None, api: str = "GetFunction/GetAlias") -> None:
    if given and given != current:
        raise errors.precondition_failed(api)


def as_in_progress(config: dict[str, Any]) -> dict[str, Any]:
    """How an update's answer shows the configuration: AWS answers ``InProgress`` (reads then see
    ``Successful``; Flotilla applies the change at once)."""
    return {
        **config,
        "LastUpdateStatus": "InProgress",
        "LastUpdateStatusReason": CREATING,
        "LastUpdateStatusReasonCode": "Creating",
    }


def as_pending(config: dict[str, Any]) -> dict[str, Any]:
    """How CreateFunction and PublishVersion answer: ``Pending`` (reads then see ``Active``)."""
    out = {k: v for k, v in config.items() if not k.startswith("LastUpdateStatus")}
    return {**out, "State": "Pending", "StateReason": CREATING, "StateReasonCode": "Creating"}


def as_list_item(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k not in TRANSIENT}


def version_configuration(
    ctx: RequestContext, latest: dict[str, Any], number: str, description: str | None
) -> dict[str, Any]:
    """The configuration of a version published from ``latest`` (versions have no update status)."""
    config = {k: v for k, v in latest.items() if not k.startswith("LastUpdateStatus")}
    config.update(
        FunctionArn=function_arn(ctx, latest["FunctionName"], number),
        Version=number,
        RevisionId=str(uuid.uuid4()),
        LastModified=now(),
        State="Active",
    )
    if description is not None:
        config["Description"] = description
    return config


# -- aliases --------------------------------------------------------------------------------------


def check_routing(weights: dict[str, float], primary: str) -> None:
    """AdditionalVersionWeights as Lambda allows them: one published version other than the primary."""
    if len(weights) > 1:
        raise errors.invalid_parameter("Number of items in AdditionalVersionWeights cannot be greater than 1")
    for version, weight in weights.items():
        if not 0.0 <= weight <= 1.0:
            raise _weights_violation(
                version, weight, "Map value must satisfy constraint: [Member must have value less than or "
                "equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]",
            )  # fmt: skip
        if version == primary:
            raise errors.invalid_parameter(
                f"Invalid function version {primary}. Function version {primary} is already included in "
                "routing configuration."
            )
        if primary == LATEST:
            raise errors.invalid_parameter(
                "$LATEST is not supported for an alias pointing to more than 1 version"
            )
        if not is_version(version):
            raise _weights_violation(
                version, weight, "Map keys must satisfy constraint: [Member must have length less than or "
                "equal to 1024, Member must have length greater than or equal to 1, Member must satisfy "
                "regular expression pattern: [0-9]+, Member must not be null]",
            )  # fmt: skip


def _weights_violation(version: str, weight: float, constraint: str) -> Exception:
    where = "at 'routingConfig.additionalVersionWeights' failed to satisfy constraint"
    return errors.constraints([f"Value '{{{version}={weight}}}' {where}: {constraint}"])


def pick_version(alias: dict[str, Any], draw: Callable[[], float] = random.random) -> str:
    """The version an invoke of ``alias`` runs: an additional version with its weight's probability."""
    weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    point = draw()
    for version, weight in weights.items():
        if point < weight:
            return version
        point -= weight
    return alias["FunctionVersion"]


def alias_versions(alias: dict[str, Any]) -> set[str]:
    """Every version an alias points to."""
    weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    return {alias["FunctionVersion"], *weights}


# -- paging ---------------------------------------------------------------------------------------


def check_max_items(limit: int | None, default: int, maximum: int) -> int:
    if limit is None:
        return default
    if not 1 <= limit <= maximum:
        bound = "greater than or equal to 1" if limit < 1 else f"less than or equal to {maximum}"
        raise errors.constraints(
            [f"Value '{limit}' at 'maxItems' failed to satisfy constraint: Member must have value {bound}"]
        )
    return limit


def paginate(items: list[tuple[Any, T]], marker: str | None, limit: int) -> tuple[list[T], str | None]:
    """One page of ``(sort key, item)`` pairs (sorted by key) after ``marker``, and the next marker.

    The marker is the last key of the page (JSON, base64url): items deleted or added between
    pages do not shift what comes next.
    """
    after = _read_marker(marker) if marker else None
    rest = [(key, item) for key, item in items if after is None or key > after]
    page = rest[:limit]
    more = len(rest) > limit
    return [item for _, item in page], _marker(page[-1][0]) if more else None


def _marker(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def _read_marker(marker: str) -> Any:
    try:
        key = json.loads(base64.urlsafe_b64decode(marker.encode()))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise errors.invalid_parameter(f"Invalid marker: {marker}") from None
    return tuple(key) if isinstance(key, list) else key
