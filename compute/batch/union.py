"""UNION ALL, and WITH RECURSIVE's iteration over a work table.

UNION ALL streams each input in turn. A recursive union emits its
anchor's rows, then runs the recursive term over the rows the previous
round added (the work table, kept in the context under its id) until a
round adds none. With UNION (distinct) a round keeps only rows not seen
before, so a cycle in the data ends the iteration as in PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np
import pyarrow as pa

from common.batch_plan import BatchRecursiveUnion, BatchUnion, BatchWorkTable
from common.errors import ProgramLimitExceeded
from compute.batch.arrays import closing, materialize, output_batch
from compute.batch.context import BatchContext
from compute.batch.keys import group_codes

# A recursion that is still adding rows after this many rounds is taken to be unbounded.
MAX_ROUNDS = 100_000


async def execute_union(node: BatchUnion, ctx: BatchContext) -> AsyncIterator[pa.RecordBatch]:
    from compute.batch.executor import execute

    for child in node.inputs:
        async with closing(execute(child, ctx)) as it:
            async for batch in it:
                if batch.num_rows:
                    yield output_batch(batch.columns, batch.num_rows)


async def execute_work_table(node: BatchWorkTable, ctx: BatchContext) -> AsyncIterator[pa.RecordBatch]:
    batch = ctx.work_tables.get(node.work_table)
    if batch is not None and batch.num_rows:
        yield batch


def _unseen(batch: pa.RecordBatch, seen: pa.RecordBatch | None) -> pa.RecordBatch:
    """The rows of `batch` that neither `seen` nor an earlier row of `batch` holds."""
    if not batch.num_rows:
        return batch
    base = 0 if seen is None else seen.num_rows
    both = batch if seen is None else pa.concat_batches([seen, batch])
    codes = group_codes(list(both.columns), both.num_rows).codes
    first = np.zeros(len(codes), bool)
    _, first_rows = np.unique(codes, return_index=True)
    first[first_rows] = True
    keep = first[base:]
    return batch.filter(pa.array(keep))


async def execute_recursive_union(node: BatchRecursiveUnion, ctx: BatchContext) -> AsyncIterator[pa.RecordBatch]:
    from compute.batch.executor import execute

    round_rows = await materialize(execute(node.anchor, ctx), node.types)
    seen: pa.RecordBatch | None = None
    for _ in range(MAX_ROUNDS):
        if node.distinct:
            round_rows = _unseen(round_rows, seen)
            seen = round_rows if seen is None else pa.concat_batches([seen, round_rows])
        if not round_rows.num_rows:
            return
        yield output_batch(round_rows.columns, round_rows.num_rows)
        ctx.work_tables[node.work_table] = round_rows
        try:
            round_rows = await materialize(execute(node.recursive, ctx), node.types)
        finally:
            ctx.work_tables.pop(node.work_table, None)
        if not round_rows.num_rows:
            return
        round_rows = output_batch(round_rows.columns, round_rows.num_rows)
    raise ProgramLimitExceeded(f"recursive query did not finish within {MAX_ROUNDS} rounds")
