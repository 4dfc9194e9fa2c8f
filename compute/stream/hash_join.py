"""Hash join: an inner equi-join of two changing inputs.

Computes `left JOIN right ON left_keys = right_keys [AND condition]`,
projected to `output_indices` over (left columns, right columns). The
output stream key is the left stream key plus the right stream key.

State: per side a state table keyed by (join key, that side's stream key)
holding the side's rows, distributed by the join key; and per side an
in-memory cache of join key -> rows (evicted, clean, at barriers). Rows
with a NULL in the join key never match and are not stored.

A chunk from one side joins against the other side's current rows, then
updates its own side: this emits each matching pair exactly once, when the
later of its two rows arrives, and retracts it when either row leaves.
Rows are grouped by join key with Arrow; one Python step per distinct key.
Output update pairs become DELETE/INSERT (pairs may not stay adjacent).
Barriers are aligned across both inputs; on a barrier both state tables
commit before it is forwarded.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from common.chunk import Op, StreamChunk
from common.message import Barrier, Message
from common.stream_plan import HashJoinNode
from common.vnode import compute_vnodes
from compute.expr import ErrorMode, EvalContext, evaluate_predicate
from compute.stream.executor import ActorContext, Executor
from storage.state_table import StateTable

DEFAULT_CACHE_KEYS = 100_000
_SIDES = (0, 1)


class _JoinSide:
    """One input's rows by join key: the state table plus a cache of the keys touched."""

    def __init__(self, table: StateTable, keys: tuple[int, ...], types: tuple) -> None:  # type: ignore[type-arg]
        self.table = table
        self.keys = keys
        self.types = types
        self._pk = table.desc.pk
        self.cache: OrderedDict[tuple[object, ...], dict[tuple[object, ...], tuple[object, ...]]] = OrderedDict()

    async def rows(self, key: tuple[object, ...], vnode: int) -> dict[tuple[object, ...], tuple[object, ...]]:
        rows = self.cache.get(key)
        if rows is None:
            rows = {}
            async for r in self.table.iter_prefix(key, vnode):
                rows[tuple(r[i] for i in self._pk)] = r
            self.cache[key] = rows
        else:
            self.cache.move_to_end(key)
        return rows

    def evict(self, capacity: int) -> None:
        while len(self.cache) > capacity:
            self.cache.popitem(last=False)


class HashJoinExecutor:
    def __init__(self, left: Executor, right: Executor, node: HashJoinNode, actor: ActorContext,
                 cache_keys: int = DEFAULT_CACHE_KEYS) -> None:
        self.inputs = (left, right)
        self.node = node
        self.types = node.types
        self.sides = (
            _JoinSide(StateTable(node.left_table, actor.store, actor.vnodes), node.left_keys, left.types),
            _JoinSide(StateTable(node.right_table, actor.store, actor.vnodes), node.right_keys, right.types),
        )
        self._cache_keys = cache_keys
        self._eval = EvalContext(mode=ErrorMode.NULL, on_error=actor.report_expression_error)
        self._width = (len(left.types), len(right.types))

    async def execute(self) -> AsyncIterator[Message]:
        first = True
        async for side, msg in self._aligned():
            if isinstance(msg, StreamChunk):
                out = await self._on_chunk(side, msg)
                if out is not None and out.num_rows:
                    yield out
            elif isinstance(msg, Barrier):
                for s in self.sides:
                    if first:
                        s.table.init_epoch(msg.epoch)
                    else:
                        s.table.commit(msg.epoch)
                    s.evict(self._cache_keys)
                first = False
                yield msg

    async def _aligned(self) -> AsyncIterator[tuple[int, Message]]:
        """Interleave both inputs; after a barrier on one side, read only the other until it has it too."""
        iters = [self.inputs[s].execute() for s in _SIDES]
        pending: dict[asyncio.Task[Message], int] = {asyncio.ensure_future(anext(iters[s])): s for s in _SIDES}
        waiting: dict[int, Barrier] = {}
        try:
            while True:
                done, _ = await asyncio.wait(pending.keys(), return_when=asyncio.FIRST_COMPLETED)
                for task in sorted(done, key=lambda t: pending[t]):
                    side = pending.pop(task)
                    try:
                        msg = task.result()
                    except StopAsyncIteration:
                        return  # an input ended (only in tests: real streams never end)
                    if isinstance(msg, Barrier):
                        waiting[side] = msg
                    else:
                        yield side, msg
                        pending[asyncio.ensure_future(anext(iters[side]))] = side
                if len(waiting) == 2:
                    b0, b1 = waiting[0], waiting[1]
                    if b0.epoch != b1.epoch:
                        raise RuntimeError(f"join barriers misaligned: {b0.epoch} vs {b1.epoch}")
                    waiting.clear()
                    yield 0, b0
                    for s in _SIDES:
                        pending[asyncio.ensure_future(anext(iters[s]))] = s
        finally:
            for task in pending:
                task.cancel()

    async def _on_chunk(self, side: int, chunk: StreamChunk) -> StreamChunk | None:
        this, other = self.sides[side], self.sides[1 - side]
        n = chunk.num_rows
        key_cols = [chunk.column(i) for i in this.keys]
        valid = np.ones(n, dtype=bool)
        for c in key_cols:
            if c.null_count:
                valid &= pc.is_valid(c).to_numpy(zero_copy_only=False)
        if not valid.all():
            chunk = chunk.filter(valid)
            key_cols = [chunk.column(i) for i in this.keys]
            n = chunk.num_rows
            if n == 0:
                return None
        vnodes = compute_vnodes(key_cols, n)
        keys = list(zip(*[c.to_pylist() for c in key_cols]))
        ops = chunk.ops_numpy()
        rows = chunk.rows()
        out_this: list[int] = []
        out_other: list[tuple[object, ...]] = []
        out_ops: list[int] = []
        by_key: dict[tuple[object, ...], list[int]] = {}
        for i, k in enumerate(keys):
            by_key.setdefault(k, []).append(i)
        for k, idx in by_key.items():
            vnode = int(vnodes[idx[0]])
            matches = list((await other.rows(k, vnode)).values())
            mine = this.cache.get(k)  # kept coherent only if cached; a later load reads the state table
            for i in idx:
                row = rows[i]
                insert = ops[i] == Op.INSERT or ops[i] == Op.UPDATE_INSERT
                if matches:
                    out_this.extend([i] * len(matches))
                    out_other.extend(matches)
                    out_ops.extend([Op.INSERT if insert else Op.DELETE] * len(matches))
                pk = tuple(row[j] for j in this._pk)
                if insert:
                    this.table.insert(row, vnode)
                    if mine is not None:
                        mine[pk] = row
                else:
                    this.table.delete(row, vnode)
                    if mine is not None:
                        mine.pop(pk, None)
        if not out_ops:
            return None
        return self._build_output(side, chunk, out_this, out_other, out_ops)

    def _build_output(self, side: int, chunk: StreamChunk, this_idx: list[int],
                      other_rows: list[tuple[object, ...]], ops: list[int]) -> StreamChunk | None:
        this_cols = chunk.take(np.asarray(this_idx, dtype=np.int64)).columns
        other_types = self.sides[1 - side].types
        other_cols = [pa.array(list(col), t.arrow) for col, t in zip(zip(*other_rows), other_types)]
        cols = this_cols + other_cols if side == 0 else other_cols + this_cols
        joined = StreamChunk.from_arrays(np.asarray(ops, dtype=np.int8), cols)
        if self.node.condition is not None:
            mask = evaluate_predicate(self.node.condition, joined.data, self._eval)
            joined = joined.filter(mask)
            if joined.num_rows == 0:
                return None
        return joined.project(self.node.output_indices)
