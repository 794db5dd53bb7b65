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
    return AwsError(
        "RequestTooLargeException",
        f"Request must be smaller than {limit} bytes for the InvokeFunction operation",
        413,
        fields=USER,
    )


def invalid_request_content(message: str) -> AwsError:
    return AwsError("InvalidRequestContentException", message, 400, fields=USER)
