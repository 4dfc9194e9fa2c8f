"""GROUP BY: one output row per distinct group key, the key columns then one column per aggregate.

Materializes its input, labels every row with a dense group id (NULL keys
form one group, as in PostgreSQL; see `compute.batch.keys`), then computes
each aggregate for all groups at once (`compute.batch.aggregate`). Without
a group key there is exactly one group, even over no rows: count(*) is 0
and the other aggregates are NULL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pyarrow as pa

from common.batch_plan import BatchHashAgg
from compute.batch.aggregate import ORDERED_KINDS, aggregate, ordered_aggregate
from compute.batch.arrays import cast_array, materialize, offload, output_batch, slices
from compute.batch.context import BatchContext
from compute.batch.keys import group_codes


def hash_agg(node: BatchHashAgg, batch: pa.RecordBatch) -> pa.RecordBatch:
    """Aggregate a whole input batch."""
    keys = [batch.column(i) for i in node.group_key]
    groups = group_codes(keys, batch.num_rows)
    num_groups = groups.num_groups if node.group_key else 1
    first = pa.array(groups.first, pa.int64())
    out = [k.take(first) for k in keys]
    for call in node.aggs:
        if call.kind in ORDERED_KINDS:
            out.append(ordered_aggregate(call, batch, groups.codes, num_groups))
            continue
        column = batch.column(call.args[0]) if call.args else None
        out.append(aggregate(call, column, groups.codes, num_groups))
    return output_batch([cast_array(a, t.arrow) for a, t in zip(out, node.types)], num_groups)


async def execute_hash_agg(node: BatchHashAgg, input: AsyncIterator[pa.RecordBatch],
                           ctx: BatchContext) -> AsyncIterator[pa.RecordBatch]:
    batch = await materialize(input, node.input.types)
    result = await offload(batch.num_rows, hash_agg, node, batch)
    for part in slices(result):
        yield part
