"""Eddy's SQL dialect: PostgreSQL as sqlglot parses it, plus typed session and Eddy statements.

sqlglot turns many session statements into opaque commands (or misparses
them), so this dialect parses them itself into small typed nodes:
`FLUSH`; `SHOW ...`; `SET [SESSION|LOCAL] name {TO|=} value`, `SET TIME
ZONE`, `SET [SESSION CHARACTERISTICS AS] TRANSACTION ...`; `RESET`;
`BEGIN`/`START TRANSACTION`/`COMMIT`/`END`/`ROLLBACK`/`ABORT` with their
options; `SAVEPOINT`, `RELEASE`, `DISCARD`. Cursors, PREPARE/EXECUTE,
COPY, users and LISTEN are parsed in commands.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from sqlglot import exp
from sqlglot.dialects.postgres import Postgres
from sqlglot.tokens import Token, TokenType

from frontend.sql import commands

_WORD_COMMANDS = ("FLUSH", "RESET", "START", "ABORT", "DISCARD", "SAVEPOINT", "RELEASE", "DEALLOCATE", "MOVE",
                  "CLOSE", "LISTEN", "UNLISTEN", "NOTIFY", "COPY")
_USER_VERBS = (TokenType.CREATE, TokenType.ALTER, TokenType.DROP)


class AlterParallelism(exp.Expression):
    """ALTER TABLE | MATERIALIZED VIEW name SET PARALLELISM = n; `parallelism` None means the default."""

    arg_types: ClassVar[dict[str, Any]] = {"this": True, "kind": True, "parallelism": False}


class Flush(exp.Expression):
    arg_types: ClassVar[dict[str, Any]] = {}


class Show(exp.Expression):
    """SHOW <words>: `this` is the lower-cased words after SHOW."""

    arg_types = {"this": True}


class SetVariable(exp.Expression):
    """SET name = values. `this` is the lower-cased name; `expressions` the values as strings.

    A value of None means DEFAULT. `local` is set for SET LOCAL.
    """

    arg_types = {"this": True, "expressions": False, "local": False}


class Reset(exp.Expression):
    """RESET name | RESET ALL (`this` is "all")."""

    arg_types = {"this": True}


class TransactionControl(exp.Expression):
    """BEGIN/START/COMMIT/ROLLBACK/SAVEPOINT/RELEASE/ROLLBACK TO and SET TRANSACTION.

    `this`: one of begin, commit, rollback, savepoint, release, rollback_to,
    set_transaction, set_session_characteristics; `modes`: the mode words
    (e.g. "isolation level read committed", "read only"); `name` for savepoints.
    """

    arg_types = {"this": True, "modes": False, "name": False}


class Discard(exp.Expression):
    arg_types = {"this": True}


class Deallocate(exp.Expression):
    arg_types = {"this": True}


def _user_statement_parser(verb: TokenType) -> Callable[[Any], exp.Expression | None]:
    return lambda self: self._parse_eddy_user(verb)


def _token_value(tok: Token) -> str:
    return tok.text


# Functions kept as plain named calls, so the binder sees exactly what the user wrote
# (sqlglot would otherwise rewrite some, e.g. date_part into extract, to_char formats).
_PLAIN_FUNCTIONS = (
    "ABS", "AGE", "ASCII", "BTRIM", "CBRT", "CEIL", "CEILING", "CHAR_LENGTH", "CHARACTER_LENGTH", "CHR",
    "CONCAT", "CONCAT_WS", "DATE_PART", "DATE_TRUNC", "EXP", "FLOOR", "GREATEST", "INITCAP", "ISFINITE",
    "JUSTIFY_DAYS", "JUSTIFY_HOURS", "LEAST", "LEFT", "LENGTH", "LN", "LOG", "LOG10", "LOWER", "LPAD", "LTRIM",
    "MAKE_DATE", "MAKE_TIMESTAMP", "MD5", "MOD", "NOW", "NULLIF", "OCTET_LENGTH", "PI", "POW", "POWER", "REPEAT",
    "REPLACE", "REVERSE", "RIGHT", "ROUND", "RPAD", "RTRIM", "SIGN", "SPLIT_PART", "SQRT", "STARTS_WITH",
    "STRPOS", "SUBSTR", "TO_CHAR", "TO_DATE", "TO_TIMESTAMP", "TRUNC", "UPPER", "VERSION",
)


def _plain(name: str) -> Any:
    return lambda args: exp.Anonymous(this=name.lower(), expressions=args)


class Eddy(Postgres):
    # -- catalog SQL (issue 4): subscripts stay as written (1-based, the binder reads them); arrays of
    # oid/reg*/user-named types (`$1::oid[]`, `x::pg_catalog.name[]`) parse as array types.
    INDEX_OFFSET = 0

    class Tokenizer(Postgres.Tokenizer):
        KEYWORDS = {
            **Postgres.Tokenizer.KEYWORDS,
            **{w: TokenType.COMMAND for w in _WORD_COMMANDS},
        }
        COMMANDS = Postgres.Tokenizer.COMMANDS - {TokenType.SHOW}

    class Parser(Postgres.Parser):  # type: ignore[valid-type, misc]
        FUNCTIONS = {**Postgres.Parser.FUNCTIONS, **{n: _plain(n) for n in _PLAIN_FUNCTIONS}}
        FUNCTION_PARSERS = {k: v for k, v in Postgres.Parser.FUNCTION_PARSERS.items() if k not in _PLAIN_FUNCTIONS}
        STATEMENT_PARSERS = {
            **Postgres.Parser.STATEMENT_PARSERS,
            TokenType.SHOW: lambda self: self._parse_eddy_show(),
            TokenType.SET: lambda self: self._parse_eddy_set(),
            TokenType.BEGIN: lambda self: self._parse_eddy_transaction("begin"),
            TokenType.COMMIT: lambda self: self._parse_eddy_transaction("commit"),
            TokenType.ROLLBACK: lambda self: self._parse_eddy_transaction("rollback"),
            TokenType.COMMAND: lambda self: self._parse_eddy_command(),
            TokenType.EXECUTE: lambda self: commands.parse_execute(self._command_text()),
            TokenType.FETCH: lambda self: commands.parse_fetch(self._command_text(), move=False),
            **{verb: _user_statement_parser(verb) for verb in _USER_VERBS},
        }

        def _parse_types(self, *args: Any, **kwargs: Any) -> exp.Expression | None:
            t = super()._parse_types(*args, **kwargs)
            if isinstance(t, (exp.ObjectIdentifier, exp.PseudoType)) or (
                    isinstance(t, exp.DataType) and t.this == exp.DataType.Type.USERDEFINED):
                while self._match(TokenType.L_BRACKET):
                    if not self._match(TokenType.R_BRACKET):
                        self.raise_error("expected ] after [ in an array type")
                    t = exp.DataType(this=exp.DataType.Type.ARRAY, expressions=[t], nested=True)
            return t

        # -- end of catalog SQL (issue 4)

        def _rest(self) -> list[Token]:
            toks = []
            while self._curr and self._curr.token_type is not TokenType.SEMICOLON:
                toks.append(self._curr)
                self._advance()
            return toks

        def _command_text(self) -> str:
            """The statement's text after a command keyword (the tokenizer kept it as one string)."""
            return " ".join(t.text for t in self._rest())

        def _parse_eddy_user(self, verb: TokenType) -> exp.Expression | None:
            word = self._prev.text.upper()
            if self._curr is not None and self._curr.text.upper() in ("USER", "ROLE"):
                return commands.parse_user(word, self._rest())
            if verb is TokenType.ALTER:
                altered = self._parse_eddy_alter_parallelism()
                if altered is not None:
                    return altered
            return Postgres.Parser.STATEMENT_PARSERS[verb](self)

        def _parse_eddy_alter_parallelism(self) -> exp.Expression | None:
            """ALTER {TABLE | MATERIALIZED VIEW} name SET PARALLELISM {= | TO} {n | ADAPTIVE | DEFAULT}."""
            ahead: list[Token] = []
            i = self._index
            while i < len(self._tokens) and self._tokens[i].token_type is not TokenType.SEMICOLON:
                ahead.append(self._tokens[i])
                i += 1
            words = [t.text.upper() for t in ahead]
            kind_len = 2 if words[:2] == ["MATERIALIZED", "VIEW"] else 1 if words[:1] == ["TABLE"] else 0
            rest = words[kind_len:]
            if not kind_len or len(rest) != 5 or rest[1:3] != ["SET", "PARALLELISM"] or rest[3] not in ("=", "TO"):
                return None
            self._rest()
            name = ahead[kind_len]
            value = rest[4]
            parallelism = None if value in ("ADAPTIVE", "DEFAULT") else value
            if parallelism is not None and not parallelism.isdigit():
                self.raise_error("PARALLELISM takes a positive number, ADAPTIVE or DEFAULT")
            return AlterParallelism(this=name.text if name.token_type is TokenType.IDENTIFIER else name.text.lower(),
                                    kind="materialized view" if kind_len == 2 else "table",
                                    parallelism=parallelism)

        def _parse_eddy_show(self) -> exp.Expression:
            return Show(this=" ".join(t.text for t in self._rest()).lower())

        def _parse_eddy_set(self) -> exp.Expression:
            toks = self._rest()
            words = [t.text.lower() for t in toks]
            local = False
            if words and words[0] in ("session", "local") and words[1:2] != ["characteristics"]:
                local = words[0] == "local"
                toks, words = toks[1:], words[1:]
            if words[:1] == ["transaction"]:
                return TransactionControl(this="set_transaction", modes=" ".join(words[1:]))
            if words[:4] == ["session", "characteristics", "as", "transaction"]:
                return TransactionControl(this="set_session_characteristics", modes=" ".join(words[4:]))
            if words[:2] == ["time", "zone"]:
                name, value_toks = "timezone", toks[2:]
            else:
                if not toks:
                    self.raise_error("expected a parameter name after SET")
                name_parts = [toks[0].text]
                i = 1
                while i + 1 < len(toks) and toks[i].token_type is TokenType.DOT:
                    name_parts.append(toks[i + 1].text)
                    i += 2
                name = ".".join(name_parts).lower()
                if i >= len(toks) or toks[i].text.upper() not in ("TO", "="):
                    self.raise_error(f"expected TO or = after SET {name}")
                value_toks = toks[i + 1:]
            values: list[str | None] = []
            for t in value_toks:
                if t.token_type is TokenType.COMMA:
                    continue
                if t.token_type is TokenType.DEFAULT or t.text.upper() == "DEFAULT":
                    values.append(None)
                elif t.token_type is TokenType.DASH:
                    values.append("-")
                elif values and values[-1] == "-":
                    values[-1] = "-" + t.text
                else:
                    values.append(t.text)
            if not values:
                self.raise_error(f"expected a value for SET {name}")
            return SetVariable(this=name, expressions=values, local=local)

        def _parse_eddy_transaction(self, kind: str) -> exp.Expression:
            words = [t.text.lower() for t in self._rest()]
            if words[:1] in (["work"], ["transaction"]):
                words = words[1:]
            if kind == "rollback" and words[:1] == ["to"]:
                rest = words[2:] if words[1:2] == ["savepoint"] else words[1:]
                return TransactionControl(this="rollback_to", name=" ".join(rest))
            if kind == "commit" and words[:1] == ["prepared"]:
                self.raise_error("COMMIT PREPARED is not supported")
            return TransactionControl(this=kind, modes=" ".join(words))

        def _command_words(self) -> list[str]:
            # A command keyword makes the tokenizer keep the rest of the statement as one string.
            return " ".join(t.text for t in self._rest()).split()

        def _parse_eddy_command(self) -> exp.Expression:
            word = self._prev.text.upper()
            if word == "FLUSH":
                if self._rest():
                    self.raise_error("unexpected words after FLUSH")
                return Flush()
            if word == "RESET":
                return Reset(this=" ".join(self._command_words()).lower())
            if word in ("START", "ABORT"):
                words = [w.lower() for w in self._command_words()]
                if word == "START" and words[:1] != ["transaction"]:
                    self.raise_error("expected TRANSACTION after START")
                if word == "START":
                    return TransactionControl(this="begin", modes=" ".join(words[1:]))
                return TransactionControl(this="rollback", modes="")
            if word in ("SAVEPOINT", "RELEASE"):
                words = self._command_words()
                if words[:1] and words[0].upper() == "SAVEPOINT":
                    words = words[1:]
                return TransactionControl(this=word.lower(), name=" ".join(words))
            if word == "DISCARD":
                return Discard(this=" ".join(self._command_words()).lower())
            if word == "DEALLOCATE":
                words = self._command_words()
                if words[:1] and words[0].upper() == "PREPARE":
                    words = words[1:]
                return Deallocate(this=" ".join(words))
            return self._parse_eddy_session_command(word)

        def _parse_eddy_session_command(self, word: str) -> exp.Expression:
            if word == "DECLARE":
                return commands.parse_declare(self._command_text())
            if word == "PREPARE":
                return commands.parse_prepare(self._command_text())
            if word == "MOVE":
                return commands.parse_fetch(self._command_text(), move=True)
            if word == "COPY":
                return commands.parse_copy(self._command_text())
            if word == "CLOSE":
                return commands.parse_close(commands.tokens(self._command_text()))
            if word in ("LISTEN", "UNLISTEN", "NOTIFY"):
                return commands.parse_listen(word, commands.tokens(self._command_text()))
            return self._parse_as_command(self._prev)
