"""BatchHashAgg: aggregate kinds and result types, NULL groups, DISTINCT, empty input, floats and intervals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa

from common.batch_plan import BatchHashAgg
from common.expr import AggCall, AggKind, agg_return_type
from common.types import (
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
    VARCHAR,
    DataType,
    numeric,
)
from tests.unit.compute.batch.batch_support import MemoryReader, collect, make_ctx, rows_of, scan, table_desc

NAN = float("nan")


def agg(kind: AggKind, arg: int | None = None, arg_type: DataType | None = None, distinct: bool = False) -> AggCall:
    args = () if arg is None else (arg,)
    arg_types = () if arg_type is None else (arg_type,)
    return AggCall(kind, args, arg_types, agg_return_type(kind, arg_type), distinct)


async def run_agg(rows: list[tuple], types: tuple[DataType, ...], group_key: tuple[int, ...],
                  aggs: tuple[AggCall, ...]) -> list[tuple]:
    desc = table_desc(1, types)
    reader = MemoryReader()
    reader.add(desc, rows, batch_rows=2)
    out_types = tuple(types[i] for i in group_key) + tuple(a.type for a in aggs)
    return await rows_of(BatchHashAgg(scan(desc), group_key, aggs, out_types), make_ctx(reader))


def by_key(rows: list[tuple]) -> dict[object, tuple]:
    return {r[0]: r[1:] for r in rows}


async def test_counts_sums_and_averages_per_group_with_a_null_group() -> None:
    rows = [(1, 10), (1, None), (2, 3), (None, 4), (None, 5), (2, 7)]
    aggs = (agg(AggKind.COUNT_STAR), agg(AggKind.COUNT, 1, INTEGER), agg(AggKind.SUM, 1, INTEGER),
            agg(AggKind.AVG, 1, INTEGER), agg(AggKind.MIN, 1, INTEGER), agg(AggKind.MAX, 1, INTEGER))
    out = by_key(await run_agg(rows, (INTEGER, INTEGER), (0,), aggs))
    assert out == {
        1: (2, 1, 10, Decimal("10.0000000000"), 10, 10),
        2: (2, 2, 10, Decimal("5.0000000000"), 3, 7),
        None: (2, 2, 9, Decimal("4.5000000000"), 4, 5),
    }


async def test_result_types_follow_postgres() -> None:
    types = (SMALLINT, INTEGER, BIGINT, numeric(10, 2), REAL, DOUBLE, INTERVAL)
    sums = tuple(agg(AggKind.SUM, i, t) for i, t in enumerate(types))
    aggs = (*sums, agg(AggKind.AVG, 0, SMALLINT), agg(AggKind.AVG, 4, REAL), agg(AggKind.AVG, 3, numeric(10, 2)))
    desc = table_desc(1, types)
    reader = MemoryReader()
    reader.add(desc, [(1, 2, 3, Decimal("1.25"), 1.5, 2.5, pa.MonthDayNano([1, 2, 3000]))])
    out_types = tuple(a.type for a in aggs)
    table = await collect(BatchHashAgg(scan(desc), (), aggs, out_types), make_ctx(reader))
    assert table.schema.types == [pa.int64(), pa.int64(), pa.decimal128(38, 10), pa.decimal128(38, 10),
                                  pa.float32(), pa.float64(), pa.month_day_nano_interval(),
                                  pa.decimal128(38, 10), pa.float64(), pa.decimal128(38, 10)]
    assert table.to_pylist()[0]["c2"] == Decimal(3)
    assert table.to_pylist()[0]["c3"] == Decimal("1.25")


async def test_no_group_key_gives_one_row_even_on_empty_input() -> None:
    aggs = (agg(AggKind.COUNT_STAR), agg(AggKind.COUNT, 0, INTEGER), agg(AggKind.SUM, 0, INTEGER),
            agg(AggKind.AVG, 0, INTEGER), agg(AggKind.MAX, 1, VARCHAR))
    assert await run_agg([], (INTEGER, VARCHAR), (), aggs) == [(0, 0, None, None, None)]


async def test_group_key_over_empty_input_gives_no_rows() -> None:
    assert await run_agg([], (INTEGER, INTEGER), (0,), (agg(AggKind.COUNT_STAR),)) == []


async def test_sum_of_only_nulls_is_null_and_count_is_zero() -> None:
    rows = [(1, None), (1, None), (2, 1.5)]
    aggs = (agg(AggKind.SUM, 1, DOUBLE), agg(AggKind.COUNT, 1, DOUBLE), agg(AggKind.AVG, 1, DOUBLE))
    out = by_key(await run_agg(rows, (INTEGER, DOUBLE), (0,), aggs))
    assert out == {1: (None, 0, None), 2: (1.5, 1, 1.5)}


async def test_distinct_aggregates() -> None:
    rows = [(1, 5), (1, 5), (1, None), (1, 3), (2, 4), (2, 4)]
    aggs = (agg(AggKind.COUNT, 1, INTEGER, distinct=True), agg(AggKind.SUM, 1, INTEGER, distinct=True),
            agg(AggKind.AVG, 1, INTEGER, distinct=True), agg(AggKind.COUNT, 1, INTEGER), agg(AggKind.SUM, 1, INTEGER))
    out = by_key(await run_agg(rows, (INTEGER, INTEGER), (0,), aggs))
    assert out == {1: (2, 8, Decimal("4.0000000000"), 3, 13), 2: (1, 4, Decimal("4.0000000000"), 2, 8)}


async def test_multi_column_keys_group_nulls_together() -> None:
    rows = [("a", None, 1), ("a", None, 2), ("a", 1, 3), (None, None, 4), (None, None, 5), ("b", 1, 6)]
    out = await run_agg(rows, (VARCHAR, INTEGER, INTEGER), (0, 1), (agg(AggKind.SUM, 2, INTEGER),))
    assert sorted(out, key=repr) == sorted([("a", None, 3), ("a", 1, 3), (None, None, 9), ("b", 1, 6)], key=repr)


async def test_min_max_of_orderable_types() -> None:
    rows = [("b", dt.date(2024, 5, 1), dt.datetime(2024, 1, 1, 12), True),
            ("B", dt.date(2023, 5, 1), None, False),
            (None, dt.date(2025, 1, 1), dt.datetime(2020, 1, 1), None)]
    types = (VARCHAR, DATE, TIMESTAMP, BOOLEAN)
    aggs = tuple(agg(k, i, t) for i, t in enumerate(types) for k in (AggKind.MIN, AggKind.MAX))
    assert await run_agg(rows, types, (), aggs) == [(
        "B", "b", dt.date(2023, 5, 1), dt.date(2025, 1, 1), dt.datetime(2020, 1, 1), dt.datetime(2024, 1, 1, 12),
        False, True)]


async def test_float_groups_and_extremes_follow_postgres_nan_rules() -> None:
    rows = [(0.0, 1.0), (-0.0, NAN), (NAN, NAN), (NAN, 2.0), (1.0, NAN)]
    aggs = (agg(AggKind.COUNT_STAR), agg(AggKind.MIN, 1, DOUBLE), agg(AggKind.MAX, 1, DOUBLE))
    out = await run_agg(rows, (DOUBLE, DOUBLE), (0,), aggs)
    assert len(out) == 3
    zero = next(r for r in out if r[0] == 0.0)
    assert zero[1:3] == (2, 1.0) and zero[3] != zero[3]
    nan = next(r for r in out if r[0] != r[0])
    assert nan[1:3] == (2, 2.0) and nan[3] != nan[3]
    one = next(r for r in out if r[0] == 1.0)
    assert one[1] == 1 and one[2] != one[2] and one[3] != one[3]


async def test_interval_aggregates() -> None:
    month = pa.MonthDayNano([1, 0, 0])
    days30 = pa.MonthDayNano([0, 30, 0])
    rows = [(month,), (days30,), (pa.MonthDayNano([0, 1, 3600 * 10**9]),), (None,)]
    aggs = (agg(AggKind.SUM, 0, INTERVAL), agg(AggKind.AVG, 0, INTERVAL), agg(AggKind.MIN, 0, INTERVAL),
            agg(AggKind.MAX, 0, INTERVAL))
    [(total, avg, low, high)] = await run_agg(rows, (INTERVAL,), (), aggs)
    assert total == pa.MonthDayNano([1, 31, 3600 * 10**9])
    # PostgreSQL: '1 mon 31 days 01:00:00' / 3 = '20 days 08:20:00' (the month cascades into days).
    assert avg == pa.MonthDayNano([0, 20, (8 * 3600 + 20 * 60) * 10**9])
    assert low == pa.MonthDayNano([0, 1, 3600 * 10**9])
    # '1 mon' = '30 days'; as in interval_larger, the later of two equal values wins.
    assert high == days30


async def test_numeric_average_rounds_half_away_from_zero() -> None:
    rows = [(1,)] + [(0,)] * 2047
    aggs = (agg(AggKind.AVG, 0, BIGINT),)
    assert await run_agg(rows, (BIGINT,), (), aggs) == [(Decimal("0.0004882813"),)]
    negative = [(-1,)] + [(0,)] * 2047
    assert await run_agg(negative, (BIGINT,), (), aggs) == [(Decimal("-0.0004882813"),)]


async def test_bigint_sum_does_not_overflow() -> None:
    big = 2**62
    aggs = (agg(AggKind.SUM, 0, BIGINT), agg(AggKind.AVG, 0, BIGINT))
    assert await run_agg([(big,), (big,), (big,)], (BIGINT,), (), aggs) == [
        (Decimal(3 * big), Decimal(big))]


async def test_numeric_sum_keeps_scale() -> None:
    rows = [(Decimal("1.05"),), (Decimal("2.10"),), (None,)]
    aggs = (agg(AggKind.SUM, 0, NUMERIC), agg(AggKind.AVG, 0, NUMERIC))
    assert await run_agg(rows, (NUMERIC,), (), aggs) == [(Decimal("3.15"), Decimal("1.575"))]


async def test_float_extremes_with_negative_zero_let_the_later_row_win() -> None:
    aggs = (agg(AggKind.MIN, 0, DOUBLE), agg(AggKind.MAX, 0, DOUBLE))
    [(low, high)] = await run_agg([(0.0,), (-0.0,)], (DOUBLE,), (), aggs)
    assert str(low) == "-0.0" and str(high) == "-0.0"
    [(low, high)] = await run_agg([(-0.0,), (0.0,), (NAN,)], (DOUBLE,), (), aggs)
    assert str(low) == "0.0" and high != high
