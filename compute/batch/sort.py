"""ORDER BY: a stable sort of the whole input on `SortKey`s.

Materializes its input (it cannot emit a row before it has seen them all),
then emits the sorted rows in slices. Each key carries its own direction and
NULL placement, filled in by the planner with PostgreSQL's defaults (NULLS
LAST ascending, NULLS FIRST descending). Strings sort bytewise (C
collation, as RisingWave), NaN sorts above every other float, and intervals
sort by span.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from common.batch_plan import BatchSort, SortKey
from compute.batch import interval
from compute.batch.arrays import materialize, offload, slices
from compute.batch.context import BatchContext


def sort_indices(batch: pa.RecordBatch, keys: Sequence[SortKey]) -> pa.Array:
    """The row order that sorts `batch` by `keys`, ties kept in input order."""
    columns: dict[str, pa.Array] = {}
    sort_keys: list[tuple[str, str, str]] = []
    for n, key in enumerate(keys):
        col = batch.column(key.index)
        order = "descending" if key.descending else "ascending"
        nulls = "at_start" if key.nulls_first else "at_end"
        if pa.types.is_floating(col.type):
            # Arrow places NaN next to the NULLs; PostgreSQL orders it above every number.
            columns[f"nan{n}"] = pc.is_nan(col)
            sort_keys.append((f"nan{n}", order, nulls))
        elif col.type == interval.INTERVAL_TYPE:
            col = interval.span_key(col)
        columns[f"k{n}"] = col
        sort_keys.append((f"k{n}", order, nulls))
    if not sort_keys:
        return pa.array(range(batch.num_rows), pa.int64())
    return pc.sort_indices(pa.table(columns), sort_keys=sort_keys)


def sort_batch(batch: pa.RecordBatch, keys: Sequence[SortKey]) -> pa.RecordBatch:
    return batch.take(sort_indices(batch, keys))


async def execute_sort(node: BatchSort, input: AsyncIterator[pa.RecordBatch],
                       ctx: BatchContext) -> AsyncIterator[pa.RecordBatch]:
    batch = await materialize(input, node.input.types)
    result = await offload(batch.num_rows, sort_batch, batch, node.keys)
    for part in slices(result):
        yield part
