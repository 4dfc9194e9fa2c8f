"""Arrow helpers shared by the batch executors: batches named c0..cn, materialization, casts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.compute as pc

from common.chunk import column_names
from common.errors import NumericValueOutOfRange
from common.types import DataType

T = TypeVar("T")

# Rows per output batch of the operators that materialize (sort, join, agg):
# large enough to amortize per-batch overhead, small enough to stream.
BATCH_ROWS = 8192

_INTEGER_NAMES = {pa.int16(): "smallint", pa.int32(): "integer", pa.int64(): "bigint"}


def output_batch(arrays: Sequence[pa.Array], num_rows: int | None = None) -> pa.RecordBatch:
    """A batch of positional columns `c0..cn`; `num_rows` is needed only when there are no columns."""
    if not arrays:
        return empty_width_batch(num_rows or 0)
    return pa.RecordBatch.from_arrays(list(arrays), column_names(len(arrays)))


def empty_width_batch(num_rows: int) -> pa.RecordBatch:
    """A batch with `num_rows` rows and no columns (what constant expressions are evaluated over)."""
    return pa.RecordBatch.from_struct_array(pa.nulls(num_rows, pa.struct([])).fill_null({}))


def empty_batch(types: Sequence[DataType]) -> pa.RecordBatch:
    return output_batch([pa.array([], t.arrow) for t in types])


@asynccontextmanager
async def closing(stream: AsyncIterator[T]) -> AsyncIterator[AsyncIterator[T]]:
    """Close `stream` on exit, so an operator that stops early stops its inputs too."""
    try:
        yield stream
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()


async def materialize(stream: AsyncIterator[pa.RecordBatch], types: Sequence[DataType]) -> pa.RecordBatch:
    """Read a whole input into one batch (operators that need all of their input do this)."""
    batches: list[pa.RecordBatch] = []
    async with closing(stream) as it:
        async for batch in it:
            if batch.num_rows:
                batches.append(batch)
    if not batches:
        return empty_batch(types)
    if len(batches) == 1:
        return batches[0]
    return pa.concat_batches(batches)


def slices(batch: pa.RecordBatch, rows: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    """Cut `batch` into zero-copy slices of at most `rows` rows; nothing for an empty batch."""
    for start in range(0, batch.num_rows, rows):
        yield batch.slice(start, rows)


def cast_array(arr: pa.Array, target: pa.DataType) -> pa.Array:
    """Cast between Arrow types of the same SQL value, rounding decimals half away from zero.

    This is for internal widening and rescaling (aggregate results to their
    declared type); SQL casts with PostgreSQL's semantics go through
    `compute.expr` (a `Cast` expression).
    """
    if arr.type == target:
        return arr
    if pa.types.is_decimal(arr.type) and pa.types.is_decimal(target) and target.scale < arr.type.scale:
        arr = pc.round(arr, target.scale, round_mode="half_towards_infinity")
    try:
        return arr.cast(target)
    except pa.ArrowInvalid as e:
        name = _INTEGER_NAMES.get(target)
        raise NumericValueOutOfRange(f"{name} out of range" if name else "numeric field overflow") from e


def to_array(col: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous array, whatever Arrow handed back."""
    if isinstance(col, pa.ChunkedArray):
        return col.combine_chunks()
    return col


# Below this many rows the thread hop costs more than the event-loop time it saves.
_OFFLOAD_ROWS = 50_000


async def offload(rows: int, fn: Callable[..., T], *args: Any) -> T:
    """Run a CPU-heavy vectorized step off the event loop when its input is large.

    Arrow and numpy kernels release the GIL, so other sessions keep being
    served while a big sort, join or aggregation runs.
    """
    if rows < _OFFLOAD_ROWS:
        return fn(*args)
    return await asyncio.to_thread(fn, *args)
