"""EC2's errors, worded as EC2 words them (EC2 error codes are not in its model: status 400 unless said)."""

from __future__ import annotations

from collections.abc import Sequence

from shared.aws.errors import AwsError


def invalid_parameter_value(message: str) -> AwsError:
    return AwsError("InvalidParameterValue", message, 400)


def missing_parameter(message: str) -> AwsError:
    return AwsError("MissingParameter", message, 400)


def invalid_filter(name: str) -> AwsError:
    return AwsError("InvalidParameterValue", f"The filter '{name}' is invalid", 400)


def invalid_cidr(cidr: str) -> AwsError:
    return invalid_parameter_value(
        f"Value ({cidr}) for parameter cidrBlock is invalid. This is not a valid CIDR block."
    )


def vpc_range(cidr: str) -> AwsError:
    return AwsError("InvalidVpc.Range", f"The CIDR '{cidr}' is invalid.", 400)


def vpc_not_found(ids: Sequence[str]) -> AwsError:
    if len(ids) == 1:
        return AwsError("InvalidVpcID.NotFound", f"The vpc ID '{ids[0]}' does not exist", 400)
    return AwsError("InvalidVpcID.NotFound", f"The vpc IDs '{', '.join(ids)}' do not exist", 400)


def invalid_combination(first: str, second: str) -> AwsError:
    return AwsError(
        "InvalidParameterCombination",
        f"The parameter {first} cannot be used with the parameter {second}",
        400,
    )


def invalid_next_token(token: str) -> AwsError:
    return AwsError("InvalidNextToken", f"The token '{token}' is invalid.", 400)


def dry_run() -> AwsError:
    return AwsError("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412)
