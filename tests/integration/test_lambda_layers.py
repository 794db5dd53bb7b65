"""Lambda layers through the gateway with boto3: publish, list with filters, attach, permissions."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile

import pytest

from tests.integration.lambda_support import create_function, error_of, unique, zip_of


@pytest.fixture
def lam(aws):
    return aws("lambda")


def publish(lam, name: str, **kw) -> dict:
    content = kw.pop("Content", None) or {"ZipFile": zip_of({"python/shared_lib.py": "VALUE = 42\n"})}
    return lam.publish_layer_version(LayerName=name, Content=content, **kw)


def test_publish_get_list_delete(lam):
    name = unique("layer")
    data = zip_of({"python/shared_lib.py": "VALUE = 42\n"})
    v1 = publish(lam, name, Content={"ZipFile": data}, CompatibleRuntimes=["python3.12"], Description="one",
                 CompatibleArchitectures=["x86_64"], LicenseInfo="MIT")  # fmt: skip
    assert v1["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert v1["LayerVersionArn"] == f"arn:aws:lambda:us-east-1:000000000000:layer:{name}:1"
    assert v1["LayerArn"] == f"arn:aws:lambda:us-east-1:000000000000:layer:{name}"
    assert v1["Content"]["CodeSha256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert (v1["Version"], v1["Description"], v1["LicenseInfo"]) == (1, "one", "MIT")
    v2 = publish(lam, name, CompatibleRuntimes=["nodejs22.x"], CompatibleArchitectures=["arm64"])
    assert v2["Version"] == 2
    assert lam.get_layer_version(LayerName=name, VersionNumber=1)["Description"] == "one"
    assert lam.get_layer_version_by_arn(Arn=v2["LayerVersionArn"])["Version"] == 2
    assert lam.get_layer_version(LayerName=v1["LayerArn"], VersionNumber=2)["Version"] == 2
    assert [v["Version"] for v in lam.list_layer_versions(LayerName=name)["LayerVersions"]] == [2, 1]
    assert [v["Version"] for v in lam.list_layer_versions(LayerName=name, CompatibleRuntime="python3.12")["LayerVersions"]] == [1]  # fmt: skip
    assert [v["Version"] for v in lam.list_layer_versions(LayerName=name, CompatibleArchitecture="arm64")["LayerVersions"]] == [2]  # fmt: skip
    layers = {x["LayerName"]: x for x in lam.list_layers(CompatibleRuntime="python3.12")["Layers"]}
    assert layers[name]["LatestMatchingVersion"]["Version"] == 1
    pages = list(
        lam.get_paginator("list_layer_versions").paginate(LayerName=name, PaginationConfig={"PageSize": 1})
    )
    assert [v["Version"] for p in pages for v in p["LayerVersions"]] == [2, 1]
    lam.delete_layer_version(LayerName=name, VersionNumber=2)
    lam.delete_layer_version(LayerName=name, VersionNumber=2)  # again: no error
    assert error_of(lam.get_layer_version, LayerName=name, VersionNumber=2) == (
        "ResourceNotFoundException", 404, "The resource you requested does not exist.",
    )  # fmt: skip
    assert publish(lam, name)["Version"] == 3  # numbers are never reused


def test_functions_use_layers(lam):
    layer = publish(lam, unique("layer"))
    name = unique()
    source = "import shared_lib\n\ndef handler(event, context):\n    return shared_lib.VALUE\n"
    created = create_function(lam, name, source, Layers=[layer["LayerVersionArn"]])
    assert created["Layers"] == [{"Arn": layer["LayerVersionArn"], "CodeSize": layer["Content"]["CodeSize"]}]
    assert lam.invoke(FunctionName=name)["Payload"].read() == b"42"  # the layer's python/ is importable
    missing = layer["LayerVersionArn"][:-1] + "9"
    assert error_of(lam.update_function_configuration, FunctionName=name, Layers=[missing]) == (
        "InvalidParameterValueException", 400, f"Layer version {missing} does not exist.",
    )  # fmt: skip
    assert error_of(lam.update_function_configuration, FunctionName=name, Layers=[layer["LayerVersionArn"]] * 6)[2] == (
        "Cannot reference more than 5 layers."
    )  # fmt: skip
    lam.update_function_configuration(FunctionName=name, Layers=[])
    assert "Layers" not in lam.get_function_configuration(FunctionName=name)
    lam.update_function_configuration(FunctionName=name, Layers=[layer["LayerVersionArn"]])
    assert (
        lam.get_function(FunctionName=name)["Configuration"]["Layers"][0]["Arn"] == layer["LayerVersionArn"]
    )
    lam.delete_function(FunctionName=name)


def test_layer_permissions(lam):
    name = unique("layer")
    publish(lam, name)
    added = lam.add_layer_version_permission(
        LayerName=name,
        VersionNumber=1,
        StatementId="shared",
        Action="lambda:GetLayerVersion",
        Principal="111122223333",
    )
    assert '"Principal":{"AWS":"arn:aws:iam::111122223333:root"}' in added["Statement"]
    assert error_of(lam.add_layer_version_permission, LayerName=name, VersionNumber=1, StatementId="shared",
                    Action="lambda:GetLayerVersion", Principal="*")[:2] == ("ResourceConflictException", 409)  # fmt: skip
    policy = lam.get_layer_version_policy(LayerName=name, VersionNumber=1)
    assert policy["RevisionId"] == added["RevisionId"] and '"Sid":"shared"' in policy["Policy"]
    assert error_of(lam.remove_layer_version_permission, LayerName=name, VersionNumber=1, StatementId="shared",
                    RevisionId="stale")[:2] == ("PreconditionFailedException", 412)  # fmt: skip
    lam.remove_layer_version_permission(LayerName=name, VersionNumber=1, StatementId="shared")
    assert error_of(lam.get_layer_version_policy, LayerName=name, VersionNumber=1) == (
        "ResourceNotFoundException", 404, "No policy is associated with the given resource.",
    )  # fmt: skip
    assert error_of(lam.get_layer_version_policy, LayerName=name, VersionNumber=5)[2] == (
        f"Layer version arn:aws:lambda:us-east-1:000000000000:layer:{name}:5 does not exist."
    )


def zip_with_modes(files: dict[str, tuple[str, int]]) -> bytes:
    """A zip whose entries carry Unix modes (path -> (text, mode)), as `zip` on Linux makes them."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for path, (text, mode) in files.items():
            info = zipfile.ZipInfo(path)
            info.external_attr = (0o100000 | mode) << 16
            archive.writestr(info, text)
    return buf.getvalue()


LAYER_TOOL = '#!/bin/sh\necho "tool says $1"\n'
CALLS_TOOL = """
import os, subprocess


def handler(event, context):
    out = subprocess.run(["layer-tool", "hi"], capture_output=True, text=True, check=True).stdout
    opt = os.environ["FLOTILLA_LAMBDA_OPT"]
    return {"out": out, "opt_file": open(os.path.join(opt, "data.txt")).read(),
            "path_first": os.environ["PATH"].split(os.pathsep)[0] == os.path.join(opt, "bin"),
            "lib": os.path.join(opt, "lib") in os.environ["LD_LIBRARY_PATH"].split(os.pathsep)}
"""


def test_layer_binaries_are_on_path_with_the_local_executor(lam):
    content = zip_with_modes({"bin/layer-tool": (LAYER_TOOL, 0o755), "data.txt": ("layer data", 0o644)})
    layer = publish(lam, unique("layer"), Content={"ZipFile": content})
    name = unique()
    create_function(lam, name, CALLS_TOOL, Layers=[layer["LayerVersionArn"]], Timeout=10)
    out = lam.invoke(FunctionName=name)
    result = json.loads(out["Payload"].read())
    assert "FunctionError" not in out, result
    assert result == {"out": "tool says hi\n", "opt_file": "layer data", "path_first": True, "lib": True}
    lam.delete_function(FunctionName=name)
