"""Lambda's resource policy statements (policy.py), function URL records (urls_config.py) and the
cleanup of a function's configuration records (function_configs.py), without a service."""

from __future__ import annotations

import importlib
import json

import pytest

from shared.records import RecordStore

policy = importlib.import_module("services.lambda.policy")
urls_config = importlib.import_module("services.lambda.urls_config")
function_configs = importlib.import_module("services.lambda.function_configs")

ARN = "arn:aws:lambda:us-east-1:000000000000:function:f"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("*", "*"),
        ("123456789012", {"AWS": "arn:aws:iam::123456789012:root"}),
        ("arn:aws:iam::123456789012:role/r", {"AWS": "arn:aws:iam::123456789012:role/r"}),
        ("s3.amazonaws.com", {"Service": "s3.amazonaws.com"}),
        ("events.amazonaws.com.cn", {"Service": "events.amazonaws.com.cn"}),
    ],
)
def test_principal_forms(given, expected):
    assert policy.principal(given) == expected


def test_principal_in_other_partition_and_invalid():
    assert policy.principal("123456789012", "aws-cn") == {"AWS": "arn:aws-cn:iam::123456789012:root"}
    for bad in ("bogus", "12345", "s3.example.com"):
        with pytest.raises(policy.InvalidPrincipal):
            policy.principal(bad)


def test_statement_without_conditions():
    req = {"StatementId": "a", "Action": "lambda:InvokeFunction", "Principal": "sns.amazonaws.com"}
    assert policy.statement(ARN, req) == {
        "Sid": "a",
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": ARN,
    }


def test_conditions_in_lambdas_order():
    req = {
        "StatementId": "a",
        "Action": "lambda:InvokeFunction",
        "Principal": "*",
        "SourceArn": "arn:aws:s3:::b",
        "SourceAccount": "123456789012",
        "PrincipalOrgID": "o-abcdefghij",
        "FunctionUrlAuthType": "NONE",
        "EventSourceToken": "tok",
        "InvokedViaFunctionUrl": True,
    }
    condition = policy.statement(ARN, req)["Condition"]
    assert list(condition) == ["StringEquals", "ArnLike", "Bool"]
    assert condition["StringEquals"] == {
        "AWS:SourceAccount": "123456789012",
        "aws:PrincipalOrgID": "o-abcdefghij",
        "lambda:FunctionUrlAuthType": "NONE",
        "lambda:EventSourceToken": "tok",
    }
    assert condition["ArnLike"] == {"AWS:SourceArn": "arn:aws:s3:::b"}
    assert condition["Bool"] == {"lambda:InvokedViaFunctionUrl": "true"}


def test_document_is_compact_json_and_size_limit():
    s = {"Sid": "a", "Effect": "Allow", "Principal": "*", "Action": "lambda:*", "Resource": ARN}
    text = policy.to_json(policy.document([s]))
    assert text.startswith('{"Version":"2012-10-17","Id":"default","Statement":[{"Sid":"a"')
    assert json.loads(text)["Statement"] == [s]
    assert policy.find([s], "a") is s and policy.find([s], "b") is None
    assert policy.too_long([s]) is None
    big = [{**s, "Sid": f"s{i}", "Resource": ARN + "x" * 200} for i in range(100)]
    assert policy.too_long(big) > policy.MAX_POLICY_BYTES


def test_function_url_format():
    url = urls_config.function_url("http://localhost:4566", "a" * 32, "eu-west-1")
    assert url == f"http://{'a' * 32}.lambda-url.eu-west-1.localhost.localstack.cloud:4566/"
    assert urls_config.function_url("https://example.com", "b" * 32, "us-east-1").startswith("https://bbb")
    assert urls_config.function_url("https://example.com", "b" * 32, "us-east-1").endswith(".cloud/")
    url_id = urls_config.new_url_id()
    assert len(url_id) == 32 and url_id.isalnum() and url_id == url_id.lower()


def test_url_records_found_by_id_and_by_function():
    records = RecordStore(":memory:")
    url_id = urls_config.new_url_id()
    doc = {
        "FunctionUrl": urls_config.function_url("http://localhost:4566", url_id, "us-east-1"),
        "FunctionArn": ARN,
        "AuthType": "NONE",
        "FunctionName": "f",
        "Qualifier": None,
    }
    urls_config.save(records, "111122223333", "us-east-1", url_id, doc)
    assert urls_config.url_config(records, "111122223333", "us-east-1", url_id) == doc
    assert urls_config.locate(records, url_id) == ("111122223333", "us-east-1")
    assert urls_config.find_url(records, url_id) == doc
    assert urls_config.for_function(records, "111122223333", "us-east-1", "f", None) == doc
    assert urls_config.for_function(records, "111122223333", "us-east-1", "f", "live") is None
    urls_config.delete(records, "111122223333", "us-east-1", doc)
    assert urls_config.find_url(records, url_id) is None
    assert urls_config.of_function(records, "111122223333", "us-east-1", "f") == []


def test_forget_function_drops_its_records_only():
    records = RecordStore(":memory:")
    a, r = "000000000000", "us-east-1"
    for name in ("f", "g"):
        for q in ("$LATEST", "1"):
            records.put(a, r, function_configs.POLICY, f"{name}:{q}", {"Statement": [], "RevisionId": "x"})
        records.put(a, r, function_configs.RECURSION, name, {"RecursiveLoop": "Allow"})
        url_id = urls_config.new_url_id()
        url = urls_config.function_url("http://localhost:4566", url_id, r)
        urls_config.save(records, a, r, url_id, {"FunctionUrl": url, "FunctionName": name, "Qualifier": None})
    function_configs.forget_function(records, a, r, "f", "1")
    assert [i for i, _ in records.list(a, r, function_configs.POLICY)] == ["f:$LATEST", "g:$LATEST", "g:1"]
    function_configs.forget_function(records, a, r, "f")
    assert [i for i, _ in records.list(a, r, function_configs.POLICY)] == ["g:$LATEST", "g:1"]
    assert records.get(a, r, function_configs.RECURSION, "f") is None
    assert [d["FunctionName"] for d in urls_config.of_function(records, a, r, "g")] == ["g"]
    assert urls_config.of_function(records, a, r, "f") == []
