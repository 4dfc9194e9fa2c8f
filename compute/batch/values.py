"""VALUES: constant rows given in the plan, each cell an expression without inputs.

A column whose cells are all literals of the column's type becomes one
Arrow array directly (the common case: INSERT ... VALUES with many rows);
other cells are evaluated one by one over a one-row batch.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pyarrow as pa

from common.batch_plan import BatchValues
from common.expr import Expr, Literal
from common.types import DataType
from compute.batch.arrays import cast_array, empty_width_batch, output_batch, slices
from compute.batch.context import BatchContext
from compute.expr import EvalContext, evaluate


def values_batch(node: BatchValues, eval_ctx: EvalContext) -> pa.RecordBatch:
    """All of the node's rows as one batch."""
    columns = [_column([row[c] for row in node.rows], t, eval_ctx) for c, t in enumerate(node.types)]
    return output_batch(columns, len(node.rows))


def _column(cells: list[Expr], type_: DataType, eval_ctx: EvalContext) -> pa.Array:
    literals = [e for e in cells if isinstance(e, Literal) and e.type == type_]
    if len(literals) == len(cells):
        try:
            return pa.array([e.value for e in literals], type_.arrow)
        except (pa.ArrowInvalid, ArithmeticError):
            pass  # a value that does not fit: evaluating it cell by cell says which, with the right error
    one_row = empty_width_batch(1)
    parts = [cast_array(evaluate(e, one_row, eval_ctx), type_.arrow) for e in cells]
    return pa.concat_arrays(parts) if parts else pa.array([], type_.arrow)


async def execute_values(node: BatchValues, ctx: BatchContext) -> AsyncIterator[pa.RecordBatch]:
    for part in slices(values_batch(node, ctx.eval_ctx)):
        yield part
