"""AWS errors as Python exceptions.

A handler raises ``AwsError("QueueDoesNotExist", "The specified queue does not exist.")``;
the protocol serializer turns it into the exact wire form of the service's protocol. When
``status`` is left out, the serializer takes it from the error shape of the service model
(``error.httpStatusCode``), falling back to 400. Extra modelled members of the error shape
(``CancellationReasons``, S3's ``BucketName`` ...) go in ``fields``.
"""

from __future__ import annotations

from typing import Any


class AwsError(Exception):
    def __init__(
        self,
        code: str,
        message: str = "",
        status: int | None = None,
        *,
        sender_fault: bool | None = None,
        fields: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.sender_fault = sender_fault
        self.fields = dict(fields or {})
        self.headers = dict(headers or {})

    def __repr__(self) -> str:
        return f"AwsError({self.code!r}, {self.message!r}, {self.status!r})"


# Errors every protocol layer needs. Services define their own modelled errors by code.


def not_implemented(service: str, operation: str) -> AwsError:
    return AwsError(
        "NotImplemented",
        f"The operation {operation} of service {service} is not implemented by Flotilla yet.",
        501,
        sender_fault=False,
    )


def internal_error(request_id: str) -> AwsError:
    return AwsError(
        "InternalFailure",
        f"The request processing has failed because of an unknown error (request {request_id}).",
        500,
        sender_fault=False,
    )


def validation_error(message: str, code: str = "ValidationException") -> AwsError:
    return AwsError(code, message, 400)


def serialization_error(message: str) -> AwsError:
    """The request body or parameters could not be read at all."""
    return AwsError("SerializationException", message, 400)


# What each service answers when signatures are enforced and a request is unsigned, or signed
# with an access key it does not know: (code, message, status) per case.
_AUTH_ERRORS: dict[str, dict[str, tuple[str, str, int]]] = {
    "s3": {
        "missing": ("AccessDenied", "Access Denied", 403),
        "unknown": (
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
            403,
        ),
    },
    "dynamodb": {
        "unknown": (
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
            400,
        ),
        "mismatch": ("InvalidSignatureException", "", 400),
    },
    "lambda": {
        "unknown": (
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
            403,
        ),
        "mismatch": ("InvalidSignatureException", "", 403),
    },
    "ec2": {
        "unknown": ("AuthFailure", "AWS was not able to validate the provided access credentials", 401),
    },
}
_AUTH_DEFAULTS = {
    "mismatch": ("SignatureDoesNotMatch", "", 403),
    "missing": ("MissingAuthenticationToken", "Request is missing Authentication Token", 403),
    "unknown": ("InvalidClientTokenId", "The security token included in the request is invalid.", 403),
}


SIGNATURE_MISMATCH_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)


def auth_error(service: str, case: str, message: str = "") -> AwsError:
    """The error ``service`` answers, when signatures are enforced, for an unsigned request
    (``missing``), an access key it does not know (``unknown``) or a wrong signature
    (``mismatch``, with the verifier's ``message``)."""
    code, default, status = _AUTH_ERRORS.get(service, {}).get(case) or _AUTH_DEFAULTS[case]
    return AwsError(code, message or default, status)


# A body that does not hash to the ``x-amz-content-sha256`` it declares. S3 reads that header itself
# and names the mismatch; every other service only feeds it into the signature's canonical request,
# so there the same request fails as a signature mismatch.


def payload_hash_mismatch(service: str, declared: str, computed: str) -> AwsError:
    """What ``service`` answers when the body's SHA-256 is ``computed`` but ``declared`` was sent."""
    if service == "s3":
        return AwsError(
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
            400,
            fields={"ClientComputedContentSHA256": declared, "S3ComputedContentSHA256": computed},
        )
    return auth_error(service, "mismatch", SIGNATURE_MISMATCH_MESSAGE)


def invalid_payload_hash(service: str, value: str) -> AwsError | None:
    """What ``service`` answers for an ``x-amz-content-sha256`` that is neither a payload mode nor a
    SHA-256 digest; None where the service does not read the header (it only feeds the signature)."""
    if service != "s3":
        return None
    return AwsError(
        "InvalidArgument",
        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, "
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, "
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER "
        "or a valid sha256 value.",
        400,
        fields={"ArgumentName": "x-amz-content-sha256", "ArgumentValue": value},
    )


def header_section_too_large(limit: int) -> AwsError:
    """S3's answer to a request whose header section is larger than ``limit`` bytes (8 KB there)."""
    return AwsError(
        "RequestHeaderSectionTooLarge",
        "Your request header section exceeds the maximum allowed size.",
        400,
        fields={"MaxSizeAllowed": str(limit)},
    )
