"""Differential test: random scan/join/aggregate/sort/limit plans against PostgreSQL 15 on the same rows.

Each seed builds one plan by hand together with the SQL that means the same
thing, runs the plan over an in-memory reader and the SQL over PostgreSQL,
and compares results: as multisets, and in order for the sort keys of a
sorted plan. Doubles are multiples of 1/4 so every sum is exact whatever
order rows are added in.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from batch_support import MemoryReader, make_ctx, rows_of, table_desc
from pg_oracle import as_multiset, load, normalize_rows, scratch_database

from common.catalog import TableDesc
from common.expr import AggCall, AggKind, agg_return_type
from common.plan import BatchHashAgg, BatchHashJoin, BatchLimit, BatchNode, BatchScan, BatchSort, JoinType, SortKey
from common.types import BIGINT, DOUBLE, INTEGER, TIMESTAMP, VARCHAR, DataType, TypeName

COLUMNS = ("a", "b", "c", "d", "e")
TYPES = (INTEGER, DOUBLE, VARCHAR, TIMESTAMP, BIGINT)
T1 = table_desc(1, TYPES)
T2 = table_desc(2, TYPES)
NAMES = {1: "t1", 2: "t2"}
SEEDS = 250


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
    with scratch_database("eddy_test_batch") as conn:
        for desc, n in ((T1, 60), (T2, 40)):
            rows = _rows(rng, n)
            load(conn, NAMES[desc.table_id], COLUMNS, TYPES, rows)
            reader.add(desc, rows, batch_rows=7)
        yield conn, reader


def _scan(rng: random.Random, desc: TableDesc) -> Rel:
    cols = rng.sample(range(len(TYPES)), rng.randint(2, len(TYPES)))
    sql = ", ".join(f"{COLUMNS[c]} AS x{i}" for i, c in enumerate(cols))
    return Rel(BatchScan(desc, tuple(cols), tuple(TYPES[c] for c in cols)), f"SELECT {sql} FROM {NAMES[desc.table_id]}")


_JOINABLE = {TypeName.INTEGER: "int", TypeName.BIGINT: "int", TypeName.DOUBLE: "float",
             TypeName.VARCHAR: "str", TypeName.TIMESTAMP: "ts"}


def _join(rng: random.Random, left: Rel, right: Rel) -> Rel:
    pairs = [(i, j) for i, lt in enumerate(left.types) for j, rt in enumerate(right.types)
             if _JOINABLE[lt.name] == _JOINABLE[rt.name]]
    join_type = rng.choice(list(JoinType))
    keys = [] if join_type is JoinType.CROSS or not pairs else rng.sample(pairs, min(len(pairs), rng.randint(1, 2)))
    if not keys:
        join_type = JoinType.CROSS
    width = len(left.types) + len(right.types)
    output = rng.sample(range(width), rng.randint(1, width))
    all_types = left.types + right.types
    node = BatchHashJoin(left.plan, right.plan, join_type, tuple(k[0] for k in keys), tuple(k[1] for k in keys),
                         None, tuple(output), tuple(all_types[i] for i in output))
    n_left = len(left.types)
    select = ", ".join(f"l.x{i} AS x{n}" if i < n_left else f"r.x{i - n_left} AS x{n}" for n, i in enumerate(output))
    if join_type is JoinType.CROSS:
        body = f"({left.sql}) l CROSS JOIN ({right.sql}) r"
    else:
        cond = " AND ".join(f"l.x{i} = r.x{j}" for i, j in keys)
        body = f"({left.sql}) l {join_type.value.upper()} JOIN ({right.sql}) r ON {cond}"
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
    if rng.random() < 0.5:
        rel = _join(rng, rel, _scan(rng, second))
    if rng.random() < 0.5:
        rel = _agg(rng, rel)
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
