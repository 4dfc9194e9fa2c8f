"""Compaction: what the picker chooses, and what the merge keeps."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.memcomparable import table_prefix
from storage.compaction import CompactionConfig, CompactionTask, compact, pick_compaction
from storage.iterator import merge_for_compaction
from storage.object_store.memory import MemoryObjectStore
from storage.sst import FOOTER_SIZE, decode_sst
from storage.sst_builder import build_ssts
from storage.uploader import upload_ssts
from storage.version import HummockVersion, SstInfo, sst_object_key
from tests.unit.storage.storage_helpers import ENTRY_SCHEMA, CountingStore, entries

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
                  store: MemoryObjectStore | CountingStore) -> SstInfo:
    [info] = await upload_ssts(build_ssts([(1, entries(items))]), store, alloc)
    return info


def _task(inputs: tuple[SstInfo, ...], target: tuple[SstInfo, ...], bottom: bool, watermark: int,
          target_bytes: int = 64 << 20) -> CompactionTask:
    return CompactionTask(1, 0, 1, inputs, target, bottom, watermark, target_bytes, 128)


async def _read_all(store: MemoryObjectStore | CountingStore, infos: list[SstInfo]) -> list[tuple[bytes, int, bool]]:
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


Item = tuple[bytes, int, tuple[int, str] | None]


def _entries_of(table: pa.Table) -> list[tuple[bytes, int, bool, int | None, str | None]]:
    return list(zip(*(table.column(i).to_pylist() for i in range(5))))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.tuples(st.integers(0, 80), st.integers(1, 30), st.booleans()), max_size=150),
                min_size=1, max_size=4),
       st.lists(st.tuples(st.integers(0, 80), st.integers(1, 30), st.booleans()), max_size=150),
       st.integers(0, 31), st.booleans(), st.sampled_from([1, 600, 4 << 20]), st.sampled_from([3000, 64 << 20]))
def test_streaming_compaction_equals_merging_everything_at_once(
        l0: list[list[tuple[int, int, bool]]], l1: list[tuple[int, int, bool]], watermark: int, bottom: bool,
        read_bytes: int, target_bytes: int) -> None:
    """Whatever the read size and output size, the outputs hold exactly what one in-memory merge keeps."""
    def items(raw: list[tuple[int, int, bool]]) -> list[Item]:
        seen = {(k, e): (b"k%03d" % k, e, None if tomb else (k * e, "v" * (k % 7))) for k, e, tomb in raw}
        return list(seen.values())

    async def run() -> None:
        store = CountingStore(MemoryObjectStore())
        counter = itertools.count(1)

        async def alloc(n: int) -> list[int]:
            return [next(counter) for _ in range(n)]

        l0_items = [items(raw) for raw in l0 if raw]
        l0_ssts = tuple([(await upload_ssts(build_ssts([(1, entries(i))], block_size=256), store, alloc))[0]
                         for i in l0_items])
        l1_items = items(l1)
        l1_ssts = tuple(await upload_ssts(build_ssts([(1, entries(l1_items))], block_size=256,
                                                     sst_target_bytes=2000), store, alloc)) if l1_items else ()
        if not l0_ssts and not l1_ssts:
            return
        store.reset()
        task = CompactionTask(1, 0, 1, l0_ssts, l1_ssts, bottom, watermark, target_bytes, 256)
        outputs = await compact(task, store, alloc, read_bytes=read_bytes)
        assert not store.gets, "compaction reads by ranged GETs, never whole objects"
        every = [i for group in l0_items for i in group] + l1_items
        expected = merge_for_compaction([entries(every)], ENTRY_SCHEMA, watermark, bottom)
        assert await _read_all(store, outputs) == [e[:3] for e in _entries_of(expected)]
        for a, b in itertools.pairwise(outputs):
            assert a.largest_key < b.smallest_key  # sorted, non-overlapping: no key straddles two outputs

    asyncio.run(run())


async def test_compaction_reads_inputs_in_bounded_ranges(id_allocator: Alloc) -> None:
    store = CountingStore(MemoryObjectStore())
    big = [(b"k%05d" % i, 3, (i, "x" * 40)) for i in range(3000)]
    newer = [(b"k%05d" % i, 5, (i, "y")) for i in range(0, 3000, 3)]
    old = await upload_ssts(build_ssts([(1, entries(big))], block_size=1024, sst_target_bytes=40_000), store,
                            id_allocator)
    [new] = await upload_ssts(build_ssts([(1, entries(newer))], block_size=1024), store, id_allocator)
    total = sum(s.file_size for s in old) + new.file_size
    store.reset()
    outputs = await compact(_task((new,), tuple(old), True, 5, target_bytes=40_000), store, id_allocator,
                            read_bytes=8192)
    assert not store.gets
    sizes = {s.object_key: s.file_size for s in (*old, new)}
    block_reads = [e - s for key, s, e in store.ranges if e < sizes[key] - FOOTER_SIZE]  # not footer nor meta
    assert block_reads and max(block_reads) <= 8192
    assert store.bytes_read < 2 * total  # each input byte is read about once
    assert len(outputs) > 3 and sum(o.entry_count for o in outputs) == 3000
    rows = await _read_all(store, outputs)
    assert [(k, e) for k, e, _ in rows] == [(b"k%05d" % i, 5 if i % 3 == 0 else 3) for i in range(3000)]
