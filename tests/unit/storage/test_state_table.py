"""State tables: keys, read-your-writes, prefix iteration, orders and NULLs, every type, vnode ownership."""

from __future__ import annotations

import datetime
import random
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from common import types as T
from common.catalog import ColumnDesc, OrderType, TableDesc
from common.chunk import StreamChunk
from common.epoch import EpochPair
from common.errors import InternalError
from common.memcomparable import KeyEncoder
from common.vnode import VnodeBitmap, split_vnodes, vnode_of_row
from meta.hummock_manager import HummockManager
from meta.meta_store import SqliteMetaStore
from storage.object_store.memory import MemoryObjectStore
from storage.state_store import StateStore
from storage.state_table import StateTable, scan_table

ASC, DESC = OrderType.ASC, OrderType.DESC
UTC = datetime.UTC


def desc_of(types: list[T.DataType], pk: tuple[int, ...], order: tuple[OrderType, ...],
            dist: tuple[int, ...], table_id: int = 7) -> TableDesc:
    return TableDesc(table_id, tuple(ColumnDesc(f"c{i}", t) for i, t in enumerate(types)), pk, order, dist)


class Env:
    """A store and manager; `checkpoint` commits the tables' epoch through meta."""

    async def start(self) -> Env:
        self.mgr = await HummockManager.load(SqliteMetaStore(":memory:"))
        self.store = StateStore(MemoryObjectStore(), id_allocator=self.mgr.new_object_ids, block_size=256)
        self.epoch = 1 << 16
        return self

    def table(self, desc: TableDesc, vnodes: VnodeBitmap | None = None) -> StateTable:
        t = StateTable(desc, self.store, vnodes)
        t.init_epoch(EpochPair.first(self.epoch))
        return t

    async def checkpoint(self, *tables: StateTable) -> int:
        """Seal the current epoch in every table, sync and commit it; returns the committed epoch."""
        sealed, self.epoch = self.epoch, self.epoch + (1 << 16)
        for t in tables:
            t.commit(EpochPair(self.epoch, sealed))
        infos = await self.store.sync(sealed)
        self.store.update_version(await self.mgr.commit_epoch(sealed, infos))
        return sealed


async def collect(it: AsyncIterator[Any]) -> list[Any]:
    return [x async for x in it]


async def test_read_your_writes_then_committed() -> None:
    env = await Env().start()
    t = env.table(desc_of([T.INTEGER, T.VARCHAR], (0,), (ASC,), (0,)))
    t.insert((1, "a"))
    t.insert((2, "b"))
    assert await t.get_row([1]) == (1, "a")
    await env.checkpoint(t)
    t.update((1, "a"), (1, "a2"))
    t.delete((2, "b"))
    t.insert((3, "c"))
    assert await t.get_row([1]) == (1, "a2")
    assert await t.get_row([2]) is None
    assert sorted(await collect(t.iter_all())) == [(1, "a2"), (3, "c")]
    await env.checkpoint(t)
    assert sorted(await collect(t.iter_all())) == [(1, "a2"), (3, "c")]
    assert await t.get_row([2]) is None


async def test_iter_prefix_merges_mem_table_in_order() -> None:
    env = await Env().start()
    # pk (group, seq DESC), distributed by group: the join/top-n state shape.
    t = env.table(desc_of([T.INTEGER, T.BIGINT, T.VARCHAR], (0, 1), (ASC, DESC), (0,)))
    for g in range(3):
        for s in range(0, 20, 2):
            t.insert((g, s, f"{g}-{s}"))
    await env.checkpoint(t)
    t.insert((1, 5, "new"))
    t.delete((1, 10, "1-10"))
    t.update((1, 4, "1-4"), (1, 4, "changed"))
    t.insert((1, 100, "top"))
    t.insert((2, 3, "other group"))
    got = await collect(t.iter_prefix([1]))
    expected = sorted([(1, s, f"1-{s}") for s in range(0, 20, 2) if s not in (10, 4)]
                      + [(1, 5, "new"), (1, 4, "changed"), (1, 100, "top")], key=lambda r: -r[1])
    assert got == expected
    assert await collect(t.iter_prefix([1], reverse=True)) == expected[::-1]
    assert await collect(t.iter_prefix([1, 5])) == [(1, 5, "new")]
    assert await collect(t.iter_prefix([9])) == []


async def test_prefix_must_cover_the_distribution_key() -> None:
    env = await Env().start()
    t = env.table(desc_of([T.INTEGER, T.INTEGER], (0, 1), (ASC, ASC), (1,)))
    with pytest.raises(InternalError, match="distribution key"):
        await collect(t.iter_prefix([1]))
    t.insert((1, 2))
    assert await collect(t.iter_prefix([1, 2])) == [(1, 2)]


def _all_types_rows(rng: random.Random, n: int) -> list[tuple[Any, ...]]:
    def maybe(v: Any) -> Any:
        return None if rng.random() < 0.15 else v

    rows = []
    for i in range(n):
        rows.append((
            i,  # pk
            maybe(rng.randint(-2**15, 2**15 - 1)),
            maybe(rng.randint(-2**31, 2**31 - 1)),
            maybe(rng.randint(-2**63, 2**63 - 1)),
            maybe(float(rng.choice([1.5, -2.25, 0.0, float("inf")]))),
            maybe(rng.uniform(-1e300, 1e300)),
            maybe(Decimal(rng.randint(-10**20, 10**20)) / Decimal(10**8)),
            maybe(rng.random() < 0.5),
            maybe("".join(rng.choice("aé€\x00z ") for _ in range(rng.randint(0, 12)))),
            maybe(datetime.date(1970, 1, 1) + datetime.timedelta(days=rng.randint(-30000, 30000))),
            maybe(datetime.datetime(2000, 1, 1) + datetime.timedelta(microseconds=rng.randint(-10**15, 10**15))),
            maybe(datetime.datetime(2000, 1, 1, tzinfo=UTC) + datetime.timedelta(microseconds=rng.randint(0, 10**15))),
            maybe(pa.MonthDayNano([rng.randint(-100, 100), rng.randint(-100, 100), rng.randint(-10**12, 10**12)])),
        ))
    return rows


ALL_TYPES = [T.INTEGER, T.SMALLINT, T.INTEGER, T.BIGINT, T.REAL, T.DOUBLE, T.NUMERIC, T.BOOLEAN, T.VARCHAR, T.DATE,
             T.TIMESTAMP, T.TIMESTAMPTZ, T.INTERVAL]


async def test_every_type_round_trips_through_ssts() -> None:
    env = await Env().start()
    desc = desc_of(ALL_TYPES, (0,), (ASC,), (0,))
    t = env.table(desc)
    rows = _all_types_rows(random.Random(1), 300)
    t.write_chunk(StreamChunk.from_rows(rows[:150], ALL_TYPES))
    for r in rows[150:]:
        t.insert(r)
    epoch = await env.checkpoint(t)
    for r in rows[::7]:
        assert await t.get_row([r[0]]) == r
    assert sorted(await collect(t.iter_all())) == rows
    snapshot = await t.scan_snapshot(epoch)
    assert snapshot.schema.names == [f"c{i}" for i in range(len(ALL_TYPES))]
    assert sorted(zip(*[c.to_pylist() for c in snapshot.columns])) == rows
    whole = await scan_table(env.store, desc, epoch)
    assert whole.num_rows == 300


async def test_write_chunk_applies_ops_in_order_and_matches_scalar_vnodes() -> None:
    env = await Env().start()
    t = env.table(desc_of([T.INTEGER, T.VARCHAR, T.BIGINT], (1, 0), (ASC, ASC), (1,)))
    chunk = StreamChunk.from_pretty("""
        + 1 a 10
        + 2 b 20
        - 1 a 10
        + 3 a 30
        U- 2 b 20
        U+ 2 b 21
        U- 3 a 30
        U+ 4 a 40
    """, [T.INTEGER, T.VARCHAR, T.BIGINT])
    t.write_chunk(chunk)
    await env.checkpoint(t)
    assert await t.get_row(["a", 1]) is None  # vnode from the scalar hash finds chunk-written rows
    assert await t.get_row(["b", 2]) == (2, "b", 21)
    assert await t.get_row(["a", 3]) is None
    assert await collect(t.iter_prefix(["a"])) == [(4, "a", 40)]


async def test_vnode_ownership_partitions_rows() -> None:
    env = await Env().start()
    desc = desc_of([T.INTEGER, T.INTEGER], (0,), (ASC,), (0,))
    left_vnodes, right_vnodes = split_vnodes(2)
    left, right = env.table(desc, left_vnodes), env.table(desc, right_vnodes)
    rows = [(i, i * i) for i in range(200)]
    for r in rows:
        (left if vnode_of_row([r[0]]) in left_vnodes else right).insert(r)
    epoch = await env.checkpoint(left, right)
    got_left, got_right = await collect(left.iter_all()), await collect(right.iter_all())
    assert got_left and got_right
    assert sorted(got_left + got_right) == rows
    assert (await left.scan_snapshot(epoch)).num_rows == len(got_left)
    assert (await scan_table(env.store, desc, epoch)).num_rows == 200
    # Moving vnodes moves no data: one table now owns them all.
    left.update_vnode_bitmap(VnodeBitmap.full())
    assert sorted(await collect(left.iter_all())) == rows


async def test_epoch_discipline() -> None:
    env = await Env().start()
    t = StateTable(desc_of([T.INTEGER], (0,), (ASC,), ()), env.store)
    with pytest.raises(InternalError, match="before init_epoch"):
        await t.get_row([1])
    t.init_epoch(EpochPair.first(10))
    t.insert((1,))
    with pytest.raises(InternalError, match="cannot commit"):
        t.commit(EpochPair(30, 20))
    with pytest.raises(InternalError, match="unsealed writes"):
        t.update_vnode_bitmap(VnodeBitmap([0]))
    t.commit(EpochPair(20, 10))
    assert t.epoch == 20
    assert await t.get_row([1]) == (1,)  # from the shared buffer, at the next epoch


# -- ordering against PostgreSQL --------------------------------------------------

ORDER_TYPES = [T.INTEGER, T.VARCHAR, T.DOUBLE, T.NUMERIC, T.TIMESTAMPTZ, T.INTERVAL, T.INTEGER]
ORDER_PK = (0, 1, 2, 3, 4, 5)
ORDER_DIRS = (ASC, DESC, ASC, DESC, ASC, DESC)


def _order_rows() -> list[tuple[Any, ...]]:
    """Rows with distinct pks (distinct as the table sees them: by encoded key), ids in insertion order."""
    rng = random.Random(7)
    encoder = KeyEncoder([ORDER_TYPES[i] for i in ORDER_PK], ORDER_DIRS)
    seen: set[bytes] = set()
    rows: list[tuple[Any, ...]] = []
    while len(rows) < 300:
        def pick(values: list[Any]) -> Any:
            return rng.choice([*values, None])

        pk = (pick([1, 2, -3]), pick(["", "a", "ab", "b", "B", "é", "a\u00ff"]),
              pick([0.0, -1.5, 2.5, float("inf"), float("-inf"), float("nan")]),
              pick([Decimal("1.5"), Decimal("-2"), Decimal("10.25")]),
              pick([datetime.datetime(2020, 1, 1, tzinfo=UTC), datetime.datetime(1960, 5, 1, 3, tzinfo=UTC)]),
              pick([pa.MonthDayNano([1, 0, 0]), pa.MonthDayNano([0, 1, 0]), pa.MonthDayNano([0, 0, -5000])]))
        key = encoder.encode(pk)
        if key not in seen:
            seen.add(key)
            rows.append((*pk, len(rows)))
    return rows


def _interval_text(v: pa.MonthDayNano | None) -> str | None:
    return None if v is None else f"{v.months} mons {v.days} days {v.nanoseconds // 1000} microseconds"


async def test_pk_order_matches_postgresql() -> None:
    psycopg = pytest.importorskip("psycopg")
    try:
        admin = psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as e:
        pytest.skip(f"no PostgreSQL server: {e}")
    rows = _order_rows()
    with admin:
        admin.execute("DROP DATABASE IF EXISTS eddy_test_storage")
        admin.execute("CREATE DATABASE eddy_test_storage")
        try:
            with psycopg.connect("host=127.0.0.1 user=postgres dbname=eddy_test_storage") as conn:
                conn.execute("CREATE TABLE t (a int, b varchar COLLATE \"C\", c float8, d numeric, e timestamptz,"
                             " f interval, id int)")
                with conn.cursor() as cur:
                    cur.executemany("INSERT INTO t VALUES (%s, %s, %s, %s, %s, %s::interval, %s)",
                                    [(*r[:5], _interval_text(r[5]), r[6]) for r in rows])
                pg_order = [r[0] for r in conn.execute(
                    "SELECT id FROM t ORDER BY a, b DESC, c, d DESC, e, f DESC").fetchall()]
        finally:
            admin.execute("DROP DATABASE IF EXISTS eddy_test_storage")
    env = await Env().start()
    t = env.table(desc_of(ORDER_TYPES, ORDER_PK, ORDER_DIRS, ()))
    for r in rows[:150]:
        t.insert(r)
    await env.checkpoint(t)
    for r in rows[150:]:
        t.insert(r)
    assert [r[6] for r in await collect(t.iter_all())] == pg_order
    assert [r[6] for r in await collect(t.iter_prefix([], reverse=True))] == pg_order[::-1]
