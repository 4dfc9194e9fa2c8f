"""Compaction: what the picker chooses, and what the merge keeps."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable

from common.memcomparable import table_prefix
from storage.compaction import CompactionConfig, CompactionTask, compact, pick_compaction
from storage.object_store.memory import MemoryObjectStore
from storage.sst import decode_sst
from storage.sst_builder import build_ssts
from storage.uploader import upload_ssts
from storage.version import HummockVersion, SstInfo, sst_object_key
from tests.unit.storage.storage_helpers import entries

Alloc = Callable[[int], Awaitable[list[int]]]


def sst(object_id: int, lo: bytes, hi: bytes, size: int = 100) -> SstInfo:
    return SstInfo(object_id, sst_object_key(object_id), size, (1,), lo, hi, 1, 1, 10)


def test_pick_l0_takes_all_of_l0_and_the_overlapping_part_of_l1() -> None:
    cfg = CompactionConfig(l0_trigger=2)
    l1 = (sst(10, b"a", b"c"), sst(11, b"d", b"f"), sst(12, b"g", b"i"), sst(13, b"x", b"z"))
    v = HummockVersion(5, 9, (sst(1, b"e", b"e"),), (l1,))
    assert pick_compaction(v, cfg) is None
    v = HummockVersion(5, 9, (sst(2, b"b", b"b"), sst(1, b"e", b"h")), (l1,))
    task = pick_compaction(v, cfg)
    assert task is not None
    assert (task.input_level, task.target_level) == (0, 1)
    assert [s.object_id for s in task.inputs] == [2, 1]
    assert [s.object_id for s in task.target_inputs] == [10, 11, 12]
    assert task.drop_tombstones and task.watermark_epoch == 9
    assert pick_compaction(v, cfg, busy_levels=frozenset({1})) is None


def test_pick_overfull_level_pushes_least_overlapping_sst_down() -> None:
    cfg = CompactionConfig(l0_trigger=10, base_level_bytes=250, level_multiplier=10)
    l1 = (sst(10, b"a", b"c"), sst(11, b"d", b"f"), sst(12, b"g", b"i"))
    l2 = (sst(20, b"a", b"b"), sst(21, b"b\x01", b"e"), sst(22, b"j", b"k"))
    l3 = (sst(30, b"a", b"z"),)
    task = pick_compaction(HummockVersion(1, 1, (), (l1, l2, l3)), cfg)
    assert task is not None
    assert (task.input_level, task.target_level) == (1, 2)
    assert [s.object_id for s in task.inputs] == [12]
    assert task.target_inputs == ()
    assert not task.drop_tombstones  # L3 lies below the target
    assert pick_compaction(HummockVersion(1, 1, (), (l1,)), cfg.__class__(base_level_bytes=1000)) is None


async def _upload(items: list[tuple[bytes, int, tuple[int, str] | None]], alloc: Alloc,
                  store: MemoryObjectStore) -> SstInfo:
    [info] = await upload_ssts(build_ssts([(1, entries(items))]), store, alloc)
    return info


def _task(inputs: tuple[SstInfo, ...], target: tuple[SstInfo, ...], bottom: bool, watermark: int,
          target_bytes: int = 64 << 20) -> CompactionTask:
    return CompactionTask(1, 0, 1, inputs, target, bottom, watermark, target_bytes, 128)


async def _read_all(store: MemoryObjectStore, infos: list[SstInfo]) -> list[tuple[bytes, int, bool]]:
    out = []
    for info in infos:
        _, blocks = decode_sst(await store.get(info.object_key), info.object_key)
        for b in blocks:
            out += list(zip(b.batch.column(0).to_pylist(), b.batch.column(1).to_pylist(),
                            b.batch.column(2).to_pylist()))
    return out


async def test_compact_keeps_versions_above_watermark_and_drops_bottom_tombstones(id_allocator: Alloc) -> None:
    store = MemoryObjectStore()
    old = await _upload([(b"a", 1, (1, "a1")), (b"b", 1, (1, "b1")), (b"c", 1, (1, "c1"))], id_allocator, store)
    new = await _upload([(b"a", 5, (5, "a5")), (b"b", 3, None), (b"c", 8, None), (b"a", 7, (7, "a7"))],
                        id_allocator, store)
    outputs = await compact(_task((new,), (old,), True, 5), store, id_allocator)
    # a: 7 is above the watermark, 5 is the newest at or below it; b: its tombstone at 3 goes, and b1 with it;
    # c: the tombstone at 8 must stay (a reader at 5 still sees c1 under it).
    assert await _read_all(store, outputs) == [(b"a", 7, False), (b"a", 5, False), (b"c", 8, True),
                                               (b"c", 1, False)]
    not_bottom = await compact(_task((new,), (old,), False, 5), store, id_allocator)
    assert (b"b", 3, True) in await _read_all(store, not_bottom)


async def test_compact_splits_outputs_by_size_and_table(id_allocator: Alloc) -> None:
    store = MemoryObjectStore()
    runs = [(1, entries([(b"k%04d" % i, 2, (i, "x" * 20)) for i in range(400)])),
            (2, entries([(b"k%04d" % i, 2, (i, "y")) for i in range(10)]))]
    [mixed] = await upload_ssts(build_ssts(runs), store, id_allocator)
    assert mixed.table_ids == (1, 2)
    outputs = await compact(_task((mixed,), (), True, 2, target_bytes=4000), store, id_allocator)
    assert len(outputs) > 3
    assert all(len(o.table_ids) == 1 for o in outputs)
    assert outputs[-1].table_ids == (2,) and outputs[-1].smallest_key == table_prefix(2) + b"k0000"
    for a, b in itertools.pairwise(outputs):
        assert a.largest_key < b.smallest_key
    assert sum(o.entry_count for o in outputs) == 410
