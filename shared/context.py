"""The request context every handler receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.aws.http import HttpRequest


@dataclass
class RequestContext:
    """Who is asking, where, and for what.

    ``account_id`` comes from the access key (a 12-digit key is that account, any other key
    maps to ``000000000000``); ``region`` from the SigV4 credential scope (or the service's
    default region for unsigned requests). ``request`` is the raw request, for handlers that
    stream (S3 PutObject reads ``request.stream``). ``state`` is the service's state object
    (whatever its app factory put there), so handlers need no globals. A handler sets
    ``status`` for a success the model has no status member for (S3's 206 Partial Content).
    """

    service: str
    operation: str
    request_id: str
    account_id: str = "000000000000"
    region: str = "us-east-1"
    access_key: str | None = None
    protocol: str = ""
    request: HttpRequest | None = None
    state: Any = None
    status: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def partition(self) -> str:
        if self.region.startswith("cn-"):
            return "aws-cn"
        if self.region.startswith("us-gov-"):
            return "aws-us-gov"
        return "aws"

    def arn(
        self, service: str, resource: str, *, region: str | None = None, account: str | None = None
    ) -> str:
        """``arn:aws:<service>:<region>:<account>:<resource>`` in this request's scope."""
        r = self.region if region is None else region
        a = self.account_id if account is None else account
        return f"arn:{self.partition}:{service}:{r}:{a}:{resource}"
