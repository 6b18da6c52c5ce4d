"""A small reading of QBO's query language: a hand-written tokenizer and parser (no Python ``eval``).

Supported (keywords in any case)::

    SELECT *[, Field…] | COUNT(*) | Field[, Field…] FROM Entity
      [WHERE cond [AND cond]…]
      [ORDERBY Field [ASC|DESC][, Field [ASC|DESC]]…]
      [STARTPOSITION n] [MAXRESULTS n]

    cond := Field (= | < | > | <= | >=) value
          | Field LIKE 'pattern'           -- % matches any run of characters
          | Field IN (value[, value]…)
    value := 'text' (\\' is a quote, \\\\ a backslash) | number | true | false

Fields are dotted paths (``MetaData.LastUpdatedTime``). Syntax errors raise the 4000
``QueryParserError`` fault, impossible values (``STARTPOSITION 0``, ``MAXRESULTS 1001``,
an unknown entity) the 4001 ``QueryValidationError`` fault (see :mod:`.faults`).
:func:`parse` gives the :class:`Query`; :mod:`.query_eval` answers it over the stored
entities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from . import faults

#: QBO answers at most this many entities per query
MAX_RESULTS = 1000
#: and this many when the query names no MAXRESULTS
DEFAULT_MAX_RESULTS = 100

_KEYWORDS = {"SELECT", "FROM", "WHERE", "AND", "ORDERBY", "ASC", "DESC", "STARTPOSITION",
             "MAXRESULTS", "COUNT", "LIKE", "IN", "TRUE", "FALSE"}
_OPERATORS = ("<=", ">=", "=", "<", ">")
_PUNCT = "*(),"
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


@dataclass(frozen=True)
class Token:
    kind: str  # "ident", "keyword", "string", "number", "op", "punct", "end"
    text: str
    value: Any
    column: int  # 1-based


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text``; raises the 4000 fault on a character that starts none."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        column = i + 1
        if ch == "'":
            value, i = _string(text, i)
            tokens.append(Token("string", text[column - 1:i], value, column))
            continue
        if ch.isdigit() or (ch == "-" and i + 1 < n and text[i + 1].isdigit()):
            m = _NUMBER.match(text, i)
            tokens.append(Token("number", m.group(0), Decimal(m.group(0)), column))
            i = m.end()
            continue
        m = _IDENT.match(text, i)
        if m:
            word = m.group(0)
            upper = word.upper()
            kind = "keyword" if upper in _KEYWORDS else "ident"
            tokens.append(Token(kind, word, upper if kind == "keyword" else word, column))
            i = m.end()
            continue
        op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
        if op:
            tokens.append(Token("op", op, op, column))
            i += len(op)
            continue
        if ch in _PUNCT:
            tokens.append(Token("punct", ch, ch, column))
            i += 1
            continue
        raise faults.query_parse(f"Lexical error at line 1, column {column}. "
                                 f"Encountered: {ch!r}")
    tokens.append(Token("end", "<EOF>", None, n + 1))
    return tokens


def _string(text: str, start: int) -> tuple[str, int]:
    """The value of the quoted string at ``start`` and the index after it."""
    out = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if ch == "'":
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    raise faults.query_parse(f"Lexical error at line 1, column {len(text) + 1}. Encountered: "
                             f"<EOF> after the string starting at column {start + 1}")


# --- the parsed query -----------------------------------------------------------------

@dataclass(frozen=True)
class Condition:
    path: tuple[str, ...]
    op: str  # "=", "<", ">", "<=", ">=", "LIKE", "IN"
    values: tuple[Any, ...]


@dataclass
class Query:
    """A parsed query. ``fields`` is None for ``*``; ``count`` for ``COUNT(*)``."""

    entity: str
    fields: list[tuple[str, ...]] | None = None
    count: bool = False
    where: list[Condition] = field(default_factory=list)
    order: list[tuple[tuple[str, ...], bool]] = field(default_factory=list)  # (path, descending)
    start: int = 1
    max_results: int = DEFAULT_MAX_RESULTS


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.pos = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.pos]

    def fail(self, expecting: str) -> faults.QboFault:
        tok = self.token
        shown = "<EOF>" if tok.kind == "end" else tok.text
        return faults.query_parse(f"Encountered \"{shown}\" at line 1, column {tok.column}.\n"
                                  f"Was expecting:\n    {expecting} ...")

    def keyword(self, *words: str) -> str | None:
        tok = self.token
        if tok.kind == "keyword" and tok.value in words:
            self.pos += 1
            return tok.value
        return None

    def expect_keyword(self, word: str) -> None:
        if self.keyword(word) is None:
            raise self.fail(f"\"{word}\"")

    def punct(self, ch: str) -> bool:
        if self.token.kind == "punct" and self.token.value == ch:
            self.pos += 1
            return True
        return False

    def expect_punct(self, ch: str) -> None:
        if not self.punct(ch):
            raise self.fail(f"\"{ch}\"")

    def ident(self) -> tuple[str, ...]:
        tok = self.token
        if tok.kind != "ident":
            raise self.fail("<IDENTIFIER>")
        self.pos += 1
        return tuple(tok.value.split("."))

    def value(self) -> Any:
        tok = self.token
        if tok.kind in ("string", "number"):
            self.pos += 1
            return tok.value
        if tok.kind == "keyword" and tok.value in ("TRUE", "FALSE"):
            self.pos += 1
            return tok.value == "TRUE"
        raise self.fail("<STRING>")

    def integer(self, clause: str) -> int:
        tok = self.token
        text = tok.value if tok.kind == "string" else tok.text if tok.kind == "number" else None
        if text is None or not re.fullmatch(r"-?[0-9]+", str(text).strip()):
            raise self.fail(f"<INTEGER> after {clause}")
        self.pos += 1
        return int(str(text).strip())

    def parse(self) -> Query:
        self.expect_keyword("SELECT")
        fields: list[tuple[str, ...]] | None = None
        count = False
        if self.punct("*"):
            # "SELECT *, Sku FROM Item" (python-quickbooks' Item.all): a field named beside *
            # adds nothing here, as every stored field is answered already
            while self.punct(","):
                self.ident()
        elif self.keyword("COUNT"):
            self.expect_punct("(")
            self.expect_punct("*")
            self.expect_punct(")")
            count = True
        else:
            fields = [self.ident()]
            while self.punct(","):
                fields.append(self.ident())
        self.expect_keyword("FROM")
        tok = self.token
        if tok.kind != "ident" or "." in tok.value:
            raise self.fail("<ENTITY>")
        self.pos += 1
        query = Query(entity=tok.value, fields=fields, count=count)
        if self.keyword("WHERE"):
            query.where.append(self.condition())
            while self.keyword("AND"):
                query.where.append(self.condition())
        if self.keyword("ORDERBY"):
            query.order.append(self.order_item())
            while self.punct(","):
                query.order.append(self.order_item())
        seen: set[str] = set()
        while True:
            clause = self.keyword("STARTPOSITION", "MAXRESULTS")
            if clause is None:
                break
            if clause in seen:
                raise self.fail("<EOF>")
            seen.add(clause)
            number = self.integer(clause)
            if clause == "STARTPOSITION":
                if number < 1:
                    raise faults.query_invalid(f"value {number} is too small. Min allowed value is 1")
                query.start = number
            else:
                if number < 1:
                    raise faults.query_invalid(f"value {number} is too small. Min allowed value is 1")
                if number > MAX_RESULTS:
                    raise faults.query_invalid(f"value {number} is too large. Max allowed value "
                                               f"is {MAX_RESULTS}")
                query.max_results = number
        if self.token.kind != "end":
            raise self.fail("<EOF>")
        return query

    def condition(self) -> Condition:
        path = self.ident()
        if self.keyword("LIKE"):
            tok = self.token
            if tok.kind != "string":
                raise self.fail("<STRING>")
            self.pos += 1
            return Condition(path, "LIKE", (tok.value,))
        if self.keyword("IN"):
            self.expect_punct("(")
            values = [self.value()]
            while self.punct(","):
                values.append(self.value())
            self.expect_punct(")")
            return Condition(path, "IN", tuple(values))
        tok = self.token
        if tok.kind != "op":
            raise self.fail("\"=\" | \"<\" | \">\" | \"<=\" | \">=\" | \"LIKE\" | \"IN\"")
        self.pos += 1
        return Condition(path, tok.value, (self.value(),))

    def order_item(self) -> tuple[tuple[str, ...], bool]:
        path = self.ident()
        direction = self.keyword("ASC", "DESC")
        return path, direction == "DESC"


def parse(text: str) -> Query:
    """The :class:`Query` in ``text``; raises :class:`~.faults.QboFault` (4000/4001) if bad."""
    if not isinstance(text, str) or not text.strip():
        raise faults.query_parse("Encountered \"<EOF>\" at line 1, column 1.\n"
                                 "Was expecting:\n    \"SELECT\" ...")
    return _Parser(text).parse()


__all__ = ["DEFAULT_MAX_RESULTS", "MAX_RESULTS", "Condition", "Query", "Token", "parse", "tokenize"]
