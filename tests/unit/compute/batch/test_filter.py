"""BatchFilter and BatchProject: predicates with NULLs, projected expressions, errors from evaluation."""

from __future__ import annotations

import pytest

from common.batch_plan import BatchFilter, BatchProject
from common.errors import DivisionByZero
from common.types import BIGINT, BOOLEAN, INTEGER, VARCHAR
from tests.unit.compute.batch.batch_support import (
    MemoryReader,
    col,
    collect,
    fn,
    lit,
    make_ctx,
    rows_of,
    scan,
    table_desc,
)

DESC = table_desc(1, (INTEGER, VARCHAR))
ROWS = [(1, "a"), (None, "b"), (3, None), (4, "d"), (0, "e"), (5, "f")]


def _reader() -> MemoryReader:
    reader = MemoryReader()
    reader.add(DESC, ROWS, batch_rows=2)
    return reader


async def test_filter_keeps_true_rows_and_drops_null_ones() -> None:
    node = BatchFilter(scan(DESC), fn("greater_than", col(0, INTEGER), lit(2, INTEGER)), DESC.types)
    assert await rows_of(node, make_ctx(_reader())) == [(3, None), (4, "d"), (5, "f")]


async def test_filter_rejecting_everything_yields_no_batches() -> None:
    node = BatchFilter(scan(DESC), lit(False, BOOLEAN), DESC.types)
    assert (await collect(node, make_ctx(_reader()))).num_rows == 0


async def test_project_computes_each_expression_over_whole_batches() -> None:
    exprs = (fn("add", col(0, INTEGER), lit(10, INTEGER)), fn("concat_op", col(1, VARCHAR), lit("!", VARCHAR)),
             lit(7, BIGINT), fn("is_null", col(0, INTEGER)))
    node = BatchProject(scan(DESC), exprs, (INTEGER, VARCHAR, BIGINT, BOOLEAN))
    out = await rows_of(node, make_ctx(_reader()))
    assert out == [(11, "a!", 7, False), (None, "b!", 7, True), (13, None, 7, False), (14, "d!", 7, False),
                   (10, "e!", 7, False), (15, "f!", 7, False)]


async def test_project_without_columns_keeps_row_count() -> None:
    node = BatchProject(scan(DESC), (), ())
    table = await collect(node, make_ctx(_reader()))
    assert table.num_rows == len(ROWS) and table.num_columns == 0


async def test_evaluation_errors_propagate_as_eddy_errors() -> None:
    node = BatchProject(scan(DESC), (fn("divide", lit(10, INTEGER), col(0, INTEGER)),), (INTEGER,))
    with pytest.raises(DivisionByZero) as info:
        await rows_of(node, make_ctx(_reader()))
    assert info.value.sqlstate == "22012"


async def test_filter_then_project_stream_together() -> None:
    keep = fn("is_not_null", col(1, VARCHAR))
    node = BatchProject(BatchFilter(scan(DESC), keep, DESC.types), (col(1, VARCHAR),), (VARCHAR,))
    assert [r[0] for r in await rows_of(node, make_ctx(_reader()))] == ["a", "b", "d", "e", "f"]
