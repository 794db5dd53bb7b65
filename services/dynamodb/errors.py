"""DynamoDB's errors, worded as DynamoDB words them."""

from __future__ import annotations

from collections.abc import Sequence

from shared.aws.errors import AwsError

INVALID = "One or more parameter values were invalid: "


def validation(message: str) -> AwsError:
    return AwsError("ValidationException", message, 400)


def invalid_parameters(message: str) -> AwsError:
    return validation(INVALID + message)


def constraints(violations: Sequence[str]) -> AwsError:
    """The framework's 'N validation error(s) detected: ...' for model constraints (length, enum, range)."""
    count = len(violations)
    noun = "error" if count == 1 else "errors"
    return validation(f"{count} validation {noun} detected: " + "; ".join(violations))


def unsupported(parameter: str, operation: str) -> AwsError:
    """A valid parameter we do not implement yet: say so rather than ignore it."""
    return validation(f"Flotilla does not support the parameter {parameter} of {operation} yet.")


def table_not_found(name: str) -> AwsError:
    return AwsError("ResourceNotFoundException", f"Requested resource not found: Table: {name} not found")


def resource_not_found() -> AwsError:
    return AwsError("ResourceNotFoundException", "Requested resource not found")


def table_exists(name: str) -> AwsError:
    return AwsError("ResourceInUseException", f"Table already exists: {name}")
