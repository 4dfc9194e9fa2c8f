"""Differential test: random scan/filter/join/aggregate/project/sort/limit plans against PostgreSQL 15.

Each seed builds one plan by hand together with the SQL that means the same
thing, runs the plan over an in-memory reader and the SQL over PostgreSQL,
and compares results: as multisets, and in order for the sort keys of a
sorted plan. Doubles are multiples of 1/4 so every sum is exact whatever
order rows are added in.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import psycopg
import pytest

from common.batch_plan import (
    BatchFilter,
    BatchHashAgg,
    BatchHashJoin,
    BatchLimit,
    BatchNode,
    BatchProject,
    BatchScan,
    BatchSort,
    JoinType,
    SortKey,
)
from common.catalog import TableDesc
from common.expr import AggCall, AggKind, Expr, agg_return_type
from common.types import BIGINT, DOUBLE, INTEGER, TIMESTAMP, VARCHAR, DataType, TypeName
from tests.helpers.oracle import oracle_database
from tests.unit.compute.batch.batch_support import MemoryReader, col, fn, lit, make_ctx, rows_of, table_desc
from tests.unit.compute.batch.pg_oracle import as_multiset, load, normalize_rows

COLUMNS = ("a", "b", "c", "d", "e")
TYPES = (INTEGER, DOUBLE, VARCHAR, TIMESTAMP, BIGINT)
T1 = table_desc(1, TYPES)
T2 = table_desc(2, TYPES)
NAMES = {1: "t1", 2: "t2"}
SEEDS = 400


def _value(rng: random.Random, t: DataType) -> object:
    if rng.random() < 0.15:
        return None
    if t is INTEGER:
        return rng.randint(0, 8)
    if t is DOUBLE:
        if rng.random() < 0.3:
            return rng.choice([0.0, -0.0, 1.5, -2.25, float("nan")])
        return rng.randint(-4000, 4000) / 4
    if t is VARCHAR:
        return rng.choice(["", "a", "B", "ab", "é", "z", "Zeta", "a b"])
    if t is TIMESTAMP:
        return dt.datetime(2024, 1, 1) + dt.timedelta(minutes=rng.randint(0, 30) * 97)
    return rng.choice([rng.randint(-10**18, 10**18), rng.randint(-5, 5)])


def _rows(rng: random.Random, n: int) -> list[tuple[object, ...]]:
    return [tuple(_value(rng, t) for t in TYPES) for _ in range(n)]


@dataclass(frozen=True)
class Rel:
    """A plan and the SQL subquery computing the same rows, its columns named x0..xn."""

    plan: BatchNode
    sql: str

    @property
    def types(self) -> tuple[DataType, ...]:
        return self.plan.types


@pytest.fixture(scope="module")
def oracle() -> Iterator[tuple[psycopg.Connection, MemoryReader]]:
    rng = random.Random(20240601)
    reader = MemoryReader()
    with oracle_database("eddy_test_batch") as conn:
        for desc, n in ((T1, 60), (T2, 40)):
            rows = _rows(rng, n)
            load(conn, NAMES[desc.table_id], COLUMNS, TYPES, rows)
            reader.add(desc, rows, batch_rows=7)
        yield conn, reader


def _scan(rng: random.Random, desc: TableDesc) -> Rel:
    cols = rng.sample(range(len(TYPES)), rng.randint(2, len(TYPES)))
    sql = ", ".join(f"{COLUMNS[c]} AS x{i}" for i, c in enumerate(cols))
    return Rel(BatchScan(desc, tuple(cols), tuple(TYPES[c] for c in cols)), f"SELECT {sql} FROM {NAMES[desc.table_id]}")


_CLASS = {TypeName.INTEGER: "int", TypeName.BIGINT: "int", TypeName.DOUBLE: "float",
          TypeName.VARCHAR: "str", TypeName.TIMESTAMP: "ts", TypeName.NUMERIC: "num"}
_COMPARISONS = {"equal": "=", "not_equal": "<>", "less_than": "<", "less_than_or_equal": "<=",
                "greater_than": ">", "greater_than_or_equal": ">="}


def _literal(rng: random.Random, t: DataType) -> tuple[Expr, str]:
    v = None
    while v is None:
        v = _value(rng, t)
    if isinstance(v, float):
        return lit(v, t), f"'{v!r}'::float8"
    if isinstance(v, str):
        return lit(v, t), "'" + v.replace("'", "''") + "'"
    if isinstance(v, dt.datetime):
        return lit(v, t), f"timestamp '{v.isoformat(sep=' ')}'"
    return lit(v, t), f"{v}::{'int4' if t is INTEGER else 'int8'}"


def _atom(rng: random.Random, types: tuple[DataType, ...], name: Callable[[int], str]) -> tuple[Expr, str]:
    i = rng.randrange(len(types))
    t = types[i]
    roll = rng.random()
    if roll < 0.15 or _CLASS.get(t.name) is None or t.name is TypeName.NUMERIC:
        test = rng.choice(["is_null", "is_not_null"])
        return fn(test, col(i, t)), f"({name(i)} {test.upper().replace('_', ' ')})"
    op = rng.choice(list(_COMPARISONS))
    peers = [j for j, u in enumerate(types) if j != i and _CLASS.get(u.name) == _CLASS[t.name]]
    if peers and roll < 0.35:
        j = rng.choice(peers)
        return fn(op, col(i, t), col(j, types[j])), f"({name(i)} {_COMPARISONS[op]} {name(j)})"
    value, sql = _literal(rng, t)
    return fn(op, col(i, t), value), f"({name(i)} {_COMPARISONS[op]} {sql})"


def _predicate(rng: random.Random, types: tuple[DataType, ...], name: Callable[[int], str],
               depth: int = 0) -> tuple[Expr, str]:
    roll = rng.random()
    if depth >= 2 or roll < 0.5:
        return _atom(rng, types, name)
    if roll < 0.6:
        inner, sql = _predicate(rng, types, name, depth + 1)
        return fn("not", inner), f"(NOT {sql})"
    op = rng.choice(["and", "or"])
    (a, sa), (b, sb) = _predicate(rng, types, name, depth + 1), _predicate(rng, types, name, depth + 1)
    return fn(op, a, b), f"({sa} {op.upper()} {sb})"


def _filter(rng: random.Random, rel: Rel) -> Rel:
    predicate, sql = _predicate(rng, rel.types, lambda i: f"x{i}")
    names = ", ".join(f"x{i}" for i in range(len(rel.types)))
    return Rel(BatchFilter(rel.plan, predicate, rel.types), f"SELECT {names} FROM ({rel.sql}) f WHERE {sql}")


def _projection(rng: random.Random, i: int, t: DataType) -> tuple[Expr, str]:
    """Column i, or a simple expression over it that cannot overflow on the test data."""
    c = col(i, t)
    if rng.random() < 0.5:
        return c, f"x{i}"
    if t.is_integer:
        return fn("subtract", c, lit(1, INTEGER)), f"(x{i} - 1)"
    if t is DOUBLE:
        return fn("add", c, lit(0.5, DOUBLE)), f"(x{i} + 0.5::float8)"
    if t.name is TypeName.NUMERIC:
        return fn("neg", c), f"(-x{i})"
    if t is VARCHAR:
        return fn("concat_op", c, lit("z", VARCHAR)), f"(x{i} || 'z')"
    return c, f"x{i}"


def _project(rng: random.Random, rel: Rel) -> Rel:
    picked = [rng.randrange(len(rel.types)) for _ in range(rng.randint(1, 4))]
    exprs = [_projection(rng, i, rel.types[i]) for i in picked]
    node = BatchProject(rel.plan, tuple(e for e, _ in exprs), tuple(e.type for e, _ in exprs))
    cols = ", ".join(f"{sql} AS x{n}" for n, (_, sql) in enumerate(exprs))
    return Rel(node, f"SELECT {cols} FROM ({rel.sql}) p")


def _join(rng: random.Random, left: Rel, right: Rel) -> Rel:
    pairs = [(i, j) for i, lt in enumerate(left.types) for j, rt in enumerate(right.types)
             if _CLASS[lt.name] == _CLASS[rt.name]]
    join_type = rng.choice(list(JoinType))
    keys = [] if join_type is JoinType.CROSS or not pairs else rng.sample(pairs, min(len(pairs), rng.randint(1, 2)))
    n_left = len(left.types)
    both = left.types + right.types
    condition, cond_sql = None, ""
    if rng.random() < 0.4:
        condition, cond_sql = _predicate(rng, both, lambda i: f"l.x{i}" if i < n_left else f"r.x{i - n_left}")
    if rng.random() < 0.2 and condition is not None and join_type is not JoinType.FULL:
        keys = []  # a join on the condition alone (PostgreSQL has no FULL JOIN on one)
    elif not keys:
        join_type, condition, cond_sql = JoinType.CROSS, None, ""
    width = len(both)
    output = rng.sample(range(width), rng.randint(1, width))
    node = BatchHashJoin(left.plan, right.plan, join_type, tuple(k[0] for k in keys), tuple(k[1] for k in keys),
                         condition, tuple(output), tuple(both[i] for i in output))
    select = ", ".join(f"l.x{i} AS x{n}" if i < n_left else f"r.x{i - n_left} AS x{n}" for n, i in enumerate(output))
    on = [f"l.x{i} = r.x{j}" for i, j in keys] + ([cond_sql] if cond_sql else [])
    if not on:
        body = f"({left.sql}) l CROSS JOIN ({right.sql}) r"
    else:
        kind = "INNER" if join_type is JoinType.CROSS else join_type.value.upper()
        body = f"({left.sql}) l {kind} JOIN ({right.sql}) r ON {' AND '.join(on)}"
    return Rel(node, f"SELECT {select} FROM {body}")


def _agg_call(rng: random.Random, types: tuple[DataType, ...]) -> tuple[AggCall, str]:
    i = rng.randrange(len(types))
    t = types[i]
    kinds = [AggKind.COUNT_STAR, AggKind.COUNT, AggKind.MIN, AggKind.MAX]
    if t.is_numeric:
        kinds += [AggKind.SUM, AggKind.AVG]
    kind = rng.choice(kinds)
    if kind is AggKind.COUNT_STAR:
        return AggCall(kind, (), (), BIGINT), "count(*)"
    distinct = kind in (AggKind.COUNT, AggKind.SUM, AggKind.AVG) and rng.random() < 0.3
    call = AggCall(kind, (i,), (t,), agg_return_type(kind, t), distinct)
    return call, f"{kind.value}({'DISTINCT ' if distinct else ''}x{i})"


def _agg(rng: random.Random, rel: Rel) -> Rel:
    keys = rng.sample(range(len(rel.types)), rng.randint(0, min(2, len(rel.types))))
    calls = [_agg_call(rng, rel.types) for _ in range(rng.randint(1, 4))]
    types = tuple(rel.types[k] for k in keys) + tuple(c.type for c, _ in calls)
    node = BatchHashAgg(rel.plan, tuple(keys), tuple(c for c, _ in calls), types)
    select = [f"x{k}" for k in keys] + [s for _, s in calls]
    group = f" GROUP BY {', '.join(f'x{k}' for k in keys)}" if keys else ""
    cols = ", ".join(f"{s} AS x{n}" for n, s in enumerate(select))
    return Rel(node, f"SELECT {cols} FROM ({rel.sql}) s{group}")


def _plan(seed: int) -> tuple[Rel, tuple[SortKey, ...] | None, int | None, int]:
    rng = random.Random(seed)
    first, second = rng.sample([T1, T2], 2)
    rel = _scan(rng, first)
    if rng.random() < 0.4:
        rel = _filter(rng, rel)
    if rng.random() < 0.5:
        rel = _join(rng, rel, _scan(rng, second))
        if rng.random() < 0.3:
            rel = _filter(rng, rel)
    if rng.random() < 0.5:
        rel = _agg(rng, rel)
    if rng.random() < 0.3:
        rel = _project(rng, rel)
    keys = None
    if rng.random() < 0.5:
        cols = rng.sample(range(len(rel.types)), rng.randint(1, min(3, len(rel.types))))
        keys = tuple(SortKey(c, rng.random() < 0.5, rng.random() < 0.5) for c in cols)
        rel = Rel(BatchSort(rel.plan, keys, rel.types), rel.sql)
    limit, offset = None, 0
    if rng.random() < 0.4:
        limit = rng.choice([None, 0, 1, 5, 20])
        offset = rng.choice([0, 0, 3])
        rel = Rel(BatchLimit(rel.plan, limit, offset, rel.types), rel.sql)
    return rel, keys, limit, offset


def _order_by(keys: tuple[SortKey, ...]) -> str:
    return ", ".join(f"x{k.index} {'DESC' if k.descending else 'ASC'} NULLS {'FIRST' if k.nulls_first else 'LAST'}"
                     for k in keys)


@pytest.mark.parametrize("seed", range(SEEDS))
async def test_random_plan_matches_postgres(seed: int, oracle: tuple[psycopg.Connection, MemoryReader]) -> None:
    conn, reader = oracle
    rel, keys, limit, offset = _plan(seed)
    sql = f"SELECT * FROM ({rel.sql}) q"
    if keys:
        sql += f" ORDER BY {_order_by(keys)}"
    if limit is not None or offset:
        sql += f" LIMIT {'ALL' if limit is None else limit} OFFSET {offset}"
    expected = conn.execute(sql).fetchall()
    got = await rows_of(rel.plan, make_ctx(reader))
    assert len(got) == len(expected), sql
    if keys:
        def key_columns(rows: list[tuple]) -> list[tuple]:
            return normalize_rows([tuple(r[k.index] for k in keys) for r in rows])
        assert key_columns(got) == key_columns(expected), sql
    if limit is None and not offset:
        assert as_multiset(got) == as_multiset(expected), sql
