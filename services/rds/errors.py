"""RDS's errors, worded as RDS words them (status from the model unless given)."""

from __future__ import annotations

from shared.aws.errors import AwsError


def invalid_parameter_value(message: str) -> AwsError:
    return AwsError("InvalidParameterValue", message, 400)


def invalid_family(family: str) -> AwsError:
    return invalid_parameter_value(f"ParameterGroupFamily {family} is not a valid parameter group family")


def invalid_group_name() -> AwsError:
    return invalid_parameter_value(
        "The parameter DBParameterGroupName is not a valid identifier. Identifiers must begin with a letter; "
        "must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain two "
        "consecutive hyphens."
    )


def group_exists(name: str) -> AwsError:
    return AwsError("DBParameterGroupAlreadyExists", f"Parameter group {name} already exists", 400)


def group_not_found(name: str) -> AwsError:
    return AwsError("DBParameterGroupNotFound", f"DBParameterGroup not found: {name}", 404)


def default_group_undeletable() -> AwsError:
    return AwsError("InvalidDBParameterGroupState", "Default DBParameterGroup cannot be deleted", 400)


def invalid_max_records(value: int) -> AwsError:
    return invalid_parameter_value(f"Invalid value {value} for MaxRecords. Must be between 20 and 100")


def invalid_marker(marker: str) -> AwsError:
    return invalid_parameter_value(f"Invalid marker: {marker}")
