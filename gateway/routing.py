"""Which service a request is for: pure functions, no I/O, cheap enough to run on every request.

The order is the design's (docs: DESIGN.md "The gateway"), strongest signal first:

1. the SigV4 credential scope (``Authorization`` or a presigned URL's ``X-Amz-Credential``);
   a SigV2 S3 signature (``Authorization: AWS ...`` or a presigned ``AWSAccessKeyId``);
2. ``X-Amz-Target`` (the json protocol);
3. the Host header (LocalStack's ``*.localhost.localstack.cloud`` and AWS's ``*.amazonaws.com``);
4. the query protocol's ``Action`` + ``Version`` (query string, or a urlencoded POST body), and
   Lambda's dated REST paths;
5. otherwise S3 (unsigned browser uploads, presigned POST forms).

Before all of these, Flotilla's own service paths (``/_flotilla/lambda/...``: function logs) go to
their service. Lambda function URLs (``<url-id>.lambda-url.<region>.localhost.localstack.cloud``
and AWS's ``...lambda-url.<region>.on.aws``) are placed by their Host (step 3).

A signal that names a service Flotilla does not serve is an error, never a guess: a request for
STS must not land in S3 and come back as a baffling ``NoSuchBucket``.

A urlencoded POST that steps 1-3 cannot place needs its body; :func:`route` then returns
:data:`NEED_BODY` and the caller reads up to ``form_peek_limit`` bytes and calls again with them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qsl

Headers = list[tuple[bytes, bytes]]


@dataclass(frozen=True, slots=True)
class Route:
    """The service a request goes to, and which rule decided it (for the ``x-flotilla-route`` header)."""

    service: str
    reason: str


class RoutingError(Exception):
    """A request no Flotilla service can answer; the gateway turns it into an AWS-style 400."""

    def __init__(self, message: str, code: str = "UnknownService", status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


# Returned (never raised) when only the urlencoded body can decide: see the module docstring.
NEED_BODY: Final = Route("", "need-body")

# SigV4 signing name -> service key. DynamoDB Streams signs as "dynamodb".
SIGNING_NAMES: Final[dict[str, str]] = {
    "s3": "s3",
    "sqs": "sqs",
    "dynamodb": "dynamodb",
    "lambda": "lambda",
    "ec2": "ec2",
    "rds": "rds",
}

# X-Amz-Target prefix (before the dot) -> service key.
TARGET_PREFIXES: Final[dict[str, str]] = {
    "DynamoDB_20120810": "dynamodb",
    "DynamoDBStreams_20120810": "dynamodb",
    "AmazonSQS": "sqs",
}

# Query-protocol API Version -> service key.
QUERY_VERSIONS: Final[dict[str, str]] = {
    "2012-11-05": "sqs",
    "2014-10-31": "rds",
    "2014-09-01": "rds",
    "2016-11-15": "ec2",
}

LAMBDA_PATH_PREFIXES: Final[tuple[bytes, ...]] = tuple(
    b"/%s/" % v
    for v in (
        b"2014-11-13",  # InvokeAsync (deprecated)
        b"2015-03-31",
        b"2016-08-19",
        b"2017-10-31",
        b"2018-10-31",
        b"2019-09-25",
        b"2019-09-30",
        b"2020-04-22",
        b"2020-06-30",
        b"2021-10-31",
    )
)

# Host suffixes whose leading labels name a service. Under amazonaws.com an unknown service label is
# an error (it is certainly an AWS endpoint we do not serve); under LocalStack's domain it is not
# (LocalStack puts other things there, e.g. ``<api-id>.execute-api.localhost.localstack.cloud``).
LOCALSTACK_SUFFIX: Final = ".localhost.localstack.cloud"
AWS_SUFFIXES: Final[tuple[str, ...]] = (".amazonaws.com", ".amazonaws.com.cn")
# AWS's domain of Lambda function URLs (``<url-id>.lambda-url.<region>.on.aws``); other labels there
# are not ours to judge, so they fall through like LocalStack's.
ON_AWS_SUFFIX: Final = ".on.aws"

# Service paths of Flotilla's own (not AWS API) endpoints that a service serves.
SERVICE_PATHS: Final[dict[bytes, str]] = {b"/_flotilla/lambda/": "lambda"}

# Host labels -> service key (besides the s3-* family handled in _host_label_service).
HOST_LABELS: Final[dict[str, str]] = {**SIGNING_NAMES, "queue": "sqs", "lambda-url": "lambda"}

# Labels that qualify an endpoint rather than name a service: regions, dualstack, fips.
_QUALIFIER = re.compile(r"^(?:[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d+|dualstack|fips)$")

_CREDENTIAL = re.compile(rb"Credential=([^,\s]+)")
_FORM = b"application/x-www-form-urlencoded"
_ACTION = re.compile(rb"(?:^|&)Action=")
_SIGV2_KEY = re.compile(rb"(?:^|&)AWSAccessKeyId=")


def route(
    method: str,
    raw_path: bytes | str,
    query_string: bytes | str,
    headers: Headers,
    body_peek: bytes | None = None,
) -> Route:
    """Place one request. Raises :class:`RoutingError`; may return :data:`NEED_BODY` (see module doc)."""
    path = raw_path.encode("latin-1") if isinstance(raw_path, str) else raw_path
    query = query_string.encode("latin-1") if isinstance(query_string, str) else query_string
    auth = target = host = content_type = b""
    for name, value in headers:
        if name == b"authorization":
            auth = value
        elif name == b"x-amz-target":
            target = value
        elif name == b"host":
            host = value
        elif name == b"content-type":
            content_type = value
    return (
        _by_service_path(path)
        or _by_signature(auth, query)
        or _by_target(target)
        or _by_host(host)
        or _by_path(path)
        or _by_action(query, method, content_type, body_peek)
        or Route("s3", "default")
    )


def _by_service_path(path: bytes) -> Route | None:
    """Step 0: a Flotilla endpoint of one service (``/_flotilla/lambda/logs/...``)."""
    for prefix, service in SERVICE_PATHS.items():
        if path.startswith(prefix):
            return Route(service, "flotilla-path")
    return None


def _by_signature(auth: bytes, query: bytes) -> Route | None:
    """Step 1: the SigV4 scope names the signing service outright; SigV2 is only still used by S3."""
    if auth.startswith(b"AWS4-"):
        match = _CREDENTIAL.search(auth)
        if match:
            return _by_scope(match.group(1).decode("latin-1"), "Authorization")
    elif auth.startswith(b"AWS "):
        return Route("s3", "sigv2")
    if b"X-Amz-Credential=" in query:
        credential = _query_param(query, "X-Amz-Credential")
        if credential:
            return _by_scope(credential, "X-Amz-Credential")
    if _SIGV2_KEY.search(query) and not _ACTION.search(query):  # query-protocol SigV2 has an Action
        return Route("s3", "sigv2")
    return None


def _by_scope(credential: str, where: str) -> Route | None:
    """``AKID/date/region/service/aws4_request`` (SigV4A drops the region: service is always [-2])."""
    parts = credential.split("/")
    if len(parts) < 4 or parts[-1] != "aws4_request":
        return None  # malformed: let the weaker signals try; the service will reject the signature
    signing_name = parts[-2]
    service = SIGNING_NAMES.get(signing_name)
    if service is None:
        raise RoutingError(
            f"The SigV4 credential scope in {where} names the AWS service {signing_name!r}, "
            f"which Flotilla does not serve (it serves {_served()})"
        )
    return Route(service, "sigv4-scope")


def _by_target(target: bytes) -> Route | None:
    """Step 2: the json protocol's ``X-Amz-Target: <Prefix>.<Operation>``."""
    if not target:
        return None
    prefix = target.split(b".", 1)[0].decode("latin-1")
    service = TARGET_PREFIXES.get(prefix)
    if service is None:
        raise RoutingError(
            f"X-Amz-Target {target.decode('latin-1')!r} is for an AWS service Flotilla does not serve "
            f"(it serves {_served()})"
        )
    return Route(service, "target")


def _by_host(host: bytes) -> Route | None:
    """Step 3: virtual-host style endpoints. A bare ``localhost`` / IP says nothing."""
    if not host:
        return None
    name = host.decode("latin-1").lower().rsplit(":", 1)[0] if b"]" not in host else ""
    name = name.rstrip(".")
    for suffix in (LOCALSTACK_SUFFIX, ON_AWS_SUFFIX):
        if name.endswith(suffix):
            service = _labels_service(name[: -len(suffix)])
            return Route(service, "host") if service else None
    for suffix in AWS_SUFFIXES:
        if name.endswith(suffix):
            labels = name[: -len(suffix)]
            service = _labels_service(labels)
            if service is None:
                raise RoutingError(
                    f"Host {name!r} is an endpoint of an AWS service Flotilla does not serve "
                    f"(it serves {_served()})"
                )
            return Route(service, "host")
    return None


def _labels_service(labels: str) -> str | None:
    """The service named by the rightmost label that is not a region/dualstack/fips qualifier.

    ``bucket.s3.us-west-2`` -> s3, ``streams.dynamodb.us-east-1`` -> dynamodb, ``us-east-1.queue`` -> sqs;
    scanning from the right keeps a bucket called ``sqs.logs`` in ``sqs.logs.s3`` from misleading us.
    """
    for label in reversed(labels.split(".")):
        if _QUALIFIER.match(label):
            continue
        return _host_label_service(label)
    return None


def _host_label_service(label: str) -> str | None:
    service = HOST_LABELS.get(label)
    if service is None and label.startswith("s3-") and not label.startswith("s3-control"):
        return "s3"  # s3-accelerate, s3-website-us-east-1, s3-us-west-2 (legacy dash-region), s3-fips
    return service


def _by_path(path: bytes) -> Route | None:
    """Step 4a: Lambda's REST paths all start with a dated API version."""
    if path.startswith(LAMBDA_PATH_PREFIXES):
        return Route("lambda", "path")
    return None


def _by_action(query: bytes, method: str, content_type: bytes, body_peek: bytes | None) -> Route | None:
    """Step 4b: the query protocol's ``Action`` + ``Version``, in the query string or a urlencoded body."""
    if _ACTION.search(query):
        return _by_version(query)
    if method != "POST" or not content_type.lower().startswith(_FORM):
        return None
    if body_peek is None:
        return NEED_BODY
    if _ACTION.search(body_peek):
        return _by_version(body_peek)
    return None


def _by_version(form: bytes) -> Route:
    params = dict(parse_qsl(form.decode("latin-1")))
    action, version = params.get("Action", ""), params.get("Version", "")
    if not action:
        raise RoutingError("The request has an empty Action parameter and no other sign of its service")
    service = QUERY_VERSIONS.get(version)
    if service is None:
        raise RoutingError(
            f"Action {action!r} with Version {version!r} is not an API Flotilla serves "
            f"(query-protocol versions: {', '.join(f'{v} ({s})' for v, s in QUERY_VERSIONS.items())})"
        )
    return Route(service, "action")


def _query_param(query: bytes, name: str) -> str | None:
    for key, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if key == name:
            return value
    return None


def _served() -> str:
    return ", ".join(dict.fromkeys(SIGNING_NAMES.values()))
