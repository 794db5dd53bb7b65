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
    assert (created["State"], created["StateReason"], created["StateReasonCode"]) == (
        "Pending", "The function is being created.", "Creating",
    )  # fmt: skip
    assert "LastUpdateStatus" not in created
    settled = {k: v for k, v in created.items() if not k.startswith("StateReason")}
    settled.update(State="Active", LastUpdateStatus="Successful")
    for ref in ("fn", "000000000000:function:fn", created["FunctionArn"]):
        got = call(ctx, "GetFunction", {"FunctionName": ref})
        assert got["Configuration"] == settled
    qualified = call(ctx, "GetFunction", {"FunctionName": "fn:$LATEST"})["Configuration"]
    assert qualified["FunctionArn"] == created["FunctionArn"] + ":$LATEST"
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


# -- updates, versions, aliases, layers, limits ----------------------------------------------------

common = importlib.import_module("services.lambda.handlers.common")


def error_of(ctx, op: str, req: dict) -> AwsError:
    with pytest.raises(AwsError) as err:
        call(ctx, op, req)
    return err.value


def test_updates_answer_in_progress_and_check_revision(ctx):
    created = call(ctx, "CreateFunction", create_req("fn"))
    stale = error_of(
        ctx, "UpdateFunctionConfiguration", {"FunctionName": "fn", "RevisionId": "nope", "Timeout": 9}
    )
    assert (stale.code, stale.status) == ("PreconditionFailedException", 412)
    assert stale.message.startswith("The Revision Id provided does not match the latest Revision Id.")
    updated = call(
        ctx,
        "UpdateFunctionConfiguration",
        {"FunctionName": "fn", "RevisionId": created["RevisionId"], "Timeout": 9, "Description": "d",
         "Environment": {"Variables": {"A": "1"}}, "DeadLetterConfig": {"TargetArn": "arn:aws:sqs:us-east-1:000000000000:q"},
         "LoggingConfig": {"LogFormat": "JSON"}},
    )  # fmt: skip
    assert (updated["LastUpdateStatus"], updated["LastUpdateStatusReasonCode"]) == ("InProgress", "Creating")
    assert updated["RevisionId"] != created["RevisionId"]
    got = call(ctx, "GetFunctionConfiguration", {"FunctionName": "fn"})
    assert (got["LastUpdateStatus"], got["Timeout"], got["Description"]) == ("Successful", 9, "d")
    assert got["Environment"] == {"Variables": {"A": "1"}}
    assert got["LoggingConfig"]["ApplicationLogLevel"] == "INFO"
    new_zip = make_zip({"handler.py": "def handler(e, c):\n    return 2\n"})
    code = call(
        ctx, "UpdateFunctionCode", {"FunctionName": "fn", "ZipFile": new_zip, "RevisionId": got["RevisionId"]}
    )
    assert code["CodeSha256"] == functions.code_sha256(new_zip) and code["LastUpdateStatus"] == "InProgress"
    assert common.function_record(ctx, "fn")["CodeHex"] == hashlib.sha256(new_zip).hexdigest()


def test_limits_environment_layers_and_sizes(ctx):
    big = {"Variables": {"K": "x" * 4100}}
    err = error_of(ctx, "CreateFunction", create_req("fn", Environment=big))
    assert err.code == "InvalidParameterValueException"
    assert err.message.startswith(
        "Lambda was unable to configure your environment variables because the environment"
    )
    assert err.message.endswith('String measured: {"K":"' + "x" * 4100 + '"}')
    err = error_of(
        ctx, "CreateFunction", create_req("fn", Environment={"Variables": {"AWS_REGION": "x", "A": "1"}})
    )
    assert err.message.endswith(
        "not supported for modification. Reserved keys used in this request: AWS_REGION"
    )
    arns = [f"arn:aws:lambda:us-east-1:000000000000:layer:l{i}:1" for i in range(6)]
    err = error_of(ctx, "CreateFunction", create_req("fn", Layers=arns))
    assert err.message == "Cannot reference more than 5 layers."
    err = error_of(ctx, "CreateFunction", create_req("fn", Layers=arns[:1]))
    assert err.message == f"Layer version {arns[0]} does not exist."
    with pytest.raises(AwsError) as raised:
        functions.zip_code(b"x" * (functions.ZIP_UPLOAD_LIMIT + 1), "CreateFunction", direct=True)
    assert (raised.value.code, raised.value.status) == ("RequestEntityTooLargeException", 413)
    assert (
        raised.value.message == "Request must be smaller than 69905067 bytes for the CreateFunction operation"
    )
    with pytest.raises(AwsError) as raised:
        functions.check_unzipped(262144000 - 1000, 2000)
    assert raised.value.message == "Unzipped size must be smaller than 262142000 bytes"


def test_versions_publish_once_per_change_and_share_code(ctx):
    created = call(ctx, "CreateFunction", create_req("fn"))
    bad = error_of(ctx, "PublishVersion", {"FunctionName": "fn", "CodeSha256": "abc"})
    assert bad.message.startswith("CodeSHA256 (abc) is different from current CodeSHA256 in $LATEST")
    v1 = call(ctx, "PublishVersion", {"FunctionName": "fn", "Description": "first"})
    assert (v1["Version"], v1["FunctionArn"], v1["Description"]) == (
        "1",
        created["FunctionArn"] + ":1",
        "first",
    )
    again = call(ctx, "PublishVersion", {"FunctionName": "fn"})
    assert (again["Version"], again["RevisionId"]) == ("1", v1["RevisionId"])
    call(ctx, "UpdateFunctionConfiguration", {"FunctionName": "fn", "MemorySize": 256})
    v2 = call(ctx, "PublishVersion", {"FunctionName": "fn"})
    assert v2["Version"] == "2" and v2["MemorySize"] == 256
    assert (
        call(ctx, "GetFunction", {"FunctionName": "fn", "Qualifier": "1"})["Configuration"]["MemorySize"]
        == 128
    )
    listed = call(ctx, "ListVersionsByFunction", {"FunctionName": "fn", "MaxItems": 2})
    assert [v["Version"] for v in listed["Versions"]] == ["$LATEST", "1"] and "State" not in listed[
        "Versions"
    ][0]
    rest = call(ctx, "ListVersionsByFunction", {"FunctionName": "fn", "Marker": listed["NextMarker"]})
    assert [v["Version"] for v in rest["Versions"]] == ["2"] and "NextMarker" not in rest
    everything = call(ctx, "ListFunctions", {"FunctionVersion": "ALL"})["Functions"]
    assert [f["FunctionArn"].rsplit(":", 1)[1] for f in everything] == ["$LATEST", "1", "2"]
    assert common.function_record(ctx, "fn", "1")["CodeHex"] == common.function_record(ctx, "fn")["CodeHex"]


def test_aliases_route_by_weight_and_guard_their_versions(ctx):
    call(ctx, "CreateFunction", create_req("fn"))
    call(ctx, "PublishVersion", {"FunctionName": "fn"})
    call(ctx, "UpdateFunctionConfiguration", {"FunctionName": "fn", "Timeout": 5})
    call(ctx, "PublishVersion", {"FunctionName": "fn"})
    routing = {"AdditionalVersionWeights": {"2": 0.5}}
    alias = call(
        ctx,
        "CreateAlias",
        {"FunctionName": "fn", "Name": "live", "FunctionVersion": "1", "RoutingConfig": routing},
    )
    assert alias["AliasArn"].endswith(":function:fn:live") and alias["RoutingConfig"] == routing
    dup = error_of(ctx, "CreateAlias", {"FunctionName": "fn", "Name": "live", "FunctionVersion": "1"})
    assert (dup.code, dup.message) == (
        "ResourceConflictException",
        f"Alias already exists: {alias['AliasArn']}",
    )
    for weights, code in (({"1": 0.5}, "InvalidParameterValueException"), ({"2": 0.1, "3": 0.1}, "InvalidParameterValueException"),
                          ({"2": 1.5}, "ValidationException"), ({"9": 0.5}, "ResourceNotFoundException")):  # fmt: skip
        req = {"FunctionName": "fn", "Name": "x", "FunctionVersion": "1", "RoutingConfig": {"AdditionalVersionWeights": weights}}  # fmt: skip
        assert error_of(ctx, "CreateAlias", req).code == code
    latest = error_of(ctx, "CreateAlias", {"FunctionName": "fn", "Name": "x", "FunctionVersion": "$LATEST", "RoutingConfig": routing})  # fmt: skip
    assert latest.message == "$LATEST is not supported for an alias pointing to more than 1 version"
    ran = {common.invocation_record(ctx, "fn:live")[1] for _ in range(60)}
    assert ran == {"1", "2"}
    assert common.function_record(ctx, "fn", "live")["Configuration"]["Version"] == "1"
    blocked = error_of(ctx, "DeleteFunction", {"FunctionName": "fn", "Qualifier": "2"})
    assert (blocked.code, blocked.status) == ("ResourceConflictException", 409)
    assert blocked.message == "Unable to delete version because the following aliases reference it: [live]"
    stale = error_of(ctx, "UpdateAlias", {"FunctionName": "fn", "Name": "live", "RevisionId": "x"})
    assert stale.code == "PreconditionFailedException"
    call(
        ctx,
        "UpdateAlias",
        {"FunctionName": "fn", "Name": "live", "FunctionVersion": "1", "RoutingConfig": {}},
    )
    assert "RoutingConfig" not in call(ctx, "GetAlias", {"FunctionName": "fn", "Name": "live"})
    assert call(ctx, "DeleteFunction", {"FunctionName": "fn", "Qualifier": "2"}) == {"StatusCode": 204}
    call(ctx, "DeleteAlias", {"FunctionName": "fn", "Name": "live"})
    gone = error_of(ctx, "GetAlias", {"FunctionName": "fn", "Name": "live"})
    assert gone.message == "Cannot find alias arn: arn:aws:lambda:us-east-1:000000000000:function:fn:live"


def test_save_function_keeps_function_wide_keys_on_the_function(ctx):
    call(ctx, "CreateFunction", create_req("fn"))
    call(ctx, "PublishVersion", {"FunctionName": "fn"})
    doc = common.function_record(ctx, "fn", "1")
    doc["Tags"], doc["Concurrency"] = {"a": "b"}, {"ReservedConcurrentExecutions": 3}
    common.save_function(ctx, doc)
    latest = common.function_record(ctx, "fn")
    assert latest["Configuration"]["Version"] == "$LATEST"
    assert (latest["Tags"], latest["Concurrency"]) == ({"a": "b"}, {"ReservedConcurrentExecutions": 3})


def test_layers_publish_list_attach_and_paths(ctx, tmp_path):
    layer_zip = make_zip({"python/lib.py": "X = 1\n"})
    v1 = call(ctx, "PublishLayerVersion", {"LayerName": "lib", "Content": {"ZipFile": layer_zip}, "CompatibleRuntimes": ["python3.12"]})  # fmt: skip
    v2 = call(ctx, "PublishLayerVersion", {"LayerName": "lib", "Content": {"ZipFile": layer_zip}, "CompatibleRuntimes": ["nodejs22.x"]})  # fmt: skip
    assert (v1["Version"], v2["Version"]) == (1, 2)
    assert v1["LayerVersionArn"] == "arn:aws:lambda:us-east-1:000000000000:layer:lib:1"
    assert v1["Content"]["CodeSize"] == len(layer_zip) and v1["Content"]["Location"].startswith("http")
    listed = call(ctx, "ListLayerVersions", {"LayerName": "lib"})["LayerVersions"]
    assert [v["Version"] for v in listed] == [2, 1]
    py = call(ctx, "ListLayers", {"CompatibleRuntime": "python3.12"})["Layers"]
    assert [(x["LayerName"], x["LatestMatchingVersion"]["Version"]) for x in py] == [("lib", 1)]
    created = call(ctx, "CreateFunction", create_req("fn", Layers=[v1["LayerVersionArn"]]))
    assert created["Layers"] == [{"Arn": v1["LayerVersionArn"], "CodeSize": len(layer_zip)}]
    (path,) = common.layer_paths(ctx, common.function_record(ctx, "fn"))
    assert path.read_bytes() == layer_zip
    call(ctx, "DeleteLayerVersion", {"LayerName": "lib", "VersionNumber": 1})
    assert error_of(ctx, "GetLayerVersion", {"LayerName": "lib", "VersionNumber": 1}).status == 404
    assert path.exists()  # the function keeps working
    v3 = call(ctx, "PublishLayerVersion", {"LayerName": "lib", "Content": {"ZipFile": layer_zip}})
    assert v3["Version"] == 3
    perm = {"LayerName": "lib", "VersionNumber": 3, "StatementId": "all", "Action": "lambda:GetLayerVersion", "Principal": "*"}  # fmt: skip
    added = call(ctx, "AddLayerVersionPermission", perm)
    assert '"Principal":"*"' in added["Statement"]
    policy = call(ctx, "GetLayerVersionPolicy", {"LayerName": "lib", "VersionNumber": 3})
    assert policy["RevisionId"] == added["RevisionId"] and '"Sid":"all"' in policy["Policy"]
    assert error_of(ctx, "AddLayerVersionPermission", perm).code == "ResourceConflictException"
    call(ctx, "RemoveLayerVersionPermission", {"LayerName": "lib", "VersionNumber": 3, "StatementId": "all"})
    assert error_of(ctx, "GetLayerVersionPolicy", {"LayerName": "lib", "VersionNumber": 3}).code == "ResourceNotFoundException"  # fmt: skip
