"""DynamoDB expression languages: parsing, DynamoDB's validation messages, evaluation, updates."""

from __future__ import annotations

import pytest

from services.dynamodb.expressions import Expressions
from services.dynamodb.expressions.reserved import is_reserved, reserved_words
from shared.aws.errors import AwsError

VALUES = {
    ":n": {"N": "5"}, ":one": {"N": "1"}, ":ten": {"N": "10"}, ":s": {"S": "ab"}, ":x": {"S": "x"},
    ":b": {"B": b"\x01"}, ":ss": {"SS": ["a", "b"]}, ":ns": {"NS": ["1", "2"]}, ":l": {"L": [{"S": "z"}]},
    ":m": {"M": {"k": {"S": "v"}}}, ":t": {"S": "S"}, ":bad_type": {"S": "XX"}, ":bool": {"BOOL": True},
    ":null": {"NULL": True},
}  # fmt: skip
NAMES = {"#s": "status", "#a": "a", "#dot": "x.y"}
ITEM = {
    "id": {"S": "k"}, "a": {"N": "5"}, "s": {"S": "abc"}, "b": {"B": b"\x01\x02"}, "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2"]}, "l": {"L": [{"S": "z"}, {"N": "3"}]}, "m": {"M": {"k": {"S": "v"}, "n": {"N": "7"}}},
    "status": {"S": "on"}, "x.y": {"S": "dotted"}, "t": {"BOOL": True}, "nul": {"NULL": True},
}  # fmt: skip


def ctx() -> Expressions:
    return Expressions(dict(NAMES), dict(VALUES))


def error(call) -> str:
    with pytest.raises(AwsError) as caught:
        call()
    assert caught.value.code == "ValidationException" and caught.value.status == 400
    return caught.value.message


def cond(text: str, item: dict | None = None) -> bool:
    return ctx().condition(text).matches(ITEM if item is None else item)


# -- conditions: evaluation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("a = :n", True),
        ("a <> :n", False),
        ("a < :ten", True),
        ("a <= :n", True),
        ("a > :one", True),
        ("a >= :ten", False),
        ("a = :s", False),
        ("a <> :s", True),
        ("a < :s", False),
        ("gone = :n", False),
        ("gone <> :n", True),
        ("gone < :n", False),
        ("s > :s", True),
        ("s < :x", True),
        ("b > :b", True),
        ("ss = :ss", True),
        ("ns = :ns", True),
        ("l = :l", False),
        ("m.k = :x", False),
        ("#dot = :x", False),
        ("#s = :s", False),
        ("m = :m", False),
        ("ss < :ss", False),
        ("t = :bool", True),
        ("nul = :null", True),
        ("a BETWEEN :one AND :ten", True),
        ("a BETWEEN :n AND :n", True),
        ("s BETWEEN :s AND :x", True),
        ("a between :one and :n", True),
        ("gone BETWEEN :one AND :ten", False),
        ("a IN (:one, :n)", True),
        ("a IN (:one)", False),
        ("s IN (:s, :x, :n)", False),
        ("ss IN (:ss)", True),
        ("a = :n AND s = :s", False),
        ("a = :n OR s = :s", True),
        ("NOT a = :n", False),
        ("not a = :one", True),
        ("a = :one OR a = :n AND s = :s", False),
        ("(a = :one OR a = :n) AND s > :s", True),
        ("NOT (a = :one OR a = :ten)", True),
        ("a = :n AND NOT s = :s OR a = :one", True),
        ("attribute_exists(a)", True),
        ("attribute_exists(m.k)", True),
        ("attribute_exists(l[1])", True),
        ("attribute_exists(l[2])", False),
        ("attribute_not_exists(nope)", True),
        ("attribute_not_exists(m.n)", False),
        ("attribute_exists(a.b)", False),
        ("attribute_exists(m[0])", False),
        ("attribute_type(a, :t)", False),
        ("attribute_type(s, :t)", True),
        ("begins_with(s, :s)", True),
        ("begins_with(s, :x)", False),
        ("begins_with(b, :b)", True),
        ("begins_with(a, :s)", False),
        ("contains(s, :s)", True),
        ("contains(ss, :x)", False),
        ("contains(l, :x)", False),
        ("contains(ns, :one)", True),
        ("contains(ss, :one)", False),
        ("size(s) = :n", False),
        ("size(s) < :n", True),
        ("size(ss) = :one", False),
        ("size(l) > :one", True),
        ("size(m) BETWEEN :one AND :n", True),
        ("size(a) = :one", False),
        ("size(b) > :one", True),
        ("(a) = :n", True),
        ("((a = :n))" if False else "(a = :n)", True),
        ("a = (:n)", True),
        ("m.n > a", True),
        ("l[1] < a", True),
        ("a = m.n", False),
    ],
)
def test_condition_evaluation(text, expected):
    assert cond(text) is expected


def test_contains_list_member_and_set_member():
    item = {"l": {"L": [{"S": "x"}, {"N": "1"}]}, "ss": {"SS": ["x"]}}
    assert (
        cond("contains(l, :x)", item) and cond("contains(ss, :x)", item) and cond("contains(l, :one)", item)
    )


def test_numbers_compare_by_value_not_text():
    item = {"a": {"N": "10.0"}, "b": {"N": "-3"}, "c": {"NS": ["1.50", "2"]}}
    e = Expressions(None, {":v": {"N": "1E1"}, ":w": {"N": "-20"}, ":ns": {"NS": ["2", "1.5"]}})
    assert e.condition("a = :v AND b > :w AND c = :ns").matches(item)


def test_strings_order_by_utf8_bytes():
    e = Expressions(None, {":v": {"S": "\uffff"}})
    assert e.condition("s > :v").matches({"s": {"S": "\U0001f600"}})  # UTF-16 order would say smaller


def test_keywords_are_case_insensitive_and_functions_case_sensitive():
    assert cond("a between :one AnD :ten oR a iN (:one)")
    assert error(lambda: cond("Attribute_Exists(a)")) == (
        "Invalid ConditionExpression: Invalid function name; function: Attribute_Exists"
    )


def test_whitespace_is_free_around_tokens():
    assert cond("  m . n>a AND l [ 1 ]<=a AND a>=:one  ")


def test_filter_expression_kind_in_messages():
    assert error(lambda: ctx().condition("a =", "FilterExpression")) == (
        'Invalid FilterExpression: Syntax error; token: "<EOF>", near: "="'
    )


# -- conditions: errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "The expression can not be empty;"),
        ("   ", "The expression can not be empty;"),
        ("foo", 'Syntax error; token: "<EOF>", near: "foo"'),
        ("a = :n :s", 'Syntax error; token: ":s", near: ":n :s"'),
        ("a == :n", 'Syntax error; token: "=", near: "=="'),
        ("a = 1", 'Syntax error; token: "1", near: "= 1"'),
        ("a = !", 'Syntax error; token: "!", near: "= !"'),
        ("a = :n AND", 'Syntax error; token: "<EOF>", near: "AND"'),
        ("a BETWEEN :one", 'Syntax error; token: "<EOF>", near: ":one"'),
        ("a BETWEEN :one OR :n", 'Syntax error; token: "OR", near: ":one OR"'),
        ("a IN :n", 'Syntax error; token: ":n", near: "IN :n"'),
        ("a IN ()", 'Syntax error; token: ")", near: "()"'),
        ("(a = :n", 'Syntax error; token: "<EOF>", near: ":n"'),
        ("a = :n)", 'Syntax error; token: ")", near: ":n)"'),
        ("a + :n = :n", 'Syntax error; token: "+", near: "a +"'),
        ("a.1 = :n", 'Syntax error; token: "1", near: ".1"'),
        ("a[x] = :n", 'Syntax error; token: "x", near: "[x"'),
        ("# = :n", 'Syntax error; token: "#", near: "#"'),
        ("AND = :n", 'Syntax error; token: "AND", near: "AND"'),
        ("status = :n", "Attribute name is a reserved keyword; reserved keyword: status"),
        ("a.Size = :n", "Attribute name is a reserved keyword; reserved keyword: Size"),
        ("#nope = :n", "An expression attribute name used in the document path is not defined; attribute name: #nope"),
        ("a = :nope", "An expression attribute value used in expression is not defined; attribute value: :nope"),
        ("foo(a)", "Invalid function name; function: foo"),
        ("if_not_exists(a, :n)", "The function is not allowed in a condition expression; function: if_not_exists"),
        ("list_append(a, :l) = :l", "The function is not allowed in a condition expression; function: list_append"),
        ("attribute_exists(a, s)", "Incorrect number of operands for operator or function; "
         "operator or function: attribute_exists, number of operands: 2"),
        ("begins_with(s)", "Incorrect number of operands for operator or function; "
         "operator or function: begins_with, number of operands: 1"),
        ("attribute_exists(:n)", "Operator or function requires a document path; operator or function: attribute_exists"),
        ("attribute_not_exists(:n)",
         "Operator or function requires a document path; operator or function: attribute_not_exists"),
        ("attribute_type(:t, :t)", "Operator or function requires a document path; operator or function: attribute_type"),
        ("attribute_type(a, :n)", "Incorrect operand type for operator or function; "
         "operator or function: attribute_type, operand type: N"),
        ("attribute_type(a, s)", "Incorrect operand type for operator or function; "
         "operator or function: attribute_type, operand type: {NS,SS,L,BS,N,M,B,BOOL,NULL,S}"),
        ("attribute_type(a, :bad_type)",
         "Invalid attribute type name found; type: XX, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}"),
        ("begins_with(s, :n)", "Incorrect operand type for operator or function; "
         "operator or function: begins_with, operand type: N"),
        ("size(:n) = :n", "Incorrect operand type for operator or function; operator or function: size, operand type: N"),
        ("size(a)", "The function is not allowed to be used this way in an expression; function: size"),
        ("size(a) AND a = :n", "The function is not allowed to be used this way in an expression; function: size"),
        ("attribute_exists(a) = :n",
         "The function is not allowed to be used this way in an expression; function: attribute_exists"),
        ("a IN (contains(s, :s))", "The function is not allowed to be used this way in an expression; function: contains"),
        ("a = a", "The first operand must be distinct from the remaining operands for this operator or function; "
         "operator: =, first operand: [a]"),
        ("contains(m.k, m.k)", "The first operand must be distinct from the remaining operands for this operator or "
         "function; operator: contains, first operand: [m, k]"),
        ("a BETWEEN :ten AND :one", "The BETWEEN operator requires upper bound to be greater than or equal to lower "
         "bound; lower bound operand: AttributeValue: {N:10}, upper bound operand: AttributeValue: {N:1}"),
        ("a BETWEEN :n AND :s", "The BETWEEN operator requires same data type for lower and upper bounds; "
         "lower bound operand: AttributeValue: {N:5}, upper bound operand: AttributeValue: {S:ab}"),
        ("((a = :n))", "The expression has redundant parentheses;"),
        ("((a)) = :n", "The expression has redundant parentheses;"),
    ],
)  # fmt: skip
def test_condition_errors(text, message):
    assert error(lambda: ctx().condition(text)) == f"Invalid ConditionExpression: {message}"


def test_in_takes_at_most_100_operands():
    values = {f":v{i}": {"N": str(i)} for i in range(101)}
    e = Expressions(None, values)
    text = "a IN (" + ", ".join(list(values)[:100]) + ")"
    assert e.condition(text).matches({"a": {"N": "99"}})
    assert error(lambda: Expressions(None, values).condition("a IN (" + ", ".join(values) + ")")) == (
        "Invalid ConditionExpression: The IN operator is provided with too many operands; number of operands: 101"
    )


def test_error_priority_syntax_before_reserved_before_undefined():
    assert "Syntax error" in error(lambda: ctx().condition("status = :nope :x"))
    assert "reserved keyword" in error(lambda: ctx().condition("status = :nope"))
    assert "function name" in error(lambda: ctx().condition("status = :n AND foo(a)"))


# -- placeholders ---------------------------------------------------------------------------------------


def test_unused_names_and_values():
    e = Expressions({"#a": "a", "#b": "b"}, {":n": {"N": "1"}, ":u": {"S": "x"}})
    e.condition("#a = :n")
    assert (
        error(e.check_unused)
        == "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}"
    )
    e = Expressions({"#a": "a"}, {":n": {"N": "1"}, ":u": {"S": "x"}, ":w": {"S": "y"}})
    e.condition("#a = :n")
    assert (
        error(e.check_unused)
        == "Value provided in ExpressionAttributeValues unused in expressions: keys: {:u, :w}"
    )


def test_placeholders_used_across_expressions_count():
    e = Expressions({"#a": "a", "#p": "p"}, {":n": {"N": "1"}, ":v": {"N": "2"}})
    e.condition("#a = :n")
    e.update("SET b = :v")
    e.projection("#p")
    e.check_unused()


def test_placeholders_without_expressions():
    assert error(Expressions({"#a": "a"}, None).check_unused) == (
        "ExpressionAttributeNames can only be specified when using expressions"
    )
    assert error(Expressions(None, {":a": {"S": "a"}}).check_unused) == (
        "ExpressionAttributeValues can only be specified when using expressions"
    )


@pytest.mark.parametrize(
    "names, values, message",
    [
        ({}, None, "ExpressionAttributeNames must not be empty"),
        (None, {}, "ExpressionAttributeValues must not be empty"),
        ({"a": "a"}, None, 'ExpressionAttributeNames contains invalid key: Syntax error; key: "a"'),
        (None, {"v": {"S": "a"}}, 'ExpressionAttributeValues contains invalid key: Syntax error; key: "v"'),
        (None, {":v": {"SS": []}}, "ExpressionAttributeValues contains invalid value: One or more parameter values "
         "were invalid: An string set  may not be empty for key :v"),
        (None, {":v": {"N": "x"}}, "ExpressionAttributeValues contains invalid value: The parameter cannot be "
         "converted to a numeric value: x for key :v"),
    ],
)  # fmt: skip
def test_placeholder_maps_are_validated(names, values, message):
    assert error(lambda: Expressions(names, values)) == message


def test_values_are_canonicalised():
    e = Expressions(None, {":v": {"N": "05.10"}})
    assert e.condition("a = :v").matches({"a": {"N": "5.1"}})


def test_reserved_words_are_data():
    words = reserved_words()
    assert len(words) == 573 and {"STATUS", "NAME", "DATA", "ZONE", "ABORT"} <= words
    assert is_reserved("status") and is_reserved("Status") and not is_reserved("id")


# -- update ----------------------------------------------------------------------------------------------


def update(text: str, item: dict | None = None, values=None) -> dict:
    e = Expressions(dict(NAMES), values if values is not None else dict(VALUES))
    return e.update(text).apply(dict(ITEM) if item is None else item)


@pytest.mark.parametrize(
    "text, item, expected",
    [
        ("SET a = :n", {}, {"a": {"N": "5"}}),
        ("set a = :n, b = :s", {}, {"a": {"N": "5"}, "b": {"S": "ab"}}),
        ("SET a = a + :one", {"a": {"N": "5"}}, {"a": {"N": "6"}}),
        ("SET a = a - :ten", {"a": {"N": "5"}}, {"a": {"N": "-5"}}),
        ("SET a = :n - a", {"a": {"N": "1.5"}}, {"a": {"N": "3.5"}}),
        ("SET a = (a + :one)", {"a": {"N": "1"}}, {"a": {"N": "2"}}),
        ("SET a = b", {"b": {"S": "x"}}, {"a": {"S": "x"}, "b": {"S": "x"}}),
        ("SET a = if_not_exists(a, :one)", {}, {"a": {"N": "1"}}),
        ("SET a = if_not_exists(a, :one)", {"a": {"N": "9"}}, {"a": {"N": "9"}}),
        ("SET a = if_not_exists(a, :n) + :one", {}, {"a": {"N": "6"}}),
        ("SET l = list_append(l, :l)", {"l": {"L": [{"N": "1"}]}}, {"l": {"L": [{"N": "1"}, {"S": "z"}]}}),
        ("SET l = list_append(:l, l)", {"l": {"L": [{"N": "1"}]}}, {"l": {"L": [{"S": "z"}, {"N": "1"}]}}),
        ("SET l = list_append(if_not_exists(l, :l), :l)", {}, {"l": {"L": [{"S": "z"}, {"S": "z"}]}}),
        ("SET m.k = :x", {"m": {"M": {}}}, {"m": {"M": {"k": {"S": "x"}}}}),
        ("SET m.a.b = :x", {"m": {"M": {"a": {"M": {}}}}}, {"m": {"M": {"a": {"M": {"b": {"S": "x"}}}}}}),
        ("SET l[0] = :x", {"l": {"L": [{"N": "1"}, {"N": "2"}]}}, {"l": {"L": [{"S": "x"}, {"N": "2"}]}}),
        ("SET l[9] = :x", {"l": {"L": [{"N": "1"}]}}, {"l": {"L": [{"N": "1"}, {"S": "x"}]}}),
        ("SET l[0].k = :x", {"l": {"L": [{"M": {}}]}}, {"l": {"L": [{"M": {"k": {"S": "x"}}}]}}),
        ("SET #s = :x", {}, {"status": {"S": "x"}}),
        ("SET #dot = :x", {}, {"x.y": {"S": "x"}}),
        ("SET a = b, b = a", {"a": {"N": "1"}, "b": {"N": "2"}}, {"a": {"N": "2"}, "b": {"N": "1"}}),
        ("REMOVE a", {"a": {"N": "1"}, "b": {"N": "2"}}, {"b": {"N": "2"}}),
        ("REMOVE a, nope", {"a": {"N": "1"}}, {}),
        ("REMOVE m.k", {"m": {"M": {"k": {"S": "v"}}}}, {"m": {"M": {}}}),
        ("REMOVE l[1]", {"l": {"L": [{"N": "1"}, {"N": "2"}, {"N": "3"}]}}, {"l": {"L": [{"N": "1"}, {"N": "3"}]}}),
        ("REMOVE l[0], l[2]", {"l": {"L": [{"N": "1"}, {"N": "2"}, {"N": "3"}]}}, {"l": {"L": [{"N": "2"}]}}),
        ("REMOVE l[2], l[0]", {"l": {"L": [{"N": "1"}, {"N": "2"}, {"N": "3"}]}}, {"l": {"L": [{"N": "2"}]}}),
        ("REMOVE l[5]", {"l": {"L": [{"N": "1"}]}}, {"l": {"L": [{"N": "1"}]}}),
        ("ADD a :one", {}, {"a": {"N": "1"}}),
        ("ADD a :one", {"a": {"N": "-1"}}, {"a": {"N": "0"}}),
        ("ADD ss :ss", {}, {"ss": {"SS": ["a", "b"]}}),
        ("ADD ss :ss", {"ss": {"SS": ["b", "c"]}}, {"ss": {"SS": ["b", "c", "a"]}}),
        ("ADD ns :ns", {"ns": {"NS": ["2", "3"]}}, {"ns": {"NS": ["2", "3", "1"]}}),
        ("ADD m.c :one", {"m": {"M": {}}}, {"m": {"M": {"c": {"N": "1"}}}}),
        ("DELETE ss :ss", {"ss": {"SS": ["a", "c"]}}, {"ss": {"SS": ["c"]}}),
        ("DELETE ss :ss", {"ss": {"SS": ["a", "b"]}}, {}),
        ("DELETE ss :ss", {}, {}),
        ("DELETE ns :ns", {"ns": {"NS": ["1", "5"]}}, {"ns": {"NS": ["5"]}}),
        ("SET a = :one REMOVE b ADD c :one DELETE d :ss",
         {"b": {"N": "1"}, "d": {"SS": ["a", "q"]}}, {"a": {"N": "1"}, "c": {"N": "1"}, "d": {"SS": ["q"]}}),
        ("remove b set a = b", {"b": {"N": "1"}}, {"a": {"N": "1"}}),
    ],
)  # fmt: skip
def test_update_apply(text, item, expected):
    assert update(text, item) == expected


def test_update_does_not_touch_the_original_item():
    item = {"l": {"L": [{"N": "1"}]}, "m": {"M": {}}}
    update("SET l[1] = :n, m.k = :n", item)
    assert item == {"l": {"L": [{"N": "1"}]}, "m": {"M": {}}}


def test_update_arithmetic_is_exact_to_38_digits():
    big = "9" * 37 + "8"
    values = {":a": {"N": big}, ":one": {"N": "1"}, ":tiny": {"N": "0.1"}}
    assert update("SET a = :a + :one", {}, values) == {"a": {"N": "9" * 38}}
    assert update("SET a = :tiny + :tiny", {}, {":tiny": {"N": "0.1"}}) == {"a": {"N": "0.2"}}
    assert update("ADD a :one", {"a": {"N": "9" * 38}}, {":one": {"N": "1"}}) == {"a": {"N": "1" + "0" * 38}}
    assert "38 significant digits" in error(lambda: update("SET a = :a + :tiny", {}, values))
    assert error(lambda: update("ADD a :t", {"a": {"N": "9" * 38}}, {":t": {"N": "0.5"}})).startswith(
        "Attempting to store more than 38 significant digits"
    )


def test_update_paths_property():
    e = Expressions(None, {":v": {"N": "1"}})
    assert e.update("SET a.b = :v REMOVE c[1]").paths == [("a", "b"), ("c", 1)]


@pytest.mark.parametrize(
    "text, item, message",
    [
        ("SET a = nope", {}, "The provided expression refers to an attribute that does not exist in the item"),
        ("SET a = nope + :one", {}, "The provided expression refers to an attribute that does not exist in the item"),
        ("SET a = list_append(nope, :l)", {}, "The provided expression refers to an attribute that does not exist in the item"),
        ("SET a = s + :one", {"s": {"S": "x"}}, "An operand in the update expression has an incorrect data type"),
        ("SET a = list_append(s, :l)", {"s": {"S": "x"}}, "An operand in the update expression has an incorrect data type"),
        ("ADD s :one", {"s": {"S": "x"}}, "An operand in the update expression has an incorrect data type"),
        ("ADD ss :ns", {"ss": {"SS": ["x"]}}, "An operand in the update expression has an incorrect data type"),
        ("DELETE ss :ns", {"ss": {"SS": ["x"]}}, "An operand in the update expression has an incorrect data type"),
        ("SET m.k = :x", {}, "The document path provided in the update expression is invalid for update"),
        ("SET m.k = :x", {"m": {"S": "x"}}, "The document path provided in the update expression is invalid for update"),
        ("SET m.a.b = :x", {"m": {"M": {}}}, "The document path provided in the update expression is invalid for update"),
        ("SET l[0] = :x", {"l": {"M": {}}}, "The document path provided in the update expression is invalid for update"),
        ("SET l[0] = :x", {}, "The document path provided in the update expression is invalid for update"),
        ("REMOVE m.k", {"m": {"L": []}}, "The document path provided in the update expression is invalid for update"),
        ("ADD m.k :one", {}, "The document path provided in the update expression is invalid for update"),
    ],
)  # fmt: skip
def test_update_apply_errors(text, item, message):
    assert error(lambda: update(text, item)) == message


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "The expression can not be empty;"),
        ("a = :n", 'Syntax error; token: "a", near: "a"'),
        ("SET", 'Syntax error; token: "<EOF>", near: "SET"'),
        ("SET a", 'Syntax error; token: "<EOF>", near: "a"'),
        ("SET a :n", 'Syntax error; token: ":n", near: "a :n"'),
        ("SET a = :n :s", 'Syntax error; token: ":s", near: ":n :s"'),
        ("SET a = my Num", 'Syntax error; token: "Num", near: "my Num"'),
        ("SET a = b + c + d", 'Syntax error; token: "+", near: "c +"'),
        ("SET a = 1", 'Syntax error; token: "1", near: "= 1"'),
        ("SET a = :n,", 'Syntax error; token: "<EOF>", near: ","'),
        ("REMOVE a = :n", 'Syntax error; token: "=", near: "a ="'),
        ("ADD a", 'Syntax error; token: "<EOF>", near: "a"'),
        ("ADD a b", 'Syntax error; token: "b", near: "a b"'),
        ("DELETE a :ss, b", 'Syntax error; token: "<EOF>", near: "b"'),
        ("SET a = :n UPSERT b", 'Syntax error; token: "UPSERT", near: ":n UPSERT"'),
        ("SET status = :n", "Attribute name is a reserved keyword; reserved keyword: status"),
        ("REMOVE a.name", "Attribute name is a reserved keyword; reserved keyword: name"),
        ("SET a = foo(b)", "Invalid function name; function: foo"),
        ("SET a = size(b)", "The function is not allowed in an update expression; function: size"),
        ("SET a = if_not_exists(b)", "Incorrect number of operands for operator or function; "
         "operator or function: if_not_exists, number of operands: 1"),
        ("SET a = if_not_exists(:n, :n)", "Operator or function requires a document path; "
         "operator or function: if_not_exists"),
        ("SET a = list_append(a, :s)", "Incorrect operand type for operator or function; "
         "operator or function: list_append, operand type: S"),
        ("SET a = a + :s", "Incorrect operand type for operator or function; operator or function: +, operand type: S"),
        ("SET a = :l - a", "Incorrect operand type for operator or function; operator or function: -, operand type: L"),
        ("SET a = :n SET b = :n", 'The "SET" section can only be used once in an update expression;'),
        ("REMOVE a REMOVE b", 'The "REMOVE" section can only be used once in an update expression;'),
        ("ADD a :n add b :n", 'The "ADD" section can only be used once in an update expression;'),
        ("DELETE a :ss DELETE b :ss", 'The "DELETE" section can only be used once in an update expression;'),
        ("SET a = :nope", "An expression attribute value used in expression is not defined; attribute value: :nope"),
        ("SET #nope = :n", "An expression attribute name used in the document path is not defined; attribute name: #nope"),
        ("SET a = :n REMOVE a", "Two document paths overlap with each other; must remove or rewrite one of these "
         "paths; path one: [a], path two: [a]"),
        ("SET a = :n REMOVE a.b", "Two document paths overlap with each other; must remove or rewrite one of these "
         "paths; path one: [a], path two: [a, b]"),
        ("SET a.b[1] = :n, a.b = :n", "Two document paths overlap with each other; must remove or rewrite one of "
         "these paths; path one: [a, b, [1]], path two: [a, b]"),
        ("SET a[1] = :n REMOVE a.b", "Two document paths conflict with each other; must remove or rewrite one of "
         "these paths; path one: [a, [1]], path two: [a, b]"),
        ("SET #a = :n, a = :one", "Two document paths overlap with each other; must remove or rewrite one of these "
         "paths; path one: [a], path two: [a]"),
        ("ADD a :s", "Incorrect operand type for operator or function; operator: ADD, operand type: STRING"),
        ("ADD a :l", "Incorrect operand type for operator or function; operator: ADD, operand type: LIST"),
        ("ADD a :m", "Incorrect operand type for operator or function; operator: ADD, operand type: MAP"),
        ("DELETE a :n", "Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER"),
        ("DELETE a :bool", "Incorrect operand type for operator or function; operator: DELETE, operand type: BOOLEAN"),
    ],
)  # fmt: skip
def test_update_errors(text, message):
    assert error(lambda: ctx().update(text)) == f"Invalid UpdateExpression: {message}"


def test_update_independent_paths_are_fine():
    assert update("SET a.b = :n, a.c = :n, l[0] = :n, l[1] = :n", {"a": {"M": {}}, "l": {"L": []}}) == {
        "a": {"M": {"b": {"N": "5"}, "c": {"N": "5"}}},
        "l": {"L": [{"N": "5"}, {"N": "5"}]},
    }


# -- projection ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("a", {"a": {"N": "5"}}),
        ("a, s", {"a": {"N": "5"}, "s": {"S": "abc"}}),
        ("m.k", {"m": {"M": {"k": {"S": "v"}}}}),
        ("l[1]", {"l": {"L": [{"N": "3"}]}}),
        ("l[0], l[1]", {"l": {"L": [{"S": "z"}, {"N": "3"}]}}),
        ("#s, #dot", {"status": {"S": "on"}, "x.y": {"S": "dotted"}}),
        ("nope, m.nope, l[7]", {}),
    ],
)
def test_projection_apply(text, expected):
    assert ctx().projection(text).apply(ITEM) == expected


def test_projection_top_level_names():
    assert ctx().projection("a, m.k, l[1]").top_level == {"a", "m", "l"}


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "The expression can not be empty;"),
        ("a,", 'Syntax error; token: "<EOF>", near: ","'),
        ("a b", 'Syntax error; token: "b", near: "a b"'),
        ("a, :n", 'Syntax error; token: ":n", near: ", :n"'),
        ("(a)", 'Syntax error; token: "(", near: "("'),
        ("status", "Attribute name is a reserved keyword; reserved keyword: status"),
        ("#nope", "An expression attribute name used in the document path is not defined; attribute name: #nope"),
        ("a, a.b", "Two document paths overlap with each other; must remove or rewrite one of these paths; "
         "path one: [a], path two: [a, b]"),
        ("a[0], a.b", "Two document paths conflict with each other; must remove or rewrite one of these paths; "
         "path one: [a, [0]], path two: [a, b]"),
    ],
)  # fmt: skip
def test_projection_errors(text, message):
    assert error(lambda: ctx().projection(text)) == f"Invalid ProjectionExpression: {message}"


# -- key conditions ---------------------------------------------------------------------------------------

KEY_VALUES = {":h": {"S": "h"}, ":r": {"N": "1"}, ":r2": {"N": "9"}, ":s": {"S": "x"}, ":b": {"B": b"1"}}
TYPES = {"id": "S", "sk": "N"}


def key(text: str, range_key: str | None = "sk", names=None, types=None):
    e = Expressions(names, dict(KEY_VALUES))
    return e.key_condition(text, "id", range_key, types or TYPES)


@pytest.mark.parametrize(
    "text, op, values",
    [
        ("id = :h", None, None),
        ("id = :h AND sk = :r", "=", ({"N": "1"},)),
        ("id = :h AND sk < :r", "<", ({"N": "1"},)),
        ("id = :h AND sk <= :r", "<=", ({"N": "1"},)),
        ("id = :h AND sk > :r", ">", ({"N": "1"},)),
        ("sk >= :r AND id = :h", ">=", ({"N": "1"},)),
        (":r < sk AND :h = id", ">", ({"N": "1"},)),
        ("id = :h AND sk BETWEEN :r AND :r2", "BETWEEN", ({"N": "1"}, {"N": "9"})),
        ("(id = :h) AND (sk = :r)", "=", ({"N": "1"},)),
    ],
)
def test_key_condition(text, op, values):
    condition = key(text)
    assert condition.hash_value == {"S": "h"}
    assert (condition.range.op, condition.range.values) == (op, values) if op else condition.range is None


def test_key_condition_begins_with_and_names():
    condition = key(
        "#k = :h AND begins_with(#r, :s)", names={"#k": "id", "#r": "sk"}, types={"id": "S", "sk": "S"}
    )
    assert condition.range.op == "begins_with" and condition.range.values == ({"S": "x"},)
    assert condition.matches({"id": {"S": "h"}, "sk": {"S": "xyz"}})
    assert not condition.matches({"id": {"S": "h"}, "sk": {"S": "yz"}})


@pytest.mark.parametrize(
    "text, message",
    [
        ("sk = :r", "Query condition missed key schema element: id"),
        ("id = :h AND extra = :r", "Query condition missed key schema element: sk"),
        ("id < :h", "Query key condition not supported"),
        ("begins_with(id, :h)", "Query key condition not supported"),
        ("id = :h AND id = :h", "KeyConditionExpressions must only contain one condition per key"),
        ("id = :h AND sk > :r AND sk < :r2", "KeyConditionExpressions must only contain one condition per key"),
        ("id = :h OR sk = :r", "Invalid operator used in KeyConditionExpression: OR"),
        ("NOT id = :h", "Invalid operator used in KeyConditionExpression: NOT"),
        ("id IN (:h)", "Invalid operator used in KeyConditionExpression: IN"),
        ("id <> :h", "Invalid operator used in KeyConditionExpression: <>"),
        ("id = :h AND attribute_exists(sk)", "Invalid operator used in KeyConditionExpression: attribute_exists"),
        ("id = :h AND contains(sk, :r)", "Invalid operator used in KeyConditionExpression: contains"),
        ("id = sk", "Invalid condition in KeyConditionExpression: multiple attribute names used in one condition"),
        ("id.a = :h", "Invalid KeyConditionExpression: KeyConditionExpressions cannot have conditions on nested "
         "attributes"),
        ("id = :r", "One or more parameter values were invalid: Condition parameter type does not match schema type"),
        ("id = :h AND sk = :s",
         "One or more parameter values were invalid: Condition parameter type does not match schema type"),
        ("id = :h AND begins_with(sk, :r)", "Invalid KeyConditionExpression: Incorrect operand type for operator or "
         "function; operator or function: begins_with, operand type: N"),
        ("id = :h AND sk BETWEEN :r2 AND :r", "Invalid KeyConditionExpression: The BETWEEN operator requires upper "
         "bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:9}, upper bound "
         "operand: AttributeValue: {N:1}"),
        ("id = :h AND", 'Invalid KeyConditionExpression: Syntax error; token: "<EOF>", near: "AND"'),
        ("", "Invalid KeyConditionExpression: The expression can not be empty;"),
    ],
)  # fmt: skip
def test_key_condition_errors(text, message):
    assert error(lambda: key(text)) == message


def test_key_condition_without_range_key():
    assert key("id = :h", None).range is None
    assert error(lambda: key("id = :h AND sk = :r", None)) == "Query key condition not supported"


# -- legacy parameters -----------------------------------------------------------------------------------


def test_legacy_expected_and_filters():
    from services.dynamodb.expressions import Condition, legacy

    item = {"a": {"N": "5"}, "s": {"S": "abc"}, "ss": {"SS": ["x"]}}
    expected = {"a": {"Value": {"N": "5"}}, "gone": {"Exists": False}}
    assert Condition(legacy.expected_condition(expected)).matches(item)
    scan = {
        "a": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "1"}, {"N": "9"}]},
        "s": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "ab"}]},
        "ss": {"ComparisonOperator": "NOT_CONTAINS", "AttributeValueList": [{"S": "y"}]},
    }
    assert Condition(legacy.filter_condition(scan)).matches(item)
    assert Condition(
        legacy.filter_condition({**scan, "z": {"ComparisonOperator": "NOT_NULL"}}, "OR")
    ).matches(item)
    assert not Condition(legacy.filter_condition({**scan, "z": {"ComparisonOperator": "NOT_NULL"}})).matches(
        item
    )
    assert error(lambda: legacy.filter_condition({"a": {"ComparisonOperator": "EQ"}})) == (
        "One or more parameter values were invalid: Invalid number of argument(s) for the EQ ComparisonOperator"
    )
    assert error(lambda: legacy.expected_condition({"a": {"Exists": True}})) == (
        "One or more parameter values were invalid: Value must be provided when Exists is true for Attribute: a"
    )


def test_legacy_attribute_updates_and_keys():
    from services.dynamodb.expressions import Projection, legacy

    update_ = legacy.attribute_updates(
        {
            "a": {"Value": {"N": "1"}, "Action": "ADD"},
            "b": {"Action": "DELETE"},
            "l": {"Value": {"L": [{"S": "x"}]}, "Action": "ADD"},
            "s": {"Value": {"S": "new"}},
        }
    )
    assert update_.apply({"a": {"N": "1"}, "b": {"S": "x"}}) == {
        "a": {"N": "2"}, "l": {"L": [{"S": "x"}]}, "s": {"S": "new"},
    }  # fmt: skip
    condition = legacy.key_conditions(
        {"id": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "h"}]}}, "id", None, {"id": "S"}
    )
    assert condition.hash_value == {"S": "h"} and condition.range is None
    assert Projection(legacy.attributes_to_get(["a", "b"])).apply({"a": {"N": "1"}, "c": {"N": "2"}}) == {
        "a": {"N": "1"}
    }
