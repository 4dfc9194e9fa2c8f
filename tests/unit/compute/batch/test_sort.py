"""BatchSort: per-key direction and NULL placement, stability, NaN, bytewise strings, intervals."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from common.batch_plan import BatchSort, SortKey
from common.types import DOUBLE, INTEGER, INTERVAL, TIMESTAMP, VARCHAR
from tests.unit.compute.batch.batch_support import MemoryReader, make_ctx, rows_of, scan, table_desc

NAN = float("nan")


async def _sorted(rows: list[tuple], types: tuple, keys: tuple[SortKey, ...]) -> list[tuple]:
    desc = table_desc(1, types)
    reader = MemoryReader()
    reader.add(desc, rows, batch_rows=2)
    return await rows_of(BatchSort(scan(desc), keys, types), make_ctx(reader))


async def test_ascending_puts_nulls_last_and_keeps_ties_in_input_order() -> None:
    rows = [(2, "a"), (None, "b"), (1, "c"), (2, "d"), (1, "e")]
    out = await _sorted(rows, (INTEGER, VARCHAR), (SortKey(0),))
    assert out == [(1, "c"), (1, "e"), (2, "a"), (2, "d"), (None, "b")]


async def test_descending_nulls_first_then_second_key() -> None:
    rows = [(2, "a"), (None, "b"), (1, "c"), (2, "d"), (None, "a")]
    keys = (SortKey(0, descending=True, nulls_first=True), SortKey(1, descending=True))
    out = await _sorted(rows, (INTEGER, VARCHAR), keys)
    assert out == [(None, "b"), (None, "a"), (2, "d"), (2, "a"), (1, "c")]


async def test_nulls_placement_is_per_key() -> None:
    rows = [(1, None), (1, 5), (None, 1), (2, None)]
    keys = (SortKey(0, nulls_first=True), SortKey(1, nulls_first=False))
    out = await _sorted(rows, (INTEGER, INTEGER), keys)
    assert out == [(None, 1), (1, 5), (1, None), (2, None)]


async def test_nan_is_the_largest_float() -> None:
    rows = [(NAN,), (1.0,), (None,), (-1.0,)]
    asc = await _sorted(rows, (DOUBLE,), (SortKey(0),))
    assert [r[0] for r in asc][:2] == [-1.0, 1.0] and asc[3] == (None,)
    assert asc[2][0] != asc[2][0]
    desc = await _sorted(rows, (DOUBLE,), (SortKey(0, descending=True, nulls_first=False),))
    assert desc[0][0] != desc[0][0]
    assert [r[0] for r in desc[1:]] == [1.0, -1.0, None]
    nulls_first = await _sorted(rows, (DOUBLE,), (SortKey(0, nulls_first=True),))
    assert [r[0] for r in nulls_first][:3] == [None, -1.0, 1.0]


async def test_strings_sort_bytewise() -> None:
    rows = [("b",), ("B",), ("é",), ("a",), ("",), ("ab",)]
    out = await _sorted(rows, (VARCHAR,), (SortKey(0),))
    assert [r[0] for r in out] == ["", "B", "a", "ab", "b", "é"]


async def test_intervals_sort_by_span() -> None:
    day = pa.MonthDayNano([0, 1, 0])
    month = pa.MonthDayNano([1, 0, 0])
    days29 = pa.MonthDayNano([0, 29, 0])
    hours = pa.MonthDayNano([0, 0, 25 * 3600 * 10**9])
    out = await _sorted([(month,), (hours,), (days29,), (day,)], (INTERVAL,), (SortKey(0),))
    assert [r[0] for r in out] == [day, hours, days29, month]


async def test_timestamps_descending() -> None:
    t = [dt.datetime(2024, 1, d) for d in (3, 1, 2)]
    out = await _sorted([(x,) for x in t], (TIMESTAMP,), (SortKey(0, descending=True, nulls_first=True),))
    assert [r[0] for r in out] == sorted(t, reverse=True)


async def test_many_batches_are_sorted_as_one() -> None:
    rows = [((i * 7919) % 1000, i) for i in range(1000)]
    out = await _sorted(rows, (INTEGER, INTEGER), (SortKey(0),))
    assert [r[0] for r in out] == sorted(r[0] for r in rows)
