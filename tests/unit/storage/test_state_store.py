"""The state store against a dict model: writes over many epochs, syncs, commits, compactions, recovery."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.errors import InternalError
from meta.hummock_manager import HummockManager
from meta.meta_store import SqliteMetaStore
from storage.compaction import CompactionConfig, compact
from storage.object_store import ObjectStore
from storage.object_store.memory import MemoryObjectStore
from storage.state_store import StateStore
from tests.unit.storage.storage_helpers import CountingStore

SCHEMAS = {1: pa.schema([("c0", pa.int64()), ("c1", pa.string())]), 2: pa.schema([("c0", pa.int32())])}
KEYS = [b"\x00\x01k%02d" % i for i in range(24)] + [b"\x00\x02"]
Model = dict[int, dict[bytes, tuple[Any, ...]]]  # table -> key -> row


def _row(table: int, v: int) -> tuple[Any, ...]:
    return (v, f"s{v}" * (v % 3)) if table == 1 else (v,)


class Harness:
    """A state store wired to a hummock manager, with the model of what each epoch must read."""

    def __init__(self, object_store: ObjectStore, config: CompactionConfig) -> None:
        self.object_store = object_store
        self.config = config
        self.snapshots: dict[int, Model] = {0: {1: {}, 2: {}}}
        self.epoch = 1
        self.pending: dict[int, dict[bytes, tuple[Any, ...] | None]] = {1: {}, 2: {}}
        self.pinned: set[int] = set()

    async def start(self) -> None:
        self.mgr = await HummockManager.load(SqliteMetaStore(":memory:"), self.config)
        self.store = StateStore(self.object_store, id_allocator=self.mgr.new_object_ids, block_size=200,
                                sst_target_bytes=1500)

    @property
    def committed(self) -> int:
        return self.store.version.committed_epoch

    def put(self, table: int, key: int, value: int | None) -> None:
        self.pending[table][KEYS[key]] = None if value is None else _row(table, value)

    def seal(self) -> None:
        last = max(self.snapshots)
        model = {t: dict(rows) for t, rows in self.snapshots[last].items()}
        for t, writes in self.pending.items():
            if writes:
                self.store.ingest(t, self.epoch, writes, SCHEMAS[t])
            for k, r in writes.items():
                if r is None:
                    model[t].pop(k, None)
                else:
                    model[t][k] = r
        self.snapshots[self.epoch] = model
        self.pending = {1: {}, 2: {}}
        self.epoch += 1

    async def commit(self, pin: bool) -> None:
        sealed = max(self.snapshots)
        if sealed <= self.committed:
            return
        infos = await self.store.sync(sealed)
        self.store.update_version(await self.mgr.commit_epoch(sealed, infos))
        if pin:
            self.mgr.pin_version("reader")
            self.pinned.add(sealed)

    async def compact(self) -> None:
        task = self.mgr.get_compaction_task()
        if task is None:
            return
        outputs = await compact(task, self.object_store, self.mgr.new_object_ids)
        version = await self.mgr.report_compaction(task.task_id, outputs)
        assert version is not None
        self.store.update_version(version)

    def unpin_all(self) -> None:
        self.mgr.unpin_version("reader")
        self.pinned.clear()

    def recover(self) -> None:
        """Drop everything uncommitted, as recovery does; epochs keep increasing."""
        self.store.clear_uncommitted()
        for e in [e for e in self.snapshots if e > self.committed]:
            del self.snapshots[e]
        self.pending = {1: {}, 2: {}}

    def readable_epochs(self) -> list[int]:
        """Epochs compaction promised to keep: pinned ones, and everything from the committed epoch on."""
        return sorted(e for e in self.snapshots if e >= self.committed or e in self.pinned)

    async def check(self, epoch: int) -> None:
        for table, expected in self.snapshots[epoch].items():
            for key in KEYS:
                assert await self.store.get(table, key, epoch) == expected.get(key), (table, key, epoch)
            items = sorted(expected.items())
            assert [kv async for kv in self.store.iter(table, b"", None, epoch)] == items
            assert [kv async for kv in self.store.iter(table, b"", None, epoch, reverse=True)] == items[::-1]
            lo, hi = KEYS[5], KEYS[17]
            assert [kv async for kv in self.store.iter(table, lo, hi, epoch)] == [kv for kv in items if lo <= kv[0] < hi]
            scanned = await self.store.scan(table, b"", None, epoch, SCHEMAS[table])
            assert scanned.column("_key").to_pylist() == [k for k, _ in items]
            assert list(zip(*[scanned.column(f"c{i}").to_pylist() for i in range(len(SCHEMAS[table]))])) == \
                [r for _, r in items]


put_st = st.tuples(st.just("put"), st.sampled_from([1, 1, 2]), st.integers(0, len(KEYS) - 1),
                   st.one_of(st.none(), st.integers(0, 50), st.integers(0, 50)))
# One round is an epoch: its writes, the seal, maybe a checkpoint, then maybe one more action.
round_st = st.tuples(
    st.lists(put_st, max_size=10),
    st.sampled_from([None, False, False, True]),  # no checkpoint, or a commit (pinned if True)
    st.sampled_from(["compact", "compact", "compact", None, None, "vacuum", "unpin", "recover"]),
).map(lambda r: [*r[0], ("seal",), *([] if r[1] is None else [("commit", r[1])]), *([] if r[2] is None else [(r[2],)])])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(round_st, min_size=6, max_size=40).map(lambda rounds: [s for r in rounds for s in r]))
def test_state_store_matches_model(steps: list[tuple[Any, ...]]) -> None:
    asyncio.run(_run_model(steps, MemoryObjectStore()))


async def _run_model(steps: list[tuple[Any, ...]], object_store: ObjectStore) -> None:
    h = Harness(object_store, CompactionConfig(l0_trigger=3, base_level_bytes=3000, level_multiplier=2,
                                               sst_target_bytes=1500, block_size=200))
    await h.start()
    for s in steps:
        if s[0] == "put":
            h.put(s[1], s[2], s[3])
        elif s[0] == "seal":
            h.seal()
        elif s[0] == "commit":
            await h.commit(s[1])
        elif s[0] == "compact":
            await h.compact()
            await h.check(max(h.snapshots))
        elif s[0] == "vacuum":
            await h.mgr.vacuum(object_store)
        elif s[0] == "unpin":
            h.unpin_all()
        elif s[0] == "recover":
            h.recover()
    for epoch in h.readable_epochs():
        await h.check(epoch)
    # What the version names is all in the object store.
    stored = {m.key for m in await object_store.list("sst/")}
    assert {s.object_key for s in h.store.version.all_ssts()} <= stored


async def test_steady_ingest_with_compaction_stays_correct_and_bounded() -> None:
    object_store = MemoryObjectStore()
    h = Harness(object_store, CompactionConfig(l0_trigger=3, base_level_bytes=20_000, level_multiplier=4,
                                               sst_target_bytes=4000, block_size=300))
    await h.start()
    counts = []
    for i in range(60):
        for k in range(len(KEYS)):
            if (i + k) % 3 == 0:
                h.put(1, k, i * 100 + k)
            elif (i * k) % 7 == 1:
                h.put(1, k, None)
        h.seal()
        await h.commit(pin=False)
        await h.compact()
        await h.mgr.vacuum(object_store)
        counts.append(h.store.version.sst_count())
    await h.check(max(h.snapshots))
    assert max(counts[20:]) <= 12
    assert len(await object_store.list("sst/")) == h.store.version.sst_count()


async def test_uncommitted_reads_and_clear_uncommitted(id_allocator: Callable[[int], Awaitable[list[int]]]) -> None:
    store = StateStore(MemoryObjectStore(), id_allocator=id_allocator)
    store.ingest(1, 10, {b"a": (1, "x"), b"b": (2, "y")}, SCHEMAS[1])
    store.ingest(1, 20, {b"a": None, b"c": (3, "z")}, SCHEMAS[1])
    assert await store.get(1, b"a", 10) == (1, "x")
    assert await store.get(1, b"a", 20) is None
    assert await store.get(1, b"a", 9) is None
    assert [k async for k, _ in store.iter(1, b"", None, 20)] == [b"b", b"c"]
    assert (await store.scan(1, b"", None, 15, SCHEMAS[1])).column("_key").to_pylist() == [b"a", b"b"]
    store.clear_uncommitted()
    assert await store.get(1, b"b", 20) is None
    assert [kv async for kv in store.iter(1, b"", None, 20)] == []


async def test_synced_batches_stay_readable_until_their_version_arrives(tmp_path: Any) -> None:
    mgr = await HummockManager.load(SqliteMetaStore(str(tmp_path / "meta.db")))
    object_store = CountingStore(MemoryObjectStore())
    store = StateStore(object_store, id_allocator=mgr.new_object_ids)
    store.ingest(1, 10, {b"k": (1, "a")}, SCHEMAS[1])
    infos = await store.sync(10)
    assert len(infos) == 1 and await store.sync(10) == []
    assert await store.get(1, b"k", 10) == (1, "a")
    assert object_store.ranges == []  # served from the shared buffer
    store.update_version(await mgr.commit_epoch(10, infos))
    assert await store.get(1, b"k", 10) == (1, "a")
    assert object_store.ranges != []  # now from the SST
    with pytest.raises(InternalError, match="not after the committed epoch"):
        store.ingest(1, 10, {b"k": None}, SCHEMAS[1])


async def test_out_of_order_ingest_from_two_actors(id_allocator: Callable[[int], Awaitable[list[int]]]) -> None:
    store = StateStore(MemoryObjectStore(), id_allocator=id_allocator)
    store.ingest(1, 20, {b"\x00\x01a": (2, "new")}, SCHEMAS[1])  # actor A is a barrier ahead
    store.ingest(1, 10, {b"\x00\x01a": (1, "old"), b"\x00\x02b": (5, "b")}, SCHEMAS[1])
    assert await store.get(1, b"\x00\x01a", 20) == (2, "new")
    assert await store.get(1, b"\x00\x01a", 10) == (1, "old")


async def test_wait_committed(id_allocator: Callable[[int], Awaitable[list[int]]]) -> None:
    mgr = await HummockManager.load(SqliteMetaStore(":memory:"))
    store = StateStore(MemoryObjectStore(), id_allocator=mgr.new_object_ids)
    waiter = asyncio.create_task(store.wait_committed(30, timeout=30))
    store.update_version(await mgr.commit_epoch(20, []))
    await asyncio.sleep(0)
    assert not waiter.done()
    store.update_version(await mgr.commit_epoch(30, []))
    await asyncio.wait_for(waiter, 30)
    with pytest.raises(TimeoutError):
        await store.wait_committed(40, timeout=0.01)


async def test_pin_counts(id_allocator: Callable[[int], Awaitable[list[int]]]) -> None:
    store = StateStore(MemoryObjectStore(), id_allocator=id_allocator)
    with store.pinned() as v:
        v2 = store.pin()
        assert store.pinned_version_ids() == {v.id}
        store.unpin(v2)
        assert store.pinned_version_ids() == {v.id}
    assert store.pinned_version_ids() == set()


def test_state_store_over_s3(s3_store: ObjectStore) -> None:
    steps: list[tuple[Any, ...]] = []
    for i in range(14):
        steps += [("put", 1 + i % 2, (i * 5 + j) % len(KEYS), None if j == 3 else i + j) for j in range(8)]
        steps += [("seal",), ("commit", i % 4 == 0), ("compact",)]
        if i % 5 == 4:
            steps += [("vacuum",)]
    asyncio.run(_run_model(steps, s3_store))
