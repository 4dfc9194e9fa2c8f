"""Operator and function resolution, common types and casts, each compared with PostgreSQL 15.

PostgreSQL reports the type it resolves through pg_typeof over typed NULLs,
so every combination of argument types (including the untyped NULL,
PostgreSQL's `unknown`) can be checked without inventing values.
"""

from __future__ import annotations

import itertools

import psycopg
import pytest

from common import functions
from common.errors import AmbiguousFunction, CannotCoerce, DatatypeMismatch, EddyError, UndefinedFunction
from common.functions_catalog import FUNCTIONS, OPERATOR_SYMBOLS
from common.types import (
    ALL_TYPES,
    BIGINT,
    BOOLEAN,
    DATE,
    DOUBLE,
    INTEGER,
    INTERVAL,
    NUMERIC,
    REAL,
    SMALLINT,
    TIMESTAMP,
    TIMESTAMPTZ,
    VARCHAR,
    DataType,
    numeric,
)

SQL_NAMES: dict[str, DataType | None] = {
    "int2": SMALLINT, "int4": INTEGER, "int8": BIGINT, "float4": REAL, "float8": DOUBLE, "numeric": NUMERIC,
    "bool": BOOLEAN, "varchar": VARCHAR, "date": DATE, "timestamp": TIMESTAMP, "timestamptz": TIMESTAMPTZ,
    "interval": INTERVAL, "unknown": None,
}
FROM_PG_TYPEOF = {t.display(): t for t in ALL_TYPES} | {"text": VARCHAR}


def operand(name: str) -> str:
    return "NULL" if name == "unknown" else f"NULL::{name}"


def pg_outcome(pg: psycopg.Connection, sql: str) -> tuple[str, object]:
    try:
        row = pg.execute(sql).fetchone()
        assert row is not None
        return "ok", FROM_PG_TYPEOF.get(row[0], row[0])
    except psycopg.Error as e:
        return "err", e.sqlstate


def eddy_outcome(name: str, types: list[DataType | None]) -> tuple[str, object]:
    try:
        return "ok", functions.resolve(name, types).return_type
    except EddyError as e:
        return "err", e.sqlstate


BINARY = ["add", "subtract", "multiply", "divide", "modulus", "equal", "not_equal", "less_than",
          "greater_than_or_equal", "concat_op", "like", "ilike"]


@pytest.mark.parametrize("op", BINARY)
def test_binary_operators_resolve_like_postgres(pg: psycopg.Connection, op: str) -> None:
    bad = []
    for a, b in itertools.product(SQL_NAMES, SQL_NAMES):
        # Without jsonb, `unknown - text` has no candidate in Eddy while PostgreSQL finds jsonb - text.
        if op == "subtract" and a == "unknown" and b == "varchar":
            continue
        sql = f"SELECT pg_typeof({operand(a)} {OPERATOR_SYMBOLS[op]} {operand(b)})::text"
        expected, got = pg_outcome(pg, sql), eddy_outcome(op, [SQL_NAMES[a], SQL_NAMES[b]])
        if expected != got:
            bad.append(f"{a} {op} {b}: pg={expected} eddy={got}")
    assert not bad, "\n".join(bad)


def test_unary_minus_resolves_like_postgres(pg: psycopg.Connection) -> None:
    for a in SQL_NAMES:
        assert pg_outcome(pg, f"SELECT pg_typeof(- {operand(a)})::text") == eddy_outcome("neg", [SQL_NAMES[a]]), a


# Functions whose overload sets in PostgreSQL include types Eddy lacks, so an
# all-unknown call is ambiguous there but not here.
_PG_HAS_MORE_OVERLOADS = {("trunc", ("unknown",)), ("timezone",)}


@pytest.mark.parametrize("name", sorted({n for n, cands in FUNCTIONS.items() if n != "extract" and any(len(c.args) in (1, 2)
                                                                                     for c in cands)}))
def test_functions_resolve_like_postgres(pg: psycopg.Connection, name: str) -> None:
    arities = sorted({len(c.args) for c in FUNCTIONS[name]} & {1, 2})
    bad = []
    for arity in arities:
        for combo in itertools.product(SQL_NAMES, repeat=arity):
            if (name, combo) in _PG_HAS_MORE_OVERLOADS or (name == "timezone" and combo[0] == "interval"):
                continue
            args = ", ".join(operand(a) for a in combo)
            # position and substring are keywords in PostgreSQL's grammar; their function forms are strpos, substr.
            pg_name = {"position": "strpos", "substring": "substr"}.get(name, name)
            sql = f"SELECT pg_typeof({pg_name}({args}))::text"
            expected, got = pg_outcome(pg, sql), eddy_outcome(name, [SQL_NAMES[a] for a in combo])
            if expected != got:
                bad.append(f"{name}{combo}: pg={expected} eddy={got}")
    assert not bad, "\n".join(bad)


def test_extract_returns_numeric_and_date_part_double(pg: psycopg.Connection) -> None:
    for src in ("date", "timestamp", "timestamptz", "interval"):
        assert pg_outcome(pg, f"SELECT pg_typeof(extract(year from {operand(src)}))::text") == \
            eddy_outcome("extract", [None, SQL_NAMES[src]])
        assert pg_outcome(pg, f"SELECT pg_typeof(date_part('year', {operand(src)}))::text") == \
            eddy_outcome("date_part", [None, SQL_NAMES[src]])


@pytest.mark.parametrize("construct", ["COALESCE", "CASE", "IN"])
def test_common_types_match_postgres(pg: psycopg.Connection, construct: str) -> None:
    bad = []
    for a, b, c in itertools.product(SQL_NAMES, repeat=3):
        x, y, z = operand(a), operand(b), operand(c)
        types = [SQL_NAMES[a], SQL_NAMES[b], SQL_NAMES[c]]
        if construct == "COALESCE":
            sql, got = f"SELECT pg_typeof(COALESCE({x}, {y}, {z}))::text", eddy_outcome("coalesce", types)
        elif construct == "IN":
            if a == "unknown":
                continue  # an untyped value compared item by item: see test_in_with_untyped_value
            sql, got = f"SELECT pg_typeof({x} IN ({y}, {z}))::text", eddy_outcome("in", types)
        else:
            sql = f"SELECT pg_typeof(CASE WHEN true THEN {x} WHEN false THEN {y} ELSE {z} END)::text"
            try:
                got = "ok", functions.common_type(types, "CASE")
            except EddyError as e:
                got = "err", e.sqlstate
        expected = pg_outcome(pg, sql)
        if expected != got:
            bad.append(f"{construct}({a}, {b}, {c}): pg={expected} eddy={got}")
    assert not bad, "\n".join(bad)


def test_in_with_untyped_value_resolves_when_the_list_agrees() -> None:
    assert functions.resolve("in", [None, INTEGER, BIGINT]).arg_types == (BIGINT, BIGINT, BIGINT)


def test_common_type_messages() -> None:
    with pytest.raises(DatatypeMismatch, match=r"^CASE types integer and boolean cannot be matched$"):
        functions.common_type([INTEGER, BOOLEAN], "CASE")
    assert functions.common_type([None, None], "VALUES") == VARCHAR
    assert functions.common_type([numeric(10, 2), numeric(10, 2)], "UNION") == numeric(10, 2)
    assert functions.common_type([numeric(10, 2), numeric(12, 2)], "UNION") == NUMERIC
    assert functions.common_type([INTEGER, numeric(10, 2)], "UNION") == NUMERIC


def test_error_messages_are_postgres_messages() -> None:
    with pytest.raises(UndefinedFunction) as op_err:
        functions.resolve("add", [BOOLEAN, INTEGER])
    assert op_err.value.message == "operator does not exist: boolean + integer"
    assert op_err.value.hint is not None and "explicit type casts" in op_err.value.hint
    with pytest.raises(UndefinedFunction) as fn_err:
        functions.resolve("foo", [INTEGER, None])
    assert fn_err.value.message == "function foo(integer, unknown) does not exist"
    with pytest.raises(AmbiguousFunction) as amb:
        functions.resolve("add", [None, None])
    assert amb.value.message == "operator is not unique: unknown + unknown"
    with pytest.raises(DatatypeMismatch, match=r"^argument of AND must be type boolean, not type integer$"):
        functions.resolve("and", [INTEGER, BOOLEAN])


def test_signatures_tell_the_binder_what_to_cast() -> None:
    sig = functions.resolve("add", [SMALLINT, INTEGER])
    assert (sig.func, sig.arg_types, sig.return_type) == ("add", (INTEGER, INTEGER), INTEGER)
    sig = functions.resolve("add", [INTEGER, REAL])
    assert sig.arg_types == (DOUBLE, DOUBLE)
    sig = functions.resolve("add", [DATE, SMALLINT])
    assert (sig.arg_types, sig.return_type) == ((DATE, INTEGER), DATE)
    sig = functions.resolve("subtract", [DATE, DATE])
    assert sig.return_type == INTEGER
    sig = functions.resolve("add", [DATE, INTERVAL])
    assert (sig.arg_types, sig.return_type) == ((TIMESTAMP, INTERVAL), TIMESTAMP)
    sig = functions.resolve("concat_op", [VARCHAR, INTEGER])
    assert (sig.arg_types, sig.return_type) == ((VARCHAR, VARCHAR), VARCHAR)
    sig = functions.resolve("nullif", [INTEGER, NUMERIC])
    assert sig.return_type == NUMERIC
    sig = functions.resolve("ceiling", [INTEGER])
    assert (sig.func, sig.arg_types) == ("ceil", (DOUBLE,))
    sig = functions.resolve("position", [VARCHAR, None])
    assert (sig.func, sig.return_type) == ("strpos", INTEGER)
    sig = functions.resolve("concat", [INTEGER, None, BOOLEAN])
    assert sig.arg_types == (INTEGER, VARCHAR, BOOLEAN)


def test_casts_match_pg_cast(pg: psycopg.Connection) -> None:
    names = [n for n in SQL_NAMES if n != "unknown"]
    bad = []
    for a, b in itertools.product(names, names):
        src, dst = SQL_NAMES[a], SQL_NAMES[b]
        assert src is not None and dst is not None
        explicit = pg_outcome(pg, f"SELECT pg_typeof(CAST(NULL::{a} AS {b}))::text")[0] == "ok"
        if explicit != functions.can_cast(src, dst, implicit=False):
            bad.append(f"explicit {a} -> {b}: pg={explicit}")
        row = pg.execute("SELECT castcontext FROM pg_cast WHERE castsource = %s::regtype AND casttarget = %s::regtype",
                         (a, b)).fetchone()
        implicit = a == b or (row is not None and row[0] == "i") or {a, b} == {"varchar", "text"}
        if implicit != functions.can_cast(src, dst, implicit=True):
            bad.append(f"implicit {a} -> {b}: pg={implicit}")
    assert not bad, "\n".join(bad)


def test_refused_casts_raise_cannot_coerce() -> None:
    with pytest.raises(CannotCoerce, match=r"^cannot cast type boolean to date$"):
        functions.cast_is_allowed(BOOLEAN, DATE)
    with pytest.raises(CannotCoerce, match=r"^cannot cast type smallint to boolean$"):
        functions.cast_is_allowed(SMALLINT, BOOLEAN)
    functions.cast_is_allowed(INTEGER, BOOLEAN)
    functions.cast_is_allowed(INTERVAL, VARCHAR)
    assert functions.can_assign(DOUBLE, INTEGER) and not functions.can_cast(DOUBLE, INTEGER, implicit=True)
    assert functions.can_assign(TIMESTAMPTZ, DATE) and not functions.can_assign(INTEGER, BOOLEAN)


def test_clock_functions_are_not_deterministic() -> None:
    for name in ("now", "current_timestamp", "current_date", "localtimestamp"):
        assert not functions.is_deterministic(functions.resolve(name, []).func)
    assert functions.is_deterministic(functions.resolve("date_trunc", [None, TIMESTAMP]).func)
    assert functions.is_deterministic("add")
