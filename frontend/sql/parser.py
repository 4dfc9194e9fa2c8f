"""Parsing SQL text into statements: split on `;`, parse each with Eddy's dialect.

Syntax errors become SQLSTATE 42601 with PostgreSQL's wording and the
1-based character position of the offending token.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import cast

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from common.errors import SyntaxError_
from frontend.sql.dialect import Eddy
from frontend.sql.fast_insert import scan as scan_fast_insert

logging.getLogger("sqlglot").setLevel(logging.ERROR)

_DIALECT = Eddy()


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement: its own text (for view definitions) and its tree."""

    sql: str
    tree: exp.Expression


def split(sql: str) -> list[str]:
    """Statement texts of a query string, without empty statements."""
    try:
        tokens = _DIALECT.tokenize(sql)
    except TokenError as e:
        raise SyntaxError_(_token_error_message(str(e))) from None
    out, start = [], None
    end = 0
    for tok in tokens:
        if tok.token_type is TokenType.SEMICOLON:
            if start is not None:
                out.append(sql[start:end + 1])
            start = None
            continue
        if start is None:
            start = tok.start
        end = tok.end
    if start is not None:
        out.append(sql[start:end + 1])
    return out


def parse(sql: str) -> list[Statement]:
    fast = scan_fast_insert(sql)
    if fast is not None:
        return [Statement(sql.strip(), fast)]
    stmts = []
    for text in split(sql):
        stmts.append(Statement(text, parse_one(text)))
    return stmts


def parse_one(text: str) -> exp.Expression:
    try:
        trees = sqlglot.parse(text, read=_DIALECT)
    except ParseError as e:
        raise _syntax_error(text, e) from None
    except TokenError as e:
        raise SyntaxError_(_token_error_message(str(e))) from None
    trees = [t for t in trees if t is not None]
    if len(trees) != 1:
        raise SyntaxError_("syntax error: expected one statement")
    return cast(exp.Expression, trees[0])


def _token_error_message(msg: str) -> str:
    if "quote" in msg.lower() or "string" in msg.lower():
        return "unterminated quoted string"
    return "syntax error"


def _syntax_error(text: str, e: ParseError) -> SyntaxError_:
    info = e.errors[0] if e.errors else {}
    line, col = info.get("line"), info.get("col")
    token = (info.get("highlight") or "").strip()
    position = None
    if line is not None and col is not None:
        lines = text.split("\n")
        offset = sum(len(s) + 1 for s in lines[: max(0, line - 1)])
        position = offset + max(1, col - len(token) + 1) if token else offset + col
    if token:
        message = f'syntax error at or near "{token}"'
    elif position is not None and position >= len(text):
        message = "syntax error at end of input"
    else:
        message = "syntax error"
    detail = (info.get("description") or "").strip() or None
    return SyntaxError_(message, detail=detail, position=position)
