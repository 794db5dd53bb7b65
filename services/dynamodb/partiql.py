"""PartiQL for DynamoDB: a hand-written lexer and recursive-descent parser of the subset DynamoDB runs.

    SELECT <* | path, ...> FROM "table"[."index"] [WHERE cond] [ORDER BY key [ASC|DESC], ...]
    INSERT INTO "table" VALUE {'k': v, ...}
    UPDATE "table" SET path = value | REMOVE path ... WHERE cond [RETURNING (ALL|MODIFIED) (OLD|NEW) *]
    DELETE FROM "table" WHERE cond [RETURNING ALL OLD *]
    EXISTS(SELECT * FROM "table" WHERE cond)              -- a condition check in ExecuteTransaction

Conditions and update actions parse into the syntax tree of the expression languages
(``expressions.ast``), so a WHERE is evaluated by the same evaluator as a FilterExpression and
``Placeholders`` can write it back as expression text with generated #names and :values, which
is how PartiQL writes go through the ordinary UpdateItem/DeleteItem preparation. Literals and
``?`` parameters become canonical AttributeValues at parse time. Every syntax error is worded as
DynamoDB words it ("Statement wasn't well formed, can't be processed: <detail>").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import errors
from .expressions.ast import (
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
)
from .values import AttributeValue, Item, canonical, canonical_number

# -- tokens ---------------------------------------------------------------------------------------

WORD, QUOTED, STRING, NUMBER, PARAM, PUNCT, EOF = "word", "quoted", "string", "number", "?", "punct", "eof"
_PUNCT = ("<<", ">>", "<>", "!=", "<=", ">=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "*", "=", "<", ">")
_PUNCT += ("+", "-", ";")
_WORD_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_WORD = _WORD_START | frozenset("0123456789$")
_DIGITS = frozenset("0123456789")
KEYWORDS = frozenset(
    [
        "ALL",
        "AND",
        "AS",
        "ASC",
        "BETWEEN",
        "BY",
        "DELETE",
        "DESC",
        "EXISTS",
        "FALSE",
        "FROM",
        "IN",
        "INSERT",
        "INTO",
        "IS",
        "LIMIT",
        "MISSING",
        "NOT",
        "NULL",
        "OR",
        "ORDER",
        "REMOVE",
        "RETURNING",
        "SELECT",
        "SET",
        "TRUE",
        "UPDATE",
        "VALUE",
        "VALUES",
        "WHERE",
    ]
)
_COMPARATORS = ("=", "<>", "!=", "<", "<=", ">", ">=")
_CONDITION_FUNCTIONS = {
    "attribute_exists": 1, "attribute_not_exists": 1, "attribute_type": 2, "begins_with": 2, "contains": 2,
}  # fmt: skip
_SET_FUNCTIONS = {"set_add": AddAction, "set_delete": DeleteAction}


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str  # for QUOTED and STRING the unescaped content
    pos: int

    def word(self, *words: str) -> bool:
        return self.kind == WORD and self.text.upper() in words

    def punct(self, *texts: str) -> bool:
        return self.kind == PUNCT and self.text in texts


def malformed(detail: str = "") -> errors.AwsError:
    return errors.validation(f"Statement wasn't well formed, can't be processed: {detail}")


def _quoted(text: str, pos: int, quote: str) -> tuple[str, int]:
    """The content of a quoted token starting at ``pos`` (doubled quotes escape), and its end."""
    out, i = [], pos + 1
    while i < len(text):
        if text[i] == quote:
            if text[i + 1 : i + 2] != quote:
                return "".join(out), i + 1
            i += 1
        out.append(text[i])
        i += 1
    raise malformed("Invalid quoted string" if quote == "'" else "Invalid quoted identifier")


def _number_end(text: str, pos: int) -> int:
    i = pos
    while i < len(text) and text[i] in _DIGITS:
        i += 1
    if text[i : i + 1] == "." and text[i + 1 : i + 2] in _DIGITS:
        i += 1
        while i < len(text) and text[i] in _DIGITS:
            i += 1
    if text[i : i + 1] in ("e", "E"):
        j = i + 1 + (text[i + 1 : i + 2] in ("+", "-"))
        if text[j : j + 1] in _DIGITS:
            i = j
            while i < len(text) and text[i] in _DIGITS:
                i += 1
    return i


def _skip(text: str, pos: int) -> int:
    """Past white space and comments (``--`` to the end of the line, ``/* ... */``)."""
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
        elif text.startswith("--", pos):
            end = text.find("\n", pos)
            pos = len(text) if end < 0 else end + 1
        elif text.startswith("/*", pos):
            end = text.find("*/", pos + 2)
            if end < 0:
                raise malformed()
            pos = end + 2
        else:
            return pos
    return pos


def _token(text: str, pos: int) -> tuple[Token, int]:
    char = text[pos]
    if char in _WORD_START:
        end = pos
        while end < len(text) and text[end] in _WORD:
            end += 1
        return Token(WORD, text[pos:end], pos), end
    if char in ('"', "'"):
        content, end = _quoted(text, pos, char)
        return Token(QUOTED if char == '"' else STRING, content, pos), end
    if char in _DIGITS:
        end = _number_end(text, pos)
        return Token(NUMBER, text[pos:end], pos), end
    if char == "?":
        return Token(PARAM, "?", pos), pos + 1
    for punct in _PUNCT:
        if text.startswith(punct, pos):
            return Token(PUNCT, punct, pos), pos + len(punct)
    raise malformed(f"Unexpected character: {char}" if char.isprintable() else "")


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = _skip(text, 0)
    while pos < len(text):
        token, pos = _token(text, pos)
        tokens.append(token)
        pos = _skip(text, pos)
    tokens.append(Token(EOF, "", len(text)))
    return tokens


# -- statements -----------------------------------------------------------------------------------


@dataclass
class Target:
    table: str
    index: str | None = None


@dataclass
class Select:
    target: Target
    projection: list[PathElements] | None  # None: *
    where: Node | None = None
    order: list[tuple[str, bool]] = field(default_factory=list)  # (key name, descending)


@dataclass
class Insert:
    target: Target
    item: Item


@dataclass
class Update:
    target: Target
    actions: list[Action]
    where: Node | None
    returning: str | None = None  # a ReturnValues mode


@dataclass
class Delete:
    target: Target
    where: Node | None
    returning: str | None = None


@dataclass
class Exists:
    """EXISTS(SELECT ...): a ConditionCheck inside ExecuteTransaction."""

    select: Select


Statement = Select | Insert | Update | Delete | Exists
_RETURNING = {("ALL", "OLD"): "ALL_OLD", ("ALL", "NEW"): "ALL_NEW"}
_RETURNING |= {("MODIFIED", "OLD"): "UPDATED_OLD", ("MODIFIED", "NEW"): "UPDATED_NEW"}


def parameters_mismatch() -> errors.AwsError:
    return errors.validation("Number of parameters in request and statement don't match.")


def parse(text: str, parameters: Sequence[AttributeValue] = ()) -> Statement:
    """One statement; ``parameters`` (canonical AttributeValues) fill its ``?`` in order."""
    parser = _Parser(tokenize(text), list(parameters))
    statement = parser.statement()
    if parser.used != len(parser.parameters):
        raise parameters_mismatch()
    return statement


class _Parser:
    def __init__(self, tokens: list[Token], parameters: list[AttributeValue]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.parameters = parameters
        self.used = 0

    # -- cursor ---------------------------------------------------------------------------------

    @property
    def peek(self) -> Token:
        return self.tokens[self.pos]

    def next(self) -> Token:
        token = self.tokens[self.pos]
        self.pos = min(self.pos + 1, len(self.tokens) - 1)
        return token

    def accept_word(self, *words: str) -> bool:
        if self.peek.word(*words):
            self.pos += 1
            return True
        return False

    def accept_punct(self, *texts: str) -> bool:
        if self.peek.punct(*texts):
            self.pos += 1
            return True
        return False

    def expect_word(self, word: str) -> None:
        if not self.accept_word(word):
            raise self.unexpected()

    def expect_punct(self, text: str) -> None:
        if not self.accept_punct(text):
            raise self.unexpected()

    def unexpected(self) -> errors.AwsError:
        token = self.peek
        if token.kind == EOF or token.punct(";"):
            return malformed("Unexpected term")
        if token.kind == WORD and token.text.upper() in KEYWORDS:
            return malformed("Unexpected keyword")
        return malformed("Unexpected token")

    def end(self) -> None:
        self.accept_punct(";")
        if self.peek.kind != EOF:
            raise malformed("Unexpected token after expression")

    # -- statements -----------------------------------------------------------------------------

    def statement(self) -> Statement:
        token = self.next()
        kinds: dict[str, Callable[[], Statement]] = {
            "SELECT": self.select,
            "INSERT": self.insert,
            "UPDATE": self.update,
            "DELETE": self.delete,
            "EXISTS": self.exists,
        }
        parse_rest = kinds.get(token.text.upper()) if token.kind == WORD else None
        if parse_rest is None:
            raise malformed("Unexpected term" if token.kind == EOF else "Expected data manipulation")
        statement = parse_rest()
        self.end()
        return statement

    def name(self, failure: str | None = None) -> str:
        """A table, index or attribute name: bare (not a keyword) or in double quotes."""
        token = self.peek
        if token.kind == QUOTED or token.kind == WORD and token.text.upper() not in KEYWORDS:
            self.pos += 1
            if not token.text:
                raise errors.validation("Path component cannot be an empty string")
            return token.text
        raise malformed(failure) if failure else self.unexpected()

    def target(self, *, dml: bool = False, alias: bool = True) -> Target:
        target = Target(self.name("Expected identifier for simple path" if dml else None))
        if self.accept_punct("."):
            target.index = self.name()
            if dml:
                raise errors.validation("This operation is not supported on an index")
        aliased = self.peek.kind in (WORD, QUOTED) and not self.peek.word(*KEYWORDS - {"AS"})
        if alias and aliased:
            raise errors.validation("Aliasing is not supported")
        return target

    def select(self) -> Select:
        projection = None if self.accept_punct("*") else self.projection()
        self.expect_word("FROM")
        target = self.target()
        where = self.condition() if self.accept_word("WHERE") else None
        order: list[tuple[str, bool]] = []
        if self.accept_word("ORDER"):
            self.expect_word("BY")
            order.append(self.ordering())
            while self.accept_punct(","):
                order.append(self.ordering())
        return Select(target, projection, where, order)

    def projection(self) -> list[PathElements]:
        paths = [self.path().elements]
        while self.accept_punct(","):
            if self.peek.punct("*"):
                raise errors.validation(
                    "Other attributes should not be present in the projection when '*' is used."
                )
            paths.append(self.path().elements)
        return paths

    def ordering(self) -> tuple[str, bool]:
        name = self.name()
        descending = self.accept_word("DESC")
        if not descending:
            self.accept_word("ASC")
        return name, descending

    def insert(self) -> Insert:
        self.expect_word("INTO")
        target = self.target(dml=True, alias=False)
        if self.peek.word("VALUES"):
            raise errors.validation(
                "Unsupported operation: Inserting multiple items in a single statement is not supported, "
                'use "INSERT INTO tableName VALUE item" instead'
            )
        self.expect_word("VALUE")
        if not self.peek.punct("{") and self.peek.kind != PARAM:
            raise errors.validation(
                "Unsupported format in item expression. Please use struct format {...} to express item "
                "values for insert statement."
            )
        item = self.literal("root")
        if "M" not in item:
            raise malformed("Expected a tuple in VALUE")
        if self.peek.word("RETURNING"):
            raise errors.validation("RETURNING is not supported in INSERT")
        return Insert(target, item["M"])

    def update(self) -> Update:
        target = self.target(dml=True)
        actions: list[Action] = []
        while self.peek.word("SET", "REMOVE"):
            if self.next().word("SET"):
                actions.append(self.set_action())
                while self.accept_punct(","):
                    actions.append(self.set_action())
            else:
                actions.append(RemoveAction(self.path()))
                while self.accept_punct(","):
                    actions.append(RemoveAction(self.path()))
        if not actions:
            raise self.unexpected()
        where = self.condition() if self.accept_word("WHERE") else None
        return Update(target, actions, where, self.returning())

    def delete(self) -> Delete:
        self.expect_word("FROM")
        target = self.target(dml=True)
        where = self.condition() if self.accept_word("WHERE") else None
        returning = self.returning()
        if returning not in (None, "ALL_OLD"):
            shown = {v: " ".join(k) for k, v in _RETURNING.items()}[returning].replace("_", " ")
            raise errors.validation(
                f"Invalid returning clause: RETURNING {shown} *. Only RETURNING ALL OLD * is allowed in DELETE statements."
            )
        return Delete(target, where, returning)

    def exists(self) -> Exists:
        self.expect_punct("(")
        self.expect_word("SELECT")
        select = self.select()
        self.expect_punct(")")
        return Exists(select)

    def returning(self) -> str | None:
        if not self.accept_word("RETURNING"):
            return None
        which, age = self.next().text.upper(), self.next().text.upper()
        mode = _RETURNING.get((which, age))
        if mode is None or not self.accept_punct("*"):
            raise errors.validation("Expected '*' after ( MODIFIED | ALL ) ( NEW | OLD ) in RETURNING clause")
        return mode

    # -- update actions -------------------------------------------------------------------------

    def set_action(self) -> Action:
        path = self.path()
        self.expect_punct("=")
        token = self.peek
        if (
            token.kind == WORD
            and token.text.lower() in _SET_FUNCTIONS
            and self.tokens[self.pos + 1].punct("(")
        ):
            self.pos += 2
            self.path()  # the attribute the set function changes: the assignment's own target
            self.expect_punct(",")
            value = self.operand()
            self.expect_punct(")")
            if not isinstance(value, Value):
                raise errors.validation(
                    f"The second argument to {token.text.upper()} must be a value with type SET"
                )
            return _SET_FUNCTIONS[token.text.lower()](path, value)
        value = self.operand()
        if self.peek.punct("+", "-"):
            value = Arith(self.next().text, value, self.operand())
        return SetAction(path, value)

    # -- conditions -----------------------------------------------------------------------------

    def condition(self) -> Node:
        left = self.conjunction()
        while self.accept_word("OR"):
            left = Or(left, self.right(self.conjunction))
        return left

    def conjunction(self) -> Node:
        left = self.negation()
        while self.accept_word("AND"):
            left = And(left, self.right(self.negation))
        return left

    def right(self, parse_side: Callable[[], Node]) -> Node:
        if self.peek.kind == EOF or self.peek.punct(";", ")"):
            raise malformed("Missing right-hand side expression of infix operator")
        return parse_side()

    def negation(self) -> Node:
        if self.accept_word("NOT"):
            return Not(self.negation())
        if self.accept_punct("("):
            inner = self.condition()
            self.expect_punct(")")
            return inner
        token = self.peek
        if (
            token.kind == WORD
            and token.text.lower() in _CONDITION_FUNCTIONS
            and self.tokens[self.pos + 1].punct("(")
        ):
            return self.function(_CONDITION_FUNCTIONS)
        return self.predicate()

    def predicate(self) -> Node:
        left = self.operand()
        token = self.peek
        if token.punct(*_COMPARATORS):
            self.pos += 1
            op = "<>" if token.text == "!=" else token.text
            return Compare(op, left, self.operand())
        negated = self.accept_word("NOT")
        if self.accept_word("BETWEEN"):
            low = self.operand()
            self.expect_word("AND")
            node: Node = Between(left, low, self.operand())
        elif self.accept_word("IN"):
            node = In(left, self.options())
        elif not negated and self.accept_word("IS"):
            return self.is_test(left)
        else:
            raise self.unexpected()
        return Not(node) if negated else node

    def options(self) -> tuple[Operand, ...]:
        closing = {"[": "]", "(": ")"}.get(self.peek.text) if self.peek.kind == PUNCT else None
        if closing is None:
            raise errors.validation(
                "IN operator must have a left hand argument of type Variable Reference and right hand argument "
                "of type Seq with at least one member"
            )
        self.pos += 1
        found = [self.operand()]
        while self.accept_punct(","):
            found.append(self.operand())
        self.expect_punct(closing)
        return tuple(found)

    def is_test(self, left: Operand) -> Node:
        negated = self.accept_word("NOT")
        if not isinstance(left, Path):
            raise errors.validation(
                "The left hand side argument to IS must be a Variable Reference, Literal, or Path"
            )
        if self.accept_word("MISSING"):
            node: Node = Function("attribute_not_exists", (left,))
        elif self.accept_word("NULL"):
            null = Compare("=", left, Value("NULL", {"NULL": True}))
            node = Or(Function("attribute_not_exists", (left,)), null)
        else:
            raise malformed("Expected type name")
        return Not(node) if negated else node

    def function(self, arities: dict[str, int]) -> Function:
        name = self.next().text.lower()
        self.expect_punct("(")
        args = [self.operand()]
        while self.accept_punct(","):
            args.append(self.operand())
        self.expect_punct(")")
        if len(args) != arities[name]:
            raise errors.validation(
                f"Incorrect number of operands for operator or function; operator or function: {name}, number of operands: {len(args)}"
            )
        return Function(name, tuple(args))

    # -- operands -------------------------------------------------------------------------------

    def operand(self) -> Operand:
        token = self.peek
        if token.kind == WORD and self.tokens[self.pos + 1].punct("("):
            name = token.text.lower()
            if name == "size":
                return self.function({"size": 1})
            if name in ("list_append", "if_not_exists"):
                return self.function({name: 2})
            raise errors.validation(f"Unrecognized function: {token.text}")
        if token.kind == QUOTED or token.kind == WORD and not token.word(*KEYWORDS):
            return self.path()
        if token.word("MISSING"):
            raise errors.validation("MISSING must be compared using IS operator")
        return Value(token.text, self.literal("root"))

    def path(self) -> Path:
        elements: list[str | int] = [self.name()]
        while True:
            if self.accept_punct("."):
                elements.append(self.name())
            elif self.accept_punct("["):
                token = self.next()
                if token.kind == NUMBER and token.text.isdigit():
                    elements.append(int(token.text))
                elif token.kind == STRING:
                    elements.append(token.text)
                else:
                    raise malformed("Unexpected path component")
                self.expect_punct("]")
            else:
                return Path(tuple(elements))

    # -- literals -------------------------------------------------------------------------------

    def literal(self, where: str) -> AttributeValue:
        """A literal or ``?``, canonical; ``where`` (root, root.a, root[1]) names it in number errors."""
        start = self.pos
        token = self.next()
        if token.kind == PARAM:
            if self.used >= len(self.parameters):
                raise parameters_mismatch()
            self.used += 1
            return self.parameters[self.used - 1]
        if token.kind == STRING:
            return {"S": token.text}
        if token.kind == NUMBER or token.punct("-") and self.peek.kind == NUMBER:
            text = token.text if token.kind == NUMBER else "-" + self.next().text
            return {"N": _number(text, where)}
        if token.word("TRUE", "FALSE"):
            return {"BOOL": token.word("TRUE")}
        if token.word("NULL"):
            return {"NULL": True}
        if token.punct("["):
            return {"L": self.sequence("]", lambda i: f"{where}[{i}]")}
        if token.punct("<<"):
            return _bag(self.sequence(">>", lambda i: f"{where}[{i}]"))
        if token.punct("{"):
            return {"M": self.struct(where)}
        self.pos = start
        raise self.unexpected()

    def sequence(self, closing: str, where: Callable[[int], str]) -> list[AttributeValue]:
        found: list[AttributeValue] = []
        if self.accept_punct(closing):
            return found
        found.append(self.literal(where(0)))
        while self.accept_punct(","):
            found.append(self.literal(where(len(found))))
        self.expect_punct(closing)
        return found

    def struct(self, where: str) -> Item:
        members: Item = {}
        if self.accept_punct("}"):
            return members
        while True:
            if self.peek.kind != STRING:
                raise self.unexpected()
            token = self.next()
            self.expect_punct(":")
            if token.text in members:
                raise errors.validation(f"Duplicate keys in tuple. Key: {token.text} under {where}")
            members[token.text] = self.literal(f"{where}.{token.text}")
            if self.accept_punct("}"):
                return members
            self.expect_punct(",")


def _number(text: str, where: str) -> str:
    try:
        return canonical_number(text)
    except errors.AwsError as error:
        if "cannot be converted" in error.message:
            raise malformed() from None
        raise errors.validation(f"{error.message} under {where}") from None


def _bag(members: list[AttributeValue]) -> AttributeValue:
    """<<...>>: a string or number set, by the type of its members."""
    if not members:
        raise errors.validation("Empty bags are not supported")
    kinds = {next(iter(m)) for m in members}
    if len(kinds) != 1 or kinds - {"S", "N", "B"}:
        raise errors.validation(
            "Unsupported data type in Bag. DynamoDB only supports either numbers or strings in bags"
        )
    (kind,) = kinds
    return canonical({kind + "S": [m[kind] for m in members]})


# -- writing a tree back as expression text -------------------------------------------------------


_PRECEDENCE: dict[type, int] = {Or: 1, And: 2, Not: 3}


class Placeholders:
    """Renders parsed conditions and actions as DynamoDB expression text with #n / :v placeholders."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, AttributeValue] = {}
        self._by_name: dict[str, str] = {}

    def spec(self) -> dict[str, Any]:
        """ExpressionAttributeNames / ExpressionAttributeValues for a request using the rendered text."""
        out: dict[str, Any] = {}
        if self.names:
            out["ExpressionAttributeNames"] = dict(self.names)
        if self.values:
            out["ExpressionAttributeValues"] = dict(self.values)
        return out

    def path(self, elements: PathElements) -> str:
        parts: list[str] = []
        for element in elements:
            if isinstance(element, int):
                parts.append(f"[{element}]")
                continue
            mark = self._by_name.get(element)
            if mark is None:
                mark = self._by_name[element] = f"#n{len(self.names)}"
                self.names[mark] = element
            parts.append(("." if parts else "") + mark)
        return "".join(parts)

    def value(self, value: AttributeValue) -> str:
        mark = f":v{len(self.values)}"
        self.values[mark] = value
        return mark

    def operand(self, node: Operand) -> str:
        if isinstance(node, Path):
            return self.path(node.elements)
        if isinstance(node, Value):
            return self.value(node.value)
        if isinstance(node, Arith):
            return f"{self.operand(node.left)} {node.op} {self.operand(node.right)}"
        return f"{node.name}({', '.join(self.operand(arg) for arg in node.args)})"

    def condition(self, node: Node, outer: int = 0) -> str:
        """``node`` as condition text, in parentheses only when its operator binds looser than ``outer``
        (DynamoDB refuses redundant parentheses)."""
        rank = _PRECEDENCE.get(type(node), 4)
        text = self._condition(node, rank)
        return f"({text})" if rank < outer else text

    def _condition(self, node: Node, rank: int) -> str:
        if isinstance(node, Compare):
            return f"{self.operand(node.left)} {node.op} {self.operand(node.right)}"
        if isinstance(node, Between):
            return (
                f"{self.operand(node.operand)} BETWEEN {self.operand(node.low)} AND {self.operand(node.high)}"
            )
        if isinstance(node, In):
            return f"{self.operand(node.operand)} IN ({', '.join(self.operand(o) for o in node.options)})"
        if isinstance(node, And | Or):
            joiner = "AND" if isinstance(node, And) else "OR"
            return f"{self.condition(node.left, rank)} {joiner} {self.condition(node.right, rank + 1)}"
        if isinstance(node, Not):
            return f"NOT {self.condition(node.operand, rank)}"
        return self.operand(node)

    def update(self, actions: Sequence[Action]) -> str:
        clauses: dict[str, list[str]] = {}
        for action in actions:
            target = self.path(action.path.elements)
            if isinstance(action, SetAction):
                clauses.setdefault("SET", []).append(f"{target} = {self.operand(action.value)}")
            elif isinstance(action, RemoveAction):
                clauses.setdefault("REMOVE", []).append(target)
            else:
                verb = "ADD" if isinstance(action, AddAction) else "DELETE"
                clauses.setdefault(verb, []).append(f"{target} {self.operand(action.value)}")
        return " ".join(f"{verb} {', '.join(parts)}" for verb, parts in clauses.items())


def conjuncts(node: Node | None) -> list[Node]:
    """The top-level AND terms of a condition."""
    if node is None:
        return []
    if isinstance(node, And):
        return conjuncts(node.left) + conjuncts(node.right)
    return [node]


def key_equality(node: Node) -> tuple[str, AttributeValue] | None:
    """(name, value) when ``node`` is ``name = value`` (either way round) on a top-level attribute."""
    if not isinstance(node, Compare) or node.op != "=":
        return None
    for one, two in ((node.left, node.right), (node.right, node.left)):
        if isinstance(one, Path) and len(one.elements) == 1 and isinstance(two, Value):
            return str(one.elements[0]), two.value
    return None
