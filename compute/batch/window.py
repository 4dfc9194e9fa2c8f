"""Ranking window functions: row_number(), rank() and dense_rank() over PARTITION BY ... ORDER BY ....

Materializes its input, sorts the row numbers once by partition then
order keys (stable, so ties keep input order), and computes each
function from where partitions and runs of equal order keys start in
that order. Output is the input rows in their original order with one
column per call appended.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np
import pyarrow as pa

from common.batch_plan import BatchWindow, SortKey, WindowCall, WindowKind
from compute.batch.arrays import materialize, output_batch, slices
from compute.batch.context import BatchContext
from compute.batch.keys import group_codes
from compute.batch.sort import sort_indices


def _starts(codes: np.ndarray) -> np.ndarray:
    """Whether each position begins a new run of equal codes."""
    out = np.ones(len(codes), bool)
    out[1:] = codes[1:] != codes[:-1]
    return out


def window_column(batch: pa.RecordBatch, call: WindowCall) -> pa.Array:
    n = batch.num_rows
    keys = [SortKey(i) for i in call.partition_by] + list(call.order_by)
    order = sort_indices(batch, keys).to_numpy() if keys else np.arange(n)
    ordered = batch.take(pa.array(order, pa.int64()))
    partition = group_codes([ordered.column(i) for i in call.partition_by], n).codes
    new_partition = _starts(partition)
    position = np.arange(n)
    partition_start = np.maximum.accumulate(np.where(new_partition, position, 0))
    if call.kind is WindowKind.ROW_NUMBER:
        ranks = position - partition_start + 1
    else:
        peers = group_codes([ordered.column(i) for i in call.partition_by]
                            + [ordered.column(k.index) for k in call.order_by], n).codes
        new_peer = _starts(peers) | new_partition
        if call.kind is WindowKind.RANK:
            ranks = np.maximum.accumulate(np.where(new_peer, position, 0)) - partition_start + 1
        else:
            run = np.cumsum(new_peer)
            ranks = run - run[partition_start] + 1
    out = np.empty(n, np.int64)
    out[order] = ranks
    return pa.array(out, pa.int64()).cast(call.type.arrow)


async def execute_window(node: BatchWindow, input: AsyncIterator[pa.RecordBatch],
                         ctx: BatchContext) -> AsyncIterator[pa.RecordBatch]:
    batch = await materialize(input, node.input.types)
    columns = [*batch.columns, *(window_column(batch, c) for c in node.calls)]
    for part in slices(output_batch(columns, batch.num_rows)):
        yield part
