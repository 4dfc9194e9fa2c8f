"""Projection: one output column per expression, evaluated a whole batch at a time.

Streams; holds no rows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pyarrow as pa

from common.plan import BatchProject
from compute.batch.arrays import cast_array, closing, output_batch
from compute.batch.context import BatchContext
from compute.expr import EvalContext, evaluate


def project_batch(node: BatchProject, batch: pa.RecordBatch, eval_ctx: EvalContext) -> pa.RecordBatch:
    columns = [cast_array(evaluate(e, batch, eval_ctx), t.arrow) for e, t in zip(node.exprs, node.types)]
    return output_batch(columns, batch.num_rows)


async def execute_project(node: BatchProject, input: AsyncIterator[pa.RecordBatch],
                          ctx: BatchContext) -> AsyncIterator[pa.RecordBatch]:
    async with closing(input) as it:
        async for batch in it:
            yield project_batch(node, batch, ctx.eval_ctx)
