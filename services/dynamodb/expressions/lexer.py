"""The tokenizer shared by every expression language.

Tokens keep their offset in the source so that syntax errors can quote DynamoDB's
``near: "<previous token> <bad token>"`` context. A character no token starts with becomes an
``invalid`` token: the parser reports it as a syntax error at the point where it is reached.
"""

from __future__ import annotations

from dataclasses import dataclass

NAME, ATTR_NAME, ATTR_VALUE, INTEGER, PUNCT, INVALID, EOF = (
    "name", "#name", ":value", "integer", "punct", "invalid", "eof",
)  # fmt: skip
_TWO_CHAR = ("<>", "<=", ">=")
_ONE_CHAR = "()[],.=<>+-"
_WORD_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_WORD = _WORD_START | frozenset("0123456789")
_DIGITS = frozenset("0123456789")
_SPACE = frozenset(" \t\r\n")


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.text)

    def is_word(self, word: str) -> bool:
        """A keyword test: keywords are case-insensitive bare names."""
        return self.kind == NAME and self.text.upper() == word

    def is_punct(self, text: str) -> bool:
        return self.kind == PUNCT and self.text == text


def _scan(text: str, pos: int, allowed: frozenset[str]) -> int:
    while pos < len(text) and text[pos] in allowed:
        pos += 1
    return pos


def _one(text: str, pos: int) -> Token:
    char = text[pos]
    if char in _WORD_START:
        return Token(NAME, text[pos : _scan(text, pos, _WORD)], pos)
    if char in "#:":
        end = _scan(text, pos + 1, _WORD)
        kind = ATTR_NAME if char == "#" else ATTR_VALUE
        return Token(kind if end > pos + 1 else INVALID, text[pos:end], pos)
    if char in _DIGITS:
        return Token(INTEGER, text[pos : _scan(text, pos, _DIGITS)], pos)
    if text[pos : pos + 2] in _TWO_CHAR:
        return Token(PUNCT, text[pos : pos + 2], pos)
    if char in _ONE_CHAR:
        return Token(PUNCT, char, pos)
    return Token(INVALID, char, pos)


def tokenize(text: str) -> list[Token]:
    """All tokens of ``text``, ended by an EOF token."""
    tokens: list[Token] = []
    pos = _scan(text, 0, _SPACE)
    while pos < len(text):
        token = _one(text, pos)
        tokens.append(token)
        pos = _scan(text, token.end, _SPACE)
    tokens.append(Token(EOF, "", len(text)))
    return tokens
