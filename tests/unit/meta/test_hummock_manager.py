"""The hummock manager: durable versions and ids, compaction scheduling, pins, vacuum and full GC."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from common.errors import InternalError
from meta.hummock_manager import HummockManager
from meta.meta_store import Delete, Put, SqliteMetaStore, open_meta_store
from storage.compaction import CompactionConfig, compact
from storage.object_store.memory import MemoryObjectStore
from storage.state_store import StateStore
from storage.version import SstInfo, sst_object_key
from tests.helpers.meta_store_db import meta_store_url

SCHEMA = pa.schema([("c0", pa.int64())])
SMALL = CompactionConfig(l0_trigger=3, base_level_bytes=6000, level_multiplier=3, sst_target_bytes=2000,
                         block_size=256)


async def _ingest_and_commit(mgr: HummockManager, store: StateStore, epoch: int, keys: range,
                             extra: Sequence[Put] = ()) -> list[SstInfo]:
    store.ingest(1, epoch, {b"k%06d" % k: (k * epoch,) for k in keys}, SCHEMA)
    infos = await store.sync(epoch)
    store.update_version(await mgr.commit_epoch(epoch, infos, extra))
    return infos


async def _compact_once(mgr: HummockManager, object_store: Any, store: StateStore | None = None) -> bool:
    task = mgr.get_compaction_task()
    if task is None:
        return False
    outputs = await compact(task, object_store, mgr.new_object_ids)
    version = await mgr.report_compaction(task.task_id, outputs)
    assert version is not None
    if store is not None:
        store.update_version(version)
    return True


@pytest.fixture(params=["sqlite", "postgres"])
def meta_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with meta_store_url(request.param, tmp_path) as url:
        yield url


async def test_restart_restores_version_ids_and_extra_puts(meta_url: str) -> None:
    object_store = MemoryObjectStore()
    first = open_meta_store(meta_url)
    mgr = await HummockManager.load(first, SMALL)
    store = StateStore(object_store, id_allocator=mgr.new_object_ids, sst_target_bytes=2000)
    for e in range(1, 6):
        await _ingest_and_commit(mgr, store, e, range(e * 10, e * 10 + 50), [("catalog", "source", {"offset": e})])
    await _compact_once(mgr, object_store, store)
    before = mgr.version
    used = {s.object_id for s in before.all_ssts()}
    first.close()
    meta_store = open_meta_store(meta_url)
    again = await HummockManager.load(meta_store, SMALL)
    assert again.version == before
    assert meta_store.get("catalog", "source") == {"offset": 5}
    fresh = await again.new_object_ids(5)
    assert not set(fresh) & used and min(fresh) > max(used)
    # A store started from the restored version reads what was written.
    reader = StateStore(object_store, id_allocator=again.new_object_ids)
    reader.update_version(again.version)
    assert await reader.get(1, b"k000099", 5) == (99 * 5,)
    assert await reader.get(1, b"k000049", 5) == (49 * 4,)
    assert await reader.get(1, b"k000012", 5) == (12,)
    meta_store.close()


async def test_object_ids_never_repeat_across_restarts(meta_url: str) -> None:
    seen: list[int] = []
    for _ in range(3):
        meta_store = open_meta_store(meta_url)
        mgr = await HummockManager.load(meta_store)
        seen += await mgr.new_object_ids(3)
        seen += await mgr.new_object_ids(2000)
        meta_store.close()
    assert len(seen) == len(set(seen))


async def test_commits_must_advance_and_are_atomic() -> None:
    class FailingStore(SqliteMetaStore):
        fail = False

        async def write(self, puts: Sequence[Put] = (), deletes: Sequence[Delete] = ()) -> None:
            if self.fail:
                raise OSError("disk gone")
            await super().write(puts, deletes)

    meta = FailingStore(":memory:")
    mgr = await HummockManager.load(meta)
    v1 = await mgr.commit_epoch(100, [], [("t", "k", 1)])
    with pytest.raises(InternalError, match="not after the committed epoch"):
        await mgr.commit_epoch(100, [])
    with pytest.raises(InternalError, match="never allocated"):
        await mgr.commit_epoch(200, [SstInfo(10**9, sst_object_key(10**9), 1, (1,), b"a", b"b", 200, 200, 1)])
    meta.fail = True
    with pytest.raises(OSError):
        await mgr.commit_epoch(200, [], [("t", "k", 2)])
    assert mgr.version == v1
    meta.fail = False
    assert meta.get("t", "k") == 1
    assert (await mgr.commit_epoch(200, [])).id == v1.id + 1


async def test_compaction_keeps_sst_count_bounded_under_steady_ingest() -> None:
    object_store = MemoryObjectStore()
    mgr = await HummockManager.load(SqliteMetaStore(":memory:"), SMALL)
    store = StateStore(object_store, id_allocator=mgr.new_object_ids, block_size=256, sst_target_bytes=2000)
    counts = []
    for e in range(1, 81):
        await _ingest_and_commit(mgr, store, e, range(e * 7, e * 7 + 40))
        while await _compact_once(mgr, object_store, store):
            pass
        await mgr.vacuum(object_store)
        counts.append(mgr.version.sst_count())
    total_bytes = sum(s.file_size for s in mgr.version.all_ssts())
    assert max(counts) <= 2 + total_bytes // SMALL.sst_target_bytes + SMALL.l0_trigger
    assert len(mgr.version.levels) >= 2  # data reached deeper levels
    assert len(await object_store.list("sst/")) == mgr.version.sst_count()
    assert await store.get(1, b"k000007", 80) == (7,)
    assert await store.get(1, b"k000590", 80) == (590 * 80,)


async def test_vacuum_spares_objects_a_pinned_version_names() -> None:
    object_store = MemoryObjectStore()
    mgr = await HummockManager.load(SqliteMetaStore(":memory:"), SMALL)
    store = StateStore(object_store, id_allocator=mgr.new_object_ids)
    for e in range(1, 4):
        await _ingest_and_commit(mgr, store, e, range(0, 30))
    pinned = mgr.pin_version("batch-query")
    assert await _compact_once(mgr, object_store, store)
    assert await mgr.vacuum(object_store) == 0
    stored = {m.key for m in await object_store.list("sst/")}
    assert {s.object_key for s in pinned.all_ssts()} <= stored
    mgr.unpin_version("batch-query", pinned.id)
    assert await mgr.vacuum(object_store) == 3
    stored = {m.key for m in await object_store.list("sst/")}
    assert stored == {s.object_key for s in mgr.version.all_ssts()}
    assert await mgr.vacuum(object_store) == 0


async def test_watermark_follows_the_oldest_pin() -> None:
    mgr = await HummockManager.load(SqliteMetaStore(":memory:"))
    await mgr.commit_epoch(10, [])
    mgr.pin_version("a")
    await mgr.commit_epoch(20, [])
    mgr.pin_version("b")
    await mgr.commit_epoch(30, [])
    assert mgr.watermark_epoch() == 10
    mgr.unpin_version("a")
    assert mgr.watermark_epoch() == 20
    mgr.unpin_version("b")
    assert mgr.watermark_epoch() == 30


async def test_a_leased_pin_lapses_unless_renewed() -> None:
    mgr = await HummockManager.load(SqliteMetaStore(":memory:"))
    await mgr.commit_epoch(10, [])
    mgr.pin_version(("snapshot", 1))
    mgr.lease(("snapshot", 1), 60, now=0)
    mgr.pin_version(("snapshot", 2))
    mgr.lease(("snapshot", 2), 60, now=0)
    mgr.pin_version("unleased")  # a compute node's pin: dropped when the node leaves, never lapses
    await mgr.commit_epoch(20, [])
    assert mgr.renew_leases([("snapshot", 1), ("snapshot", 9)], 60, now=50) == [("snapshot", 9)]
    assert mgr.expire_leases(now=59) == []
    assert mgr.expire_leases(now=61) == [("snapshot", 2)]  # its frontend stopped renewing it
    assert mgr.watermark_epoch() == 10
    mgr.unpin_version(("snapshot", 1))  # an unpin ends the lease with the pins
    assert mgr.expire_leases(now=1000) == []
    assert mgr.renew_leases([("snapshot", 1)], 60, now=1000) == [("snapshot", 1)]
    mgr.unpin_version("unleased")
    assert mgr.watermark_epoch() == 20


async def test_stale_and_failed_reports() -> None:
    object_store = MemoryObjectStore()
    mgr = await HummockManager.load(SqliteMetaStore(":memory:"), SMALL)
    store = StateStore(object_store, id_allocator=mgr.new_object_ids)
    for e in range(1, 4):
        await _ingest_and_commit(mgr, store, e, range(0, 30))
    task = mgr.get_compaction_task()
    assert task is not None and mgr.get_compaction_task() is None  # its levels are busy
    assert await mgr.report_compaction(task.task_id, None) is None
    retry = mgr.get_compaction_task()  # a failure frees the levels
    assert retry is not None
    outputs = await compact(retry, object_store, mgr.new_object_ids)
    assert await mgr.report_compaction(retry.task_id, outputs) is not None
    # Reporting the same task again is rejected, and its new outputs are deleted by the next vacuum.
    again = await compact(retry, object_store, mgr.new_object_ids)
    assert await mgr.report_compaction(retry.task_id, again) is None
    await mgr.vacuum(object_store)
    stored = {m.key for m in await object_store.list("sst/")}
    assert stored == {s.object_key for s in mgr.version.all_ssts()}


async def test_full_gc_deletes_old_orphans_only() -> None:
    object_store = MemoryObjectStore()
    mgr = await HummockManager.load(SqliteMetaStore(":memory:"))
    store = StateStore(object_store, id_allocator=mgr.new_object_ids)
    await _ingest_and_commit(mgr, store, 1, range(0, 10))
    store.ingest(1, 2, {b"orphan": (1,)}, SCHEMA)
    orphans = await store.sync(2)  # uploaded, but the epoch never commits
    store.clear_uncommitted()
    await object_store.put("sst/not-an-sst-name", b"x")
    assert await mgr.full_gc(object_store, min_age_s=3600) == 0  # too young: may be an upload in flight
    assert await mgr.full_gc(object_store, min_age_s=-1) == len(orphans) == 1
    keys = {m.key for m in await object_store.list("sst/")}
    assert keys == {s.object_key for s in mgr.version.all_ssts()} | {"sst/not-an-sst-name"}
