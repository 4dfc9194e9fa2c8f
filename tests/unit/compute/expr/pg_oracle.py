"""PostgreSQL as the oracle: build an expression once, run it in PostgreSQL 15 and through Eddy, compare.

`X` carries an expression both as SQL text (for PostgreSQL) and as a bound
`common.expr` tree (for Eddy), built the way the binder builds it:
`common.functions.resolve` picks the overload and the arguments are cast
or, for untyped literals, parsed into the chosen type. Results compare as
PostgreSQL's text output; unconstrained NUMERIC compares by value rounded
to Eddy's 10 fractional digits, since PostgreSQL keeps more.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

import psycopg
import pyarrow as pa

from common import functions
from common.errors import EddyError
from common.expr import Case, Cast, Expr, FuncCall, InputRef, Literal
from common.functions_catalog import OPERATOR_SYMBOLS
from common.pgtext import FormatOptions, format_array, parse_array, parse_text
from common.types import DataType, TypeName
from compute.expr import ErrorMode, EvalContext, evaluate

DSN = "host=127.0.0.1 user=postgres"


@contextmanager
def test_database(name: str) -> Iterator[str]:
    """A fresh PostgreSQL database for one test session, dropped afterwards; yields its DSN."""
    admin = psycopg.connect(DSN, autocommit=True)
    try:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
        yield f"{DSN} dbname={name}"
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


def connect(dsn: str) -> psycopg.Connection:
    return psycopg.connect(dsn, autocommit=True)


def sql_type(t: DataType) -> str:
    if t.name is TypeName.NUMERIC and t.precision is not None:
        return f"numeric({t.precision},{t.scale or 0})"
    return {TypeName.VARCHAR: "varchar"}.get(t.name, t.name.value)


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class X:
    """An expression as SQL and as a bound tree (None while it is an untyped literal)."""

    sql: str
    expr: Expr | None
    raw: str | None = None

    @property
    def type(self) -> DataType | None:
        return None if self.expr is None else self.expr.type


def typed(text: str | None, t: DataType, fmt: FormatOptions | None = None) -> X:
    if text is None:
        return X(f"CAST(NULL AS {sql_type(t)})", Literal(None, t))
    return X(f"CAST({quote(text)} AS {sql_type(t)})", Literal(parse_text(text, t, fmt), t))


def unknown(text: str | None) -> X:
    return X("NULL" if text is None else quote(text), None, text)


def col(index: int, t: DataType) -> X:
    return X(f"c{index}", InputRef(index, t))


def coerce(x: X, t: DataType, fmt: FormatOptions | None = None) -> Expr:
    if x.expr is None:
        return Literal(None if x.raw is None else parse_text(x.raw, t, fmt), t)
    if x.expr.type == t:
        return x.expr
    return Cast(x.expr, t)


_SQL_FORMS = {
    "is_null": "({0} IS NULL)", "is_not_null": "({0} IS NOT NULL)", "is_true": "({0} IS TRUE)",
    "is_not_true": "({0} IS NOT TRUE)", "is_false": "({0} IS FALSE)", "is_not_false": "({0} IS NOT FALSE)",
    "is_distinct_from": "({0} IS DISTINCT FROM {1})", "is_not_distinct_from": "({0} IS NOT DISTINCT FROM {1})",
    "and": "({0} AND {1})", "or": "({0} OR {1})", "not": "(NOT {0})", "neg": "(- {0})",
    "extract": "EXTRACT({0} FROM {1})",
}


def call(name: str, *args: X, fmt: FormatOptions | None = None) -> X:
    sig = functions.resolve(name, [a.type for a in args])
    bound = FuncCall(sig.func, tuple(coerce(a, t, fmt) for a, t in zip(args, sig.arg_types)), sig.return_type)
    sqls = [a.sql for a in args]
    if name in _SQL_FORMS:
        if name == "extract":
            sqls[0] = str(args[0].raw)
        sql = _SQL_FORMS[name].format(*sqls)
    elif name == "in":
        sql = f"({sqls[0]} IN ({', '.join(sqls[1:])}))"
    elif name in OPERATOR_SYMBOLS and name != "neg":
        sql = f"({sqls[0]} {OPERATOR_SYMBOLS[name]} {sqls[1]})"
    else:
        sql = f"{name}({', '.join(sqls)})"
    return X(sql, bound)


def cast(x: X, t: DataType, fmt: FormatOptions | None = None) -> X:
    sql = f"CAST({x.sql} AS {sql_type(t)})"
    if x.expr is None:
        return X(sql, coerce(x, t, fmt))
    functions.cast_is_allowed(x.expr.type, t)
    return X(sql, x.expr if x.expr.type == t else Cast(x.expr, t))


def case(branches: Sequence[tuple[X, X]], default: X | None = None) -> X:
    results = [r for _, r in branches] + ([default] if default is not None else [])
    t = functions.common_type([r.type for r in results], "CASE")
    bound = Case(tuple((coerce(c, c.type or t), coerce(r, t)) for c, r in branches),
                 coerce(default, t) if default is not None else None, t)
    whens = " ".join(f"WHEN {c.sql} THEN {r.sql}" for c, r in branches)
    sql = f"(CASE {whens}{' ELSE ' + default.sql if default is not None else ''} END)"
    return X(sql, bound)


Outcome = tuple[str, str | None]  # ("ok", text) or ("err", sqlstate)

_TEXT_OIDS = (16, 20, 21, 23, 25, 700, 701, 1043, 1082, 1114, 1184, 1186, 1700)


class _RawText(psycopg.adapt.Loader):
    """Keep PostgreSQL's text output as it came over the wire."""

    def load(self, data: psycopg.abc.Buffer) -> str:
        return bytes(data).decode()


class Oracle:
    """A PostgreSQL session with the same settings as Eddy's evaluation context."""

    def __init__(self, conn: psycopg.Connection, fmt: FormatOptions | None = None) -> None:
        self.conn = conn
        self.fmt = fmt or FormatOptions()
        conn.execute(f"SET TimeZone = {quote(self.fmt.timezone)}")
        conn.execute(f"SET extra_float_digits = {self.fmt.extra_float_digits}")
        conn.execute(f"SET IntervalStyle = {quote(self.fmt.intervalstyle)}")
        conn.execute("SET DateStyle = 'ISO, MDY'")
        for oid in _TEXT_OIDS:
            conn.adapters.register_loader(oid, _RawText)

    def pg(self, x: X, rows: Sequence[Sequence[str | None]] = (), types: Sequence[DataType] = ()) -> list[Outcome]:
        """PostgreSQL's text output for each row (one statement per row, so each row's error is its own)."""
        out: list[Outcome] = []
        for row in rows or [()]:
            source = ""
            if types:
                cells = ", ".join("NULL::" + sql_type(t) if v is None else f"CAST({quote(v)} AS {sql_type(t)})"
                                  for v, t in zip(row, types))
                source = f" FROM (VALUES ({cells})) AS t({', '.join(f'c{i}' for i in range(len(types)))})"
            try:
                value = self.conn.execute(f"SELECT {x.sql}{source}").fetchone()
                out.append(("ok", None if value is None else value[0]))
            except psycopg.Error as e:
                out.append(("err", e.sqlstate))
        return out

    def eddy(self, x: X, rows: Sequence[Sequence[str | None]] = (), types: Sequence[DataType] = (),
             per_row: bool = True) -> list[Outcome]:
        assert x.expr is not None
        batch = batch_of(rows, types, self.fmt)
        ctx = EvalContext(ErrorMode.RAISE, self.fmt)
        if not per_row:
            return [("ok", v) for v in format_array(evaluate(x.expr, batch, ctx), x.expr.type, self.fmt).to_pylist()]
        out: list[Outcome] = []
        for i in range(max(batch.num_rows, 1) if types else 1):
            part = batch.slice(i, 1) if types else batch
            try:
                value = format_array(evaluate(x.expr, part, ctx), x.expr.type, self.fmt)[0].as_py()
                out.append(("ok", value))
            except EddyError as e:
                out.append(("err", e.sqlstate))
        return out

    def mismatches(self, x: X, rows: Sequence[Sequence[str | None]] = (),
                   types: Sequence[DataType] = ()) -> list[str]:
        """Rows where Eddy and PostgreSQL disagree (empty when they agree), described for the assertion message."""
        assert x.expr is not None
        expected = self.pg(x, rows, types)
        got = self.eddy(x, rows, types)
        bad = [f"{x.sql} {row if types else ''}: pg={e} eddy={g}"
               for row, e, g in zip(rows or [()], expected, got) if not same(e, g, x.expr.type)]
        if not bad and types:
            # The rows that evaluate, again as one batch: the vectorized path must agree row for row.
            good = [(row, g) for row, g in zip(rows, got) if g[0] == "ok"]
            whole = self.eddy(x, [r for r, _ in good], types, per_row=False)
            bad = [f"{x.sql} {row} (whole batch): one by one={g} batch={w}"
                   for (row, g), w in zip(good, whole) if g != w]
        return bad


# Eddy's unconstrained NUMERIC is decimal128(38, 10): 28 integer digits.
NUMERIC_LIMIT = Decimal(10) ** 28


def beyond_numeric_range(expected: Outcome, got: Outcome, t: DataType) -> bool:
    """PostgreSQL's arbitrary-precision result is too large for Eddy, which says so (22003)."""
    if t.name is not TypeName.NUMERIC or expected[0] != "ok" or expected[1] is None or got != ("err", "22003"):
        return False
    return abs(Decimal(expected[1])) >= NUMERIC_LIMIT


def beyond_interval_range(expected: Outcome, got: Outcome, t: DataType) -> bool:
    """PostgreSQL's interval has a time part longer than Arrow's nanoseconds hold; Eddy says so (22008)."""
    if t.name is not TypeName.INTERVAL or expected[0] != "ok" or expected[1] is None or got != ("err", "22008"):
        return False
    try:
        parse_text(expected[1], t)
        return False
    except EddyError as e:
        return e.sqlstate == "22015"


def same(expected: Outcome, got: Outcome, t: DataType) -> bool:
    if beyond_numeric_range(expected, got, t) or beyond_interval_range(expected, got, t):
        return True
    if expected[0] != got[0] or expected[0] == "err" or expected[1] is None or got[1] is None:
        return expected == got
    if t.name is TypeName.NUMERIC and t.precision is None:
        # Eddy keeps 10 fractional digits; PostgreSQL sometimes more, sometimes (after a
        # division of large numbers) fewer. Compare at the precision both have.
        pg_scale = len(expected[1].partition(".")[2])
        quantum = Decimal(1).scaleb(-min(pg_scale, 10))
        with localcontext() as c:
            c.prec = 100
            try:
                want = Decimal(expected[1]).quantize(quantum, rounding=ROUND_HALF_UP)
                return want == Decimal(got[1]).quantize(quantum, rounding=ROUND_HALF_UP)
            except InvalidOperation:
                return False
    return expected == got


def batch_of(rows: Sequence[Sequence[str | None]], types: Sequence[DataType], fmt: FormatOptions) -> pa.RecordBatch:
    if not types:
        return one_empty_row()
    columns = [parse_array(pa.array([r[i] for r in rows], pa.string()), t, fmt) for i, t in enumerate(types)]
    return pa.RecordBatch.from_arrays(columns, [f"c{i}" for i in range(len(types))])


def one_empty_row() -> pa.RecordBatch:
    """A batch of one row and no columns, what a constant expression is evaluated over."""
    return pa.RecordBatch.from_struct_array(pa.nulls(1, pa.struct([])).fill_null({}))
