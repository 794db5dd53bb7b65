"""Malformed DynamoDB requests, seeded and many: never a 5xx, always a JSON error, and the service keeps serving.

Bodies come from templates of the data-plane operations mutated at a random place (a member
dropped, a value of the wrong type, an invalid AttributeValue, a broken expression, an unknown
member), from every other operation's input shape filled with junk, and from raw bytes that are
not JSON or not UTF-8. Requests are signed as boto3 signs them and sent with httpx.
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from services.dynamodb.handlers import handles
from shared.aws.models import service_model
from tests.integration.test_dynamodb import new_table

SEED = 20240611
REQUESTS = 2500
_CREDENTIALS = Credentials("test", "test")
_PARTIQL = {"ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"}
_SKIPPED = {"DeleteTable", "DeleteBackup", "RestoreTableFromBackup", "RestoreTableToPointInTime"}
_EXPRESSION_BITS = [
    "SET", "REMOVE", "ADD", "DELETE", "#", ":", "(", ")", "[", "]", ".", "a", ":v", "#a", "=", "<>", "AND",
    "OR", "NOT", "size(", "attribute_exists(", "99999999999999999999", ",", "BETWEEN", "IN", "\x00", "é",
    "begins_with(", "-", "+", "[-1]", "[99999999999999]", "id", "n", "if_not_exists(", "list_append(",
]  # fmt: skip
_JUNK_VALUES: list[Any] = [
    None, True, False, 0, -1, 2**70, 1.5e308, "", "x" * 300, [], {}, [{}], "\ud800", "\udfff\ud800",
    {"S": 1}, {"S": None}, {"N": "1e999"}, {"N": "abc"}, {"N": "1" * 60}, {"N": ""}, {"SS": []},
    {"SS": ["a", "a"]}, {"NS": ["1", "1.0"]}, {"NULL": False}, {"B": "!!not base64"}, {"BOOL": "yes"},
    {"L": "x"}, {"M": []}, {"M": {"": {"S": "x"}}}, {"S": "a", "N": "1"}, {"X": "y"}, {"BS": [""]},
    {"L": [{"L": [{"L": [{"M": {"a": {"N": "-0"}}}]}]}]}, {"id": {"S": ""}}, {"id": {"N": "1"}},
]  # fmt: skip


def _templates(table: str) -> dict[str, dict[str, Any]]:
    key = {"id": {"S": "k"}, "n": {"N": "1"}}
    item = {**key, "x": {"S": "y"}, "l": {"L": [{"N": "1"}]}, "m": {"M": {"a": {"SS": ["p", "q"]}}}}
    values = {":v": {"S": "z"}, ":one": {"N": "1"}}
    statement = {"Statement": f'SELECT * FROM "{table}" WHERE id = ? AND n > 0', "Parameters": [{"S": "k"}]}
    return {
        "PutItem": {"TableName": table, "Item": item, "ConditionExpression": "attribute_not_exists(x)"},
        "GetItem": {"TableName": table, "Key": key, "ProjectionExpression": "x, #a", "ExpressionAttributeNames": {"#a": "a"}},
        "UpdateItem": {
            "TableName": table, "Key": key, "UpdateExpression": "SET x = :v ADD c :one",
            "ExpressionAttributeValues": values, "ReturnValues": "ALL_NEW",
        },
        "DeleteItem": {"TableName": table, "Key": key, "ConditionExpression": "x <> :v", "ExpressionAttributeValues": {":v": {"S": "q"}}},
        "Query": {
            "TableName": table, "KeyConditionExpression": "id = :id AND n > :n", "FilterExpression": "size(x) > :n",
            "ExpressionAttributeValues": {":id": {"S": "k"}, ":n": {"N": "0"}}, "Limit": 5, "ExclusiveStartKey": key,
        },
        "Scan": {"TableName": table, "FilterExpression": "contains(x, :v)", "ExpressionAttributeValues": {":v": {"S": "y"}},
                 "Segment": 0, "TotalSegments": 2, "Limit": 10},
        "BatchGetItem": {"RequestItems": {table: {"Keys": [key], "ProjectionExpression": "x"}}},
        "BatchWriteItem": {"RequestItems": {table: [{"PutRequest": {"Item": item}}, {"DeleteRequest": {"Key": key}}]}},
        "TransactWriteItems": {"TransactItems": [
            {"Put": {"TableName": table, "Item": item}},
            {"Update": {"TableName": table, "Key": {"id": {"S": "o"}, "n": {"N": "2"}}, "UpdateExpression": "SET x = :v",
                        "ExpressionAttributeValues": values}},
        ]},
        "TransactGetItems": {"TransactItems": [{"Get": {"TableName": table, "Key": key}}]},
        "ExecuteStatement": {**statement, "Limit": 3},
        "BatchExecuteStatement": {"Statements": [statement, {"Statement": f"DELETE FROM \"{table}\" WHERE id = 'k' AND n = 1"}]},
        "ExecuteTransaction": {"TransactStatements": [{"Statement": f"UPDATE \"{table}\" SET x = 'y' WHERE id = 'k' AND n = 1"}]},
    }  # fmt: skip


def _junk_expression(rng: random.Random) -> str:
    return " ".join(rng.choice(_EXPRESSION_BITS) for _ in range(rng.randint(1, 12)))


def _junk(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.25:
        return _junk_expression(rng)
    if roll < 0.3:
        return {"S": "x" * rng.choice([1, 70_000, 420_000])}
    return copy.deepcopy(rng.choice(_JUNK_VALUES))


def _places(value: Any, path: tuple = ()) -> list[tuple]:
    """Every path into a JSON document (dict keys and list indexes)."""
    found = [path]
    if isinstance(value, dict):
        for key, member in value.items():
            found += _places(member, (*path, key))
    elif isinstance(value, list):
        for index, member in enumerate(value):
            found += _places(member, (*path, index))
    return found


def _mutate(rng: random.Random, body: dict[str, Any]) -> dict[str, Any]:
    body = copy.deepcopy(body)
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(_places(body)[1:] or [("Bogus",)])
        parent = body
        for step in path[:-1]:
            parent = parent[step]
        action = rng.random()
        if action < 0.2 and isinstance(parent, dict):
            parent.pop(path[-1], None)
        elif action < 0.3 and isinstance(parent, dict):
            parent[rng.choice(["Bogus", "tablename", "__type", ""])] = _junk(rng)
        elif isinstance(parent, dict) or isinstance(parent, list) and path[-1] < len(parent):
            parent[path[-1]] = _junk(rng)
    return body


def _from_shape(rng: random.Random, shape: Any, depth: int = 0) -> Any:
    """A value for a botocore shape, wrong at random."""
    if rng.random() < 0.15 or depth > 5:
        return _junk(rng)
    kind = shape.type_name
    if kind == "structure":
        return {n: _from_shape(rng, s, depth + 1) for n, s in shape.members.items() if rng.random() < 0.6}
    if kind == "list":
        return [_from_shape(rng, shape.member, depth + 1) for _ in range(rng.randint(0, 3))]
    if kind == "map":
        return {f"k{i}": _from_shape(rng, shape.value, depth + 1) for i in range(rng.randint(0, 2))}
    if kind == "string":
        return rng.choice(shape.enum) if shape.enum and rng.random() < 0.5 else f"fuzz-{rng.randint(0, 99)}"
    if kind in ("integer", "long"):
        return rng.choice([0, -5, 1, 10**40])
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "blob":
        return "AAAA"
    if kind == "timestamp":
        return rng.choice([0, 1.5e12, "not a date"])
    return None


def _raw(rng: random.Random) -> bytes:
    return rng.choice(
        [
            b"",
            b"{",
            b"[]",
            b"null",
            b'"string"',
            b'{"TableName": "\xff\xfe\xfd"}',
            b'{"TableName": "t\\ud800"}',
            b'{"Limit": 1e999, "TableName": "x"}',
            b'{"TableName": "abc", "Key": ' + b"[" * 5000 + b"]" * 5000 + b"}",
            b'{"Statement": "SELECT * FROM \\"t\\" WHERE a = \'\xc3\x28\'"}',
            b"\x00\x01\x02",
            json.dumps({"TableName": "x", "Item": {"a": {"S": "b"}}}).encode() * 2,
        ]
    )


class Sender:
    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint.rstrip("/") + "/"
        self.client = httpx.Client(timeout=30.0)
        self.auth = SigV4Auth(_CREDENTIALS, "dynamodb", "us-east-1")

    def send(self, operation: str, body: bytes) -> httpx.Response:
        request = AWSRequest(
            "POST",
            self.endpoint,
            data=body,
            headers={
                "X-Amz-Target": f"DynamoDB_20120810.{operation}",
                "Content-Type": "application/x-amz-json-1.0",
            },
        )
        self.auth.add_auth(request)
        return self.client.post(self.endpoint, content=body, headers=dict(request.headers.items()))


def _problem(response: httpx.Response) -> str | None:
    """What is wrong with a response to a malformed request (None: a proper answer)."""
    if response.status_code >= 500:
        return f"HTTP {response.status_code}"
    if response.status_code < 300:
        return None  # junk that happened to be valid
    try:
        body = response.json()
    except ValueError:
        return "error body is not JSON"
    if not isinstance(body, dict) or "__type" not in body or not ({"message", "Message"} & set(body)):
        return "error body lacks __type or message"
    return None


@pytest.fixture(scope="module")
def table(aws):
    ddb = aws("dynamodb")
    name = new_table(ddb, ("id", "S"), ("n", "N"))
    yield name
    ddb.delete_table(TableName=name)


def test_malformed_requests_never_5xx(endpoint, aws, table):
    rng = random.Random(SEED)
    model = service_model("dynamodb")
    templates = _templates(table)
    served = set(handles.operations) & set(model.operation_names) - _SKIPPED  # others: 501 by design
    others = sorted(served - set(templates))
    sender = Sender(endpoint)
    problems: list[str] = []
    for _ in range(REQUESTS):
        roll = rng.random()
        if roll < 0.7:
            operation = rng.choice(list(templates))
            payload = json.dumps(_mutate(rng, templates[operation])).encode()
        elif roll < 0.92:
            operation = rng.choice(others)
            shape = model.operation_model(operation).input_shape
            payload = json.dumps(_from_shape(rng, shape) if shape else {}).encode()
        else:
            operation = rng.choice(sorted(served))
            payload = _raw(rng)
        response = sender.send(operation, payload)
        problem = _problem(response)
        if problem:
            raw = " (raw body: protocol layer)" if roll >= 0.92 else ""
            problems.append(f"{operation} {problem}{raw}: {payload[:300]!r} -> {response.text[:200]}")
    ddb = aws("dynamodb")
    ddb.put_item(TableName=table, Item={"id": {"S": "alive"}, "n": {"N": "1"}})
    assert ddb.get_item(TableName=table, Key={"id": {"S": "alive"}, "n": {"N": "1"}})["Item"]
    for name in ddb.list_tables()["TableNames"]:
        if name.startswith("fuzz-"):
            ddb.delete_table(TableName=name)
    assert not problems, f"{len(problems)} bad answers, first ones:\n" + "\n".join(problems[:15])
