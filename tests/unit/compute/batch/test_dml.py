"""BatchDml: one chunk per statement with the right ops and values, the count row, and all-or-nothing."""

from __future__ import annotations

import pyarrow as pa
import pytest

from common.batch_plan import BatchDml, BatchHashJoin, BatchProject, DmlKind, JoinType
from common.chunk import Op
from common.errors import DivisionByZero, InternalError, InvalidTextRepresentation
from common.types import BIGINT, INTEGER, VARCHAR
from tests.unit.compute.batch.batch_support import (
    MemoryReader,
    RecordingSink,
    col,
    collect,
    fn,
    lit,
    make_ctx,
    rows_of,
    scan,
    table_desc,
    values,
)

TABLE = table_desc(5, (INTEGER, VARCHAR))
ROW_ID_TABLE = table_desc(6, (INTEGER, VARCHAR), row_id=True)


async def _run(kind: DmlKind, table_rows: list[tuple], node_input, table=TABLE) -> tuple[list, RecordingSink]:
    reader = MemoryReader()
    reader.add(table, table_rows, batch_rows=2)
    sink = RecordingSink()
    out = await rows_of(BatchDml(kind, table.table_id, table, node_input, (BIGINT,)), make_ctx(reader, sink))
    return out, sink


async def test_insert_writes_one_chunk_and_returns_the_count() -> None:
    out, sink = await _run(DmlKind.INSERT, [], values([(1, "a"), (2, None), (3, "c")], (INTEGER, VARCHAR)))
    assert out == [(3,)]
    [(table_id, chunk)] = sink.writes
    assert table_id == TABLE.table_id
    assert chunk.op_list() == [Op.INSERT] * 3
    assert chunk.rows() == [(1, "a"), (2, None), (3, "c")]


async def test_insert_fills_the_hidden_row_id_with_null() -> None:
    _, sink = await _run(DmlKind.INSERT, [], values([(1, "a"), (2, "b")], (INTEGER, VARCHAR)), ROW_ID_TABLE)
    [(_, chunk)] = sink.writes
    assert chunk.num_columns == 3
    assert chunk.rows() == [(1, "a", None), (2, "b", None)]
    assert chunk.data.schema.types == [t.arrow for t in ROW_ID_TABLE.types]


async def test_delete_sends_whole_rows_as_deletes() -> None:
    rows = [(1, "a"), (2, "b"), (3, "c")]
    out, sink = await _run(DmlKind.DELETE, rows, scan(TABLE))
    assert out == [(3,)]
    [(_, chunk)] = sink.writes
    assert chunk.op_list() == [Op.DELETE] * 3
    assert chunk.rows() == rows


async def test_update_emits_adjacent_pairs() -> None:
    rows = [(1, "a"), (2, "b"), (3, "c")]
    # Old row then new row: a self-join of the table on its key stands in for the planner's projection.
    node_input = BatchHashJoin(scan(TABLE), scan(TABLE), JoinType.INNER, (0,), (0,), None, (0, 1, 0, 3),
                               (INTEGER, VARCHAR, INTEGER, VARCHAR))
    out, sink = await _run(DmlKind.UPDATE, rows, node_input)
    assert out == [(3,)]
    [(_, chunk)] = sink.writes
    assert chunk.op_list() == [Op.UPDATE_DELETE, Op.UPDATE_INSERT] * 3
    assert chunk.rows() == [r for row in rows for r in (row, row)]
    assert chunk.fix_update_pairs().op_list() == chunk.op_list()


async def test_statement_without_rows_writes_nothing() -> None:
    out, sink = await _run(DmlKind.DELETE, [], scan(TABLE))
    assert out == [(0,)]
    assert sink.writes == []


async def test_wrong_input_width_is_an_internal_error_and_writes_nothing() -> None:
    with pytest.raises(InternalError):
        await _run(DmlKind.DELETE, [(1, "a")], values([(1,)], (INTEGER,)))


async def test_dml_without_a_sink_is_an_internal_error() -> None:
    node = BatchDml(DmlKind.INSERT, TABLE.table_id, TABLE, values([(1, "a")], (INTEGER, VARCHAR)), (BIGINT,))
    with pytest.raises(InternalError):
        await collect(node, make_ctx())


async def test_insert_casts_input_to_the_column_types() -> None:
    node_input = values([(7, "12")], (BIGINT, VARCHAR))
    wide = table_desc(8, (INTEGER, INTEGER))
    out, sink = await _run(DmlKind.INSERT, [], node_input, wide)
    assert out == [(1,)]
    [(_, chunk)] = sink.writes
    assert chunk.data.schema.types == [pa.int32(), pa.int32()]
    assert chunk.rows() == [(7, 12)]


async def test_a_failing_cast_writes_nothing() -> None:
    node_input = values([(1, "12"), (2, "twelve")], (INTEGER, VARCHAR))
    reader = MemoryReader()
    sink = RecordingSink()
    wide = table_desc(8, (INTEGER, INTEGER))
    with pytest.raises(InvalidTextRepresentation):
        await rows_of(BatchDml(DmlKind.INSERT, 8, wide, node_input, (BIGINT,)), make_ctx(reader, sink))
    assert sink.writes == []


async def test_a_failing_expression_in_a_later_batch_writes_nothing() -> None:
    rows = [(i, "x") for i in range(10)]
    # 1 / (col0 - 7) fails only on the 8th row, in the fourth input batch.
    divisor = fn("subtract", col(0, INTEGER), lit(7, INTEGER))
    project = BatchProject(scan(TABLE), (fn("divide", lit(1, INTEGER), divisor), col(1, VARCHAR)),
                           (INTEGER, VARCHAR))
    reader = MemoryReader()
    reader.add(TABLE, rows, batch_rows=2)
    sink = RecordingSink()
    with pytest.raises(DivisionByZero):
        await rows_of(BatchDml(DmlKind.INSERT, TABLE.table_id, TABLE, project, (BIGINT,)), make_ctx(reader, sink))
    assert sink.writes == []
