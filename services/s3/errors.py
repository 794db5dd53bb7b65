"""S3's errors, with the codes, statuses, messages and extra fields S3 itself answers.

The rest-xml serializer writes ``fields`` as extra ``<Error>`` children (``<BucketName>``,
``<Key>``...), as S3 does. Statuses are explicit so they do not depend on whether the model
happens to list the error for the operation.
"""

from __future__ import annotations

from shared.aws.errors import AwsError


def no_such_bucket(bucket: str) -> AwsError:
    return AwsError("NoSuchBucket", "The specified bucket does not exist", 404, fields={"BucketName": bucket})


def no_such_key(key: str) -> AwsError:
    return AwsError("NoSuchKey", "The specified key does not exist.", 404, fields={"Key": key})


def bucket_not_empty(bucket: str) -> AwsError:
    return AwsError(
        "BucketNotEmpty", "The bucket you tried to delete is not empty", 409, fields={"BucketName": bucket}
    )


def bucket_already_exists(bucket: str) -> AwsError:
    return AwsError(
        "BucketAlreadyExists",
        "The requested bucket name is not available. The bucket namespace is shared by all users of "
        "the system. Please select a different name and try again.",
        409,
        fields={"BucketName": bucket},
    )


def bucket_already_owned_by_you(bucket: str) -> AwsError:
    return AwsError(
        "BucketAlreadyOwnedByYou",
        "Your previous request to create the named bucket succeeded and you already own it.",
        409,
        fields={"BucketName": bucket},
    )


def invalid_bucket_name(bucket: str) -> AwsError:
    return AwsError(
        "InvalidBucketName", "The specified bucket is not valid.", 400, fields={"BucketName": bucket}
    )


def illegal_location_constraint(constraint: str | None, region: str) -> AwsError:
    if constraint is None:
        message = (
            "The unspecified location constraint is incompatible for the region specific endpoint "
            "this request was sent to."
        )
    else:
        message = f"The {constraint} location constraint is incompatible for the region specific endpoint this request was sent to."
    return AwsError("IllegalLocationConstraintException", message, 400)


def invalid_location_constraint(constraint: str) -> AwsError:
    return AwsError(
        "InvalidLocationConstraint",
        "The specified location-constraint is not valid",
        400,
        fields={"LocationConstraint": constraint},
    )


def invalid_range(size: int, requested: str) -> AwsError:
    return AwsError(
        "InvalidRange",
        "The requested range is not satisfiable",
        416,
        fields={"RangeRequested": requested, "ActualObjectSize": str(size)},
        headers={"Content-Range": f"bytes */{size}"},
    )


def key_too_long(key: str) -> AwsError:
    size = len(key.encode("utf-8"))
    return AwsError(
        "KeyTooLongError",
        "Your key is too long",
        400,
        fields={"MaxSizeAllowed": "1024", "Size": str(size)},
    )


def precondition_failed(condition: str) -> AwsError:
    return AwsError(
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
        412,
        fields={"Condition": condition},
    )


def not_modified() -> AwsError:
    return AwsError("NotModified", "Not Modified", 304)


def bad_digest(what: str) -> AwsError:
    return AwsError("BadDigest", f"The {what} you specified did not match the calculated checksum.", 400)


def invalid_digest(what: str) -> AwsError:
    return AwsError("InvalidDigest", f"The {what} you specified was invalid.", 400)


def invalid_argument(message: str, name: str, value: str) -> AwsError:
    return AwsError("InvalidArgument", message, 400, fields={"ArgumentName": name, "ArgumentValue": value})


def incomplete_body() -> AwsError:
    return AwsError(
        "IncompleteBody",
        "You did not provide the number of bytes specified by the Content-Length HTTP header",
        400,
    )


def no_such_key_for_condition() -> AwsError:
    """A conditional write (If-Match) on an object that does not exist."""
    return AwsError("NoSuchKey", "The specified key does not exist.", 404)
