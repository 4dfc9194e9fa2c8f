"""INSERT, UPDATE and DELETE: turn a statement's rows into one chunk for the table's DML actor.

Reads its whole input before writing anything, so a statement whose input
fails (a bad cast, a division by zero) changes nothing; then hands the
statement's changes to the DML actor as ONE chunk, one transaction, and
outputs a single BIGINT row: how many rows the statement affected.

INSERT input is the table's visible columns in order; hidden columns (the
`_row_id` a table without a primary key has) are sent as NULL for the DML
actor to fill. DELETE input is whole table rows. UPDATE input is each whole
old row followed by its whole new row, emitted as an adjacent
UPDATE_DELETE / UPDATE_INSERT pair.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import numpy as np
import pyarrow as pa

from common.batch_plan import BatchDml, DmlKind
from common.catalog import TableDesc
from common.chunk import Op, StreamChunk
from common.errors import InternalError
from common.expr import Cast, InputRef
from common.types import DataType, from_arrow
from compute.batch.arrays import materialize, output_batch
from compute.batch.context import BatchContext
from compute.expr import EvalContext, evaluate


def dml_chunk(kind: DmlKind, table: TableDesc, rows: pa.RecordBatch, eval_ctx: EvalContext) -> StreamChunk:
    """The chunk that applies statement `kind` with input `rows` to `table`."""
    n = rows.num_rows
    width = len(table.columns)
    inputs = list(rows.columns)
    if kind is DmlKind.INSERT:
        visible = [i for i, c in enumerate(table.columns) if not c.hidden]
        _check_width(len(inputs), len(visible), kind)
        by_position = dict(zip(visible, inputs))
        columns = [by_position[i] if i in by_position else pa.nulls(n, c.type.arrow)
                   for i, c in enumerate(table.columns)]
        return StreamChunk.from_arrays(np.full(n, Op.INSERT, np.int8), _conform(columns, table.types, eval_ctx))
    if kind is DmlKind.DELETE:
        _check_width(len(inputs), width, kind)
        return StreamChunk.from_arrays(np.full(n, Op.DELETE, np.int8), _conform(inputs, table.types, eval_ctx))
    _check_width(len(inputs), 2 * width, kind)
    old = _conform(inputs[:width], table.types, eval_ctx)
    new = _conform(inputs[width:], table.types, eval_ctx)
    # Row i's old image goes to 2i and its new image to 2i+1, keeping each pair adjacent.
    interleave = np.empty(2 * n, np.int64)
    interleave[0::2] = np.arange(n)
    interleave[1::2] = np.arange(n) + n
    take = pa.array(interleave, pa.int64())
    columns = [pa.concat_arrays([o, w]).take(take) for o, w in zip(old, new)]
    ops = np.tile(np.array([Op.UPDATE_DELETE, Op.UPDATE_INSERT], np.int8), n)
    return StreamChunk.from_arrays(ops, columns)


def _check_width(got: int, expected: int, kind: DmlKind) -> None:
    if got != expected:
        raise InternalError(f"{kind.value} input has {got} columns, expected {expected}")


def _conform(columns: Sequence[pa.Array], types: Sequence[DataType], eval_ctx: EvalContext) -> list[pa.Array]:
    """Cast columns whose type differs from the table's with SQL cast semantics."""
    out = []
    for col, t in zip(columns, types):
        if pa.types.is_null(col.type):
            col = pa.nulls(len(col), t.arrow)
        elif col.type != t.arrow:
            one = output_batch([col])
            col = evaluate(Cast(InputRef(0, from_arrow(col.type)), t), one, eval_ctx)
        out.append(col)
    return out


async def execute_dml(node: BatchDml, input: AsyncIterator[pa.RecordBatch],
                      ctx: BatchContext) -> AsyncIterator[pa.RecordBatch]:
    if ctx.dml is None:
        raise InternalError("no dml sink to write to")
    rows = await materialize(input, node.input.types)
    chunk = dml_chunk(node.kind, node.table, rows, ctx.eval_ctx)
    ctx.check_cancelled()
    if chunk.num_rows:
        await ctx.dml.write(node.table_id, chunk)
    yield output_batch([pa.array([rows.num_rows], pa.int64())])
