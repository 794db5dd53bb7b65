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


def auth_error(service: str, case: str, message: str = "") -> AwsError:
    """The error ``service`` answers, when signatures are enforced, for an unsigned request
    (``missing``), an access key it does not know (``unknown``) or a wrong signature
    (``mismatch``, with the verifier's ``message``)."""
    code, default, status = _AUTH_ERRORS.get(service, {}).get(case) or _AUTH_DEFAULTS[case]
    return AwsError(code, message or default, status)
