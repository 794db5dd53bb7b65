"""Recursive-descent parsers for condition, update and projection expressions.

Syntax errors are raised at once, as DynamoDB does. Other problems (reserved words, undefined
placeholders, wrong functions or operand types, overlapping paths) are noted while parsing and
the one DynamoDB would report first is raised at the end: each category keeps its first
message, and categories are ranked per language.

Grammar (keywords case-insensitive, function names case-sensitive)::

    condition   := or
    or          := and ("OR" and)*
    and         := not ("AND" not)*
    not         := "NOT" not | primary
    primary     := "(" or ")" | operand comparator operand | operand "BETWEEN" operand "AND" operand
                 | operand "IN" "(" operand ("," operand)* ")" | function
    operand     := "(" operand ")" | :value | function | path
    path        := (name | #name) ("." (name | #name) | "[" integer "]")*
    update      := (("SET" set ("," set)*) | ("REMOVE" path ("," path)*)
                    | ("ADD" path :value ("," ...)*) | ("DELETE" path :value ("," ...)*))+
    set         := path "=" ("(" value ")" | value)
    value       := operand (("+" | "-") operand)?
    projection  := path ("," path)*
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from .. import errors
from . import lexer
from .ast import (
    Action,
    AddAction,
    And,
    Arith,
    Between,
    Compare,
    DeleteAction,
    Function,
    In,
    Node,
    Not,
    Operand,
    Or,
    Path,
    PathElements,
    RemoveAction,
    SetAction,
    Value,
    show_path,
)
from .evaluate import order
from .lexer import Token
from .reserved import is_reserved

COMPARATORS = ("=", "<>", "<", "<=", ">", ">=")
CONDITION_FUNCTIONS = {
    "attribute_exists": 1, "attribute_not_exists": 1, "attribute_type": 2,
    "begins_with": 2, "contains": 2, "size": 1,
}  # fmt: skip
UPDATE_FUNCTIONS = {"if_not_exists": 2, "list_append": 2}
ATTRIBUTE_TYPES = ("S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M")
MAX_IN_OPERANDS = 100
MAX_EXPRESSION_BYTES = 4096
MAX_OPERATORS = 300
_SIZE_SHOWN = ("ConditionExpression", "FilterExpression")  # the kinds whose size message gives the size
_CONDITION_KEYWORDS = ("AND", "OR", "NOT", "BETWEEN", "IN")
_UPDATE_CLAUSES = ("SET", "REMOVE", "ADD", "DELETE")
_SET_TYPE_NAMES = {"S": "STRING", "N": "NUMBER", "B": "BINARY", "NULL": "NULL", "BOOL": "BOOLEAN",
                   "L": "LIST", "M": "MAP"}  # fmt: skip

CONDITION_ORDER = (
    "parens",
    "function_name",
    "misused",
    "reserved",
    "undefined",
    "operands",
    "distinct",
    "function",
)
UPDATE_ORDER = ("reserved", "function_name", "section", "undefined", "overlap", "operands", "function")
PROJECTION_ORDER = ("reserved", "undefined", "overlap")


class Placeholders(Protocol):
    """What the parser needs from the Expressions context: placeholder lookups that record use."""

    def name(self, placeholder: str) -> str | None: ...

    def value(self, placeholder: str) -> dict[str, Any] | None: ...


class _SyntaxFailure(Exception):
    def __init__(self, token_index: int, message: str) -> None:
        super().__init__(message)
        self.token_index = token_index


def overlap_problem(one: PathElements, two: PathElements) -> str | None:
    """DynamoDB's complaint about two paths of one expression, if any (None when independent)."""
    for a, b in zip(one, two, strict=False):
        if isinstance(a, int) != isinstance(b, int):
            return (
                "Two document paths conflict with each other; must remove or rewrite one of these paths; "
                f"path one: {show_path(one)}, path two: {show_path(two)}"
            )
        if a != b:
            return None
    return (
        "Two document paths overlap with each other; must remove or rewrite one of these paths; "
        f"path one: {show_path(one)}, path two: {show_path(two)}"
    )


def static_type(node: Operand) -> str | None:
    """The type an operand is known to have before any item is seen (None for paths)."""
    if isinstance(node, Value):
        return node.type
    if isinstance(node, Arith):
        return "N"
    if isinstance(node, Function):
        return {"size": "N", "list_append": "L"}.get(node.name) or (
            static_type(node.args[1]) if node.name == "if_not_exists" and len(node.args) == 2 else None
        )
    return None


def _same_path(one: Operand, two: Operand) -> bool:
    return isinstance(one, Path) and isinstance(two, Path) and one.elements == two.elements


class Parser:
    """One parse of one expression; ``kind`` names it in messages (``Invalid <kind>: ...``)."""

    def __init__(self, text: str, kind: str, placeholders: Placeholders, limited: bool = True) -> None:
        self.text, self.kind, self.placeholders = text, kind, placeholders
        self.limited = limited  # False for the text legacy parameters are rewritten into: no limits apply
        self.tokens = lexer.tokenize(text)
        self.pos = 0
        self.operators = 0
        self.problems: dict[str, str] = {}
        self._last_group: Node | None = None

    # -- plumbing -----------------------------------------------------------------------------

    def fail(self, message: str) -> errors.AwsError:
        return errors.validation(f"Invalid {self.kind}: {message}")

    def note(self, category: str, message: str) -> None:
        self.problems.setdefault(category, message)

    def raise_problems(self, order: tuple[str, ...]) -> None:
        for category in order:
            if category in self.problems:
                raise self.fail(self.problems[category])

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.peek()
        self.pos = min(self.pos + 1, len(self.tokens) - 1)
        return token

    def syntax_error(self) -> _SyntaxFailure:
        index = self.pos
        token = self.tokens[index]
        previous = self.tokens[index - 1] if index else None
        if token.kind == lexer.EOF:
            shown, near = "<EOF>", previous.text if previous else ""
        else:
            shown = token.text
            near = self.text[previous.start : token.end] if previous else token.text
        return _SyntaxFailure(index, f'Syntax error; token: "{shown}", near: "{near}"')

    def expect(self, punct: str) -> Token:
        if not self.peek().is_punct(punct):
            raise self.syntax_error()
        return self.advance()

    def accept(self, punct: str) -> bool:
        if self.peek().is_punct(punct):
            self.advance()
            return True
        return False

    def accept_word(self, word: str) -> bool:
        if self.peek().is_word(word):
            self.advance()
            return True
        return False

    def check_size(self) -> None:
        size = len(self.text.encode("utf-8"))
        if self.limited and size > MAX_EXPRESSION_BYTES:
            shown = f" expression size: {size}" if self.kind in _SIZE_SHOWN else ""
            raise self.fail(f"Expression size has exceeded the maximum allowed size;{shown}")

    def count_operator(self) -> None:
        """DynamoDB allows 300 operators and functions in one expression; the next one is refused."""
        self.operators += 1
        if self.limited and self.operators > MAX_OPERATORS:
            raise self.fail(f"The expression contains too many operators; operator count: {self.operators}")

    def run(self, rule: Callable[[], Any], order: tuple[str, ...]) -> Any:
        """Parse the whole text with ``rule``, then raise the first problem in ``order``."""
        if not self.text.strip():
            raise self.fail("The expression can not be empty;")
        self.check_size()
        try:
            result = rule()
            if self.peek().kind != lexer.EOF:
                raise self.syntax_error()
        except _SyntaxFailure as failure:
            raise self.fail(str(failure)) from None
        self.raise_problems(order)
        return result

    def attempt(self, *rules: Callable[[], Any]) -> Any:
        """Backtracking choice: the first rule that parses; else the failure that got furthest."""
        start, problems, operators, furthest = self.pos, dict(self.problems), self.operators, None
        for rule in rules:
            try:
                return rule()
            except _SyntaxFailure as failure:
                if furthest is None or failure.token_index > furthest.token_index:
                    furthest = failure
                self.pos, self.problems, self.operators = start, dict(problems), operators
        assert furthest is not None
        raise furthest

    # -- paths and operands ---------------------------------------------------------------------

    def _path_name(self, keywords: tuple[str, ...]) -> str:
        token = self.peek()
        if token.kind == lexer.ATTR_NAME:
            self.advance()
            name = self.placeholders.name(token.text)
            if name is None:
                self.note(
                    "undefined",
                    "An expression attribute name used in the document path is not defined; "
                    f"attribute name: {token.text}",
                )
                return token.text
            return name
        if token.kind != lexer.NAME or token.text.upper() in keywords:
            raise self.syntax_error()
        self.advance()
        if is_reserved(token.text):
            self.note("reserved", f"Attribute name is a reserved keyword; reserved keyword: {token.text}")
        return token.text

    def path(self, keywords: tuple[str, ...] = ()) -> Path:
        elements: list[str | int] = [self._path_name(keywords)]
        while True:
            if self.accept("."):
                elements.append(self._path_name(keywords))
            elif self.accept("["):
                if self.peek().kind != lexer.INTEGER:
                    raise self.syntax_error()
                elements.append(int(self.advance().text))
                self.expect("]")
            else:
                return Path(tuple(elements))

    def value(self) -> Value:
        token = self.peek()
        if token.kind != lexer.ATTR_VALUE:
            raise self.syntax_error()
        self.advance()
        value = self.placeholders.value(token.text)
        if value is None:
            self.note(
                "undefined",
                f"An expression attribute value used in expression is not defined; attribute value: {token.text}",
            )
            return Value(token.text, {"NULL": True})
        return Value(token.text, value)

    def operand(self, keywords: tuple[str, ...]) -> Operand:
        """A parenthesised or bare operand: value, function call or path."""
        if self.peek().is_punct("("):
            self.advance()
            if self.peek().is_punct("(") and self.kind != "UpdateExpression":
                self.note("parens", "The expression has redundant parentheses;")
            inner = self.operand(keywords)
            self.expect(")")
            return inner
        token = self.peek()
        if token.kind == lexer.ATTR_VALUE:
            return self.value()
        if token.kind == lexer.NAME and self.peek(1).is_punct("(") and token.text.upper() not in keywords:
            return self.function(keywords)
        return self.path(keywords)

    def function(self, keywords: tuple[str, ...]) -> Function:
        name = self.advance().text
        self.count_operator()
        self.expect("(")
        args = [self.operand(keywords)]
        while self.accept(","):
            args.append(self.operand(keywords))
        self.expect(")")
        node = Function(name, tuple(args))
        self.check_function(node)
        return node

    # -- function checks ------------------------------------------------------------------------

    def check_function(self, node: Function) -> None:
        updating = self.kind == "UpdateExpression"
        allowed, other = (
            (UPDATE_FUNCTIONS, CONDITION_FUNCTIONS) if updating else (CONDITION_FUNCTIONS, UPDATE_FUNCTIONS)
        )
        if node.name not in allowed:
            where = "an update" if updating else "a condition"
            message = (
                f"The function is not allowed in {where} expression; function: {node.name}"
                if node.name in other
                else f"Invalid function name; function: {node.name}"
            )
            self.note("function_name", message)
            return
        if not updating:
            self.check_misused(node.args)
        if len(node.args) != allowed[node.name]:
            self.note(
                "operands",
                "Incorrect number of operands for operator or function; "
                f"operator or function: {node.name}, number of operands: {len(node.args)}",
            )
            return
        if len(node.args) == 2 and _same_path(*node.args) and not updating:
            self.note_distinct(node.name, node.args[0])
        getattr(self, f"_check_{node.name}")(node)

    def _wrong_type(self, name: str, type_: str) -> None:
        self.note(
            "function",
            f"Incorrect operand type for operator or function; operator or function: {name}, operand type: {type_}",
        )

    def _needs_path(self, node: Function) -> bool:
        if isinstance(node.args[0], Path):
            return True
        self.note(
            "function", f"Operator or function requires a document path; operator or function: {node.name}"
        )
        return False

    def _check_attribute_exists(self, node: Function) -> None:
        self._needs_path(node)

    _check_attribute_not_exists = _check_attribute_exists
    _check_if_not_exists = _check_attribute_exists

    def _check_attribute_type(self, node: Function) -> None:
        if not self._needs_path(node):
            return
        kind = static_type(node.args[1])
        if kind != "S":
            self._wrong_type(node.name, kind or "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}")
            return
        name = node.args[1].value["S"]  # type: ignore[union-attr]
        if name not in ATTRIBUTE_TYPES:
            self.note(
                "function",
                f"Invalid attribute type name found; type: {name}, valid types: {{B,NULL,SS,BOOL,L,BS,N,NS,S,M}}",
            )

    def _check_only_types(self, node: Function, allowed: tuple[str, ...]) -> None:
        for arg in node.args:
            kind = static_type(arg)
            if kind is not None and kind not in allowed:
                self._wrong_type(node.name, kind)
                return

    def _check_begins_with(self, node: Function) -> None:
        self._check_only_types(node, ("S", "B"))

    def _check_contains(self, node: Function) -> None:
        return None

    def _check_size(self, node: Function) -> None:
        kind = static_type(node.args[0])
        if kind in ("N", "BOOL", "NULL"):
            self._wrong_type(node.name, kind)

    def _check_list_append(self, node: Function) -> None:
        self._check_only_types(node, ("L",))

    def check_misused(self, operands: tuple[Operand, ...] | list[Operand]) -> None:
        """Only ``size`` gives a value; the other condition functions are conditions themselves."""
        for operand in operands:
            if isinstance(operand, Function) and operand.name != "size":
                self.note(
                    "misused",
                    f"The function is not allowed to be used this way in an expression; function: {operand.name}",
                )
                return

    def note_distinct(self, operator: str, first: Operand) -> None:
        self.note(
            "distinct",
            "The first operand must be distinct from the remaining operands for this operator or function; "
            f"operator: {operator}, first operand: {first.shown()}",  # type: ignore[union-attr]
        )

    # -- conditions -------------------------------------------------------------------------------

    def condition(self) -> Node:
        node = self.or_condition()
        self.check_condition(node)
        return node

    def check_condition(self, node: Node | Operand) -> None:
        if isinstance(node, Function) and node.name == "size":
            self.note(
                "misused", "The function is not allowed to be used this way in an expression; function: size"
            )

    def or_condition(self) -> Node:
        node = self.and_condition()
        while self.accept_word("OR"):
            self.count_operator()
            right = self.and_condition()
            self.check_condition(node)
            self.check_condition(right)
            node = Or(node, right)
        return node

    def and_condition(self) -> Node:
        node = self.not_condition()
        while self.accept_word("AND"):
            self.count_operator()
            right = self.not_condition()
            self.check_condition(node)
            self.check_condition(right)
            node = And(node, right)
        return node

    def not_condition(self) -> Node:
        if self.accept_word("NOT"):
            self.count_operator()
            operand = self.not_condition()
            self.check_condition(operand)
            return Not(operand)
        return self.primary()

    def primary(self) -> Node:
        if self.peek().is_punct("("):
            return self.attempt(self.group, self.comparison)
        return self.comparison()

    def group(self) -> Node:
        self.expect("(")
        inner = self.or_condition()
        self.expect(")")
        if inner is self._last_group:
            self.note("parens", "The expression has redundant parentheses;")
        self._last_group = inner
        return inner

    def comparison(self) -> Node:
        left = self.operand(_CONDITION_KEYWORDS)
        token = self.peek()
        if token.kind == lexer.PUNCT and token.text in COMPARATORS:
            self.advance()
            self.count_operator()
            right = self.operand(_CONDITION_KEYWORDS)
            self.check_misused((left, right))
            if _same_path(left, right):
                self.note_distinct(token.text, left)
            return Compare(token.text, left, right)
        if self.accept_word("BETWEEN"):
            self.count_operator()
            return self.between(left)
        if self.accept_word("IN"):
            self.count_operator()
            return self.in_list(left)
        if isinstance(left, Function):
            return left
        raise self.syntax_error()

    def between(self, operand: Operand) -> Between:
        low = self.operand(_CONDITION_KEYWORDS)
        if not self.accept_word("AND"):
            raise self.syntax_error()
        high = self.operand(_CONDITION_KEYWORDS)
        self.check_misused((operand, low, high))
        if isinstance(low, Value) and isinstance(high, Value):
            self.check_bounds(low, high)
        return Between(operand, low, high)

    def check_bounds(self, low: Value, high: Value) -> None:
        shown = (
            f"lower bound operand: AttributeValue: {{{low.type}:{low.value[low.type]}}}, "
            f"upper bound operand: AttributeValue: {{{high.type}:{high.value[high.type]}}}"
        )
        if low.type != high.type:
            self.note(
                "function",
                f"The BETWEEN operator requires same data type for lower and upper bounds; {shown}",
            )
        elif (order(low.value, high.value) or 0) > 0:
            self.note(
                "function",
                f"The BETWEEN operator requires upper bound to be greater than or equal to lower bound; {shown}",
            )

    def in_list(self, operand: Operand) -> In:
        self.expect("(")
        options = [self.operand(_CONDITION_KEYWORDS)]
        while self.accept(","):
            options.append(self.operand(_CONDITION_KEYWORDS))
        self.expect(")")
        self.check_misused([operand, *options])
        if len(options) > MAX_IN_OPERANDS:
            self.note(
                "operands",
                f"The IN operator is provided with too many operands; number of operands: {len(options)}",
            )
        return In(operand, tuple(options))

    # -- update -----------------------------------------------------------------------------------

    def update(self) -> list[Action]:
        actions: list[Action] = []
        seen: set[str] = set()
        while self.peek().kind != lexer.EOF:
            token = self.peek()
            clause = token.text.upper() if token.kind == lexer.NAME else ""
            if clause not in _UPDATE_CLAUSES:
                raise self.syntax_error()
            self.advance()
            if clause in seen:
                self.note("section", f'The "{clause}" section can only be used once in an update expression;')
            seen.add(clause)
            actions.extend(self.clause(clause))
        self.check_overlaps([action.path.elements for action in actions])
        return actions

    def clause(self, clause: str) -> list[Action]:
        rule = getattr(self, f"_{clause.lower()}_action")
        actions = [rule()]
        while self.accept(","):
            actions.append(rule())
        return actions

    def _set_action(self) -> SetAction:
        path = self.path(_UPDATE_CLAUSES)
        self.expect("=")
        if self.peek().is_punct("("):
            value = self.attempt(self._grouped_set_value, self._set_value)
        else:
            value = self._set_value()
        return SetAction(path, value)

    def _grouped_set_value(self) -> Operand:
        self.expect("(")
        value = self._set_value()
        self.expect(")")
        return value

    def _set_value(self) -> Operand:
        left = self.operand(_UPDATE_CLAUSES)
        token = self.peek()
        if not (token.is_punct("+") or token.is_punct("-")):
            return left
        self.advance()
        self.count_operator()
        right = self.operand(_UPDATE_CLAUSES)
        for operand in (left, right):
            kind = static_type(operand) if isinstance(operand, Value) else None
            if kind is not None and kind != "N":
                self._wrong_type(token.text, kind)
                break
        return Arith(token.text, left, right)

    def _remove_action(self) -> RemoveAction:
        return RemoveAction(self.path(_UPDATE_CLAUSES))

    def _add_action(self) -> AddAction:
        path = self.path(_UPDATE_CLAUSES)
        value = self.value()
        self._check_operator("ADD", value, ("N", "SS", "NS", "BS"))
        return AddAction(path, value)

    def _delete_action(self) -> DeleteAction:
        path = self.path(_UPDATE_CLAUSES)
        value = self.value()
        self._check_operator("DELETE", value, ("SS", "NS", "BS"))
        return DeleteAction(path, value)

    def _check_operator(self, operator: str, value: Value, allowed: tuple[str, ...]) -> None:
        if value.type not in allowed and "undefined" not in self.problems:
            self.note(
                "operands",
                f"Incorrect operand type for operator or function; operator: {operator}, "
                f"operand type: {_SET_TYPE_NAMES[value.type]}",
            )

    def check_overlaps(self, paths: list[PathElements]) -> None:
        for i, one in enumerate(paths):
            for two in paths[:i]:
                problem = overlap_problem(two, one)
                if problem:
                    self.note("overlap", problem)
                    return

    # -- projection -------------------------------------------------------------------------------

    def projection(self) -> list[Path]:
        paths = [self.path()]
        while self.accept(","):
            paths.append(self.path())
        self.check_overlaps([p.elements for p in paths])
        return paths


def parse_condition(text: str, kind: str, placeholders: Placeholders, limited: bool = True) -> Node:
    parser = Parser(text, kind, placeholders, limited)
    return parser.run(parser.condition, CONDITION_ORDER)


def parse_update(text: str, placeholders: Placeholders, limited: bool = True) -> list[Action]:
    parser = Parser(text, "UpdateExpression", placeholders, limited)
    return parser.run(parser.update, UPDATE_ORDER)


def parse_projection(text: str, placeholders: Placeholders, limited: bool = True) -> list[Path]:
    parser = Parser(text, "ProjectionExpression", placeholders, limited)
    return parser.run(parser.projection, PROJECTION_ORDER)
