"""AttributeValues: canonical numbers, validation messages, sizes, codec, and key byte order."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.dynamodb.values import (
    canonical,
    canonical_item,
    canonical_number,
    from_json,
    item_size,
    key_bytes,
    to_json,
)
from shared.aws.errors import AwsError


@pytest.mark.parametrize(
    "text, canon",
    [("1.0", "1"), ("01", "1"), ("-0", "0"), ("1e3", "1000"), ("1.50", "1.5"), ("-0.000120", "-0.00012")],
)
def test_numbers_are_canonical(text, canon):
    assert canonical_number(text) == canon


@pytest.mark.parametrize(
    "text, message",
    [
        ("abc", "The parameter cannot be converted to a numeric value: abc"),
        ("NaN", "The parameter cannot be converted to a numeric value: NaN"),
        ("1" * 39, "Attempting to store more than 38 significant digits in a Number"),
        ("1e126", "Number overflow. Attempting to store a number with magnitude larger than supported range"),
        (
            "1e-131",
            "Number underflow. Attempting to store a number with magnitude smaller than supported range",
        ),
    ],
)
def test_bad_numbers(text, message):
    with pytest.raises(AwsError) as err:
        canonical_number(text)
    assert (err.value.code, err.value.message) == ("ValidationException", message)


@pytest.mark.parametrize(
    "value, message",
    [
        ({}, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"),
        ({"S": "a", "N": "1"}, "Supplied AttributeValue has more than one datatypes set"),
        ({"SS": []}, "One or more parameter values were invalid: An string set  may not be empty"),
        (
            {"SS": ["a", "a"]},
            "One or more parameter values were invalid: Input collection [a, a] contains duplicates.",
        ),
        ({"NS": ["1", "1.0"]}, "Input collection [1, 1.0] contains duplicates."),
        ({"NULL": False}, "Null attribute value types must have the value of true"),
        ({"M": {"x": {"L": [{}]}}}, "Supplied AttributeValue is empty"),
    ],
)
def test_invalid_values(value, message):
    with pytest.raises(AwsError) as err:
        canonical(value)
    assert message in err.value.message


def test_nested_values_are_canonical_and_round_trip_through_json():
    item = canonical_item(
        {"m": {"M": {"n": {"N": "2.50"}, "b": {"B": b"\x00\xff"}}}, "l": {"L": [{"BS": [b"a", b"b"]}]}}
    )
    assert item["m"]["M"]["n"] == {"N": "2.5"}
    stored = to_json(item)
    assert stored["m"]["M"]["b"] == {"B": "AP8="}
    assert from_json(stored) == item


def test_item_size_follows_the_documented_rules():
    assert item_size({"id": {"S": "abc"}}) == 5
    assert item_size({"n": {"N": "123"}}) == 1 + 3
    assert item_size({"b": {"BOOL": True}, "z": {"NULL": True}}) == 4
    assert item_size({"l": {"L": [{"S": "ab"}]}}) == 1 + 3 + 1 + 2


# Up to 38 significant digits, magnitudes well inside DynamoDB's range.
numbers = st.builds(
    lambda n, e: str(Decimal(n).scaleb(e)), st.integers(-(10**38) + 1, 10**38 - 1), st.integers(-90, 80)
)


@settings(max_examples=60)
@given(st.lists(numbers.map(canonical_number), min_size=2, max_size=20))
def test_number_keys_sort_as_numbers(values):
    assert sorted(values, key=key_bytes_n) == sorted(values, key=Decimal)


def key_bytes_n(text: str) -> bytes:
    return key_bytes({"N": text})


@settings(max_examples=60)
@given(st.lists(st.text(), min_size=2, max_size=20))
def test_string_keys_sort_by_utf8_bytes(values):
    assert sorted(values, key=lambda s: key_bytes({"S": s})) == sorted(values, key=lambda s: s.encode())


def test_number_key_edge_order():
    ordered = ["-100", "-10", "-1.5", "-1", "-0.123", "-0.12", "0", "0.12", "0.123", "1", "1.5", "10", "100"]
    assert sorted(ordered, key=key_bytes_n) == ordered
