"""BatchLimit: LIMIT / OFFSET across batch boundaries, reading no more input than needed."""

from __future__ import annotations

import pytest

from common.batch_plan import BatchLimit
from common.types import INTEGER
from tests.unit.compute.batch.batch_support import MemoryReader, make_ctx, rows_of, scan, table_desc

DESC = table_desc(1, (INTEGER,))


def _reader(n: int, batch_rows: int) -> MemoryReader:
    reader = MemoryReader()
    reader.add(DESC, [(i,) for i in range(n)], batch_rows=batch_rows)
    return reader


@pytest.mark.parametrize(("limit", "offset", "expected"), [
    (3, 0, [0, 1, 2]),
    (3, 2, [2, 3, 4]),
    (4, 5, [5, 6, 7, 8]),
    (None, 7, [7, 8, 9]),
    (5, 8, [8, 9]),
    (2, 20, []),
    (0, 0, []),
])
async def test_limit_offset(limit: int | None, offset: int, expected: list[int]) -> None:
    out = await rows_of(BatchLimit(scan(DESC), limit, offset, (INTEGER,)), make_ctx(_reader(10, 3)))
    assert [r[0] for r in out] == expected


async def test_stops_reading_once_the_limit_is_reached() -> None:
    reader = _reader(100, 1)
    out = await rows_of(BatchLimit(scan(DESC), 2, 3, (INTEGER,)), make_ctx(reader))
    assert [r[0] for r in out] == [3, 4]
    assert reader.pulled == 5


async def test_limit_zero_reads_nothing() -> None:
    reader = _reader(100, 1)
    assert await rows_of(BatchLimit(scan(DESC), 0, 0, (INTEGER,)), make_ctx(reader)) == []
    assert reader.pulled == 0
