"""The conformance value generator: deterministic, shaped, and within each shape's constraints."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import pytest
from botocore.model import Shape, StructureShape

from shared.aws.models import service_model
from tests.conformance.values import LONG_TEXT, MAX_DEPTH, generate, operations


def _output(service: str, op: str) -> Shape:
    return service_model(service).operation_model(op).output_shape


def _input(service: str, op: str) -> Shape:
    return service_model(service).operation_model(op).input_shape


def _walk(shape: Shape, value, visit, depth: int = 0) -> int:
    """Call ``visit(shape, value)`` on every scalar; return the deepest container depth seen."""
    kind = shape.type_name
    if kind == "structure" and not shape.is_document_type and not shape.serialization.get("eventstream"):
        return max([depth] + [_walk(shape.members[k], v, visit, depth + 1) for k, v in value.items()])
    if kind == "list":
        return max([depth] + [_walk(shape.member, v, visit, depth + 1) for v in value])
    if kind == "map":
        return max([depth] + [_walk(shape.value, v, visit, depth + 1) for v in value.values()])
    visit(shape, value)
    return depth


def test_operations_are_the_models_sorted() -> None:
    names = operations("sqs")
    assert names == sorted(service_model("sqs").operation_names)
    assert "SendMessage" in names


def test_same_arguments_same_value_other_seed_other_value() -> None:
    shape = _output("ec2", "DescribeInstances")
    first = generate(shape, "all", 3)
    assert first == generate(shape, "all", 3)
    assert first != generate(shape, "all", 4)


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown mode"):
        generate(_output("sqs", "SendMessage"), "most", 0)


def test_required_mode_keeps_only_required_members_and_one_element_lists() -> None:
    shape = _input("sqs", "SendMessageBatch")
    value = generate(shape, "required", 0)
    assert set(value) == {"QueueUrl", "Entries"}
    assert len(value["Entries"]) == 1
    assert set(value["Entries"][0]) == {"Id", "MessageBody"}


def test_all_mode_sets_every_member_with_two_element_lists_and_maps() -> None:
    shape = _output("sqs", "ReceiveMessage")
    value = generate(shape, "all", 1)
    message = value["Messages"][0]
    assert len(value["Messages"]) == 2
    assert set(message) == set(shape.members["Messages"].member.members)
    assert len(message["Attributes"]) == 2


def test_enums_come_from_the_model_and_cycle_with_the_seed() -> None:
    shape = _output("s3", "GetObject").members["StorageClass"]
    seen = {generate(shape, "boundary", seed) for seed in range(len(shape.enum))}
    assert seen == set(shape.enum)


def test_strings_honour_min_and_max_and_are_capped() -> None:
    def visit(shape: Shape, value) -> None:
        if shape.type_name == "string" and not shape.enum:
            assert len(value) >= shape.metadata.get("min", 0)
            low = shape.metadata.get("min", 0)
            assert len(value) <= max(low, min(shape.metadata.get("max", LONG_TEXT), LONG_TEXT))

    shape = _output("lambda", "GetFunction")
    for seed in range(4):
        _walk(shape, generate(shape, "boundary", seed), visit)


def test_boundary_mode_has_unicode_empty_and_extreme_values() -> None:
    scalars: list = []
    for seed in range(3):
        for shape in (_output("dynamodb", "GetItem"), _output("dynamodb", "DescribeTable")):
            _walk(shape, generate(shape, "boundary", seed), lambda s, v: scalars.append(v))
    texts = [v for v in scalars if isinstance(v, str)]
    assert "" in texts
    assert any("<" in t and "&" in t and not t.isascii() for t in texts)
    assert any(
        v == 2**63 - 1 or v == -(2**63) for v in scalars if isinstance(v, int) and not isinstance(v, bool)
    )
    assert any(isinstance(v, float) and math.isnan(v) for v in scalars)


def test_timestamps_are_utc_whole_milliseconds_and_blobs_are_bytes() -> None:
    def visit(shape: Shape, value) -> None:
        if shape.type_name == "timestamp":
            assert isinstance(value, datetime) and value.tzinfo is UTC and value.microsecond % 1000 == 0
        if shape.type_name == "blob":
            assert isinstance(value, bytes)

    for mode in ("all", "boundary"):
        _walk(_output("s3", "GetObject"), generate(_output("s3", "GetObject"), mode, 2), visit)
    assert any(b > 0x7F for b in generate(_output("s3", "GetObject"), "boundary", 0)["Body"])


def test_recursive_unions_stop_and_set_exactly_one_member() -> None:
    item = generate(_output("dynamodb", "GetItem"), "all", 0)["Item"]
    shape = _output("dynamodb", "GetItem").members["Item"]

    def visit_union(value, depth: int) -> int:
        assert len(value) == 1  # an AttributeValue is a union
        ((kind, inner),) = value.items()
        if kind == "M":
            return max([depth] + [visit_union(v, depth + 1) for v in inner.values()])
        if kind == "L":
            return max([depth] + [visit_union(v, depth + 1) for v in inner])
        return depth

    assert shape.value.name == "AttributeValue"  # a union in DynamoDB's docs, not in the model
    assert max(visit_union(v, 0) for v in item.values()) <= MAX_DEPTH


def test_uri_members_are_never_empty_and_header_maps_have_token_keys() -> None:
    for seed in range(4):
        value = generate(_input("s3", "PutObject"), "boundary", seed)
        assert value["Bucket"] and value["Key"]
        assert all(key.isalnum() for key in value.get("Metadata", {}))


def test_event_streams_are_a_dict_of_event_members() -> None:
    shape = _output("lambda", "InvokeWithResponseStream")
    events = generate(shape, "all", 0)["EventStream"]
    assert set(events) == {"PayloadChunk", "InvokeComplete"}


def test_documents_are_json_objects() -> None:
    doc = StructureShape("Doc", {"type": "structure", "members": {}, "document": True})
    assert doc.is_document_type
    assert json.loads(json.dumps(generate(doc, "all", 0))) == generate(doc, "all", 0)


def test_request_headers_stay_printable_ascii() -> None:
    shape = _input("s3", "PutObject")
    headers = [m for m in shape.members if shape.members[m].serialization.get("location") == "header"]
    for seed in range(4):
        value = generate(shape, "boundary", seed, request=True)
        texts = [value[m] for m in headers if isinstance(value.get(m), str)]
        texts += list(value["Metadata"].values())
        assert all(t.isascii() and t.isprintable() and t.strip() == t for t in texts)
