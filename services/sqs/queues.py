"""Queue identity: names, URLs and ARNs, and the rules for queue names.

A queue is ``(account, region, name)``. Its URL is ``<external_url>/<account>/<name>``;
to resolve a ``QueueUrl`` we also accept LocalStack's ``sqs.<region>.localhost.localstack.cloud``
form and AWS's ``sqs.<region>.amazonaws.com`` / ``<region>.queue.amazonaws.com`` forms, which
name the region in the host. Otherwise the region is the request's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.context import RequestContext

from . import errors

_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")
_ACCOUNT = re.compile(r"\d{12}")
_REGION_HOSTS = (
    re.compile(r"^sqs\.([a-z0-9-]+)\.localhost\.localstack\.cloud$"),
    re.compile(r"^sqs\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$"),
    re.compile(r"^([a-z0-9-]+)\.queue\.amazonaws\.com(?:\.cn)?$"),
)


@dataclass(frozen=True)
class QueueRef:
    account: str
    region: str
    name: str

    @property
    def fifo(self) -> bool:
        return self.name.endswith(".fifo")

    def url(self, external_url: str) -> str:
        return f"{external_url.rstrip('/')}/{self.account}/{self.name}"

    def arn(self, ctx: RequestContext) -> str:
        return ctx.arn("sqs", self.name, region=self.region, account=self.account)


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
    parts = urlsplit(url if "://" in url else f"http://{url}")
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) < 2 or not _ACCOUNT.fullmatch(segments[-2]):
        raise errors.queue_does_not_exist(ctx.protocol)
    region = _region_from_host((parts.hostname or "").lower()) or ctx.region
    return QueueRef(segments[-2], region, segments[-1])
