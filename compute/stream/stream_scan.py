"""Stream scan: a new view reads an existing table or view, first its rows, then its changes.

The upstream's changes arrive through a NO_SHUFFLE merge from the upstream
actor owning the same vnodes. The first barrier (the one that creates the
view, epoch P -> C) is forwarded first; with `backfill`, the actor then
emits the upstream's rows as of epoch P (the upstream flushed them before
passing that barrier on), and only then the changes that follow it. So the
view sees every row exactly once: as of P from the snapshot, after P from
the stream. The snapshot is read in vnode order, a few vnodes at a time;
progress (vnodes done of vnodes owned) is reported for SHOW JOBS.
State: none of its own (a recovered, created view never backfills again).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pyarrow as pa

from common.chunk import StreamChunk
from common.message import Barrier, Message
from common.plan import StreamScanNode
from compute.stream.executor import ActorContext, Executor
from storage.state_table import StateTable

SNAPSHOT_CHUNK_ROWS = 4096
SNAPSHOT_VNODES_PER_SCAN = 8  # a backfill holds about 1/32 of its upstream's rows in memory at a time


class StreamScanExecutor:
    def __init__(self, input: Executor, node: StreamScanNode, actor: ActorContext) -> None:
        self.input = input
        self.node = node
        self.types = node.types
        self._actor = actor

    async def execute(self) -> AsyncIterator[Message]:
        upstream = self.input.execute()
        first = await anext(upstream)
        if not isinstance(first, Barrier):
            raise RuntimeError("stream scan: the first message must be a barrier")
        yield first
        if self.node.backfill:
            async for chunk in self._snapshot(first.epoch.prev):
                yield chunk
        indices = list(self.node.output_indices)
        async for msg in upstream:
            if isinstance(msg, StreamChunk):
                yield msg.project(indices)
            else:
                yield msg

    async def _snapshot(self, epoch: int) -> AsyncIterator[StreamChunk]:
        table = StateTable(self.node.upstream_table, self._actor.store, self._actor.vnodes)
        progress = self._actor.backfill_progress
        me, total, done = self._actor.actor_id, len(table.vnodes), 0
        progress[me] = (0, total)
        limit = self.node.rate_limit
        step = SNAPSHOT_CHUNK_ROWS if limit is None else max(1, min(SNAPSHOT_CHUNK_ROWS, limit // 10))
        began, emitted = time.monotonic(), 0
        async for covered, part in table.scan_snapshot_runs(epoch, SNAPSHOT_VNODES_PER_SCAN):
            cols = [part.column(i).combine_chunks() for i in self.node.output_indices]
            for start in range(0, part.num_rows, step):
                n = min(step, part.num_rows - start)
                batch = pa.RecordBatch.from_arrays([c.slice(start, n) for c in cols],
                                                   [f"c{i}" for i in range(len(cols))])
                yield StreamChunk.inserts(batch)
                emitted += n
                if limit is not None:  # rate-limited: wait until the rows so far fit the budget
                    await asyncio.sleep(max(0.0, began + emitted / limit - time.monotonic()))
            done += covered
            progress[me] = (done, total)
