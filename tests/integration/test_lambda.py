"""Lambda's control plane through the gateway with boto3: functions by name and ARN, paging, errors."""

from __future__ import annotations

import base64
import hashlib
import io
import uuid
import zipfile

import pytest
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::000000000000:role/lambda-role"


def unique(prefix: str = "fn") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def make_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()


def create(client, name: str, **extra) -> dict:
    params = {
        "Runtime": "python3.12",
        "Role": ROLE,
        "Handler": "handler.handler",
        "Code": {"ZipFile": make_zip()},
    }
    return client.create_function(FunctionName=name, **{**params, **extra})


def error_of(call, *args, **kwargs) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as err:
        call(*args, **kwargs)
    e = err.value.response
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"], e["Error"]["Message"]


@pytest.fixture
def lam(aws):
    return aws("lambda")


def test_create_get_delete_by_name_and_arns(lam):
    name = unique()
    data = make_zip()
    created = create(lam, name, Tags={"team": "core"}, Environment={"Variables": {"A": "1"}})
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert created["FunctionArn"] == arn
    assert created["CodeSha256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert created["CodeSize"] == len(data)
    assert (created["State"], created["StateReasonCode"], created["Version"]) == (
        "Pending",
        "Creating",
        "$LATEST",
    )
    assert created["Environment"] == {"Variables": {"A": "1"}}
    assert isinstance(created["LastModified"], str) and created["LastModified"].endswith("+0000")
    for ref in (name, f"000000000000:function:{name}", arn):
        got = lam.get_function(FunctionName=ref)
        assert got["Configuration"]["FunctionArn"] == arn
        assert got["Configuration"]["CodeSha256"] == created["CodeSha256"]
        assert (got["Configuration"]["State"], got["Configuration"]["LastUpdateStatus"]) == (
            "Active",
            "Successful",
        )
    assert got["Tags"] == {"team": "core"}
    assert got["Code"]["RepositoryType"] == "S3" and got["Code"]["Location"].startswith("http")
    deleted = lam.delete_function(FunctionName=arn)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert error_of(lam.get_function, FunctionName=name) == (
        "ResourceNotFoundException", 404, f"Function not found: {arn}",
    )  # fmt: skip
    assert error_of(lam.delete_function, FunctionName=name)[:2] == ("ResourceNotFoundException", 404)


def test_create_twice_conflicts(lam):
    name = unique()
    create(lam, name)
    assert error_of(create, lam, name) == (
        "ResourceConflictException",
        409,
        f"Function already exist: {name}",
    )
    lam.delete_function(FunctionName=name)


def test_create_refuses_bad_input(lam):
    code, status, message = error_of(create, lam, unique(), Code={"ZipFile": b"this is not a zip"})
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert message == "Could not unzip uploaded file. Please check your file, then try to upload again."
    code, status, message = error_of(create, lam, unique(), Runtime="python9.9")
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert message.startswith(
        "Value python9.9 at 'runtime' failed to satisfy constraint: Member must satisfy enum"
    )
    code, status, message = error_of(create, lam, unique(), Role="lambda-role")
    assert (code, status) == ("ValidationException", 400)
    assert message.startswith("1 validation error detected: Value 'lambda-role' at 'role' failed to satisfy")
    code, status, message = error_of(create, lam, "bad.name")
    assert (code, status) == ("ValidationException", 400)
    assert "at 'functionName' failed to satisfy constraint" in message


def test_list_functions_pages_with_marker(aws):
    lam = aws("lambda", region="eu-north-1")  # a region of its own: the listing is exactly ours
    names = sorted(unique() for _ in range(5))
    for name in names:
        create(lam, name)
    seen, marker = [], None
    while True:
        page = lam.list_functions(MaxItems=2, **({"Marker": marker} if marker else {}))
        assert len(page["Functions"]) <= 2
        seen += [f["FunctionName"] for f in page["Functions"]]
        marker = page.get("NextMarker")
        if not marker:
            break
    assert seen == names
    everything = [
        f["FunctionName"] for p in lam.get_paginator("list_functions").paginate() for f in p["Functions"]
    ]
    assert everything == names
    for name in names:
        lam.delete_function(FunctionName=name)
    assert lam.list_functions()["Functions"] == []
