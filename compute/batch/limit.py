"""LIMIT / OFFSET: skips `offset` rows, passes at most `limit`, then stops reading its input.

Streams: it holds no rows. Once the limit is reached it closes its input
instead of pulling another batch, so a LIMIT over a scan reads only the
batches it returns.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pyarrow as pa

from common.batch_plan import BatchLimit
from compute.batch.arrays import closing
from compute.batch.context import BatchContext


async def execute_limit(node: BatchLimit, input: AsyncIterator[pa.RecordBatch],
                        ctx: BatchContext) -> AsyncIterator[pa.RecordBatch]:
    remaining = node.limit
    skip = node.offset
    async with closing(input) as it:
        if remaining == 0:
            return
        async for batch in it:
            if skip >= batch.num_rows:
                skip -= batch.num_rows
                continue
            batch = batch.slice(skip)
            skip = 0
            if remaining is not None:
                batch = batch.slice(0, remaining)
                remaining -= batch.num_rows
            if batch.num_rows:
                yield batch
            if remaining == 0:
                return
