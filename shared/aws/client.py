"""Calling another service's public AWS API from inside the fleet.

DESIGN.md lets services talk through each other's public API over HTTP. This is the one client
for that: botocore's own serializer builds the request from the operation's model, botocore's
SigV4 signer signs it (so it passes when signatures are enforced), httpx sends it, botocore's
parser reads the answer. The gateway routes it like any user request.

Credentials: a call made on behalf of account ``000000000000`` uses the first configured key pair
(``FLOTILLA_CREDENTIALS``); a call for another account uses that 12-digit account id as its
access key (the fleet's account rule), with its configured secret or ``test``.

    client = AwsClient(settings.internal_url, settings.credentials)
    out = await client.call("sqs", "ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": 10},
                            account="000000000000", region="us-east-1")
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from botocore import parsers, serialize
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, HeadersDict, prepare_request_dict
from botocore.credentials import Credentials

from shared.aws.models import service_model

DEFAULT_ACCOUNT = "000000000000"


class AwsCallError(Exception):
    """The other service answered with an AWS error."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(f"{code} ({status}): {message}")
        self.code = code
        self.message = message
        self.status = status


class AwsClient:
    """One pooled HTTP client for every call this process makes to the fleet."""

    def __init__(
        self, endpoint_url: str, credentials: Mapping[str, str] | None = None, timeout: float = 30.0
    ) -> None:
        self.endpoint_url = endpoint_url.rstrip("/")
        self.credentials = dict(credentials or {"test": "test"})
        self._http = httpx.AsyncClient(timeout=timeout)

    async def close(self) -> None:
        await self._http.aclose()

    def _credentials(self, account: str) -> Credentials:
        if account == DEFAULT_ACCOUNT or not self.credentials:
            key, secret = next(iter(self.credentials.items()), ("test", "test"))
            return Credentials(key, secret)
        return Credentials(account, self.credentials.get(account, "test"))

    async def call(
        self,
        service: str,
        operation: str,
        params: dict[str, Any],
        *,
        account: str = DEFAULT_ACCOUNT,
        region: str = "us-east-1",
        http_timeout: float | None = None,
    ) -> dict[str, Any]:
        """Run ``operation`` of ``service`` (a botocore model name) and return its parsed output.

        Raises ``AwsCallError`` for an AWS error answer and ``httpx.HTTPError`` when the fleet
        cannot be reached. A streaming output payload (S3 GetObject's ``Body``) is returned as
        bytes, read whole: fine for what services fetch from each other (Lambda code zips).
        """
        model = service_model(service)
        op = model.operation_model(operation)
        request = serialize.create_serializer(model.metadata["protocol"]).serialize_to_request(params, op)
        prepare_request_dict(request, self.endpoint_url)
        aws_request = AWSRequest(
            method=request["method"], url=request["url"], data=request["body"], headers=request["headers"]
        )
        signing_name = model.metadata.get("signingName", model.endpoint_prefix)
        SigV4Auth(self._credentials(account), signing_name, region).add_auth(aws_request)
        prepared = aws_request.prepare()
        response = await self._http.request(
            prepared.method,
            prepared.url,
            headers=dict(prepared.headers.items()),
            content=prepared.body or b"",
            timeout=http_timeout if http_timeout is not None else httpx.USE_CLIENT_DEFAULT,
        )
        return self._parse(model, op, response)

    @staticmethod
    def _parse(model: Any, op: Any, response: httpx.Response) -> dict[str, Any]:
        parser = parsers.create_parser(model.metadata["protocol"])
        raw = {
            "status_code": response.status_code,
            "headers": HeadersDict(response.headers.items()),  # botocore reads headers case-insensitively
            "body": response.content,
        }
        streaming = op.has_streaming_output and response.status_code < 300
        if streaming:
            raw["body"] = _ReadBody(response.content)
        parsed = parser.parse(raw, op.output_shape)
        if response.status_code >= 300:
            error = parsed.get("Error", {})
            raise AwsCallError(
                error.get("Code", str(response.status_code)), error.get("Message", ""), response.status_code
            )
        parsed.pop("ResponseMetadata", None)
        if streaming:  # the payload member as bytes, not a stream
            payload = op.output_shape.serialization.get("payload")
            parsed[payload] = response.content
        return parsed


class _ReadBody:
    """What botocore's parser expects of a streaming body: something with ``read()``."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def read(self) -> bytes:
        return self._data
