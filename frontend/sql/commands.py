"""Statements sqlglot does not parse, as typed nodes: cursors, PREPARE/EXECUTE, COPY, users, LISTEN.

Each parser reads a list of tokens of Eddy's tokenizer through `Words`.
Statements whose keyword makes the tokenizer keep the rest as one string
(DECLARE, FETCH, PREPARE, COPY, ...) are tokenized again from that string,
so a nested statement (the query of a cursor or of COPY, the body of
PREPARE) is kept as the text the user wrote and parsed later on its own.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp
from sqlglot.tokens import Token

from common.errors import SyntaxError_
from frontend.sql.words import Words, option_value

# -- nodes --------------------------------------------------------------------------


class DeclareCursor(exp.Expression):
    """DECLARE name [BINARY] [NO SCROLL] CURSOR [WITH|WITHOUT HOLD] FOR query; `query` is its text."""

    arg_types = {"this": True, "query": True, "binary": False, "scroll": False, "hold": False}


class FetchCursor(exp.Expression):
    """FETCH or MOVE (`move`): `count` rows forward (None: all), or `relative`: skip count-1, take one."""

    arg_types = {"this": True, "count": False, "move": False, "relative": False, "backward": False}


class CloseCursor(exp.Expression):
    """CLOSE name; `this` is None for CLOSE ALL."""

    arg_types = {"this": False}


class PrepareStatement(exp.Expression):
    """PREPARE name [(types)] AS statement: `types` are type texts, `statement` the body's text."""

    arg_types = {"this": True, "types": False, "statement": True}


class ExecuteStatement(exp.Expression):
    """EXECUTE name [(args)]: `expressions` are the argument expressions."""

    arg_types = {"this": True, "expressions": False}


class CopyStatement(exp.Expression):
    """COPY table [(columns)] FROM STDIN | COPY {table [(columns)] | (query)} TO STDOUT, with options.

    `this` is the table name (None with a query), `db` its schema, `query`
    the query's text; `to` is true for COPY TO; `options` maps lower-case
    option names to a string, True, or a list of column names.
    """

    arg_types = {"this": False, "db": False, "columns": False, "query": False, "to": True, "target": True,
                 "options": False}


class UserStatement(exp.Expression):
    """CREATE/ALTER/DROP USER or ROLE.

    `this`: "create", "alter", "rename" or "drop"; `names`: the user names
    (one, except for DROP); `role`: said ROLE rather than USER; `options`: a
    list of (option, value) pairs, e.g. ("superuser", True), ("password",
    "x" or None); `new_name` for a rename; `if_exists` for DROP.
    """

    arg_types = {"this": True, "names": True, "role": False, "options": False, "new_name": False,
                 "if_exists": False}


class Listen(exp.Expression):
    """LISTEN channel, UNLISTEN channel | *, NOTIFY channel: `this` is the verb."""

    arg_types = {"this": True, "channel": False}


# -- parsers: each reads one statement after its leading keyword -----------------------

def tokens(text: str) -> list[Token]:
    from frontend.sql.dialect import Eddy

    return Eddy().tokenize(text)


def _tokens(text: str) -> Words:
    return Words(tokens(text), text)


def parse_declare(text: str) -> DeclareCursor:
    """The rest of DECLARE."""
    w = _tokens(text)
    name = w.name()
    binary = scroll = False
    hold = False
    while not w.accept("CURSOR"):
        if w.accept("BINARY"):
            binary = True
        elif w.accept("INSENSITIVE") or w.accept("ASENSITIVE"):
            pass
        elif w.accept("NO", "SCROLL"):
            scroll = False
        elif w.accept("SCROLL"):
            scroll = True
        else:
            raise w.error()
    if w.accept("WITH", "HOLD"):
        hold = True
    elif w.accept("WITHOUT", "HOLD"):
        hold = False
    w.expect("FOR")
    return DeclareCursor(this=name, query=w.rest_text(), binary=binary, scroll=scroll, hold=hold)


def parse_fetch(text: str, move: bool) -> FetchCursor:
    """The rest of FETCH or MOVE: [direction] [FROM | IN] name.

    Only forward directions can run on Eddy's cursors; the others parse,
    with `backward` set, so that the handler can refuse them as PostgreSQL
    refuses them on a NO SCROLL cursor.
    """
    w = _tokens(text)
    count: int | None = 1
    relative = backward = False
    if w.accept("NEXT"):
        pass
    elif w.accept("ALL") or w.accept("FORWARD", "ALL"):
        count = None
    elif w.accept("FORWARD"):
        if w.is_integer():
            count = w.integer()
    elif w.accept("RELATIVE"):
        count, relative = w.integer(), True
    elif w.peek() in ("PRIOR", "FIRST", "LAST", "ABSOLUTE", "BACKWARD"):
        backward = True
        w.next()
        if not w.accept("ALL") and w.is_integer():
            w.integer()
    elif w.is_integer():
        count = w.integer()
    if count is not None and count < 0:
        backward = True
    if not w.accept("FROM"):
        w.accept("IN")
    name = w.name()
    w.finish()
    return FetchCursor(this=name, count=count, move=move, relative=relative, backward=backward)


def parse_close(tokens: list[Token]) -> CloseCursor:
    w = Words(tokens)
    if w.accept("ALL"):
        w.finish()
        return CloseCursor(this=None)
    name = w.name()
    w.finish()
    return CloseCursor(this=name)


def parse_prepare(text: str) -> PrepareStatement:
    w = _tokens(text)
    name = w.name()
    types: list[str] = []
    if w.peek() == "(":
        inner = w.parenthesized_text()
        types = [t.strip() for t in _split_top_level(inner)]
    w.expect("AS")
    return PrepareStatement(this=name, types=types, statement=w.rest_text())


def _split_top_level(text: str) -> list[str]:
    """`text` split at commas outside parentheses (NUMERIC(10, 2) stays whole)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p for p in parts if p.strip()]


def parse_execute(text: str) -> ExecuteStatement:
    from frontend.sql.parser import parse_one

    w = _tokens(text)
    name = w.name()
    args: list[exp.Expression] = []
    if w.peek() == "(":
        inner = w.parenthesized_text()
        select = parse_one(f"SELECT {inner}")
        args = list(select.expressions)
    w.finish()
    return ExecuteStatement(this=name, expressions=args)


_LEGACY_COPY_WORDS = ("BINARY", "DELIMITER", "NULL", "CSV", "HEADER", "QUOTE", "ESCAPE", "FORCE", "ENCODING")


def parse_copy(text: str) -> CopyStatement:
    w = _tokens(text)
    options: dict[str, Any] = {}
    if w.accept("BINARY"):
        options["format"] = "binary"
    schema = table = query = None
    columns: list[str] | None = None
    if w.peek() == "(":
        query = w.parenthesized_text()
    else:
        schema, table = w.qualified_name()
        if w.peek() == "(":
            columns = w.names_in_parens()
    if w.accept("FROM"):
        to = False
    else:
        w.expect("TO")
        to = True
    if w.accept("STDIN") or w.accept("STDOUT"):
        target = "stdio"
    elif w.accept("PROGRAM"):
        target = "program"
        w.string()
    else:
        target = "file"
        w.string()
    w.accept("WITH")
    if w.peek() == "(":
        _copy_options(w, options)
    else:
        _legacy_copy_options(w, options)
    if w.peek() == "WHERE":
        raise SyntaxError_("COPY ... WHERE is not supported")
    w.finish()
    return CopyStatement(this=table, db=schema, columns=columns, query=query, to=to, target=target, options=options)


def _copy_options(w: Words, options: dict[str, Any]) -> None:
    w.expect("(")
    while True:
        key = w.name()
        options[key] = option_value(w)
        if w.accept(")"):
            return
        w.expect(",")


def _legacy_copy_options(w: Words, options: dict[str, Any]) -> None:
    while w.peek() in _LEGACY_COPY_WORDS:
        word = w.next().text.lower()
        if word in ("binary", "csv"):
            options["format"] = word
        elif word == "header":
            options["header"] = True
        elif word == "force":
            which = "force_not_null" if w.accept("NOT", "NULL") else "force_quote"
            if which == "force_quote":
                w.expect("QUOTE")
            if w.accept("*"):
                options[which] = "*"
            else:
                cols = [w.name()]
                while w.accept(","):
                    cols.append(w.name())
                options[which] = cols
        else:
            w.accept("AS")
            options[word] = w.string()


_USER_FLAGS = {
    "SUPERUSER": ("superuser", True), "NOSUPERUSER": ("superuser", False),
    "LOGIN": ("login", True), "NOLOGIN": ("login", False),
    "CREATEDB": ("createdb", True), "NOCREATEDB": ("createdb", False),
    "CREATEROLE": ("createrole", True), "NOCREATEROLE": ("createrole", False),
    "CREATEUSER": ("createrole", True), "NOCREATEUSER": ("createrole", False),
    "INHERIT": ("inherit", True), "NOINHERIT": ("inherit", False),
    "REPLICATION": ("replication", True), "NOREPLICATION": ("replication", False),
    "BYPASSRLS": ("bypassrls", True), "NOBYPASSRLS": ("bypassrls", False),
}


def _user_options(w: Words) -> list[tuple[str, Any]]:
    w.accept("WITH")
    options: list[tuple[str, Any]] = []
    while not w.done():
        word = w.peek()
        if word in _USER_FLAGS:
            w.next()
            options.append(_USER_FLAGS[word])
        elif w.accept("ENCRYPTED", "PASSWORD") or w.accept("PASSWORD"):
            options.append(("password", None if w.accept("NULL") else w.string()))
        elif w.accept("UNENCRYPTED", "PASSWORD"):
            raise SyntaxError_("UNENCRYPTED PASSWORD is no longer supported",
                               hint="Remove UNENCRYPTED to store the password in encrypted form instead.")
        elif w.accept("CONNECTION", "LIMIT"):
            options.append(("connection limit", w.integer()))
        elif w.accept("VALID", "UNTIL"):
            options.append(("valid until", w.string()))
        else:
            raise w.error()
    return options


def parse_user(verb: str, tokens: list[Token]) -> UserStatement | None:
    """CREATE/ALTER/DROP followed by USER or ROLE; None when it is some other object."""
    w = Words(tokens)
    if w.peek() not in ("USER", "ROLE"):
        return None
    role = w.next().text.upper() == "ROLE"
    if verb == "DROP":
        if_exists = w.accept("IF", "EXISTS")
        names = [w.name()]
        while w.accept(","):
            names.append(w.name())
        w.finish()
        return UserStatement(this="drop", names=names, role=role, if_exists=if_exists)
    name = w.name()
    if verb == "ALTER" and w.accept("RENAME", "TO"):
        new_name = w.name()
        w.finish()
        return UserStatement(this="rename", names=[name], role=role, new_name=new_name)
    if verb == "ALTER" and w.peek() in ("SET", "RESET"):
        raise SyntaxError_(f"ALTER {'ROLE' if role else 'USER'} ... {w.peek()} is not supported")
    return UserStatement(this=verb.lower(), names=[name], role=role, options=_user_options(w))


def parse_listen(verb: str, tokens: list[Token]) -> Listen:
    w = Words(tokens)
    channel = "*" if verb == "UNLISTEN" and w.accept("*") else w.name()
    if verb == "NOTIFY" and w.accept(","):
        w.string()
    w.finish()
    return Listen(this=verb.lower(), channel=channel)
