"""Leaf executors (scan, VALUES of literals, inline Arrow data), the executor's edges and cancellation."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from common.batch_plan import BatchArrow, BatchLimit, BatchScan, BatchSort, BatchValues, SortKey
from common.errors import DivisionByZero, InternalError, QueryCanceled
from common.expr import Cast
from common.types import BIGINT, INTEGER, INTERVAL, NUMERIC, TIMESTAMPTZ, VARCHAR
from compute.batch import BatchContext, execute
from tests.unit.compute.batch.batch_support import (
    MemoryReader,
    batches_of,
    collect,
    fn,
    lit,
    make_ctx,
    rows_of,
    scan,
    table_desc,
    values,
)

DESC = table_desc(7, (INTEGER, VARCHAR, BIGINT))
ROWS = [(1, "a", 10), (2, None, 20), (3, "c", None)]


async def test_scan_selects_columns_at_the_context_epoch() -> None:
    reader = MemoryReader()
    reader.add(DESC, ROWS, batch_rows=2)
    node = BatchScan(DESC, (2, 0), (BIGINT, INTEGER))
    out = await rows_of(node, make_ctx(reader, epoch=42 << 16))
    assert out == [(10, 1), (20, 2), (None, 3)]
    assert reader.epochs == [42 << 16]


async def test_values_of_literals_of_every_kind() -> None:
    types = (INTEGER, VARCHAR, NUMERIC, TIMESTAMPTZ, INTERVAL)
    ts = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    rows = [(1, "x", Decimal("1.5"), ts, pa.MonthDayNano([1, 2, 3])), (None, None, None, None, None)]
    table = await collect(values(rows, types), make_ctx())
    assert table.num_rows == 2
    assert table.column(2).to_pylist() == [Decimal("1.5"), None]
    assert table.column(3).to_pylist() == [ts, None]
    assert table.column(4).to_pylist() == [pa.MonthDayNano([1, 2, 3]), None]


async def test_values_without_rows_yields_nothing() -> None:
    assert await rows_of(values([], (INTEGER,)), make_ctx()) == []


def _ipc(batches: list[pa.RecordBatch], schema: pa.Schema) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, schema) as writer:
        for b in batches:
            writer.write_batch(b)
    return sink.getvalue().to_pybytes()


async def test_arrow_ipc_is_decoded_renamed_and_typed() -> None:
    schema = pa.schema([("oid", pa.int64()), ("relname", pa.large_string())])
    batch = pa.record_batch([pa.array([1, 2]), pa.array(["t", "v"], pa.large_string())], schema=schema)
    node = BatchArrow(_ipc([batch, batch], schema), (BIGINT, VARCHAR))
    assert await rows_of(node, make_ctx()) == [(1, "t"), (2, "v"), (1, "t"), (2, "v")]


async def test_arrow_ipc_with_wrong_width_is_an_internal_error() -> None:
    schema = pa.schema([("a", pa.int64())])
    node = BatchArrow(_ipc([], schema), (BIGINT, VARCHAR))
    with pytest.raises(InternalError):
        await rows_of(node, make_ctx())


async def test_cancelled_before_start_raises_query_canceled() -> None:
    reader = MemoryReader()
    reader.add(DESC, ROWS)
    flag = asyncio.Event()
    flag.set()
    with pytest.raises(QueryCanceled, match="canceling statement due to user request") as info:
        await rows_of(scan(DESC), make_ctx(reader, cancelled=flag))
    assert info.value.sqlstate == "57014"


async def test_cancel_between_batches_stops_reading() -> None:
    reader = MemoryReader()
    reader.add(DESC, ROWS * 10, batch_rows=1)
    seen = 0

    def cancelled() -> bool:
        return seen >= 2

    ctx = BatchContext(1, reader, None, make_ctx().eval_ctx, cancelled)
    with pytest.raises(QueryCanceled):
        async for _ in execute(scan(DESC), ctx):
            seen += 1
    assert seen == 2
    assert reader.pulled == 3


async def test_cancel_during_a_blocking_operator_input() -> None:
    reader = MemoryReader()
    reader.add(DESC, ROWS * 10, batch_rows=1)
    def cancelled() -> bool:
        return reader.pulled >= 5

    ctx = BatchContext(1, reader, None, make_ctx().eval_ctx, cancelled)
    with pytest.raises(QueryCanceled):
        await rows_of(BatchSort(scan(DESC), (SortKey(0),), DESC.types), ctx)
    assert reader.pulled == 5


async def test_edges_conform_batches_to_the_plan_types() -> None:
    reader = MemoryReader()
    # A reader handing back a wider integer type than the catalog's still yields the plan's types.
    reader.tables[DESC.table_id] = batches_of(ROWS, (BIGINT, VARCHAR, BIGINT), 2)
    table = await collect(BatchLimit(scan(DESC), None, 0, DESC.types), make_ctx(reader))
    assert table.schema.types == [pa.int32(), pa.string(), pa.int64()]


async def test_values_with_expressions_and_casts() -> None:
    rows = ((fn("add", lit(1, INTEGER), lit(2, INTEGER)), Cast(lit("12", VARCHAR), BIGINT)),
            (lit(None, INTEGER), lit(5, BIGINT)))
    node = BatchValues(rows, (INTEGER, BIGINT))
    assert await rows_of(node, make_ctx()) == [(3, 12), (None, 5)]


async def test_values_evaluation_error_propagates() -> None:
    rows = ((fn("divide", lit(1, INTEGER), lit(0, INTEGER)),),)
    with pytest.raises(DivisionByZero):
        await rows_of(BatchValues(rows, (INTEGER,)), make_ctx())
