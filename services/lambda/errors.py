"""Lambda's errors, worded as Lambda words them.

Lambda's modelled errors carry ``Type`` (``User`` for a caller's mistake) next to the message;
``ValidationException`` is not in the model but is what Lambda's framework answers for input
that breaks a modelled constraint (length, pattern, range).
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.aws.errors import AwsError

USER = {"Type": "User"}


def invalid_parameter(message: str) -> AwsError:
    return AwsError("InvalidParameterValueException", message, 400, fields=USER)


def constraints(violations: Sequence[str]) -> AwsError:
    """``N validation error(s) detected: ...; ...`` for values that break the model's constraints."""
    noun = "error" if len(violations) == 1 else "errors"
    return AwsError(
        "ValidationException", f"{len(violations)} validation {noun} detected: " + "; ".join(violations), 400
    )


def function_exists(name: str) -> AwsError:
    return AwsError("ResourceConflictException", f"Function already exist: {name}", 409, fields=USER)


def function_not_found(arn: str) -> AwsError:
    return AwsError("ResourceNotFoundException", f"Function not found: {arn}", 404, fields=USER)


def unsupported(what: str) -> AwsError:
    """Something valid that Flotilla does not do yet: say so rather than pretend."""
    return invalid_parameter(f"Flotilla does not support {what} yet.")


def request_too_large(limit: int) -> AwsError:
    """A synchronous payload over 6 MB: what Lambda answers (the model names ``RequestTooLargeException``,
    but Lambda's wire answer is ``RequestEntityTooLargeException`` with this wording)."""
    return request_entity_too_large(limit, "InvokeFunction")


def event_payload_too_large(size: int, limit: int) -> AwsError:
    """An ``Event`` (or ``InvokeAsync``) payload over 256 KB, worded as Lambda words it."""
    return AwsError(
        "RequestEntityTooLargeException",
        f"{size} byte payload is too large for the Event invocation type (limit {limit} bytes)",
        413,
        fields=USER,
    )


def invalid_request_content(message: str) -> AwsError:
    return AwsError("InvalidRequestContentException", message, 400, fields=USER)


# -- throttling (invoke) -----------------------------------------------------------------------


def too_many_requests(reason: str) -> AwsError:
    """A throttled invoke: Lambda's ``Rate Exceeded.`` with the ``Reason`` saying which limit was hit."""
    return AwsError("TooManyRequestsException", "Rate Exceeded.", 429, fields={**USER, "Reason": reason})


# -- control plane: permissions, configs, settings ---------------------------------------------


def resource_conflict(message: str) -> AwsError:
    return AwsError("ResourceConflictException", message, 409, fields=USER)


def resource_not_found(message: str = "The resource you requested does not exist.") -> AwsError:
    return AwsError("ResourceNotFoundException", message, 404, fields=USER)


def precondition_failed(api: str = "GetFunction/GetAlias") -> AwsError:
    """A ``RevisionId`` that is not the current one (``api`` names where to read the current one)."""
    return AwsError(
        "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. "
        f"Call the {api} API to retrieve the latest Revision Id",
        412,
        fields=USER,
    )


def mapping_not_found() -> AwsError:
    """An event source mapping UUID that is not there (or is another account's)."""
    return AwsError(
        "ResourceNotFoundException", "The resource you requested does not exist.", 404, fields=USER
    )


def mapping_conflict(source_arn: str, function: str, mapping_id: str) -> AwsError:
    return AwsError(
        "ResourceConflictException",
        f'The event source arn (" {source_arn} ") and function (" {function} ") provided mapping already '
        f"exists. Please update or delete the existing mapping with UUID {mapping_id}",
        409,
        fields=USER,
    )


# -- control plane: code, versions, aliases, layers --------------------------------------------


def request_entity_too_large(limit: int, operation: str) -> AwsError:
    """A zip uploaded in the request over Lambda's direct-upload limit (50 MB once base64-encoded)."""
    return AwsError(
        "RequestEntityTooLargeException",
        f"Request must be smaller than {limit} bytes for the {operation} operation",
        413,
        fields=USER,
    )


def alias_not_found(alias_arn: str) -> AwsError:
    return resource_not_found(f"Cannot find alias arn: {alias_arn}")


def layer_version_missing(arn: str) -> AwsError:
    """A function's ``Layers`` names a layer version that is not there."""
    return invalid_parameter(f"Layer version {arn} does not exist.")


def service_error(message: str) -> AwsError:
    return AwsError("ServiceException", message, 500, sender_fault=False)
