"""Node.js functions through the gateway with boto3: AWS's ``aws-lambda-ric`` runs them (local executor).

Needs ``node`` (skipped without it) and the runtime client that ``make node-ric`` builds (``make test``
does that first); with ``node`` but no client the fleet refuses Node.js runtimes and these tests fail.
"""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
import uuid
import zipfile

import pytest

from shared.aws.models import service_model

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="no node on PATH")

ROLE = "arn:aws:iam::000000000000:role/lambda-role"

ESM = """
let count = 0;

export const handler = async (event, context) => {
  count += 1;
  switch (event.action) {
    case "throw":
      throw new TypeError("boom: " + event.why);
    case "log":
      console.log("hello from node", event.n);
      return "logged";
    case "env":
      return Object.fromEntries(event.keys.map((k) => [k, process.env[k] ?? null]));
    case "count":
      return count;
    case "context":
      return {
        functionName: context.functionName,
        functionVersion: context.functionVersion,
        arn: context.invokedFunctionArn,
        memory: context.memoryLimitInMB,
        id: context.awsRequestId,
        group: context.logGroupName,
        remaining: context.getRemainingTimeInMillis(),
      };
    default:
      return { echo: event, module: "esm" };
  }
};
"""

CALLBACK = """
const path = require("path");

exports.handler = (event, context, callback) => {
  setTimeout(() => {
    if (event.fail) callback(new Error("callback failed"));
    else callback(null, { echo: event, module: path.basename(__filename) });
  }, 10);
};
"""

LAYER_USER = """
exports.handler = async () => require("greeting").greet("layer");
"""

LAYER_MODULE = """
exports.greet = (who) => "hello " + who;
"""


def make_zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buf.getvalue()


def node_runtime() -> str:
    """The model's ``nodejsNN.x`` for this machine's ``node``, else the newest ``nodejsNN.x`` it has."""
    enum = service_model("lambda").shape_for("Runtime").enum
    version = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout
    mine = f"nodejs{version.strip().lstrip('v').split('.')[0]}.x"
    if mine in enum:
        return mine
    return max((r for r in enum if re.fullmatch(r"nodejs\d+\.x", r)), key=lambda r: int(r[6:-2]))


@pytest.fixture(scope="module")
def lam(aws):
    return aws("lambda")


@pytest.fixture(scope="module")
def runtime() -> str:
    return node_runtime()


def create(lam, runtime: str, handler: str, files: dict[str, str], **extra) -> str:
    name = f"node-{uuid.uuid4().hex[:10]}"
    lam.create_function(
        FunctionName=name,
        Runtime=runtime,
        Role=ROLE,
        Handler=handler,
        Code={"ZipFile": make_zip(files)},
        **extra,
    )
    return name


@pytest.fixture(scope="module")
def fn(lam, runtime) -> str:
    files = {"index.mjs": ESM, "lib/callback.js": CALLBACK}
    return create(lam, runtime, "index.handler", files, Environment={"Variables": {"GREETING": "hi"}})


def call(lam, name: str, event: dict, **kwargs) -> tuple[dict, object]:
    out = lam.invoke(FunctionName=name, Payload=json.dumps(event).encode(), **kwargs)
    body = out["Payload"].read()
    return out, json.loads(body) if body else None


def test_esm_async_handler_returns_value(lam, fn):
    out, result = call(lam, fn, {"a": [1, 2]})
    assert out["StatusCode"] == 200
    assert "FunctionError" not in out
    assert result == {"echo": {"a": [1, 2]}, "module": "esm"}


def test_commonjs_callback_handler_in_a_subdirectory(lam, runtime):
    name = create(lam, runtime, "lib/callback.handler", {"lib/callback.js": CALLBACK})
    out, result = call(lam, name, {"b": 1})
    assert "FunctionError" not in out
    assert result == {"echo": {"b": 1}, "module": "callback.js"}
    out, result = call(lam, name, {"fail": True})
    assert out["FunctionError"] == "Unhandled"
    assert result["errorType"] == "Error"
    assert result["errorMessage"] == "callback failed"


def test_thrown_error_is_unhandled_with_lambdas_error_json(lam, fn):
    out, result = call(lam, fn, {"action": "throw", "why": "x"})
    assert out["StatusCode"] == 200
    assert out["FunctionError"] == "Unhandled"
    assert result["errorType"] == "TypeError"
    assert result["errorMessage"] == "boom: x"
    assert isinstance(result["trace"], list) and result["trace"][0].startswith("TypeError: boom: x")


def test_console_log_in_tail_with_lambdas_line_format(lam, fn):
    out, result = call(lam, fn, {"action": "log", "n": 7}, LogType="Tail")
    assert result == "logged"
    logs = base64.b64decode(out["LogResult"]).decode()
    start = re.search(r"START RequestId: (\S+)", logs)
    assert start is not None, logs
    request_id = start.group(1)
    line = re.compile(
        rf"^\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z\t{request_id}\tINFO\thello from node 7$", re.M
    )
    assert line.search(logs), logs
    assert f"REPORT RequestId: {request_id}" in logs


def test_env_vars(lam, fn):
    keys = ["GREETING", "AWS_LAMBDA_FUNCTION_NAME", "AWS_REGION", "_HANDLER", "NODE_PATH", "LAMBDA_TASK_ROOT",
            "AWS_EXECUTION_ENV", "PYTHONPATH"]  # fmt: skip
    _, env = call(lam, fn, {"action": "env", "keys": keys})
    assert env["GREETING"] == "hi"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == fn
    assert env["AWS_REGION"] == "us-east-1"
    assert env["_HANDLER"] == "index.handler"
    assert env["AWS_EXECUTION_ENV"].startswith("AWS_Lambda_nodejs")
    assert env["NODE_PATH"].split(":")[-1] == env["LAMBDA_TASK_ROOT"]
    assert env["PYTHONPATH"] is None


def test_context(lam, fn):
    _, ctx = call(lam, fn, {"action": "context"})
    assert ctx["functionName"] == fn
    assert ctx["functionVersion"] == "$LATEST"
    assert ctx["arn"].endswith(f":function:{fn}")
    assert str(ctx["memory"]) == "128"
    assert re.fullmatch(r"[0-9a-f-]{36}", ctx["id"])
    assert ctx["group"] == f"/aws/lambda/{fn}"
    assert 0 < ctx["remaining"] <= 3000


def test_warm_environment_keeps_module_state(lam, runtime):
    name = create(lam, runtime, "index.handler", {"index.mjs": ESM})
    counts = [call(lam, name, {"action": "count"})[1] for _ in range(3)]
    assert counts == [1, 2, 3]


@pytest.mark.parametrize(
    ("handler", "error_type"),
    [("index.nope", "Runtime.HandlerNotFound"), ("missing.handler", "Runtime.ImportModuleError")],
)
def test_handler_that_cannot_load_is_an_init_error(lam, runtime, handler, error_type):
    name = create(lam, runtime, handler, {"index.mjs": ESM})
    out, result = call(lam, name, {})
    assert out["FunctionError"] == "Unhandled"
    assert result["errorType"] == error_type


def test_layer_modules_are_on_node_path(lam, runtime):
    try:
        layer = lam.publish_layer_version(
            LayerName=f"greeting-{uuid.uuid4().hex[:8]}",
            Content={"ZipFile": make_zip({"nodejs/node_modules/greeting/index.js": LAYER_MODULE})},
            CompatibleRuntimes=[runtime],
        )
    except lam.exceptions.ClientError as err:  # layers are another part of the work
        if "NotImplemented" in err.response["Error"]["Code"]:
            pytest.skip("PublishLayerVersion is not implemented yet")
        raise
    name = create(lam, runtime, "app.handler", {"app.js": LAYER_USER}, Layers=[layer["LayerVersionArn"]])
    out, result = call(lam, name, {})
    assert "FunctionError" not in out, result
    assert result == "hello layer"
