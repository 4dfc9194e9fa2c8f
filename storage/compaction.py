"""Compaction: choosing SSTs to merge (a simple leveled scheme) and merging them one level down.

L0 collects one overlapping group of SSTs per commit. When it holds
`l0_trigger` SSTs, all of it merges with the overlapping part of L1. When
level n outgrows its target (`base_level_bytes * level_multiplier^(n-1)`),
the SST of it that overlaps least with level n+1 merges into n+1. The
merge keeps what a reader at or above the watermark epoch can see, so
steady inserts keep a bounded number of SSTs. The merge streams: inputs are
read a few MB at a time and outputs uploaded as they fill.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pyarrow as pa

from common import codec
from storage.errors import DataCorrupted
from storage.iterator import merge_for_compaction, windows
from storage.object_store import ObjectStore
from storage.sst import SstMeta, decode_block
from storage.sst_builder import BuiltSst, SstWriter
from storage.sstable_store import read_meta
from storage.uploader import IdAllocator, upload_ssts
from storage.version import HummockVersion, SstInfo

READ_BYTES = 4 << 20  # consecutive blocks one ranged GET of a compaction input reads


@codec.register
@dataclass(frozen=True, slots=True)
class CompactionConfig:
    l0_trigger: int = 4
    max_level: int = 6
    base_level_bytes: int = 256 << 20
    level_multiplier: int = 10
    sst_target_bytes: int = 64 << 20
    block_size: int = 64 << 10
    compression: str | None = None

    def level_target_bytes(self, level: int) -> int:
        return self.base_level_bytes * self.level_multiplier ** (level - 1)


@codec.register
@dataclass(frozen=True, slots=True)
class CompactionTask:
    """Merge `inputs` (from `input_level`) with `target_inputs` (their overlap in `target_level`).

    `drop_tombstones` is set when no level below the target holds data.
    `watermark_epoch` is the oldest epoch any reader may still read at.
    """

    task_id: int
    input_level: int
    target_level: int
    inputs: tuple[SstInfo, ...]
    target_inputs: tuple[SstInfo, ...]
    drop_tombstones: bool
    watermark_epoch: int
    sst_target_bytes: int
    block_size: int
    compression: str | None = None

    @property
    def all_inputs(self) -> tuple[SstInfo, ...]:
        return self.inputs + self.target_inputs

    @property
    def levels(self) -> frozenset[int]:
        return frozenset((self.input_level, self.target_level))


def _overlapping(level: tuple[SstInfo, ...], smallest: bytes, largest: bytes) -> tuple[SstInfo, ...]:
    return tuple(s for s in level if s.overlaps(smallest, largest))


def _level_bytes(level: tuple[SstInfo, ...]) -> int:
    return sum(s.file_size for s in level)


def pick_compaction(version: HummockVersion, config: CompactionConfig, *,
                    busy_levels: frozenset[int] = frozenset()) -> CompactionTask | None:
    """The most urgent compaction, or None. Levels in `busy_levels` belong to running tasks.

    The task's id is 0 and its watermark the committed epoch; the caller fills in its own.
    """
    candidates: list[tuple[float, int]] = []
    if len(version.l0) >= config.l0_trigger:
        candidates.append((len(version.l0) / config.l0_trigger, 0))
    for n in range(1, min(len(version.levels), config.max_level - 1) + 1):
        score = _level_bytes(version.level(n)) / config.level_target_bytes(n)
        if score > 1.0:
            candidates.append((score, n))
    for _score, n in sorted(candidates, reverse=True):
        if n in busy_levels or n + 1 in busy_levels:
            continue
        inputs = version.l0 if n == 0 else _least_overlapping(version, n)
        smallest = min(s.smallest_key for s in inputs)
        largest = max(s.largest_key for s in inputs)
        target = n + 1
        return CompactionTask(
            task_id=0, input_level=n, target_level=target, inputs=inputs,
            target_inputs=_overlapping(version.level(target), smallest, largest),
            drop_tombstones=all(not version.level(m) for m in range(target + 1, len(version.levels) + 1)),
            watermark_epoch=version.committed_epoch, sst_target_bytes=config.sst_target_bytes,
            block_size=config.block_size, compression=config.compression)
    return None


def _least_overlapping(version: HummockVersion, n: int) -> tuple[SstInfo, ...]:
    below = version.level(n + 1)
    best = min(version.level(n), key=lambda s: _level_bytes(_overlapping(below, s.smallest_key, s.largest_key)))
    return (best,)


async def compact(task: CompactionTask, object_store: ObjectStore, id_allocator: IdAllocator, *,
                  watermark_epoch: int | None = None, read_bytes: int = READ_BYTES) -> list[SstInfo]:
    """Merge the task's inputs into new SSTs for its target level, uploaded; returns them sorted by key.

    Each input run (an L0 SST, or a level's SSTs in key order) is read by
    ranged GETs of up to `read_bytes` of consecutive blocks and merged with
    the others a key window at a time; each output SST is uploaded as soon
    as it is complete. Memory stays at about one read per run plus one
    output SST, whatever the size of the task.
    """
    watermark = task.watermark_epoch if watermark_epoch is None else watermark_epoch
    runs = _input_runs(task)
    ssts = [s for run in runs for s in run]
    metas = dict(zip((s.object_id for s in ssts),
                     await asyncio.gather(*(read_meta(object_store, s) for s in ssts))))
    writer = SstWriter(block_size=task.block_size, sst_target_bytes=task.sst_target_bytes, split_tables=True,
                       compression=task.compression)
    outputs: list[SstInfo] = []
    for table_id in sorted({t for m in metas.values() for t in m.schemas}):
        table_runs = [[s for s in run if table_id in metas[s.object_id].schemas] for run in runs]
        table_runs = [run for run in table_runs if run]
        schema = metas[table_runs[0][0].object_id].schemas[table_id]
        sources = [_run_pieces(object_store, run, metas, table_id, read_bytes) for run in table_runs]
        async for taken in windows(sources):
            built = await asyncio.to_thread(_merge_window, writer, table_id, taken, schema, watermark,
                                            task.drop_tombstones)
            outputs += await upload_ssts(built, object_store, id_allocator)
    outputs += await upload_ssts(await asyncio.to_thread(writer.finish), object_store, id_allocator)
    return sorted(outputs, key=lambda s: s.smallest_key)


def _input_runs(task: CompactionTask) -> list[list[SstInfo]]:
    """Sorted runs of non-overlapping SSTs: each L0 SST alone, a level's SSTs together in key order."""
    runs = [[s] for s in task.inputs] if task.input_level == 0 else [sorted(task.inputs, key=_smallest)]
    if task.target_inputs:
        runs.append(sorted(task.target_inputs, key=_smallest))
    return runs


def _smallest(sst: SstInfo) -> bytes:
    return sst.smallest_key


async def _run_pieces(object_store: ObjectStore, run: list[SstInfo], metas: dict[int, SstMeta], table_id: int,
                      read_bytes: int) -> AsyncIterator[pa.Table]:
    """A run's entries of one table, in key order, a ranged GET of consecutive blocks at a time."""
    for sst in run:
        meta = metas[sst.object_id]
        group: list[int] = []
        for i in [i for i, t in enumerate(meta.block_tables) if t == table_id]:
            if group and meta.offsets[i] + meta.lengths[i] - meta.offsets[group[0]] > read_bytes:
                yield await _read_blocks(object_store, sst, meta, group)
                group = []
            group.append(i)
        if group:
            yield await _read_blocks(object_store, sst, meta, group)


async def _read_blocks(object_store: ObjectStore, sst: SstInfo, meta: SstMeta, group: list[int]) -> pa.Table:
    lo, last = meta.offsets[group[0]], group[-1]
    hi = meta.offsets[last] + meta.lengths[last]
    data = await object_store.get_range(sst.object_key, lo, hi)
    if len(data) != hi - lo:
        raise DataCorrupted(sst.object_key, "object shorter than its block index says")

    def decode() -> pa.Table:
        view = memoryview(data)
        return pa.Table.from_batches([
            decode_block(bytes(view[meta.offsets[i] - lo: meta.offsets[i] - lo + meta.lengths[i]]), meta, i,
                         sst.object_key).batch for i in group])

    return await asyncio.to_thread(decode)


def _merge_window(writer: SstWriter, table_id: int, pieces: list[pa.Table], schema: pa.Schema, watermark: int,
                  drop_tombstones: bool) -> list[BuiltSst]:
    return writer.add(table_id, merge_for_compaction(pieces, schema, watermark, drop_tombstones))
