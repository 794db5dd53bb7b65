"""Queue identity: names, URLs and ARNs, and the rules for queue names.

A queue is ``(account, region, name)``. The URL Flotilla returns depends on the endpoint
strategy (``FLOTILLA_SQS_ENDPOINT_STRATEGY``, named after LocalStack's ``SQS_ENDPOINT_STRATEGY``):

- ``off`` (the default): ``<external_url>/<account>/<name>``, the legacy form. It needs no DNS,
  follows ``FLOTILLA_EXTERNAL_URL`` (a compose service name, a tunnel ...) and is what moto
  and older LocalStack return.
- ``standard``: ``http://sqs.<region>.localhost.localstack.cloud:<port>/<account>/<name>``,
  LocalStack's current default. The host resolves to 127.0.0.1 through public DNS only.
- ``path``: ``<external_url>/queue/<region>/<account>/<name>``.

Whatever the strategy, a ``QueueUrl`` in any of these forms is accepted on input, and so are
AWS's ``sqs.<region>.amazonaws.com`` / ``<region>.queue.amazonaws.com`` forms: the region comes
from the host or path when it names one, otherwise from the request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.context import RequestContext

from . import errors

_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")
_ACCOUNT = re.compile(r"\d{12}")
_REGION = re.compile(r"[a-z][a-z0-9-]{0,39}")
_REGION_HOSTS = (
    re.compile(r"^sqs\.([a-z0-9-]+)\.localhost\.localstack\.cloud$"),
    re.compile(r"^([a-z0-9-]+)\.queue\.localhost\.localstack\.cloud$"),
    re.compile(r"^sqs\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$"),
    re.compile(r"^([a-z0-9-]+)\.queue\.amazonaws\.com(?:\.cn)?$"),
)
_NAME_OR_FIFO = re.compile(r"[A-Za-z0-9_-]{1,80}(?:\.fifo)?")
REGION_PLACEHOLDER = "{region}"
STRATEGIES = ("off", "standard", "path")


@dataclass(frozen=True)
class QueueRef:
    account: str
    region: str
    name: str

    @property
    def fifo(self) -> bool:
        return self.name.endswith(".fifo")

    def url(self, base: str) -> str:
        """The queue's URL under ``base`` (see ``url_base``; it may hold a ``{region}`` placeholder)."""
        return f"{base.replace(REGION_PLACEHOLDER, self.region).rstrip('/')}/{self.account}/{self.name}"

    @property
    def valid(self) -> bool:
        """Whether any queue can have this account and name (else there is no need to look)."""
        return bool(_ACCOUNT.fullmatch(self.account) and _NAME_OR_FIFO.fullmatch(self.name))

    def arn(self, ctx: RequestContext) -> str:
        return ctx.arn("sqs", self.name, region=self.region, account=self.account)


def url_base(external_url: str, strategy: str = "off") -> str:
    """What queue URLs start with for an endpoint strategy (``{region}`` is filled in per queue)."""
    external_url = external_url.rstrip("/")
    if strategy == "standard":
        parts = urlsplit(external_url)
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme or 'http'}://sqs.{REGION_PLACEHOLDER}.localhost.localstack.cloud{port}"
    if strategy == "path":
        return f"{external_url}/queue/{REGION_PLACEHOLDER}"
    if strategy != "off":
        raise ValueError(f"unknown SQS endpoint strategy {strategy!r} (one of {', '.join(STRATEGIES)})")
    return external_url


def check_name(name: str, fifo: bool) -> None:
    """SQS's name rules: 1-80 of ``[A-Za-z0-9_-]``, where a FIFO queue's ``.fifo`` suffix counts."""
    if fifo:
        base = name[:-5]
        if not name.endswith(".fifo") or not base or not _NAME.fullmatch(base + "_fifo"):
            raise errors.invalid_parameter(
                "The name of a FIFO queue can only include alphanumeric characters, hyphens, or "
                "underscores, must end with .fifo suffix and be 1 to 80 in length."
            )
    elif not _NAME.fullmatch(name):
        raise errors.invalid_parameter(
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
        )


def _region_from_host(host: str) -> str | None:
    for pattern in _REGION_HOSTS:
        match = pattern.match(host)
        if match:
            return match.group(1)
    return None


def resolve_url(ctx: RequestContext, url: str) -> QueueRef:
    """The queue a ``QueueUrl`` names; an unreadable URL names no queue."""
    try:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        hostname = parts.hostname or ""
    except ValueError:  # e.g. an invalid IPv6 literal or port
        raise errors.queue_does_not_exist(ctx.protocol) from None
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) < 2 or not _ACCOUNT.fullmatch(segments[-2]) or not _NAME_OR_FIFO.fullmatch(segments[-1]):
        raise errors.queue_does_not_exist(ctx.protocol)
    region = _region_from_host(hostname.lower())
    if region is None and len(segments) >= 4 and segments[-4] == "queue" and _REGION.fullmatch(segments[-3]):
        region = segments[-3]
    return QueueRef(segments[-2], region or ctx.region, segments[-1])


def parse_queue_arn(arn: str) -> QueueRef | None:
    """``arn:<partition>:sqs:<region>:<account>:<name>`` -> the queue, or None for anything else."""
    parts = arn.split(":") if isinstance(arn, str) else []
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "sqs":
        return None
    _, _, _, region, account, name = parts
    if not _REGION.fullmatch(region) or not _ACCOUNT.fullmatch(account) or not _NAME_OR_FIFO.fullmatch(name):
        return None
    return QueueRef(account, region, name)


def arn_of(ref: QueueRef) -> str:
    """The queue's ARN without a request at hand (background tasks, bus events)."""
    return RequestContext(service="sqs", operation="", request_id="", region=ref.region).arn(
        "sqs", ref.name, region=ref.region, account=ref.account
    )
