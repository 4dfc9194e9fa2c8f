"""Materialize: writes a stream into the state table of a table or view, and passes it on.

State: one state table keyed by the stream key (`MaterializeNode.table`).
For views (conflict NONE) the input is already consistent and is written
as is, a whole chunk at a time. For tables (conflict OVERWRITE) a row
arriving for an existing key replaces it and a delete removes whatever row
the key holds, so the output is always consistent: an insert over an
existing row becomes an update pair, a delete of a missing key vanishes.
On a barrier: commit the state table, then forward the barrier.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from common.catalog import ROW_ID_COLUMN
from common.chunk import Op, StreamChunk
from common.message import Barrier, Message
from common.stream_plan import ConflictBehavior, MaterializeNode
from common.vnode import compute_vnodes
from compute.stream.executor import ActorContext, Executor
from storage.state_table import StateTable

_ABSENT = object()


class MaterializeExecutor:
    def __init__(self, input: Executor, node: MaterializeNode, actor: ActorContext) -> None:
        self.input = input
        self.node = node
        self.types = node.types
        self.table = StateTable(node.table, actor.store, actor.vnodes)
        # Inserts into a table keyed by a fresh row id can never hit an existing row.
        pk = node.table.pk
        self._fresh_insert_keys = len(pk) == 1 and node.table.columns[pk[0]].name == ROW_ID_COLUMN

    async def execute(self) -> AsyncIterator[Message]:
        first = True
        async for msg in self.input.execute():
            if isinstance(msg, StreamChunk):
                out = await self._on_chunk(msg)
                if out is not None and out.num_rows:
                    yield out
            elif isinstance(msg, Barrier):
                if first:
                    self.table.init_epoch(msg.epoch)
                    first = False
                else:
                    self.table.commit(msg.epoch)
                yield msg
            else:
                yield msg

    async def _on_chunk(self, chunk: StreamChunk) -> StreamChunk | None:
        if self.node.conflict is ConflictBehavior.NONE:
            self.table.write_chunk(chunk)
            return chunk
        ops = chunk.ops_numpy()
        if self._fresh_insert_keys and (ops == Op.INSERT).all():
            self.table.write_chunk(chunk)
            return chunk
        return await self._overwrite(chunk, ops)

    async def _overwrite(self, chunk: StreamChunk, ops) -> StreamChunk | None:  # type: ignore[no-untyped-def]
        desc = self.node.table
        vnodes = compute_vnodes([chunk.column(i) for i in desc.dist_key], chunk.num_rows).tolist()
        pks = list(zip(*[chunk.column(i).to_pylist() for i in desc.pk]))
        rows = chunk.rows()
        current: dict[tuple[object, ...], object] = {}
        out_rows: list[tuple[object, ...]] = []
        out_ops: list[Op] = []
        for i, pk in enumerate(pks):
            old = current.get(pk, _ABSENT)
            if old is _ABSENT:
                old = await self.table.get_row(pk, vnodes[i])
            op = ops[i]
            if op == Op.INSERT or op == Op.UPDATE_INSERT:
                new = rows[i]
                if old is None:
                    out_ops.append(Op.INSERT)
                    out_rows.append(new)
                elif old != new:
                    out_ops.extend((Op.UPDATE_DELETE, Op.UPDATE_INSERT))
                    out_rows.extend((old, new))  # type: ignore[arg-type]
                self.table.insert(new, vnodes[i])
                current[pk] = new
            elif old is not None:
                out_ops.append(Op.DELETE)
                out_rows.append(old)  # type: ignore[arg-type]
                self.table.delete(old, vnodes[i])  # type: ignore[arg-type]
                current[pk] = None
        if not out_rows:
            return None
        return StreamChunk.from_rows(out_rows, self.types, out_ops)
