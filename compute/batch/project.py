"""Projection: one output column per expression, evaluated a whole batch at a time.

Streams; holds no rows. pg_sleep(seconds) in a select list really waits:
before evaluating a batch the projection awaits the sum of the batch's
sleep durations, in short steps that let a CancelRequest interrupt it
(the event loop keeps serving other sessions meanwhile).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pyarrow as pa
import pyarrow.compute as pc

from common.batch_plan import BatchProject
from common.expr import Case, Cast, Expr, FuncCall
from compute.batch.arrays import cast_array, closing, output_batch
from compute.batch.context import BatchContext
from compute.expr import EvalContext, evaluate

# How often a sleeping query checks whether it was cancelled.
_SLEEP_STEP_S = 0.05


def project_batch(node: BatchProject, batch: pa.RecordBatch, eval_ctx: EvalContext) -> pa.RecordBatch:
    columns = [cast_array(evaluate(e, batch, eval_ctx), t.arrow) for e, t in zip(node.exprs, node.types)]
    return output_batch(columns, batch.num_rows)


def _sleeps(e: Expr) -> list[Expr]:
    """The argument of every pg_sleep call in `e`."""
    if isinstance(e, FuncCall):
        inner = [x for a in e.args for x in _sleeps(a)]
        return [e.args[0], *inner] if e.func == "pg_sleep" else inner
    if isinstance(e, Cast):
        return _sleeps(e.arg)
    if isinstance(e, Case):
        parts = [p for b in e.branches for p in b] + ([e.default] if e.default is not None else [])
        return [x for p in parts for x in _sleeps(p)]
    return []


async def sleep_for(seconds: float, ctx: BatchContext) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (left := deadline - loop.time()) > 0:
        ctx.check_cancelled()
        await asyncio.sleep(min(left, _SLEEP_STEP_S))
    ctx.check_cancelled()


async def execute_project(node: BatchProject, input: AsyncIterator[pa.RecordBatch],
                          ctx: BatchContext) -> AsyncIterator[pa.RecordBatch]:
    sleeps = [s for e in node.exprs for s in _sleeps(e)]
    async with closing(input) as it:
        async for batch in it:
            if sleeps:
                total = sum(pc.sum(pc.max_element_wise(evaluate(s, batch, ctx.eval_ctx).cast(pa.float64()),
                                                       0.0)).as_py() or 0.0 for s in sleeps)
                await sleep_for(total, ctx)
            yield project_batch(node, batch, ctx.eval_ctx)
