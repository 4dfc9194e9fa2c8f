"""Stream scan: a backfill reads existing rows while barriers and changes keep flowing, each row once.

A scripted upstream (what a table's materialize does: write the changes of
an epoch into its state table, pass them on, seal the epoch at the barrier)
feeds the scan while it backfills; whatever the interleaving, the view built
from the scan's output equals the table at the end.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Coroutine
from typing import Any

import pytest

from common.catalog import ColumnDesc, OrderType, TableDesc
from common.chunk import Op, StreamChunk
from common.message import Barrier, StopMutation
from common.stream_plan import MergeNode, StreamScanNode
from common.types import BIGINT, VARCHAR
from common.vnode import VnodeBitmap, vnode_of_row
from compute.stream import stream_scan
from compute.stream.channel import Channel
from compute.stream.executor import ActorContext
from compute.stream.stream_scan import StreamScanExecutor
from storage.state_table import StateTable
from tests.helpers.stream import barrier, make_store

T = (BIGINT, VARCHAR)
DESC = TableDesc(40, (ColumnDesc("id", BIGINT), ColumnDesc("v", VARCHAR)), (0,), (OrderType.ASC,), (0,))
Row = tuple[int, str]


class ChannelSource:
    """The scan's upstream merge: whatever the test sends, in order."""

    def __init__(self, channel: Channel) -> None:
        self.types = T
        self.channel = channel

    async def execute(self):  # type: ignore[no-untyped-def]
        while True:
            yield await self.channel.recv()


class Upstream:
    """A table's materialize, scripted: random changes per epoch, written, passed on, sealed at each barrier."""

    def __init__(self, ctx: ActorContext, channel: Channel, rng: random.Random, vnodes: VnodeBitmap) -> None:
        self.table = StateTable(DESC, ctx.store, vnodes)
        self.channel = channel
        self.rng = rng
        self.vnodes = vnodes
        self.rows: dict[int, Row] = {}
        self.epoch = 1

    def owned(self, key: int) -> bool:
        return vnode_of_row([key]) in self.vnodes

    def load(self, n: int) -> None:
        self.table.init_epoch(barrier(1).epoch)
        for k in range(n):
            if self.owned(k):
                self.rows[k] = (k, f"r{k}")
                self.table.insert(self.rows[k])

    async def barrier(self, mutation: object = None) -> Barrier:
        self.epoch += 1
        b = barrier(self.epoch)
        b = b.with_mutation(mutation) if mutation is not None else b  # type: ignore[arg-type]
        self.table.commit(b.epoch)  # the epoch is sealed before the barrier passes on
        await self.channel.send(b)
        return b

    async def changes(self, n: int, key_space: int) -> None:
        ops: list[Op] = []
        rows: list[Row] = []
        for _ in range(n):
            k = self.rng.randrange(key_space)
            if not self.owned(k):
                continue
            old = self.rows.get(k)
            if old is None:
                new = (k, f"n{self.rng.randrange(1000)}")
                ops.append(Op.INSERT)
                rows.append(new)
                self.rows[k] = new
            elif self.rng.random() < 0.5:
                ops.append(Op.DELETE)
                rows.append(old)
                del self.rows[k]
            else:
                new = (k, f"u{self.rng.randrange(1000)}")
                ops += [Op.UPDATE_DELETE, Op.UPDATE_INSERT]
                rows += [old, new]
                self.rows[k] = new
        if rows:
            chunk = StreamChunk.from_rows(rows, T, ops)
            self.table.write_chunk(chunk)
            await self.channel.send(chunk)


async def both(consumer: Coroutine[Any, Any, None], driver: Coroutine[Any, Any, None]) -> None:
    """Run the scan's consumer and the upstream's driver; the first failure of either fails the test."""
    tasks = [asyncio.create_task(consumer), asyncio.create_task(driver)]
    try:
        for finished in asyncio.as_completed(tasks, timeout=60):
            await finished
    finally:
        for t in tasks:
            t.cancel()


def apply(view: dict[int, Row], chunk: StreamChunk) -> None:
    for op, row in zip(chunk.op_list(), chunk.rows()):
        key = row[0]
        if op in (Op.INSERT, Op.UPDATE_INSERT):
            assert key not in view, f"row {row} emitted twice"
            view[key] = row  # type: ignore[assignment]
        else:
            assert view.get(key) == row, f"delete of {row} but the view holds {view.get(key)}"
            del view[key]


async def run_scan(seed: int, vnodes: VnodeBitmap | None, rate_limit: int | None = None, rows: int = 600,
                   epochs: int = 30) -> tuple[dict[int, Row], dict[int, Row], list[int]]:
    rng = random.Random(seed)
    owned = vnodes or VnodeBitmap.full()
    ctx = ActorContext(actor_id=7, fragment_id=1, store=make_store(), vnodes=vnodes)
    channel = Channel(1, 7, capacity=4)
    upstream = Upstream(ctx, channel, rng, owned)
    upstream.load(rows)
    node = StreamScanNode(MergeNode(1, T, (0,)), DESC, (0, 1), True, T, (0,), rate_limit)
    scan = StreamScanExecutor(ChannelSource(channel), node, ctx)
    view: dict[int, Row] = {}
    inserts_per_epoch: list[int] = []

    async def consume() -> None:
        current = 0
        async for msg in scan.execute():
            if isinstance(msg, StreamChunk):
                apply(view, msg)
                current += msg.num_rows
            elif isinstance(msg, Barrier):
                inserts_per_epoch.append(current)
                current = 0
                if msg.is_stop(7):
                    return

    async def drive() -> None:
        await upstream.barrier()  # the job starts: the scan reads the table as of the epoch this closes
        for _ in range(epochs):
            for _ in range(rng.randrange(4)):
                await upstream.changes(rng.randrange(1, 12), rows + 50)
                await asyncio.sleep(0)
            await upstream.barrier()
            await asyncio.sleep(0)
        done, total = ctx.backfills.progress()[7]
        while done < total:  # let the backfill finish, barriers still flowing
            await upstream.changes(3, rows + 50)
            await upstream.barrier()
            await asyncio.sleep(0.001)
            done, total = ctx.backfills.progress()[7]
        await upstream.changes(5, rows + 50)  # after the backfill every change passes
        await upstream.barrier(StopMutation((7,)))

    await both(consume(), drive())
    return view, upstream.rows, inserts_per_epoch


@pytest.mark.parametrize("seed", range(12))
async def test_the_view_equals_the_table_whatever_the_interleaving(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream_scan, "SNAPSHOT_CHUNK_ROWS", 3)  # many stops in the middle of a vnode
    vnodes = None if seed % 2 == 0 else VnodeBitmap(range(seed * 10, seed * 10 + 90))
    view, table, _ = await run_scan(seed, vnodes)
    assert view == table


async def test_barriers_pass_while_a_rate_limited_backfill_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream_scan, "SNAPSHOT_CHUNK_ROWS", 10)
    view, table, per_epoch = await run_scan(99, None, rate_limit=2000, rows=400, epochs=5)
    assert view == table
    # the existing rows were spread over several epochs, not emitted before the next barrier could pass
    assert sum(1 for n in per_epoch if n > 0) >= 3, per_epoch


async def test_a_stop_during_the_backfill_ends_the_actor() -> None:
    ctx = ActorContext(actor_id=7, fragment_id=1, store=make_store(), vnodes=None)
    channel = Channel(1, 7, capacity=4)
    upstream = Upstream(ctx, channel, random.Random(1), VnodeBitmap.full())
    upstream.load(200)
    node = StreamScanNode(MergeNode(1, T, (0,)), DESC, (0, 1), True, T, (0,), 10)  # 10 rows a second
    out = []

    async def consume() -> None:
        async for msg in StreamScanExecutor(ChannelSource(channel), node, ctx).execute():
            out.append(msg)

    async def drive() -> None:
        await upstream.barrier()
        await upstream.barrier(StopMutation((7,)))

    await both(consume(), drive())  # the scan ends at the stop, far from done
    assert isinstance(out[-1], Barrier) and out[-1].is_stop(7)
    done, total = ctx.backfills.progress()[7]
    assert done < total
