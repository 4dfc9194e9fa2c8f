"""State tables: the keyed, epoch-versioned tables stream executors keep their state in.

A row's key is `vnode (2 bytes) | memcomparable(pk values)`. Writes of the
current epoch collect in a mem-table (key -> row, None for a delete) that
reads see first, so an executor reads its own writes; `commit` hands the
mem-table to the state store as that epoch's batch. Reads fall through to
the store at the table's current epoch. A table owns a set of vnodes
(its actor's share); `iter_all` and `scan_snapshot` cover only those.
"""

from __future__ import annotations

import bisect
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pyarrow as pa

from common.catalog import TableDesc
from common.chunk import Op, StreamChunk, arrow_schema
from common.epoch import EpochPair
from common.errors import InternalError
from common.memcomparable import KeyEncoder, prefix_end, vnode_prefix
from common.vnode import VNODE_COUNT, VnodeBitmap, compute_vnodes, vnode_of_row
from storage.sst import KEY
from storage.state_store import StateStore

Row = tuple[Any, ...]

_VNODE_PREFIXES = [vnode_prefix(v) for v in range(VNODE_COUNT)]
_INSERT_OPS = (int(Op.INSERT), int(Op.UPDATE_INSERT))


def vnode_runs(vnodes: VnodeBitmap, most: int = VNODE_COUNT) -> list[tuple[bytes, bytes | None]]:
    """Key ranges [start, end) covering the vnodes, one per run of at most `most` consecutive vnodes."""
    owned = vnodes.to_list()
    out: list[tuple[bytes, bytes | None]] = []
    i = 0
    while i < len(owned):
        j = i
        while j + 1 < len(owned) and owned[j + 1] == owned[j] + 1 and j + 1 - i < most:
            j += 1
        last = owned[j]
        out.append((_VNODE_PREFIXES[owned[i]], _VNODE_PREFIXES[last + 1] if last + 1 < VNODE_COUNT else None))
        i = j + 1
    return out


class StateTable:
    def __init__(self, desc: TableDesc, store: StateStore, vnodes: VnodeBitmap | None = None) -> None:
        self.desc = desc
        self._store = store
        self._vnodes = vnodes if vnodes is not None else VnodeBitmap.full()
        self._encoder = KeyEncoder(desc.pk_types, desc.pk_order)
        self._prefix_encoders: dict[int, KeyEncoder] = {}
        self._dist_in_pk = desc.dist_key_in_pk
        self._dist_arrow = [desc.columns[i].type.arrow for i in desc.dist_key]
        self._schema = arrow_schema(desc.types)
        self._epoch: int | None = None
        self._mem: dict[bytes, Row | None] = {}
        self._mem_sorted: list[bytes] = []  # keys of _mem, sorted, except those in _mem_new
        self._mem_new: list[bytes] = []

    @property
    def table_id(self) -> int:
        return self.desc.table_id

    @property
    def vnodes(self) -> VnodeBitmap:
        return self._vnodes

    @property
    def schema(self) -> pa.Schema:
        return self._schema

    @property
    def epoch(self) -> int:
        if self._epoch is None:
            raise InternalError(f"state table {self.table_id} used before init_epoch")
        return self._epoch

    def init_epoch(self, epoch: EpochPair) -> None:
        self._epoch = epoch.curr

    def commit(self, new_epoch: EpochPair) -> None:
        """Seal the current epoch: its writes go to the store's shared buffer; continue at `new_epoch.curr`."""
        if new_epoch.prev != self.epoch:
            raise InternalError(f"state table {self.table_id} at epoch {self._epoch} "
                                f"cannot commit to {new_epoch}")
        if self._mem:
            self._store.ingest(self.table_id, self.epoch, self._mem, self._schema)
            self._mem = {}
            self._mem_sorted = []
            self._mem_new = []
        self._epoch = new_epoch.curr

    def update_vnode_bitmap(self, vnodes: VnodeBitmap) -> None:
        if self._mem:
            raise InternalError(f"state table {self.table_id} changes vnodes with unsealed writes")
        self._vnodes = vnodes

    # -- keys ------------------------------------------------------------------

    def key_of_row(self, row: Sequence[object], vnode: int | None = None) -> bytes:
        """The row's key here: its vnode's prefix, then its memcomparable primary key."""
        pk = [row[i] for i in self.desc.pk]
        if vnode is None:
            vnode = vnode_of_row([row[i] for i in self.desc.dist_key], self._dist_arrow)
        return _VNODE_PREFIXES[vnode] + self._encoder.encode(pk)

    def _vnode_of_pk_prefix(self, prefix: Sequence[object]) -> int:
        if any(i >= len(prefix) for i in self._dist_in_pk):
            raise InternalError(f"state table {self.table_id}: the prefix does not cover the distribution key")
        return vnode_of_row([prefix[i] for i in self._dist_in_pk], self._dist_arrow)

    # -- writes ------------------------------------------------------------------

    def _put(self, key: bytes, row: Row | None) -> None:
        if key not in self._mem:
            self._mem_new.append(key)
        self._mem[key] = row

    def insert(self, row: Sequence[object], vnode: int | None = None) -> None:
        self._put(self.key_of_row(row, vnode), tuple(row))

    def delete(self, row: Sequence[object], vnode: int | None = None) -> None:
        self._put(self.key_of_row(row, vnode), None)

    def update(self, old: Sequence[object], new: Sequence[object], vnode: int | None = None) -> None:
        old_key, new_key = self.key_of_row(old, vnode), self.key_of_row(new, vnode)
        if old_key != new_key:
            self._put(old_key, None)
        self._put(new_key, tuple(new))

    def write_chunk(self, chunk: StreamChunk) -> None:
        """Apply every op of a chunk whose columns are the table's columns, in order."""
        n = chunk.num_rows
        if n == 0:
            return
        vnodes = compute_vnodes([chunk.column(i) for i in self.desc.dist_key], n).tolist()
        pks = self._encoder.encode_columns([chunk.column(i).to_pylist() for i in self.desc.pk], n)
        ops = chunk.ops_numpy().tolist()
        mem, new = self._mem, self._mem_new
        for vnode, pk, op, row in zip(vnodes, pks, ops, chunk.rows()):
            key = _VNODE_PREFIXES[vnode] + pk
            if key not in mem:
                new.append(key)
            mem[key] = row if op in _INSERT_OPS else None

    # -- reads --------------------------------------------------------------------

    async def get_row(self, pk: Sequence[object], vnode: int | None = None) -> Row | None:
        if vnode is None:
            vnode = self._vnode_of_pk_prefix(pk)
        key = _VNODE_PREFIXES[vnode] + self._encoder.encode(pk)
        if key in self._mem:
            return self._mem[key]
        return await self._store.get(self.table_id, key, self.epoch)

    def iter_prefix(self, prefix: Sequence[object], vnode: int | None = None, *,
                    reverse: bool = False) -> AsyncIterator[Row]:
        """Rows whose pk starts with `prefix`, in pk order (reversed if asked)."""
        if vnode is None:
            vnode = self._vnode_of_pk_prefix(prefix)
        n = len(prefix)
        enc = self._prefix_encoders.get(n)
        if enc is None:
            enc = self._prefix_encoders[n] = self._encoder.prefix(n)
        start = _VNODE_PREFIXES[vnode] + enc.encode(prefix)
        return self._iter_range(start, prefix_end(start), reverse)

    async def iter_all(self) -> AsyncIterator[Row]:
        """Rows of the owned vnodes, in vnode then pk order."""
        for start, end in vnode_runs(self._vnodes):
            async for row in self._iter_range(start, end, False):
                yield row

    async def scan_snapshot(self, epoch: int) -> pa.Table:
        """Every row of the owned vnodes at `epoch` (a committed epoch), as columns c0..cn, in vnode then pk order."""
        parts = [await self._store.scan(self.table_id, s, e, epoch, self._schema) for s, e in vnode_runs(self._vnodes)]
        if not parts:
            return self._schema.empty_table()
        return pa.concat_tables(parts).drop_columns([KEY])

    async def scan_snapshot_runs(self, epoch: int, vnodes_per_run: int) -> AsyncIterator[tuple[int, pa.Table]]:
        """`scan_snapshot` a few vnodes at a time, so memory stays bounded: (vnodes covered, their rows)."""
        for start, end in vnode_runs(self._vnodes, vnodes_per_run):
            first = int.from_bytes(start, "big")
            last = VNODE_COUNT if end is None else int.from_bytes(end, "big")
            part = await self._store.scan(self.table_id, start, end, epoch, self._schema)
            yield last - first, part.drop_columns([KEY])

    def _mem_range(self, start: bytes, end: bytes | None) -> list[bytes]:
        if self._mem_new:
            # Timsort merges the sorted run with the new keys in near-linear time.
            self._mem_sorted = sorted(self._mem_sorted + self._mem_new)
            self._mem_new = []
        keys = self._mem_sorted
        lo = bisect.bisect_left(keys, start)
        hi = len(keys) if end is None else bisect.bisect_left(keys, end)
        return keys[lo:hi]

    async def _iter_range(self, start: bytes, end: bytes | None, reverse: bool) -> AsyncIterator[Row]:
        mem_keys = self._mem_range(start, end)
        if reverse:
            mem_keys.reverse()
        mem = self._mem
        i, n = 0, len(mem_keys)
        async for key, row in self._store.iter(self.table_id, start, end, self.epoch, reverse=reverse):
            # The mem-table's writes come first in key order and replace the store's row of the same key.
            while i < n and (mem_keys[i] > key if reverse else mem_keys[i] < key):
                own = mem[mem_keys[i]]
                if own is not None:
                    yield own
                i += 1
            if i < n and mem_keys[i] == key:
                own = mem[mem_keys[i]]
                i += 1
                if own is not None:
                    yield own
            else:
                yield row
        for k in mem_keys[i:]:
            own = mem[k]
            if own is not None:
                yield own


async def scan_table(store: StateStore, desc: TableDesc, epoch: int) -> pa.Table:
    """Every row of a state table at `epoch`, all vnodes, as columns c0..cn (for batch queries).

    Rows come in key order: by vnode, then pk; callers wanting pk order sort.
    """
    return (await store.scan(desc.table_id, b"", None, epoch, arrow_schema(desc.types))).drop_columns([KEY])
