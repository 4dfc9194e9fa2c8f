"""Table scan: the rows of a table or view at the query's snapshot epoch, some of its columns.

Streams the reader's batches through, keeping columns `node.columns`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pyarrow as pa

from common.batch_plan import BatchScan
from compute.batch.arrays import closing, output_batch
from compute.batch.context import BatchContext


async def execute_scan(node: BatchScan, ctx: BatchContext) -> AsyncIterator[pa.RecordBatch]:
    async with closing(ctx.reader.scan(node.table, ctx.epoch)) as it:
        async for batch in it:
            if batch.num_rows:
                yield output_batch([batch.column(i) for i in node.columns], batch.num_rows)
