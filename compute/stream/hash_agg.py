"""Hash aggregation: GROUP BY with count, sum, avg, min and max over a changing input.

Computes, per group of `group_key`, the aggregates `aggs`; output columns
are the group key then one per aggregate, and the output stream key is the
group key. With no group key there is exactly one group, whose row exists
even when the input is empty (count 0, other aggregates NULL).

State:
- `result_table`, keyed by the group key: the row count and each
  aggregate's state (`common.expr.agg_state_types`). A group whose row
  count drops to 0 is deleted.
- for MIN/MAX over an input that can retract rows, `minmax_tables[i]`,
  keyed by (group key, value): the value's multiplicity. When the current
  extreme is retracted, the new one is the first entry of the group.
- an in-memory cache of groups (evicted, clean, at barriers).

Each chunk is folded into per-group deltas with Arrow's group-by; then one
Python step per touched group. Output is emitted once per barrier, before
the barrier: for each group that changed, an insert, a delete, or an update
pair from the last emitted row to the new one.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator

from common.catalog import OrderType
from common.chunk import Op, StreamChunk
from common.expr import AggKind
from common.message import Barrier, Message
from common.stream_plan import HashAggNode
from common.vnode import compute_vnodes
from compute.stream.aggregate.agg_group import AggGroup, AggLayout
from compute.stream.aggregate.deltas import ChunkDeltas, compute_deltas
from compute.stream.executor import ActorContext, Executor
from storage.state_table import StateTable

DEFAULT_CACHE_GROUPS = 200_000


class HashAggExecutor:
    def __init__(self, input: Executor, node: HashAggNode, actor: ActorContext,
                 cache_groups: int = DEFAULT_CACHE_GROUPS) -> None:
        self.input = input
        self.node = node
        self.types = node.types
        self.layout = AggLayout(len(node.group_key), node.aggs, [t is not None for t in node.minmax_tables])
        self.result_table = StateTable(node.result_table, actor.store, actor.vnodes)
        tables: dict[int, StateTable] = {}
        for t in node.minmax_tables:
            if t is not None and t.table_id not in tables:
                tables[t.table_id] = StateTable(t, actor.store, actor.vnodes)
        self.minmax_tables = {i: tables[t.table_id] for i, t in enumerate(node.minmax_tables) if t is not None}
        self._minmax_distinct = list(tables.values())
        # The first agg over each value table computes its deltas; the others reuse them.
        owners = {t.table_id: i for i, t in reversed(list(enumerate(node.minmax_tables))) if t is not None}
        self._retractable = [t is not None and owners[t.table_id] == i for i, t in enumerate(node.minmax_tables)]
        self._sharing = {i: owners[t.table_id] for i, t in enumerate(node.minmax_tables) if t is not None}
        # MAX takes the last value of its group in key order (the first when the value column is DESC).
        self._reverse = {i: (node.aggs[i].kind is AggKind.MAX) == (t.pk_order[-1] is OrderType.ASC)
                         for i, t in enumerate(node.minmax_tables) if t is not None}
        self._cache: OrderedDict[tuple[object, ...], AggGroup] = OrderedDict()
        self._dirty: dict[tuple[object, ...], AggGroup] = {}
        self._cache_groups = cache_groups
        self._key_types = [node.result_table.columns[i].type.arrow for i in range(len(node.group_key))]

    @property
    def _tables(self) -> list[StateTable]:
        return [self.result_table, *self._minmax_distinct]

    async def execute(self) -> AsyncIterator[Message]:
        first = True
        async for msg in self.input.execute():
            if isinstance(msg, StreamChunk):
                if msg.num_rows:
                    await self._on_chunk(msg)
            elif isinstance(msg, Barrier):
                if first:
                    for t in self._tables:
                        t.init_epoch(msg.epoch)
                    first = False
                    if not self.node.group_key:
                        await self._touch((), 0)  # the single group's row exists from the start
                    yield msg
                    continue
                out = await self._flush()
                if out is not None:
                    yield out
                for t in self._tables:
                    t.commit(msg.epoch)
                self._evict()
                yield msg
            else:
                yield msg

    async def _touch(self, key: tuple[object, ...], vnode: int) -> AggGroup:
        g = self._dirty.get(key)
        if g is not None:
            return g
        g = self._cache.get(key)
        if g is None:
            g = await self._load(key, vnode)
            self._cache[key] = g
        else:
            self._cache.move_to_end(key)
        self._dirty[key] = g
        g.dirty = True
        return g

    async def _load(self, key: tuple[object, ...], vnode: int) -> AggGroup:
        row = await self.result_table.get_row(key, vnode)
        if row is None:
            return AggGroup(key, vnode, 0, self.layout.zero_states(), None, existed=False)
        k = self.layout.num_keys
        states = list(row[k + 1:])
        g = AggGroup(key, vnode, row[k], states, None, existed=True)  # type: ignore[arg-type]
        g.prev_output = self._output(g)
        return g

    def _output(self, g: AggGroup) -> tuple[object, ...] | None:
        if g.row_count == 0 and self.node.group_key:
            return None
        return (*g.key, *self.layout.output(g.states))

    async def _on_chunk(self, chunk: StreamChunk) -> None:
        d: ChunkDeltas = compute_deltas(chunk, self.node.group_key, self.node.aggs, self._retractable,
                                        skip=[i for i, owner in self._sharing.items() if i != owner])
        groups = d.groups
        k = d.num_keys
        key_lists = [groups.column(f"k{j}").to_pylist() for j in range(k)]
        keys = list(zip(*key_lists)) if k else [()] * groups.num_rows
        vnodes = self._vnodes(groups, k)
        retract = await self._apply_minmax_deltas(d) if d.minmax else {}
        for i, delta in enumerate(groups.to_pylist()):
            g = await self._touch(keys[i], vnodes[i])
            g.apply(self.layout, delta, retract.get(keys[i], {}))

    def _vnodes(self, table, k: int) -> list[int]:  # type: ignore[no-untyped-def]
        if not self.node.result_table.dist_key:
            return [0] * table.num_rows
        cols = [table.column(f"k{j}").combine_chunks() for j in self.node.result_table.dist_key]
        return compute_vnodes(cols, table.num_rows).tolist()

    async def _apply_minmax_deltas(self, d: ChunkDeltas) -> dict[tuple[object, ...], dict[int, list[tuple[object, int]]]]:
        """Update each (group, value) multiplicity; return the changes per group per agg."""
        out: dict[tuple[object, ...], dict[int, list[tuple[object, int]]]] = {}
        k = d.num_keys
        for i, table in d.minmax.items():
            st = self.minmax_tables[i]
            key_lists = [table.column(f"k{j}").to_pylist() for j in range(k)]
            keys = list(zip(*key_lists)) if k else [()] * table.num_rows
            vnodes = self._vnodes(table, k)
            for key, vnode, value, n in zip(keys, vnodes, table.column("v").to_pylist(),
                                            table.column("n").to_pylist()):
                old = await st.get_row((*key, value), vnode)
                count = (old[-1] if old is not None else 0) + n
                if count > 0:
                    st.insert((*key, value, count), vnode)
                elif old is not None:
                    st.delete(old, vnode)
                out.setdefault(key, {}).setdefault(i, []).append((value, n))
        for i, owner in self._sharing.items():
            if i != owner:
                for changes in out.values():
                    if owner in changes:
                        changes[i] = changes[owner]
        return out

    async def _flush(self) -> StreamChunk | None:
        """Emit the changes of every dirty group and write their state."""
        rows: list[tuple[object, ...]] = []
        ops: list[Op] = []
        k = self.layout.num_keys
        for key, g in self._dirty.items():
            for i in g.recompute:
                first = None
                async for r in self.minmax_tables[i].iter_prefix(key, g.vnode, reverse=self._reverse[i]):
                    first = r
                    break
                g.states[self.layout.offsets[i]] = None if first is None else first[k]
            g.recompute.clear()
            new = self._output(g)
            old = g.prev_output
            if old is None and new is not None:
                ops.append(Op.INSERT)
                rows.append(new)
            elif old is not None and new is None:
                ops.append(Op.DELETE)
                rows.append(old)
            elif old != new:
                ops.extend((Op.UPDATE_DELETE, Op.UPDATE_INSERT))
                rows.extend((old, new))  # type: ignore[arg-type]
            if g.row_count == 0 and self.node.group_key:
                if g.existed:
                    self.result_table.delete(g.state_row(), g.vnode)
                g.existed = False
            else:
                self.result_table.insert(g.state_row(), g.vnode)
                g.existed = True
            g.prev_output = new
            g.dirty = False
        self._dirty.clear()
        return StreamChunk.from_rows(rows, self.types, ops) if rows else None

    def _evict(self) -> None:
        while len(self._cache) > self._cache_groups:
            self._cache.popitem(last=False)
