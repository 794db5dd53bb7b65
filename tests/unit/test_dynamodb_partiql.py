"""The PartiQL lexer and parser: statement shapes, literals, parameters and DynamoDB's error wording."""

from __future__ import annotations

import pytest

from services.dynamodb import partiql
from services.dynamodb.expressions import Condition
from services.dynamodb.expressions.ast import AddAction, RemoveAction, SetAction
from shared.aws.errors import AwsError

MALFORMED = "Statement wasn't well formed, can't be processed: "


def fails(text: str, params: list | None = None) -> str:
    with pytest.raises(AwsError) as err:
        partiql.parse(text, params or [])
    assert err.value.code == "ValidationException"
    return err.value.message


def test_select_star_with_where_and_order():
    stmt = partiql.parse('select * from "T"."idx" where pk = \'a\' and sk >= 3 order by sk desc;')
    assert isinstance(stmt, partiql.Select)
    assert (stmt.target.table, stmt.target.index, stmt.projection) == ("T", "idx", None)
    assert stmt.order == [("sk", True)]
    assert Condition(stmt.where).matches({"pk": {"S": "a"}, "sk": {"N": "4"}})
    assert not Condition(stmt.where).matches({"pk": {"S": "a"}, "sk": {"N": "2"}})


def test_projection_paths_and_comments():
    stmt = partiql.parse('SELECT a, b.c, d[2], "e f" FROM t -- note\n /* block */ WHERE x IN [1, 2]')
    assert stmt.projection == [("a",), ("b", "c"), ("d", 2), ("e f",)]
    assert Condition(stmt.where).matches({"x": {"N": "2"}})


def test_literals():
    stmt = partiql.parse(
        "INSERT INTO t VALUE {'pk': 'it''s', 'n': -1.50, 'l': [TRUE, NULL], 'm': {'x': 1e3}, "
        "'ss': <<'a', 'b'>>, 'ns': <<1, 2>>}"
    )
    assert stmt.item == {
        "pk": {"S": "it's"},
        "n": {"N": "-1.5"},
        "l": {"L": [{"BOOL": True}, {"NULL": True}]},
        "m": {"M": {"x": {"N": "1000"}}},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2"]},
    }


def test_parameters_fill_in_order():
    stmt = partiql.parse("INSERT INTO t VALUE {'pk': ?, 'v': ?}", [{"S": "k"}, {"B": b"\x00"}])
    assert stmt.item == {"pk": {"S": "k"}, "v": {"B": b"\x00"}}
    assert (
        fails("SELECT * FROM t WHERE a = ?") == "Number of parameters in request and statement don't match."
    )
    assert (
        fails("SELECT * FROM t", [{"S": "x"}]) == "Number of parameters in request and statement don't match."
    )


def test_update_actions_and_returning():
    stmt = partiql.parse(
        "UPDATE t SET a = a + 1, b = list_append(b, [1]) SET s = set_add(s, <<'x'>>) REMOVE c.d "
        "WHERE pk = 'k' RETURNING MODIFIED NEW *"
    )
    assert [type(a) for a in stmt.actions] == [SetAction, SetAction, AddAction, RemoveAction]
    assert stmt.returning == "UPDATED_NEW"
    marks = partiql.Placeholders()
    text = marks.update(stmt.actions)
    assert text == "SET #n0 = #n0 + :v0, #n1 = list_append(#n1, :v1) ADD #n2 :v2 REMOVE #n3.#n4"
    assert marks.names == {"#n0": "a", "#n1": "b", "#n2": "s", "#n3": "c", "#n4": "d"}


def test_is_missing_and_not():
    stmt = partiql.parse(
        "SELECT * FROM t WHERE a IS MISSING AND NOT b IS NOT MISSING AND begins_with(c, 'x')"
    )
    assert Condition(stmt.where).matches({"c": {"S": "xy"}})
    assert not Condition(stmt.where).matches({"a": {"S": "1"}, "c": {"S": "xy"}})


def test_delete_returning_and_key_equality():
    stmt = partiql.parse("DELETE FROM t WHERE 'k' = pk AND sk = 2 RETURNING ALL OLD *")
    assert stmt.returning == "ALL_OLD"
    assert [partiql.key_equality(t) for t in partiql.conjuncts(stmt.where)] == [
        ("pk", {"S": "k"}),
        ("sk", {"N": "2"}),
    ]


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("SELECT * FROM t WHERE", "Unexpected term"),
        ("SELECT * FROM", "Unexpected term"),
        ("SELECT * FROM t WHERE ORDER BY pk", "Unexpected keyword"),
        ("SELECT * FROM t WHERE pk = 1 foo", "Unexpected token after expression"),
        ("SELECT * FROM t WHERE pk = 1)", "Unexpected token after expression"),
        ("SELECT * FROM t WHERE pk = 'a' AND", "Missing right-hand side expression of infix operator"),
        ("DELETE FROM WHERE pk = 'a'", "Expected identifier for simple path"),
        ("UPSERT INTO t VALUE {'a': 1}", "Expected data manipulation"),
        ("", "Unexpected term"),
        ("SELECT * FROM t WHERE pk = 1 /* open", ""),
        ("SELECT * FROM t WHERE a = 'unterminated", "Invalid quoted string"),
    ],
)
def test_malformed(text, detail):
    assert fails(text) == MALFORMED + detail


def test_dynamodb_specific_refusals():
    assert fails("SELECT * FROM t AS x") == "Aliasing is not supported"
    assert fails("SELECT * FROM t x WHERE a = 1") == "Aliasing is not supported"
    assert fails("INSERT INTO t VALUE {'a': 1} RETURNING ALL NEW *") == "RETURNING is not supported in INSERT"
    assert fails("INSERT INTO t VALUES {'a': 1}").startswith(
        "Unsupported operation: Inserting multiple items"
    )
    assert fails("DELETE FROM t WHERE a = 1 RETURNING ALL NEW *") == (
        "Invalid returning clause: RETURNING ALL NEW *. Only RETURNING ALL OLD * is allowed in DELETE statements."
    )
    assert fails("UPDATE t SET a = 1 WHERE k = 1 RETURNING ALL") == (
        "Expected '*' after ( MODIFIED | ALL ) ( NEW | OLD ) in RETURNING clause"
    )
    assert fails("SELECT * FROM t WHERE a = MISSING") == "MISSING must be compared using IS operator"
    assert fails("INSERT INTO t VALUE {'a': <<>>}") == "Empty bags are not supported"
    assert fails("SELECT * FROM t WHERE a = frob(b)") == "Unrecognized function: frob"


def test_numbers_checked_with_their_path():
    overflow = "Number overflow. Attempting to store a number with magnitude larger than supported range"
    assert fails("SELECT * FROM t WHERE pk = 1e126") == f"{overflow} under root"
    assert fails("INSERT INTO t VALUE {'pk': 1, 'm': {'x': 1e126}}") == f"{overflow} under root.m.x"
    assert fails("INSERT INTO t VALUE {'pk': 1, 'l': [1, 1e126]}") == f"{overflow} under root.l[1]"
