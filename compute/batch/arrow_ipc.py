"""Inline Arrow data: rows shipped in the plan as Arrow IPC stream bytes (system catalogs, COPY data).

Streams the decoded record batches, renamed to `c0..cn` and cast to the
node's types.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pyarrow as pa

from common.batch_plan import BatchArrow
from common.errors import InternalError
from compute.batch.arrays import cast_array, output_batch
from compute.batch.context import BatchContext


async def execute_arrow(node: BatchArrow, ctx: BatchContext) -> AsyncIterator[pa.RecordBatch]:
    if not node.ipc:
        return
    reader = pa.ipc.open_stream(pa.BufferReader(node.ipc))
    if len(reader.schema) != len(node.types):
        raise InternalError(f"arrow data has {len(reader.schema)} columns, plan expects {len(node.types)}")
    for batch in reader:
        if batch.num_rows:
            columns = [cast_array(c, t.arrow) for c, t in zip(batch.columns, node.types)]
            yield output_batch(columns, batch.num_rows)
