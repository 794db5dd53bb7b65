"""Downloadable code: ``GetFunction``'s ``Code.Location`` and ``GetLayerVersion``'s ``Content.Location``.

AWS answers presigned S3 URLs valid for ten minutes. Flotilla serves the zips itself, from the Lambda
service (the gateway routes ``/_flotilla/lambda/...`` here)::

    <external url>/_flotilla/lambda/code/<account>/<region>/<function>/<sha256 hex>.zip?token=<t>
    <external url>/_flotilla/lambda/layers/<account>/<region>/<sha256 hex>.zip?token=<t>

``token`` is an HMAC-SHA256 of the path under ``/_flotilla/lambda/`` with a secret of the service's
data directory (``<data dir>/lambda/url-secret``, made at first use; it survives restarts when
persistence is on, so URLs handed out stay valid). The URLs do not expire; without the token of that
very path the answer is S3's ``403 AccessDenied``, so one account cannot read another's code by
guessing names and hashes. A valid URL whose zip is gone (the function was deleted) is ``404
NoSuchKey``. Errors are S3's XML, as a presigned S3 URL would answer.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response

from shared.aws.errors import AwsError
from shared.aws.models import service_model
from shared.aws.protocol import create_serializer
from shared.settings import Settings

PREFIX = "/_flotilla/lambda/"
SECRET_FILE = "url-secret"
TOKEN = "token"
_SEGMENT = re.compile(r"^(?!\.\.?$)[A-Za-z0-9._-]+$")  # never "." or ".."
_ZIP = re.compile(r"^[0-9a-f]{64}\.zip$")


def load_secret(service_dir: Path) -> bytes:
    """The service's URL secret: read, or made once (concurrent makers agree on the first one written)."""
    path = service_dir / SECRET_FILE
    try:
        return bytes.fromhex(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        pass
    service_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{SECRET_FILE}.{os.getpid()}.tmp")
    tmp.write_text(secrets.token_hex(32))
    tmp.chmod(0o600)
    try:
        os.link(tmp, path)  # fails when another process made it first: use theirs
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return bytes.fromhex(path.read_text().strip())


class UrlSigner:
    """Tokens for the paths of code and layer zips (relative to ``/_flotilla/lambda/``)."""

    def __init__(self, secret: bytes) -> None:
        self.secret = secret

    def token(self, relative: str) -> str:
        return hmac.new(self.secret, relative.encode(), hashlib.sha256).hexdigest()

    def valid(self, relative: str, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(self.token(relative), token)

    def url(self, external_url: str, relative: str) -> str:
        return f"{external_url.rstrip('/')}{PREFIX}{relative}?{TOKEN}={self.token(relative)}"


def code_path(account: str, region: str, name: str, sha_hex: str) -> str:
    return f"code/{account}/{region}/{name}/{sha_hex}.zip"


def layer_path(account: str, region: str, sha_hex: str) -> str:
    return f"layers/{account}/{region}/{sha_hex}.zip"


def file_for(service_dir: Path, relative: str) -> Path | None:
    """Where a served path's zip lives; None for a path that is not one of ours (never outside the dir)."""
    parts = relative.split("/")
    if not parts or parts[0] not in ("code", "layers") or not _ZIP.match(parts[-1]):
        return None
    if len(parts) != (5 if parts[0] == "code" else 4) or not all(_SEGMENT.match(p) for p in parts):
        return None
    return service_dir.joinpath(*parts)


def mount(api: FastAPI, settings: Settings) -> None:
    """Serve the zips (``GET``/``HEAD``) next to the service's other ``/_flotilla/lambda/`` routes."""
    signers: list[UrlSigner] = []
    serializer = create_serializer(service_model("s3"))

    def signer() -> UrlSigner:
        if not signers:  # read after the service started (it wipes its directory without persistence)
            signers.append(UrlSigner(load_secret(settings.service_dir)))
        return signers[0]

    def s3_error(code: str, message: str, status: int) -> Response:
        answer = serializer.serialize_error(
            AwsError(code, message, status), None, secrets.token_hex(8).upper()
        )
        return Response(answer.body, answer.status, headers=dict(answer.headers))  # type: ignore[arg-type]

    async def download(kind: str, rest: str, request: Request) -> Response:
        relative = f"{kind}/{rest}"
        path = file_for(settings.service_dir, relative)
        if path is None or not signer().valid(relative, request.query_params.get(TOKEN)):
            return s3_error("AccessDenied", "Access Denied", 403)
        if not path.is_file():
            return s3_error("NoSuchKey", "The specified key does not exist.", 404)
        return FileResponse(path, media_type="application/zip")

    def route_for(kind: str) -> Callable[..., Awaitable[Response]]:
        async def route(rest: str, request: Request) -> Response:
            return await download(kind, rest, request)

        return route

    for kind in ("code", "layers"):
        api.add_api_route(
            PREFIX + kind + "/{rest:path}", route_for(kind), methods=["GET", "HEAD"], include_in_schema=False
        )
