"""Compaction: choosing SSTs to merge (a simple leveled scheme) and merging them one level down.

L0 collects one overlapping group of SSTs per commit. When it holds
`l0_trigger` SSTs, all of it merges with the overlapping part of L1. When
level n outgrows its target (`base_level_bytes * level_multiplier^(n-1)`),
the SST of it that overlaps least with level n+1 merges into n+1. The
merge keeps what a reader at or above the watermark epoch can see, so
steady inserts keep a bounded number of SSTs.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pyarrow as pa

from common import codec
from storage.iterator import merge_for_compaction
from storage.object_store import ObjectStore
from storage.sst import decode_sst
from storage.sst_builder import BuiltSst, build_ssts
from storage.uploader import IdAllocator, upload_ssts
from storage.version import HummockVersion, SstInfo


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
                  watermark_epoch: int | None = None) -> list[SstInfo]:
    """Merge the task's inputs into new SSTs for its target level, uploaded; returns them sorted by key."""
    watermark = task.watermark_epoch if watermark_epoch is None else watermark_epoch
    datas = await asyncio.gather(*(object_store.get(s.object_key) for s in task.all_inputs))
    built = await asyncio.to_thread(_merge_and_build, task, list(zip(task.all_inputs, datas)), watermark)
    infos = await upload_ssts(built, object_store, id_allocator)
    return sorted(infos, key=lambda s: s.smallest_key)


def _merge_and_build(task: CompactionTask, inputs: list[tuple[SstInfo, bytes]], watermark: int) -> list[BuiltSst]:
    pieces: dict[int, list[pa.RecordBatch]] = {}
    schemas: dict[int, pa.Schema] = {}
    for sst, data in inputs:
        meta, blocks = decode_sst(data, sst.object_key)
        for table_id, block in zip(meta.block_tables, blocks):
            pieces.setdefault(table_id, []).append(block.batch)
            schemas.setdefault(table_id, meta.schemas[table_id])
    runs: list[tuple[int, pa.Table]] = []
    for table_id in sorted(pieces):
        merged = merge_for_compaction(pieces[table_id], schemas[table_id], watermark, task.drop_tombstones)
        runs.append((table_id, merged))
    return build_ssts(runs, block_size=task.block_size, sst_target_bytes=task.sst_target_bytes, split_tables=True,
                      compression=task.compression)
