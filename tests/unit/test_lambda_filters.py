"""Event source mapping filters (services/lambda/filters.py): Lambda's pattern syntax, checked and matched."""

from __future__ import annotations

import importlib
import json

import pytest

from shared.aws.errors import AwsError

filters = importlib.import_module("services.lambda.filters")


def match(pattern: dict, record: dict) -> bool:
    return filters.matches(filters.parse_pattern(json.dumps(pattern)), record)


RECORD = {
    "eventName": "INSERT",
    "size": 12,
    "ratio": 0.5,
    "flag": True,
    "nothing": None,
    "empty": "",
    "name": "Alice",
    "file": "photo.PNG",
    "tags": ["red", "green"],
    "items": [{"kind": "a", "n": 1}, {"kind": "b", "n": 5}],
    "dynamodb": {"Keys": {"id": {"S": "k-1"}}, "NewImage": {"status": {"S": "done"}, "qty": {"N": "7"}}},
}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"eventName": ["INSERT"]}, True),
        ({"eventName": ["MODIFY", "INSERT"]}, True),  # OR within a list
        ({"eventName": ["REMOVE"]}, False),
        ({"eventName": ["insert"]}, False),  # case matters
        ({"size": [12]}, True),
        ({"size": [12.0]}, True),  # numbers by value
        ({"size": ["12"]}, False),  # a string is not a number
        ({"flag": [True]}, True),
        ({"flag": ["true"]}, False),
        ({"flag": [1]}, False),  # true is not 1
        ({"nothing": [None]}, True),
        ({"missing": [None]}, False),  # null matches a present null only
        ({"empty": [""]}, True),
        ({"name": [""]}, False),
        ({"eventName": ["INSERT"], "size": [12]}, True),  # AND across keys
        ({"eventName": ["INSERT"], "size": [13]}, False),
        ({"missing": ["x"]}, False),
    ],
)
def test_exact_values(pattern: dict, expected: bool) -> None:
    assert match(pattern, RECORD) is expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"name": [{"prefix": "Al"}]}, True),
        ({"name": [{"prefix": "al"}]}, False),
        ({"file": [{"suffix": ".PNG"}]}, True),
        ({"file": [{"suffix": ".png"}]}, False),
        ({"name": [{"equals-ignore-case": "aLiCe"}]}, True),
        ({"name": [{"equals-ignore-case": "bob"}]}, False),
        ({"size": [{"prefix": "1"}]}, False),  # string operators on numbers never match
        ({"name": [{"anything-but": "Bob"}]}, True),
        ({"name": [{"anything-but": ["Bob", "Alice"]}]}, False),
        ({"size": [{"anything-but": [1, 2]}]}, True),
        ({"size": [{"anything-but": 12}]}, False),
        ({"name": [{"anything-but": {"prefix": "A"}}]}, False),
        ({"name": [{"anything-but": {"prefix": "B"}}]}, True),
        ({"file": [{"anything-but": {"suffix": ".jpg"}}]}, True),
        ({"name": [{"anything-but": {"equals-ignore-case": "ALICE"}}]}, False),
        ({"missing": [{"anything-but": "x"}]}, False),  # anything-but needs the field
    ],
)
def test_string_operators(pattern: dict, expected: bool) -> None:
    assert match(pattern, RECORD) is expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"size": [{"numeric": ["=", 12]}]}, True),
        ({"size": [{"numeric": [">", 10]}]}, True),
        ({"size": [{"numeric": [">", 12]}]}, False),
        ({"size": [{"numeric": [">=", 12]}]}, True),
        ({"size": [{"numeric": ["<", 12]}]}, False),
        ({"size": [{"numeric": ["<=", 12]}]}, True),
        ({"size": [{"numeric": [">", 10, "<=", 12]}]}, True),
        ({"size": [{"numeric": [">", 12, "<", 20]}]}, False),
        ({"ratio": [{"numeric": [">", 0, "<", 1]}]}, True),
        ({"name": [{"numeric": [">", 0]}]}, False),
        ({"dynamodb": {"NewImage": {"qty": {"N": [{"numeric": [">", 1]}]}}}}, False),  # N values are strings
        ({"missing": [{"numeric": [">", 0]}]}, False),
    ],
)
def test_numeric(pattern: dict, expected: bool) -> None:
    assert match(pattern, RECORD) is expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"name": [{"exists": True}]}, True),
        ({"name": [{"exists": False}]}, False),
        ({"missing": [{"exists": False}]}, True),
        ({"missing": [{"exists": True}]}, False),
        ({"nothing": [{"exists": True}]}, True),  # present, even if null
        ({"dynamodb": [{"exists": True}]}, False),  # exists applies to leaves, not objects
        ({"tags": [{"exists": True}]}, True),
        ({"gone": {"deeper": [{"exists": False}]}}, True),  # missing parent: the leaf is missing
        ({"gone": {"deeper": [{"exists": True}]}}, False),
    ],
)
def test_exists(pattern: dict, expected: bool) -> None:
    assert match(pattern, RECORD) is expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"dynamodb": {"Keys": {"id": {"S": ["k-1"]}}}}, True),
        ({"dynamodb": {"NewImage": {"status": {"S": ["done"]}}}}, True),
        ({"dynamodb": {"NewImage": {"status": {"S": ["open"]}}}}, False),
        ({"dynamodb": {"NewImage": {"status": ["done"]}}}, False),  # the value is an object
        ({"name": {"first": ["Alice"]}}, False),  # a nested pattern on a string
        ({"tags": ["green"]}, True),  # a list field: one element suffices
        ({"tags": ["blue"]}, False),
        ({"tags": [{"prefix": "gr"}]}, True),
        ({"items": {"kind": ["b"]}}, True),  # a list of objects: one of them
        ({"items": {"kind": ["c"]}}, False),
        ({"items": {"n": [{"numeric": [">", 4]}]}}, True),
    ],
)
def test_nested_and_lists(pattern: dict, expected: bool) -> None:
    assert match(pattern, RECORD) is expected


def test_or_of_fields() -> None:
    assert match({"$or": [{"name": ["Bob"]}, {"size": [12]}]}, RECORD)
    assert not match({"$or": [{"name": ["Bob"]}, {"size": [13]}]}, RECORD)
    assert not match({"eventName": ["REMOVE"], "$or": [{"name": ["Alice"]}, {"size": [12]}]}, RECORD)


def test_any_filter_passes_a_record() -> None:
    patterns = filters.compile_criteria(
        {"Filters": [{"Pattern": json.dumps({"name": ["Bob"]})}, {"Pattern": json.dumps({"size": [12]})}]}
    )
    assert filters.matches_any(patterns, RECORD)
    assert not filters.matches_any(patterns[:1], RECORD)
    assert filters.matches_any(None, RECORD)
    assert filters.compile_criteria(None) is None
    assert filters.compile_criteria({"Filters": []}) is None


def test_sqs_body_is_parsed_when_json() -> None:
    record = {"messageId": "m", "body": json.dumps({"kind": "order", "total": 30})}
    view = filters.sqs_view(record)
    assert match({"body": {"kind": ["order"], "total": [{"numeric": [">=", 30]}]}}, view)
    assert not match({"body": {"kind": ["refund"]}}, view)
    assert not match({"body": [record["body"]]}, view)  # JSON bodies are matched as objects
    plain = filters.sqs_view({"messageId": "m", "body": "hello world"})
    assert match({"body": ["hello world"]}, plain)
    assert match({"body": [{"prefix": "hello"}]}, plain)
    assert not match({"body": {"kind": ["order"]}}, plain)  # an object pattern never matches plain text
    assert filters.sqs_view(record)["body"] == {"kind": "order", "total": 30}
    assert record["body"].startswith("{")  # the record itself is not changed


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[]",
        "{}",
        '"string"',
        '{"a": "b"}',  # a leaf must be a list
        '{"a": 1}',
        '{"a": []}',
        '{"a": [[1]]}',
        '{"a": [{"prefix": 1}]}',
        '{"a": [{"suffix": null}]}',
        '{"a": [{"equals-ignore-case": ["x"]}]}',
        '{"a": [{"exists": "yes"}]}',
        '{"a": [{"nope": "x"}]}',
        '{"a": [{"prefix": "x", "suffix": "y"}]}',
        '{"a": [{"anything-but": []}]}',
        '{"a": [{"anything-but": [{"prefix": "x"}]}]}',
        '{"a": [{"anything-but": {"numeric": [">", 1]}}]}',
        '{"a": [{"anything-but": null}]}',
        '{"a": [{"numeric": []}]}',
        '{"a": [{"numeric": [">"]}]}',
        '{"a": [{"numeric": ["~", 1]}]}',
        '{"a": [{"numeric": [">", "1"]}]}',
        '{"a": [{"numeric": [">", 5, "<", 1]}]}',
        '{"a": [{"numeric": [">", 1, ">", 2]}]}',
        '{"a": [{"numeric": ["=", 1, "<", 2]}]}',
        '{"a": [{"numeric": [">", 1, "<", 2, "<", 3]}]}',
        '{"$or": [{"a": ["x"]}]}',
        '{"$or": {"a": ["x"]}}',
        '{"a": {"b": "c"}}',
    ],
)
def test_invalid_patterns(text: str) -> None:
    with pytest.raises(filters.PatternError):
        filters.parse_pattern(text)
    with pytest.raises(AwsError) as err:
        filters.compile_criteria({"Filters": [{"Pattern": text}]})
    assert err.value.code == "InvalidParameterValueException"
    assert err.value.message == "Invalid filter pattern definition."


def test_too_many_filters() -> None:
    pattern = {"Pattern": json.dumps({"a": ["x"]})}
    assert len(filters.compile_criteria({"Filters": [pattern] * 5}) or []) == 5
    with pytest.raises(AwsError) as err:
        filters.compile_criteria({"Filters": [pattern] * 6})
    assert err.value.code == "InvalidParameterValueException"
