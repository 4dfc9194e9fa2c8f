"""The node-local state store: writes staged in the shared buffer, reads merged with the committed version.

One per compute node. State tables hand over each epoch's mem-table
(`ingest`); a checkpoint turns everything up to an epoch into SSTs
(`sync`) whose infos go to meta; meta's new version comes back through
`update_version`, which also drops the shared-buffer batches it now
covers. A read at epoch e sees, per key, the newest write at or below e:
first the shared buffer, then L0 newest first, then L1..Ln, because each
of those holds only older data than the one before.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence

import pyarrow as pa

from common.errors import InternalError
from common.memcomparable import prefix_end, table_prefix
from storage.bloom import key_hash
from storage.iterator import (
    PieceSource,
    concat_entries,
    key_range_mask,
    merge_visible,
    merge_windows,
    rows_of,
    sort_entries,
)
from storage.object_store import ObjectStore
from storage.shared_buffer import ImmBatch, Row, SharedBuffer
from storage.sst import EPOCH, TOMB, Block, SstMeta, block_table_key_bounds, entry_schema
from storage.sst_builder import BuiltSst, build_ssts
from storage.sstable_store import SstableStore
from storage.uploader import IdAllocator, upload_ssts
from storage.version import HummockVersion, SstInfo

_IMM_PIECE_ROWS = 4096


class StateStore:
    def __init__(self, object_store: ObjectStore, *, id_allocator: IdAllocator, block_cache_bytes: int = 256 << 20,
                 block_size: int = 64 << 10, sst_target_bytes: int = 64 << 20, compression: str | None = None) -> None:
        self.sstables = SstableStore(object_store, block_cache_bytes=block_cache_bytes)
        self._id_allocator = id_allocator
        self._block_size = block_size
        self._sst_target_bytes = sst_target_bytes
        self._compression = compression
        self._buffer = SharedBuffer()
        self._version = HummockVersion.empty()
        self._changed = asyncio.Event()
        self._pins: Counter[int] = Counter()

    @property
    def object_store(self) -> ObjectStore:
        return self.sstables.object_store

    # -- writes ----------------------------------------------------------

    def ingest(self, table_id: int, epoch: int, entries: Mapping[bytes, Row | None], schema: pa.Schema) -> None:
        """Take a state table's writes of `epoch` (table key -> row, None = delete); `schema` is c0..cn.

        The store keeps `entries` as they are: the caller must not change them afterwards.
        """
        if epoch <= self._version.committed_epoch:
            raise InternalError(f"write to table {table_id} at epoch {epoch}, "
                                f"which is not after the committed epoch {self._version.committed_epoch}")
        if entries:
            self._buffer.add(table_id, epoch, entries, schema)

    async def sync(self, epoch: int) -> list[SstInfo]:
        """Build and upload SSTs from every batch at or below `epoch` not yet synced; return their infos."""
        batches = self._buffer.take_unsynced(epoch)
        if not batches:
            return []
        try:
            built = await asyncio.to_thread(self._build, batches)
            return await upload_ssts(built, self.object_store, self._id_allocator)
        except BaseException:
            for b in batches:  # let a retried sync take them again
                b.synced = False
            raise

    def _build(self, batches: list[ImmBatch]) -> list[BuiltSst]:
        by_table: dict[int, list[ImmBatch]] = {}
        for b in batches:
            by_table.setdefault(b.table_id, []).append(b)
        runs = []
        for table_id in sorted(by_table):
            group = by_table[table_id]
            table = concat_entries([b.to_arrow() for b in group], group[0].schema)
            runs.append((table_id, table if len(group) == 1 else sort_entries(table)))
        return build_ssts(runs, block_size=self._block_size, sst_target_bytes=self._sst_target_bytes,
                          compression=self._compression)

    # -- versions ----------------------------------------------------------

    @property
    def version(self) -> HummockVersion:
        return self._version

    def update_version(self, version: HummockVersion) -> None:
        """Adopt a newer committed version from meta; shared-buffer batches it covers are dropped."""
        if version.id < self._version.id:
            return
        self._version = version
        self._buffer.drop_committed(version.committed_epoch)
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def clear_uncommitted(self) -> None:
        """Recovery: forget every write not in the committed version."""
        self._buffer.clear()

    async def wait_committed(self, epoch: int, timeout: float | None = None) -> None:
        async def wait() -> None:
            while self._version.committed_epoch < epoch:
                await self._changed.wait()

        await asyncio.wait_for(wait(), timeout)

    def pin(self) -> HummockVersion:
        """Hold the current version for a batch read.

        This pin is local: vacuum spares the version only once the node reports
        `pinned_version_ids()` to meta (`HummockManager.pin_version`).
        """
        v = self._version
        self._pins[v.id] += 1
        return v

    def unpin(self, version: HummockVersion) -> None:
        self._pins[version.id] -= 1
        if self._pins[version.id] <= 0:
            del self._pins[version.id]

    @contextlib.contextmanager
    def pinned(self) -> Iterator[HummockVersion]:
        v = self.pin()
        try:
            yield v
        finally:
            self.unpin(v)

    def pinned_version_ids(self) -> set[int]:
        return set(self._pins)

    # -- point reads ---------------------------------------------------------

    async def get(self, table_id: int, key: bytes, epoch: int) -> Row | None:
        found, row = self._buffer.get(table_id, key, epoch)
        if found:
            return row
        version = self._version
        ukey = table_prefix(table_id) + key
        h: int | None = None
        for sst in _point_candidates(version, ukey, epoch):
            if h is None:
                h = key_hash(table_id, key)
            meta = await self.sstables.meta(sst)
            if not meta.bloom.may_contain(h):
                continue
            index = meta.block_for_key(ukey)
            if index is None:
                continue
            block = await self.sstables.block(sst, meta, index)
            found, row = block.find(key, epoch)
            if found:
                return row
        return None

    # -- range reads -----------------------------------------------------------

    def iter(self, table_id: int, start: bytes, end: bytes | None, epoch: int, *,
             reverse: bool = False) -> AsyncIterator[tuple[bytes, Row]]:
        """Live (table key, row) pairs in [start, end), in key order (descending if `reverse`).

        Memory stays at about one block per overlapping source, whatever the range.
        """
        return self._iter(table_id, start, end, epoch, reverse)

    async def _iter(self, table_id: int, start: bytes, end: bytes | None, epoch: int,
                    reverse: bool) -> AsyncIterator[tuple[bytes, Row]]:
        sources, schema = await self._sources(table_id, start, end, epoch, reverse)
        if schema is None:
            return
        async for window in merge_windows(sources, schema, epoch, reverse=reverse):
            for pair in zip(window.column(0).to_pylist(), rows_of(window)):
                yield pair

    async def scan_windows(self, table_id: int, start: bytes, end: bytes | None,
                           epoch: int) -> AsyncIterator[pa.Table]:
        """Live rows in [start, end), in key order, as Arrow tables (`_key`, then c0..cn) of a window each.

        Memory stays at about one block per overlapping source, like `iter`, without Python rows.
        """
        sources, schema = await self._sources(table_id, start, end, epoch, False)
        if schema is None:
            return
        async for window in merge_windows(sources, schema, epoch):
            yield window.drop_columns([EPOCH, TOMB])

    async def scan(self, table_id: int, start: bytes, end: bytes | None, epoch: int, schema: pa.Schema) -> pa.Table:
        """Live rows in [start, end) as one Arrow table: `_key` (the table key) first, then c0..cn.

        Every overlapping block is fetched concurrently and merged at once; large
        scans do not fill the block cache.
        """
        ent_schema = entry_schema(schema)
        pieces: list[pa.Table] = [b.slice(start, end) for b in self._buffer.batches(table_id, epoch)]
        ssts = _range_candidates(self._version, table_id, start, end, epoch)
        metas = await asyncio.gather(*(self.sstables.meta(s) for s in ssts))
        requests = [(s, m, i) for s, m in zip(ssts, metas) for i in _blocks_of(m, table_id, start, end)]
        blocks = await self.sstables.blocks(requests, fill_cache=False)
        pieces += [_slice_block(b, m, i, table_id, start, end) for (_, m, i), b in zip(requests, blocks)]
        merged = merge_visible([p for p in pieces if p.num_rows], ent_schema, epoch)
        return merged.drop_columns([EPOCH, TOMB])

    async def _sources(self, table_id: int, start: bytes, end: bytes | None, epoch: int,
                       reverse: bool) -> tuple[list[PieceSource], pa.Schema | None]:
        version = self._version
        sources: list[PieceSource] = []
        schema: pa.Schema | None = None
        for batch in self._buffer.batches(table_id, epoch):
            schema = batch.schema
            sources.append(_imm_pieces(batch, start, end, reverse))
        runs = [[s] for s in _range_candidates_l0(version, table_id, start, end, epoch)]
        for level in version.levels:
            ssts = _level_range(level, table_id, start, end)
            if ssts:
                runs.append(ssts)
        for run in runs:
            if schema is None:
                meta = await self.sstables.meta(run[0])
                schema = meta.schemas.get(table_id)
            sources.append(self._sst_pieces(run, table_id, start, end, reverse))
        return sources, schema

    async def _sst_pieces(self, run: Sequence[SstInfo], table_id: int, start: bytes, end: bytes | None,
                          reverse: bool) -> AsyncIterator[pa.Table]:
        for sst in reversed(run) if reverse else run:
            meta = await self.sstables.meta(sst)
            blocks = _blocks_of(meta, table_id, start, end)
            for i in reversed(blocks) if reverse else blocks:
                piece = _slice_block(await self.sstables.block(sst, meta, i), meta, i, table_id, start, end)
                if piece.num_rows:
                    yield piece


# -- choosing what to read ------------------------------------------------------


def _point_candidates(version: HummockVersion, ukey: bytes, epoch: int) -> Iterator[SstInfo]:
    """SSTs that may hold `ukey` at or below `epoch`, newest data first."""
    for sst in version.l0:
        if sst.min_epoch <= epoch and sst.smallest_key <= ukey <= sst.largest_key:
            yield sst
    for level in version.levels:
        i = bisect.bisect_left(level, ukey, key=lambda s: s.largest_key)
        if i < len(level) and level[i].smallest_key <= ukey and level[i].min_epoch <= epoch:
            yield level[i]


def _user_range(table_id: int, start: bytes, end: bytes | None) -> tuple[bytes, bytes | None]:
    prefix = table_prefix(table_id)
    return prefix + start, prefix + end if end is not None else prefix_end(prefix)


def _range_candidates_l0(version: HummockVersion, table_id: int, start: bytes, end: bytes | None,
                         epoch: int) -> list[SstInfo]:
    ustart, uend = _user_range(table_id, start, end)
    return [s for s in version.l0 if s.min_epoch <= epoch and table_id in s.table_ids
            and s.largest_key >= ustart and (uend is None or s.smallest_key < uend)]


def _level_range(level: tuple[SstInfo, ...], table_id: int, start: bytes, end: bytes | None) -> list[SstInfo]:
    ustart, uend = _user_range(table_id, start, end)
    i = bisect.bisect_left(level, ustart, key=lambda s: s.largest_key)
    out = []
    while i < len(level) and (uend is None or level[i].smallest_key < uend):
        if table_id in level[i].table_ids:
            out.append(level[i])
        i += 1
    return out


def _range_candidates(version: HummockVersion, table_id: int, start: bytes, end: bytes | None,
                      epoch: int) -> list[SstInfo]:
    out = _range_candidates_l0(version, table_id, start, end, epoch)
    for level in version.levels:
        out += [s for s in _level_range(level, table_id, start, end) if s.min_epoch <= epoch]
    return out


def _blocks_of(meta: SstMeta, table_id: int, start: bytes, end: bytes | None) -> range:
    ustart, uend = _user_range(table_id, start, end)
    return meta.blocks_in_range(ustart, uend)


def _slice_block(block: Block, meta: SstMeta, index: int, table_id: int, start: bytes,
                 end: bytes | None) -> pa.Table:
    """The block's entries within [start, end), as a table; whole blocks inside the range are not filtered."""
    table = pa.Table.from_batches([block.batch])
    first, last = block_table_key_bounds(meta, index)
    if first >= start and (end is None or last < end):
        return table
    return table.filter(key_range_mask(table.column(0), start, end))


async def _imm_pieces(batch: ImmBatch, start: bytes, end: bytes | None, reverse: bool) -> AsyncIterator[pa.Table]:
    table = batch.slice(start, end)
    n = table.num_rows
    offsets = range(0, n, _IMM_PIECE_ROWS)
    for off in reversed(offsets) if reverse else offsets:
        yield table.slice(off, _IMM_PIECE_ROWS)
