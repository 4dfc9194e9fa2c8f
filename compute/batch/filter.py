"""WHERE: keeps the rows for which the predicate is true (NULL counts as false).

Streams; holds no rows. Batches that keep no row are dropped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pyarrow as pa

from common.batch_plan import BatchFilter
from compute.batch.arrays import closing
from compute.batch.context import BatchContext
from compute.expr import evaluate_predicate


async def execute_filter(node: BatchFilter, input: AsyncIterator[pa.RecordBatch],
                         ctx: BatchContext) -> AsyncIterator[pa.RecordBatch]:
    async with closing(input) as it:
        async for batch in it:
            kept = batch.filter(evaluate_predicate(node.predicate, batch, ctx.eval_ctx))
            if kept.num_rows:
                yield kept
