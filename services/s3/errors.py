"""S3's errors, with the codes, statuses, messages and extra fields S3 itself answers.

The rest-xml serializer writes ``fields`` as extra ``<Error>`` children (``<BucketName>``,
``<Key>``...), as S3 does. Statuses are explicit so they do not depend on whether the model
happens to list the error for the operation.
"""

from __future__ import annotations

from shared.aws.errors import AwsError
from shared.aws.protocol import BadValue


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


def bad_value(exc: BadValue) -> AwsError | None:
    """S3's wording for an integer query parameter that is not a 32-bit integer (``?max-keys=abc``);
    other unreadable header and query values keep the parser's InvalidArgument."""
    if exc.location == "querystring" and exc.type_name in ("integer", "long"):
        return invalid_argument(
            f"Provided {exc.name} not an integer or within integer range", exc.name, exc.value
        )
    return None


def incomplete_body() -> AwsError:
    return AwsError(
        "IncompleteBody",
        "You did not provide the number of bytes specified by the Content-Length HTTP header",
        400,
    )


def no_such_key_for_condition() -> AwsError:
    """A conditional write (If-Match) on an object that does not exist."""
    return AwsError("NoSuchKey", "The specified key does not exist.", 404)


def invalid_request(message: str) -> AwsError:
    return AwsError("InvalidRequest", message, 400)


def malformed_xml() -> AwsError:
    return AwsError(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
        400,
    )


def invalid_storage_class(value: str) -> AwsError:
    return AwsError(
        "InvalidStorageClass",
        "The storage class you specified is not valid",
        400,
        fields={"StorageClassRequested": value},
    )


def invalid_object_state(storage_class: str) -> AwsError:
    return AwsError(
        "InvalidObjectState",
        "The operation is not valid for the object's storage class",
        403,
        fields={"StorageClass": storage_class},
    )


def restore_not_allowed(storage_class: str) -> AwsError:
    return AwsError(
        "InvalidObjectState",
        "Restore is not allowed for the object's current storage class",
        403,
        fields={"StorageClass": storage_class},
    )


def restore_already_in_progress() -> AwsError:
    return AwsError("RestoreAlreadyInProgress", "Object restore is already in progress", 409)


def no_such_version(key: str, version_id: str) -> AwsError:
    return AwsError(
        "NoSuchVersion",
        "The specified version does not exist.",
        404,
        fields={"Key": key, "VersionId": version_id},
    )


def invalid_tag(message: str) -> AwsError:
    return AwsError("InvalidTag", message, 400)


def too_many_tags() -> AwsError:
    return AwsError("BadRequest", "Object tags cannot be greater than 10", 400)


def malformed_acl() -> AwsError:
    return AwsError(
        "MalformedACLError",
        "The XML you provided was not well-formed or did not validate against our published schema",
        400,
    )


def missing_security_header(header: str) -> AwsError:
    return AwsError(
        "MissingSecurityHeader",
        "Your request was missing a required header",
        400,
        fields={"MissingHeaderName": header},
    )


def no_such_upload(upload_id: str) -> AwsError:
    return AwsError(
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been "
        "aborted or completed.",
        404,
        fields={"UploadId": upload_id},
    )


def invalid_part(upload_id: str, number: int, etag: str) -> AwsError:
    return AwsError(
        "InvalidPart",
        "One or more of the specified parts could not be found.  The part may not have been uploaded, "
        "or the specified entity tag may not have matched the part's entity tag.",
        400,
        fields={"UploadId": upload_id, "PartNumber": str(number), "ETag": etag},
    )


def invalid_part_order(upload_id: str) -> AwsError:
    return AwsError(
        "InvalidPartOrder",
        "The list of parts was not in ascending order. Parts must be ordered by part number.",
        400,
        fields={"UploadId": upload_id},
    )


def entity_too_small(size: int, minimum: int, number: int, etag: str) -> AwsError:
    return AwsError(
        "EntityTooSmall",
        "Your proposed upload is smaller than the minimum allowed object size.",
        400,
        fields={
            "ProposedSize": str(size),
            "MinSizeAllowed": str(minimum),
            "PartNumber": str(number),
            "ETag": etag,
        },
    )


def invalid_part_number() -> AwsError:
    return AwsError("InvalidPartNumber", "The requested partnumber is not satisfiable", 416)


def access_denied(message: str = "Access Denied") -> AwsError:
    return AwsError("AccessDenied", message, 403)


def deleted_key(key: str, version_id: str) -> AwsError:
    """GetObject/HeadObject of a key whose latest version is a delete marker."""
    return AwsError(
        "NoSuchKey",
        "The specified key does not exist.",
        404,
        fields={"Key": key},
        headers={"x-amz-delete-marker": "true", "x-amz-version-id": version_id},
    )


def delete_marker_method(version_id: str) -> AwsError:
    """A read or update naming a delete marker by version id."""
    return AwsError(
        "MethodNotAllowed",
        "The specified method is not allowed against this resource.",
        405,
        fields={"Method": "GET", "ResourceType": "DeleteMarker"},
        headers={"x-amz-delete-marker": "true", "x-amz-version-id": version_id},
    )


def invalid_version_id(version_id: str) -> AwsError:
    return invalid_argument("Invalid version id specified", "versionId", version_id)


def copy_from_delete_marker() -> AwsError:
    return invalid_request(
        "The source of a copy request may not specifically refer to a delete marker by version id."
    )


def no_object_lock() -> AwsError:
    return invalid_request("Bucket is missing Object Lock Configuration")


def object_lock_config_not_found(bucket: str) -> AwsError:
    return AwsError(
        "ObjectLockConfigurationNotFoundError",
        "Object Lock configuration does not exist for this bucket",
        404,
        fields={"BucketName": bucket},
    )


def no_such_object_lock_configuration() -> AwsError:
    return AwsError(
        "NoSuchObjectLockConfiguration", "The specified object does not have a ObjectLock configuration", 404
    )


def invalid_bucket_state(message: str) -> AwsError:
    return AwsError("InvalidBucketState", message, 409)


def locked_version() -> AwsError:
    """Deleting (or shortening the retention of) a version that Object Lock protects."""
    return access_denied("Access Denied because object protected by object lock.")


def metadata_too_large(limit: int) -> AwsError:
    return AwsError(
        "MetadataTooLarge",
        "Your metadata headers exceed the maximum allowed metadata size.",
        400,
        fields={"MaxSizeAllowed": str(limit)},
    )


def entity_too_large(size: int, limit: int) -> AwsError:
    return AwsError(
        "EntityTooLarge",
        "Your proposed upload exceeds the maximum allowed size",
        400,
        fields={"ProposedSize": str(size), "MaxSizeAllowed": str(limit)},
    )


def invalid_redirect_location() -> AwsError:
    return AwsError(
        "InvalidRedirectLocation",
        "The website redirect location must have a prefix of 'http://' or 'https://' or '/'.",
        400,
    )


def invalid_encoding_type(value: str) -> AwsError:
    return invalid_argument("Invalid Encoding Method specified in Request", "encoding-type", value)
