"""A fast path for bulk `INSERT INTO t [(cols)] VALUES (...), (...)` of plain literals.

Bulk loads send thousands of rows of constants per statement; running them
through sqlglot's general tokenizer and expression parser costs far more
than the insert itself. This scanner recognizes exactly that shape with one
regular expression and hands back the cells as text. Anything else (an
expression, a cast, a parameter, a comment, a second statement) returns
None and the statement takes the normal path, so behaviour and errors are
unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlglot import exp

_IDENT = r'(?:[A-Za-z_][A-Za-z0-9_$]*|"(?:[^"]|"")+")'
_PREFIX = re.compile(
    rf"\s*insert\s+into\s+(?:(?P<schema>{_IDENT})\s*\.\s*)?(?P<table>{_IDENT})\s*"
    rf"(?:\((?P<cols>\s*{_IDENT}(?:\s*,\s*{_IDENT})*\s*)\)\s*)?values\s*",
    re.IGNORECASE)
# One cell: a number, a quoted string (with '' escapes), NULL, TRUE or FALSE; then `,` or `)`.
_CELL = re.compile(
    r"\s*(?:(?P<num>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|'(?P<str>(?:[^']|'')*)'"
    r"|(?P<null>null)|(?P<bool>true|false))\s*(?P<end>[,)])",
    re.IGNORECASE)
_ROW_START = re.compile(r"\s*\(")
_BETWEEN_ROWS = re.compile(r"\s*(?:(?P<comma>,)|(?P<semi>;)?\s*$)")

NUM, STR, NULL, BOOL = "num", "str", "null", "bool"


@dataclass(frozen=True, slots=True)
class Cell:
    kind: str
    text: str


class FastInsert(exp.Expression):
    """INSERT of literal rows, scanned without the general parser.

    `this`: the table name; `schema`: its schema or None; `columns`: the target column names or None;
    `rows`: a list of rows of `Cell`s.
    """

    arg_types: ClassVar[dict[str, Any]] = {"this": True, "schema": False, "columns": False, "rows": True}


def _ident(text: str) -> str:
    if text.startswith('"'):
        return text[1:-1].replace('""', '"')
    return text.lower()


def scan(sql: str) -> FastInsert | None:
    """The statement as a FastInsert, or None when it is anything but plain literal rows."""
    m = _PREFIX.match(sql)
    if m is None:
        return None
    pos = m.end()
    rows: list[list[Cell]] = []
    n = len(sql)
    while True:
        start = _ROW_START.match(sql, pos)
        if start is None:
            return None
        pos = start.end()
        row: list[Cell] = []
        while True:
            c = _CELL.match(sql, pos)
            if c is None:
                return None
            pos = c.end()
            if c.group("num") is not None:
                row.append(Cell(NUM, c.group("num")))
            elif c.group("str") is not None:
                row.append(Cell(STR, c.group("str").replace("''", "'")))
            elif c.group("null") is not None:
                row.append(Cell(NULL, ""))
            else:
                row.append(Cell(BOOL, c.group("bool").lower()))
            if c.group("end") == ")":
                break
        if rows and len(row) != len(rows[0]):
            return None  # let the general path report the mismatch
        rows.append(row)
        tail = _BETWEEN_ROWS.match(sql, pos)
        if tail is None:
            return None
        if tail.group("comma"):
            pos = tail.end()
            continue
        if tail.end() != n:
            return None
        break
    cols = [_ident(c.strip()) for c in re.findall(_IDENT, m.group("cols"))] if m.group("cols") else None
    schema = _ident(m.group("schema")) if m.group("schema") else None
    return FastInsert(this=_ident(m.group("table")), schema=schema, columns=cols, rows=rows)
