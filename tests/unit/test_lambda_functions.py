"""Lambda without I/O: name/ARN resolution, input checks, code hashing, configuration, and the
handlers driven directly against a store in a temporary directory."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import importlib
import io
import zipfile
from datetime import UTC, datetime

import pytest

from shared.aws.errors import AwsError
from shared.context import RequestContext

functions = importlib.import_module("services.lambda.functions")
storage = importlib.import_module("services.lambda.storage")
handlers = importlib.import_module("services.lambda.handlers")

ROLE = "arn:aws:iam::000000000000:role/lambda-role"


def make_zip(files: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, text in (files or {"handler.py": "def handler(e, c):\n    return e\n"}).items():
            archive.writestr(name, text)
    return buf.getvalue()


def create_req(name: str = "fn", **extra) -> dict:
    req = {"FunctionName": name, "Runtime": "python3.12", "Role": ROLE, "Handler": "handler.handler"}
    req["Code"] = {"ZipFile": make_zip()}
    return {**req, **extra}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("my-fn", ("my-fn", None, None, None)),
        ("my-fn:$LATEST", ("my-fn", "$LATEST", None, None)),
        ("123456789012:function:my-fn", ("my-fn", None, None, "123456789012")),
        (
            "arn:aws:lambda:eu-west-1:123456789012:function:my_fn:prod",
            ("my_fn", "prod", "eu-west-1", "123456789012"),
        ),
    ],
)
def test_parse_ref_reads_names_partial_and_full_arns(value, expected):
    ref = functions.parse_ref(value)
    assert (ref.name, ref.qualifier, ref.region, ref.account) == expected


@pytest.mark.parametrize("value", ["bad name", "", "arn:aws:s3:::bucket", "fn:a:b"])
def test_parse_ref_refuses_what_is_not_a_function_name(value):
    assert functions.parse_ref(value) is None


def test_resolve_refuses_another_region_and_misses_another_account():
    ctx = RequestContext("lambda", "GetFunction", "r", account_id="000000000000", region="us-east-1")
    with pytest.raises(AwsError) as err:
        functions.resolve(ctx, "arn:aws:lambda:eu-west-1:000000000000:function:fn")
    assert err.value.code == "InvalidParameterValueException"
    assert "not reachable in this region ('us-east-1')" in err.value.message
    with pytest.raises(AwsError) as err:
        functions.resolve(ctx, "arn:aws:lambda:us-east-1:111111111111:function:fn")
    assert (err.value.code, err.value.status) == ("ResourceNotFoundException", 404)


def test_timestamp_and_sha_are_in_lambda_format():
    when = datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    assert functions.lambda_timestamp(when) == "2024-01-02T03:04:05.678+0000"
    data = make_zip()
    assert functions.code_sha256(data) == base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_check_create_collects_constraint_violations_as_validation_exception():
    with pytest.raises(AwsError) as err:
        functions.check_create(create_req("bad name", Role="not-a-role", MemorySize=64))
    e = err.value
    assert (e.code, e.status) == ("ValidationException", 400)
    assert e.message.startswith("3 validation errors detected: Value 'bad name' at 'functionName'")
    assert (
        "Value 'not-a-role' at 'role' failed to satisfy constraint: Member must satisfy regular" in e.message
    )
    assert (
        "Value '64' at 'memorySize' failed to satisfy constraint: Member must have value greater than"
        in e.message
    )


@pytest.mark.parametrize(
    ("req", "fragment"),
    [
        (create_req(Runtime="python9"), "Value python9 at 'runtime' failed to satisfy constraint"),
        (create_req(Runtime="python2.7"), "The runtime parameter of python2.7 is no longer supported"),
        (create_req(Handler=None), "Runtime and Handler are mandatory parameters"),
        (create_req(Code={"ZipFile": b"not a zip"}), "Could not unzip uploaded file. Please check your file"),
    ],
)
def test_check_create_refuses_bad_runtime_and_code(req, fragment):
    with pytest.raises(AwsError) as err:
        functions.check_create(req)
    assert (err.value.code, err.value.status) == ("InvalidParameterValueException", 400)
    assert fragment in err.value.message
    assert err.value.fields == {"Type": "User"}


def test_new_configuration_has_lambda_defaults():
    ctx = RequestContext("lambda", "CreateFunction", "r", account_id="123456789012", region="eu-west-1")
    data = make_zip()
    config = functions.new_configuration(ctx, "fn", create_req(), data, datetime(2024, 1, 1, tzinfo=UTC))
    assert config["FunctionArn"] == "arn:aws:lambda:eu-west-1:123456789012:function:fn"
    assert (config["Timeout"], config["MemorySize"], config["Version"]) == (3, 128, "$LATEST")
    assert (config["State"], config["LastUpdateStatus"]) == ("Active", "Successful")
    assert config["CodeSize"] == len(data)
    assert config["LastModified"] == "2024-01-01T00:00:00.000+0000"


# -- handlers against a real store ---------------------------------------------------------------


@pytest.fixture
def ctx(tmp_path):
    store = storage.LambdaStore(tmp_path, "http://localhost:4566")
    context = RequestContext("lambda", "", "req", account_id="000000000000", region="us-east-1", state=store)
    yield context
    store.close()


def call(ctx, op: str, req: dict) -> dict:
    return asyncio.run(handlers.handles.get(op)(ctx, req))


def test_create_get_list_delete_round_trip(ctx, tmp_path):
    data = make_zip()
    created = call(ctx, "CreateFunction", create_req("fn", Tags={"team": "a"}))
    assert created["CodeSha256"] == functions.code_sha256(data)
    stored = (
        tmp_path / "code" / "000000000000" / "us-east-1" / "fn" / f"{hashlib.sha256(data).hexdigest()}.zip"
    )
    assert stored.read_bytes() == data
    for ref in ("fn", "000000000000:function:fn", created["FunctionArn"], "fn:$LATEST"):
        got = call(ctx, "GetFunction", {"FunctionName": ref})
        assert got["Configuration"] == created
    assert got["Tags"] == {"team": "a"}
    assert got["Code"]["Location"].startswith("http://localhost:4566/_flotilla/lambda/code/")
    with pytest.raises(AwsError) as err:
        call(ctx, "CreateFunction", create_req("fn"))
    assert (err.value.code, err.value.status, err.value.message) == (
        "ResourceConflictException", 409, "Function already exist: fn",
    )  # fmt: skip
    assert call(ctx, "DeleteFunction", {"FunctionName": created["FunctionArn"]}) == {"StatusCode": 204}
    assert not stored.exists()
    with pytest.raises(AwsError) as err:
        call(ctx, "GetFunction", {"FunctionName": "fn"})
    assert (err.value.code, err.value.status) == ("ResourceNotFoundException", 404)
    assert err.value.message == "Function not found: arn:aws:lambda:us-east-1:000000000000:function:fn"


def test_unknown_qualifier_is_not_found(ctx):
    call(ctx, "CreateFunction", create_req("fn"))
    with pytest.raises(AwsError) as err:
        call(ctx, "GetFunction", {"FunctionName": "fn", "Qualifier": "7"})
    assert err.value.message == "Function not found: arn:aws:lambda:us-east-1:000000000000:function:fn:7"


def test_list_functions_pages_in_name_order(ctx):
    for name in ("c", "a", "d", "b", "e"):
        call(ctx, "CreateFunction", create_req(name))
    seen, marker = [], None
    while True:
        page = call(ctx, "ListFunctions", {"MaxItems": 2, **({"Marker": marker} if marker else {})})
        assert len(page["Functions"]) <= 2
        seen += [f["FunctionName"] for f in page["Functions"]]
        marker = page.get("NextMarker")
        if not marker:
            break
    assert seen == ["a", "b", "c", "d", "e"]
    assert [f["FunctionName"] for f in call(ctx, "ListFunctions", {})["Functions"]] == seen
