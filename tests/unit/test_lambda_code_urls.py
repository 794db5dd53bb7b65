"""Code and layer download URLs (services/lambda/code_urls.py): tokens, paths, the route's answers."""

from __future__ import annotations

import hashlib
import importlib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shared.settings import Settings

code_urls = importlib.import_module("services.lambda.code_urls")
storage = importlib.import_module("services.lambda.storage")

SHA = "ab" * 32


def test_secret_is_made_once_and_kept(tmp_path: Path) -> None:
    first = code_urls.load_secret(tmp_path)
    assert len(first) == 32
    assert code_urls.load_secret(tmp_path) == first
    assert (tmp_path / "url-secret").stat().st_mode & 0o777 == 0o600
    assert code_urls.load_secret(tmp_path / "other") != first


def test_tokens_bind_the_path() -> None:
    signer = code_urls.UrlSigner(b"k" * 32)
    path = code_urls.code_path("000000000000", "us-east-1", "f", SHA)
    token = signer.token(path)
    assert signer.valid(path, token)
    assert not signer.valid(code_urls.code_path("111111111111", "us-east-1", "f", SHA), token)
    assert not signer.valid(path, None) and not signer.valid(path, "0" * 64)
    assert not code_urls.UrlSigner(b"x" * 32).valid(path, token)
    url = signer.url("http://localhost:4566/", path)
    assert url == f"http://localhost:4566/_flotilla/lambda/{path}?token={token}"


@pytest.mark.parametrize(
    "relative",
    [
        f"code/000000000000/us-east-1/../{SHA}.zip",
        f"code/000000000000/us-east-1/f/g/{SHA}.zip",
        f"code/000000000000/us-east-1/{SHA}.zip",
        "code/000000000000/us-east-1/f/records.db",
        f"layers/000000000000/{SHA}.zip",
        f"tasks/000000000000/us-east-1/f/{SHA}.zip",
        f"layers/000000000000/us east/{SHA}.zip",
    ],
)
def test_only_zip_paths_are_served(tmp_path: Path, relative: str) -> None:
    assert code_urls.file_for(tmp_path, relative) is None


def test_store_urls_are_served(tmp_path: Path) -> None:
    settings = Settings(service="lambda", data_dir=tmp_path, external_url="http://localhost:4566")
    store = storage.LambdaStore(settings.service_dir, settings.external_url)
    data = b"PK\x05\x06" + b"\0" * 18
    store.save_code("000000000000", "us-east-1", "fn", data)
    sha = hashlib.sha256(data).hexdigest()
    layer = store.save_layer_zip("111111111111", "us-east-1", data)
    code_url = store.code_url("000000000000", "us-east-1", "fn", sha)
    layer_url = store.layer_url("111111111111", "us-east-1", layer.stem)
    api = FastAPI()
    code_urls.mount(api, settings)
    client = TestClient(api)

    def get(url: str, method: str = "GET"):
        parts = urlsplit(url)
        return client.request(method, parts.path + ("?" + parts.query if parts.query else ""))

    for url in (code_url, layer_url):
        answer = get(url)
        assert answer.status_code == 200 and answer.content == data
        assert answer.headers["content-type"] == "application/zip"
        assert get(url, "HEAD").status_code == 200
    denied = get(code_url.split("?")[0])
    assert denied.status_code == 403
    assert b"<Code>AccessDenied</Code>" in denied.content
    other_account = code_url.replace("000000000000", "222222222222")
    assert get(other_account).status_code == 403
    swapped = layer_url.split("?")[0] + "?" + code_url.split("?")[1]
    assert get(swapped).status_code == 403
    store.drop_code("000000000000", "us-east-1", "fn", keep=set())  # as when no version uses it
    gone = get(code_url)
    assert gone.status_code == 404 and b"<Code>NoSuchKey</Code>" in gone.content
    store.close()
