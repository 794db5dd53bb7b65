"""SQS's errors, with the codes and messages SQS itself answers.

Handlers raise these; the serializer writes them in the request's protocol (json with the
``x-amzn-query-error`` header, or query XML with the legacy code). Modelled errors leave the
status to the model; the unmodelled ``InvalidParameterValue`` / ``MissingParameter`` are 400.
"""

from __future__ import annotations

from shared.aws.errors import AwsError


def queue_does_not_exist(protocol: str = "json") -> AwsError:
    # SQS still words the query protocol's message after its WSDL days.
    suffix = " for this wsdl version" if protocol == "query" else ""
    return AwsError("QueueDoesNotExist", f"The specified queue does not exist{suffix}.")


def queue_name_exists(attribute: str) -> AwsError:
    return AwsError(
        "QueueNameExists",
        f"A queue already exists with the same name and a different value for attribute {attribute}",
    )


def invalid_parameter(message: str) -> AwsError:
    return AwsError("InvalidParameterValue", message, 400)


def missing_parameter(name: str) -> AwsError:
    return AwsError("MissingParameter", f"The request must contain the parameter {name}.", 400)


def invalid_attribute_name(name: str) -> AwsError:
    return AwsError("InvalidAttributeName", f"Unknown Attribute {name}.")


def invalid_attribute_value(name: str, reason: str = "") -> AwsError:
    message = f"Invalid value for the parameter {name}."
    return AwsError("InvalidAttributeValue", f"{message} Reason: {reason}" if reason else message)


def receipt_handle_invalid(handle: str) -> AwsError:
    return AwsError(
        "ReceiptHandleIsInvalid", f'The input receipt handle "{handle}" is not a valid receipt handle.'
    )


def out_of_range(name: str, value: object, reason: str) -> AwsError:
    return invalid_parameter(f"Value {value} for parameter {name} is invalid. Reason: {reason}")
