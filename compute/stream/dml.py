"""DML source: a table's INSERT/UPDATE/DELETE statements enter its dataflow here.

Each statement arrives as one transaction (a chunk) in the actor's source
queue, in one order with the barriers, so a statement always falls wholly
inside one epoch. For a table without a primary key, this executor fills
the hidden row-id column with fresh unique ids.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from common.chunk import Op, StreamChunk
from common.message import Barrier, Message, PauseMutation, ResumeMutation
from common.stream_plan import DmlNode
from compute.stream.local_barrier_manager import SourceQueue

_ROW_ID_EPOCH_MS = 1_609_459_200_000  # 2021-01-01
_SEQ_BITS = 12
_SLOT_BITS = 10


@dataclass
class DmlTxn:
    chunk: StreamChunk
    accepted: asyncio.Future[None]


class RowIdGenerator:
    """Unique 63-bit row ids: milliseconds since 2021 | actor slot | sequence.

    The (milliseconds, sequence) pair is one counter that never goes back,
    so ids stay unique even when a chunk needs more than 4096 ids in a
    millisecond; after a restart the clock has moved on.
    """

    def __init__(self, slot: int) -> None:
        self.slot = slot % (1 << _SLOT_BITS)
        self._last = 0

    def next_ids(self, n: int) -> np.ndarray:
        now = (int(time.time() * 1000) - _ROW_ID_EPOCH_MS) << _SEQ_BITS
        start = max(now, self._last + 1)
        self._last = start + n - 1
        ctr = np.arange(start, start + n, dtype=np.int64)
        return ((ctr >> _SEQ_BITS) << (_SEQ_BITS + _SLOT_BITS)) | (self.slot << _SEQ_BITS) | (ctr & ((1 << _SEQ_BITS) - 1))


def fill_row_ids(chunk: StreamChunk, row_id_index: int, gen: RowIdGenerator) -> StreamChunk:
    """Give inserted rows a fresh row id; deletes and updates keep the id they carry."""
    col = chunk.column(row_id_index)
    ops = chunk.ops_numpy()
    needs = (ops == Op.INSERT) & ~pc.is_valid(col).to_numpy(zero_copy_only=False)
    if not needs.any():
        return chunk
    ids = col.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False).copy()
    ids[needs] = gen.next_ids(int(needs.sum()))
    arrays = chunk.columns
    arrays[row_id_index] = pa.array(ids, pa.int64())
    return chunk.with_columns(arrays)


class DmlExecutor:
    def __init__(self, node: DmlNode, source: SourceQueue, actor_id: int) -> None:
        self.types = node.types
        self.node = node
        self.source = source
        self._row_ids = RowIdGenerator(actor_id) if node.row_id_index is not None else None

    async def execute(self) -> AsyncIterator[Message]:
        """Barriers pass at once; transactions wait while the source is paused (rescaling)."""
        paused = False
        held: list[DmlTxn] = []
        while True:
            item = await self.source.get()
            if isinstance(item, Barrier):
                if isinstance(item.mutation, PauseMutation):
                    paused = True
                elif isinstance(item.mutation, ResumeMutation):
                    paused = False
                yield item
                if not paused:
                    for txn in held:
                        async for chunk in self._emit(txn):
                            yield chunk
                    held.clear()
                continue
            assert isinstance(item, DmlTxn)
            if paused:
                held.append(item)
                continue
            async for chunk in self._emit(item):
                yield chunk

    async def _emit(self, item: DmlTxn) -> AsyncIterator[StreamChunk]:
        chunk = item.chunk
        try:
            if self._row_ids is not None and self.node.row_id_index is not None:
                chunk = fill_row_ids(chunk, self.node.row_id_index, self._row_ids)
            for part in chunk.split(4096):
                yield part
        finally:
            await self.source.release(item.chunk.num_rows)
        if not item.accepted.done():
            item.accepted.set_result(None)
