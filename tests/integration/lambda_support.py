"""Helpers for Lambda integration tests: zips in memory, functions with unique names, AWS errors."""

from __future__ import annotations

import io
import time
import uuid
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::000000000000:role/lambda-role"

ECHO = "def handler(event, context):\n    return event\n"


def unique(prefix: str = "fn") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def zip_of(files: dict[str, str]) -> bytes:
    """A zip holding ``files`` (path -> text)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return buf.getvalue()


def create_function(client: Any, name: str, source: str = ECHO, **kw: Any) -> dict[str, Any]:
    """Create a Python function whose ``handler.py`` is ``source`` (handler ``handler.handler``);
    ``kw`` adds or overrides CreateFunction parameters."""
    params: dict[str, Any] = {
        "Runtime": "python3.12",
        "Role": ROLE,
        "Handler": "handler.handler",
        "Code": {"ZipFile": zip_of({"handler.py": source})},
    }
    return client.create_function(FunctionName=name, **{**params, **kw})


def error_of(call: Any, *args: Any, **kwargs: Any) -> tuple[str, int, str]:
    """(code, HTTP status, message) of the AWS error ``call`` raises."""
    with pytest.raises(ClientError) as err:
        call(*args, **kwargs)
    e = err.value.response
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"], e["Error"]["Message"]


def wait_for(
    check: Callable[[], Any], timeout: float = 30.0, what: str = "condition", interval: float = 0.1
) -> Any:
    """Poll ``check`` until it returns something truthy and return that; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout} s")
        time.sleep(interval)
