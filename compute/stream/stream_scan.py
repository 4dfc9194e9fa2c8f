"""Stream scan: a new view reads an existing table or view, first its rows, then its changes.

The upstream's changes arrive through a NO_SHUFFLE merge from the upstream
actor owning the same vnodes, on the same node. The first barrier (the one
that creates the view, epoch P -> C) is forwarded first. Without `backfill`
(a created view rebuilt by recovery or rescaling) the actor then forwards
changes, nothing else.

With `backfill` the actor reads the upstream's existing rows while barriers
keep flowing, so creating a view over a large table stalls neither its
writers nor any other view's freshness (the algorithm of RisingWave's
no-shuffle backfill):

- Between two barriers it reads the upstream table in key order (vnode, then
  primary key) as of the epoch the last barrier closed (the co-located
  upstream sealed that epoch into this node's state store before passing the
  barrier on), a chunk at a time, and emits the rows as inserts. `pos` is the
  last key emitted.
- The upstream's changes of the current epoch are held until its barrier.
  Then those at keys up to `pos` are passed on (their rows were emitted, so
  their changes must follow), the rest dropped: the snapshot reaches those
  keys later, reading at an epoch that includes the change. Then the barrier
  passes, and reading resumes after `pos` at the newer epoch.
- When the last owned vnode is read, the actor passes every change on.

So the view sees every row exactly once. The backfill keeps no state of its
own: a recovery while a view is being created cancels its creation (meta
reloads only committed jobs), and a created view never backfills again.
`backfill_rate_limit` caps the rows per second; barriers pass while it waits.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import numpy as np
import pyarrow as pa

from common.chunk import StreamChunk
from common.memcomparable import vnode_prefix
from common.message import Barrier, Message
from common.stream_plan import StreamScanNode
from common.vnode import VNODE_COUNT, compute_vnodes
from compute.stream.executor import ActorContext, Executor
from storage.state_table import StateTable

SNAPSHOT_CHUNK_ROWS = 4096


class StreamScanExecutor:
    def __init__(self, input: Executor, node: StreamScanNode, actor: ActorContext) -> None:
        self.input = input
        self.node = node
        self.types = node.types
        self._actor = actor
        self._table = StateTable(node.upstream_table, actor.store, actor.vnodes)
        if node.backfill:
            actor.backfills.register(actor.actor_id, len(self._table.vnodes))

    async def execute(self) -> AsyncIterator[Message]:
        upstream = self.input.execute()
        first = await anext(upstream)
        if not isinstance(first, Barrier):
            raise RuntimeError("stream scan: the first message must be a barrier")
        yield first
        if self.node.backfill and not first.is_stop(self._actor.actor_id):
            backfill = _Backfill(self, upstream, first.epoch.prev)
            async for msg in backfill.run():
                yield msg
            if backfill.stopped:
                return
        indices = list(self.node.output_indices)
        async for msg in upstream:
            yield msg.project(indices) if isinstance(msg, StreamChunk) else msg


class _Backfill:
    """One backfill: the snapshot read between barriers, the upstream's changes held until each barrier."""

    def __init__(self, scan: StreamScanExecutor, upstream: AsyncIterator[Message], epoch: int) -> None:
        self.scan = scan
        self.upstream = upstream
        self.epoch = epoch  # the snapshot is read as of this (sealed) epoch
        self.vnodes = scan._table.vnodes.to_list()
        self.done = np.zeros(VNODE_COUNT, dtype=bool)  # vnodes read to the end
        self.index = 0  # the vnode being read: self.vnodes[self.index]
        self.pos: bytes | None = None  # the last key emitted in that vnode
        self.held: list[StreamChunk] = []  # the upstream's changes of the current epoch
        self.stopped = False

    async def run(self) -> AsyncIterator[Message]:
        actor = self.scan._actor
        limit = self.scan.node.rate_limit
        began, emitted = time.monotonic(), 0
        pending: asyncio.Future[Message] = asyncio.ensure_future(anext(self.upstream))
        reader: AsyncIterator[pa.Table] | None = None
        try:
            while self.index < len(self.vnodes):
                while pending.done():  # what the upstream sent meanwhile: changes are held, barriers pass
                    msg = pending.result()
                    pending = asyncio.ensure_future(anext(self.upstream))
                    if isinstance(msg, Barrier):
                        for chunk in self._release():
                            yield chunk
                        yield msg
                        if msg.is_stop(actor.actor_id):
                            self.stopped = True
                            return
                        self.epoch, reader = msg.epoch.prev, None  # read on at the newer epoch
                    elif isinstance(msg, StreamChunk):
                        self.held.append(msg)
                    else:
                        yield msg
                if limit is not None:
                    wait = began + emitted / limit - time.monotonic()
                    if wait > 0:  # over the rate: let barriers through while waiting
                        await asyncio.wait({pending}, timeout=wait)
                        continue
                if reader is None:
                    reader = self._read()
                rows = await anext(reader, None)
                if rows is None:  # this vnode is read to its end
                    self.done[self.vnodes[self.index]] = True
                    self.index, self.pos, reader = self.index + 1, None, None
                    actor.backfills.advance(actor.actor_id, 1)
                    continue
                self.pos = rows.column(0)[-1].as_py()
                emitted += rows.num_rows
                yield StreamChunk.inserts(self._project(rows))
            for chunk in self.held:  # every vnode is read: the held changes all follow rows emitted
                yield chunk.project(list(self.scan.node.output_indices))
            self.held = []
            yield await pending  # then the plain stream resumes where the upstream is
        finally:
            if not pending.done():
                pending.cancel()

    async def _read(self) -> AsyncIterator[pa.Table]:
        """The current vnode's rows after `pos`, as of `epoch`, a chunk at a time (`_key` first)."""
        vnode = self.vnodes[self.index]
        start = vnode_prefix(vnode) if self.pos is None else self.pos + b"\x00"
        end = vnode_prefix(vnode + 1) if vnode + 1 < VNODE_COUNT else None
        async for window in self.scan._actor.store.scan_windows(self.scan._table.table_id, start, end, self.epoch):
            for offset in range(0, window.num_rows, SNAPSHOT_CHUNK_ROWS):
                yield window.slice(offset, SNAPSHOT_CHUNK_ROWS)

    def _project(self, rows: pa.Table) -> pa.RecordBatch:
        indices = self.scan.node.output_indices
        return pa.RecordBatch.from_arrays([rows.column(1 + i).combine_chunks() for i in indices],
                                          [f"c{i}" for i in range(len(indices))])

    def _release(self) -> list[StreamChunk]:
        """The held changes at keys already emitted, projected; the rest are dropped."""
        out = []
        indices = list(self.scan.node.output_indices)
        table = self.scan._table
        desc = self.scan.node.upstream_table
        current = self.vnodes[self.index] if self.index < len(self.vnodes) else -1
        for chunk in self.held:
            vnodes = compute_vnodes([chunk.column(i) for i in desc.dist_key], chunk.num_rows)
            keep = self.done[vnodes]
            reading = np.flatnonzero(vnodes == current)
            if self.pos is not None and len(reading):  # one Python step per row of the vnode being read
                for i, row in zip(reading, chunk.take(reading).rows()):
                    keep[i] = table.key_of_row(row, current) <= self.pos
            if keep.any():
                out.append(chunk.filter(keep).fix_update_pairs().project(indices))
        self.held = []
        return out
