"""Bucket policies and the public access block, enforced: the S3 app in process (through ASGI)
with ``enforce_access`` or ``enforce_sigv4`` on, so the shared fleet keeps serving unsigned
requests; and the fleet's default (anonymous access open, BlockPublicPolicy checked on Put)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from services.s3.app import create_app
from shared.settings import Settings

ENDPOINT = "http://localhost:4566"
OWNER = ("test", "test")  # maps to account 000000000000, the bucket's owner
OTHER = ("111122223333", "other-secret")  # a 12-digit key is its own account
ANON = None

Call = Callable[..., Awaitable[httpx.Response]]


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(principal: Any, action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": resource, **extra}


def deny(principal: Any, action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Principal": principal, "Action": action, "Resource": resource, **extra}


PUBLIC_READ = allow("*", "s3:GetObject", "arn:aws:s3:::pub/public/*")
PUBLIC_LIST = allow(
    {"AWS": "*"}, "s3:ListBucket", "arn:aws:s3:::pub", Condition={"StringLike": {"s3:prefix": "public/*"}}
)


def code_of(response: httpx.Response) -> str | None:
    if "<Code>" not in response.text:
        return None
    return response.text.split("<Code>", 1)[1].split("</Code>", 1)[0]


def run(settings: Settings, scenario: Callable[[Call], Awaitable[None]]) -> None:
    """Serve the app in process and run ``scenario(call)``; ``call(who, method, path, body=...)``
    sends the request anonymously (``ANON``) or SigV4-signed by ``who``'s (key, secret)."""
    app = create_app(settings)

    async def main() -> None:
        async with app.api.router.lifespan_context(app.api):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=ENDPOINT) as http:

                async def call(
                    who: tuple[str, str] | None,
                    method: str,
                    path: str,
                    body: bytes = b"",
                    headers: dict[str, str] | None = None,
                ) -> Any:
                    url = f"{ENDPOINT}{path}"
                    sent = dict(headers or {})
                    if who is not None:
                        request = AWSRequest(method=method, url=url, data=body, headers=sent)
                        S3SigV4Auth(Credentials(*who), "s3", "us-east-1").add_auth(request)
                        sent = dict(request.headers.items())
                    return await http.request(method, url, content=body, headers=sent)

                await scenario(call)

    asyncio.run(main())


def settings_for(tmp_path: Any, **kwargs: Any) -> Settings:
    return Settings(
        service="s3",
        data_dir=tmp_path,
        credentials=dict([OWNER, OTHER]),
        log_level="WARNING",
        **kwargs,
    )


async def setup_bucket(call: Call, bucket_policy: str | None = None) -> None:
    assert (await call(OWNER, "PUT", "/pub")).status_code == 200
    for key in ("public/a.txt", "public/secret.txt", "private/b.txt"):
        assert (await call(OWNER, "PUT", f"/pub/{key}", key.encode())).status_code == 200
    if bucket_policy is not None:
        assert (await call(OWNER, "PUT", "/pub?policy", bucket_policy.encode())).is_success


async def status(
    call: Call,
    who: tuple[str, str] | None,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> int:
    response = await call(who, method, path, body, headers)
    if response.status_code == 403:
        assert (code_of(response), "<Message>Access Denied</Message>" in response.text) == (
            "AccessDenied",
            True,
        )
    return response.status_code


# -- enforce_access: anonymous requests need a public policy ------------------------------------


def test_anonymous_access_follows_the_policy(tmp_path) -> None:
    async def scenario(call: Call) -> None:
        await setup_bucket(call)
        assert await status(call, ANON, "GET", "/pub/public/a.txt") == 403  # no policy: private
        doc = policy(PUBLIC_READ, PUBLIC_LIST, deny("*", "s3:GetObject", "arn:aws:s3:::pub/public/secret*"))
        assert (await call(OWNER, "PUT", "/pub?policy", doc.encode())).is_success

        got = await call(ANON, "GET", "/pub/public/a.txt")
        assert (got.status_code, got.content) == (200, b"public/a.txt")
        assert await status(call, ANON, "HEAD", "/pub/public/a.txt") == 200
        assert await status(call, ANON, "GET", "/pub/public/secret.txt") == 403  # the Deny wins
        assert await status(call, ANON, "GET", "/pub/private/b.txt") == 403  # outside the resource
        assert await status(call, ANON, "PUT", "/pub/public/new.txt", b"x") == 403  # not the action
        assert await status(call, ANON, "DELETE", "/pub/public/a.txt") == 403
        assert await status(call, ANON, "GET", "/pub?list-type=2&prefix=public/") == 200  # the condition
        assert await status(call, ANON, "GET", "/pub?list-type=2") == 403
        assert await status(call, ANON, "GET", "/pub?policy") == 403
        assert await status(call, ANON, "GET", "/") == 403  # ListBuckets: no bucket, no policy
        assert await status(call, ANON, "PUT", "/anon-bucket") == 403
        assert await status(call, ANON, "GET", "/missing/key") == 403  # no bucket: nothing public

        assert await status(call, OWNER, "GET", "/pub/private/b.txt") == 200  # signed: no Allow needed
        assert await status(call, OWNER, "GET", "/pub/public/secret.txt") == 403  # "*" denies everyone

    run(settings_for(tmp_path, extra={"enforce_access": "1"}), scenario)


def test_deny_for_another_account_and_owner_keeps_the_policy(tmp_path) -> None:
    other = {"AWS": f"arn:aws:iam::{OTHER[0]}:root"}
    doc = policy(
        allow(
            other, ["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::pub/*"
        ),  # another account needs an Allow
        deny(other, "s3:*", "arn:aws:s3:::pub/private/*"),
        deny({"AWS": OTHER[0]}, "s3:PutObject", "arn:aws:s3:::pub/*"),
    )

    async def scenario(call: Call) -> None:
        await setup_bucket(call, doc)
        assert await status(call, OTHER, "GET", "/pub/public/a.txt") == 200
        assert await status(call, OTHER, "GET", "/pub/private/b.txt") == 403
        assert await status(call, OTHER, "PUT", "/pub/public/c.txt", b"c") == 403
        assert await status(call, OWNER, "GET", "/pub/private/b.txt") == 200

        lockout = policy(deny("*", "s3:*", ["arn:aws:s3:::pub", "arn:aws:s3:::pub/*"]))
        assert (await call(OWNER, "PUT", "/pub?policy", lockout.encode())).is_success
        assert await status(call, OWNER, "GET", "/pub/public/a.txt") == 403
        assert await status(call, OWNER, "GET", "/pub?policy") == 200  # the owner can still repair it
        assert await status(call, OTHER, "DELETE", "/pub?policy") == 403
        assert await status(call, OWNER, "DELETE", "/pub?policy") in (200, 204)
        assert await status(call, OWNER, "GET", "/pub/public/a.txt") == 200

    run(settings_for(tmp_path, extra={"enforce_access": "1"}), scenario)


def test_delete_objects_answers_access_denied_per_key(tmp_path) -> None:
    """S3 judges DeleteObjects key by key: denied keys are AccessDenied entries, the rest go."""
    doc = policy(
        allow({"AWS": OTHER[0]}, "s3:DeleteObject", "arn:aws:s3:::pub/*"),
        deny({"AWS": OTHER[0]}, "s3:DeleteObject", "arn:aws:s3:::pub/private/*"),
    )
    body = (
        b"<Delete><Object><Key>public/a.txt</Key></Object><Object><Key>private/b.txt</Key></Object></Delete>"
    )
    md5 = {"Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode()}  # DeleteObjects needs it

    async def scenario(call: Call) -> None:
        await setup_bucket(call, doc)
        response = await call(OTHER, "POST", "/pub?delete", body, md5)
        assert response.status_code == 200, response.text
        result = ET.fromstring(response.content)
        ns = {"s3": "http://s3.amazonaws.com/doc/2006-03-01/"}
        assert [e.text for e in result.findall("s3:Deleted/s3:Key", ns)] == ["public/a.txt"]
        errors = [
            (
                e.findtext("s3:Key", namespaces=ns),
                e.findtext("s3:Code", namespaces=ns),
                e.findtext("s3:Message", namespaces=ns),
            )
            for e in result.findall("s3:Error", ns)
        ]
        assert errors == [("private/b.txt", "AccessDenied", "Access Denied")]
        assert await status(call, OWNER, "GET", "/pub/private/b.txt") == 200  # still there
        assert await status(call, OWNER, "GET", "/pub/public/a.txt") == 404
        everyone = await call(ANON, "POST", "/pub?delete", body, md5)  # anonymous: no Allow, every key denied
        codes = [
            e.findtext("s3:Code", namespaces=ns)
            for e in ET.fromstring(everyone.content).findall("s3:Error", ns)
        ]
        assert (everyone.status_code, codes) == (200, ["AccessDenied", "AccessDenied"])
        assert await status(call, ANON, "POST", "/missing?delete", body, md5) == 403  # no bucket, no policy

    run(settings_for(tmp_path, extra={"enforce_access": "1"}), scenario)


def test_public_access_block(tmp_path) -> None:
    def block(**flags: bool) -> bytes:
        inner = "".join(f"<{name}>{str(v).lower()}</{name}>" for name, v in flags.items())
        return f"<PublicAccessBlockConfiguration>{inner}</PublicAccessBlockConfiguration>".encode()

    async def scenario(call: Call) -> None:
        await setup_bucket(call, policy(PUBLIC_READ))
        assert await status(call, ANON, "GET", "/pub/public/a.txt") == 200
        put_block = await call(OWNER, "PUT", "/pub?publicAccessBlock", block(RestrictPublicBuckets=True))
        assert put_block.is_success
        assert await status(call, ANON, "GET", "/pub/public/a.txt") == 403  # public policy set aside
        assert await status(call, OWNER, "GET", "/pub/public/a.txt") == 200

        put_block = await call(OWNER, "PUT", "/pub?publicAccessBlock", block(BlockPublicPolicy=True))
        assert put_block.is_success
        assert await status(call, OWNER, "PUT", "/pub?policy", policy(PUBLIC_READ).encode()) == 403
        private = policy(allow({"AWS": OTHER[0]}, "s3:GetObject", "arn:aws:s3:::pub/*"))
        assert await status(call, OWNER, "PUT", "/pub?policy", private.encode()) in (200, 204)
        assert await status(call, ANON, "GET", "/pub/public/a.txt") == 403  # no public Allow left

    run(settings_for(tmp_path, extra={"enforce_access": "1"}), scenario)


def test_enforced_signatures_let_anonymous_requests_reach_the_policy(tmp_path) -> None:
    async def scenario(call: Call) -> None:
        await setup_bucket(call, policy(PUBLIC_READ))
        assert await status(call, ANON, "GET", "/pub/public/a.txt") == 200
        assert await status(call, ANON, "GET", "/pub/private/b.txt") == 403
        assert await status(call, OWNER, "GET", "/pub/private/b.txt") == 200
        forged = await call(("test", "wrong"), "GET", "/pub/public/a.txt")
        assert (forged.status_code, code_of(forged)) == (403, "SignatureDoesNotMatch")

    run(settings_for(tmp_path, enforce_sigv4=True), scenario)


def test_not_enforced_by_default_but_block_public_policy_is(tmp_path) -> None:
    async def scenario(call: Call) -> None:
        await setup_bucket(call, policy(deny("*", "s3:GetObject", "arn:aws:s3:::pub/*")))
        assert await status(call, ANON, "GET", "/pub/private/b.txt") == 200
        assert await status(call, ANON, "GET", "/") == 200
        pab = b"<PublicAccessBlockConfiguration><BlockPublicPolicy>true</BlockPublicPolicy></PublicAccessBlockConfiguration>"
        assert (await call(OWNER, "PUT", "/pub?publicAccessBlock", pab)).status_code == 200
        assert await status(call, OWNER, "PUT", "/pub?policy", policy(PUBLIC_READ).encode()) == 403

    run(settings_for(tmp_path), scenario)


def test_acls_open_objects_to_anonymous_requests(tmp_path) -> None:
    """How the S3 test suites check ACLs: a bucket with ACLs on, a public-read object."""

    async def scenario(call: Call) -> None:
        headers = {"x-amz-object-ownership": "ObjectWriter"}
        assert (await call(OWNER, "PUT", "/acl", headers=headers)).status_code == 200
        public = await call(OWNER, "PUT", "/acl/pub", b"p", headers={"x-amz-acl": "public-read"})
        assert public.status_code == 200, public.text
        assert (await call(OWNER, "PUT", "/acl/private", b"x")).status_code == 200
        got = await call(ANON, "GET", "/acl/pub")
        assert (got.status_code, got.content) == (200, b"p")
        assert await status(call, ANON, "GET", "/acl/private") == 403
        assert await status(call, ANON, "GET", "/acl?list-type=2") == 403  # the bucket is not public
        assert await status(call, OWNER, "PUT", "/acl?acl", headers={"x-amz-acl": "public-read"}) == 200
        assert await status(call, ANON, "GET", "/acl?list-type=2") == 200  # bucket READ: list
        assert await status(call, ANON, "GET", "/acl/missing") == 404  # ... so a missing key is 404
        assert await status(call, ANON, "PUT", "/acl/new", b"n") == 403  # READ is not WRITE

    run(settings_for(tmp_path, extra={"enforce_access": "1"}), scenario)


def test_conditions_on_request_headers(tmp_path) -> None:
    """aws:SourceIp (X-Forwarded-For) and aws:SecureTransport (X-Forwarded-Proto) as a proxy sends them."""
    doc = policy(
        allow(
            "*", "s3:GetObject", "arn:aws:s3:::pub/*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}
        ),
        deny("*", "s3:GetObject", "arn:aws:s3:::pub/*", Condition={"Bool": {"aws:SecureTransport": "false"}}),
    )

    async def scenario(call: Call) -> None:
        await setup_bucket(call, doc)
        inside = {"x-forwarded-for": "10.1.2.3", "x-forwarded-proto": "https"}
        assert await status(call, ANON, "GET", "/pub/public/a.txt", headers=inside) == 200
        outside = {"x-forwarded-for": "192.0.2.1", "x-forwarded-proto": "https"}
        assert await status(call, ANON, "GET", "/pub/public/a.txt", headers=outside) == 403
        assert (
            await status(call, ANON, "GET", "/pub/public/a.txt", headers={"x-forwarded-for": "10.1.2.3"})
            == 403
        )

    run(settings_for(tmp_path, extra={"enforce_access": "1"}), scenario)


# -- the shared fleet: enforcement is off --------------------------------------------------------


def test_fleet_serves_anonymous_requests_and_blocks_public_policies(aws, endpoint) -> None:
    s3 = aws("s3")
    bucket = f"access-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"open")
    assert httpx.get(f"{endpoint}/{bucket}/k").content == b"open"

    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={"BlockPublicPolicy": True, "RestrictPublicBuckets": True},
    )
    public = policy(allow("*", "s3:GetObject", f"arn:aws:s3:::{bucket}/*"))
    with pytest.raises(s3.exceptions.ClientError) as err:
        s3.put_bucket_policy(Bucket=bucket, Policy=public)
    assert err.value.response["Error"]["Code"] == "AccessDenied"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=public)
    s3.delete_bucket_policy(Bucket=bucket)
    s3.delete_object(Bucket=bucket, Key="k")
    s3.delete_bucket(Bucket=bucket)
