"""Interval aggregates and ordering against PostgreSQL 15: sum, avg, min, max per group, and ORDER BY."""

from __future__ import annotations

import random
from collections.abc import Iterator

import psycopg
import pyarrow as pa
import pytest

from common.batch_plan import BatchHashAgg, BatchSort, SortKey
from common.expr import AggCall, AggKind, agg_return_type
from common.types import INTEGER, INTERVAL
from tests.helpers.oracle import oracle_database
from tests.unit.compute.batch.batch_support import MemoryReader, make_ctx, rows_of, scan, table_desc
from tests.unit.compute.batch.pg_oracle import load

DESC = table_desc(3, (INTEGER, INTERVAL))


def _triple(sql: str) -> str:
    """PostgreSQL SQL giving an interval's (months, days, microseconds) fields exactly."""
    return (f"(extract(year from {sql}) * 12 + extract(month from {sql}))::int8, extract(day from {sql})::int8, "
            f"(extract(hour from {sql}) * 3600000000 + extract(minute from {sql}) * 60000000"
            f" + extract(microseconds from {sql}))::int8")


def _fields(v: pa.MonthDayNano | None) -> tuple[int | None, ...]:
    if v is None:
        return (None, None, None)
    return (v.months, v.days, v.nanoseconds // 1000)


def _span(months: int | None, days: int | None, micros: int | None) -> int | None:
    if months is None or days is None or micros is None:
        return None
    return (months * 30 + days) * 86_400_000_000 + micros


@pytest.fixture(scope="module")
def oracle() -> Iterator[tuple[psycopg.Connection, MemoryReader]]:
    rng = random.Random(7)
    rows: list[tuple[object, ...]] = []
    for _ in range(300):
        g = rng.randint(0, 12) if rng.random() > 0.05 else None
        if rng.random() < 0.1:
            value = None
        elif rng.random() < 0.1:
            # Equal spans written differently: which one MIN/MAX return is part of the contract.
            value = rng.choice([pa.MonthDayNano([1, 0, 0]), pa.MonthDayNano([0, 30, 0])])
        else:
            value = pa.MonthDayNano([rng.randint(-30, 30), rng.randint(-60, 60),
                                     rng.randint(-10**11, 10**11) * 1000])
        rows.append((g, value))
    reader = MemoryReader()
    reader.add(DESC, rows, batch_rows=16)
    with oracle_database("eddy_test_batch") as conn:
        load(conn, "t3", ("g", "i"), DESC.types, rows)
        yield conn, reader


async def test_interval_aggregates_match_postgres(oracle: tuple[psycopg.Connection, MemoryReader]) -> None:
    conn, reader = oracle
    kinds = (AggKind.SUM, AggKind.AVG, AggKind.MIN, AggKind.MAX)
    aggs = tuple(AggCall(k, (1,), (INTERVAL,), agg_return_type(k, INTERVAL)) for k in kinds)
    node = BatchHashAgg(scan(DESC), (0,), aggs, (INTEGER, *(a.type for a in aggs)))
    got = {r[0]: tuple(f for v in r[1:] for f in _fields(v)) for r in await rows_of(node, make_ctx(reader))}
    cols = ", ".join(_triple(f"{k.value}(i)") for k in kinds)
    expected = {r[0]: tuple(r[1:]) for r in conn.execute(f"SELECT g, {cols} FROM t3 GROUP BY g").fetchall()}
    assert got == expected


async def test_interval_order_matches_postgres(oracle: tuple[psycopg.Connection, MemoryReader]) -> None:
    conn, reader = oracle
    node = BatchSort(scan(DESC), (SortKey(1, descending=True, nulls_first=False),), DESC.types)
    got = [_span(*_fields(r[1])) for r in await rows_of(node, make_ctx(reader))]
    expected = [_span(*r) for r in conn.execute(f"SELECT {_triple('i')} FROM t3 ORDER BY i DESC NULLS LAST")]
    assert got == expected
